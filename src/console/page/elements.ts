/// <reference lib="dom" />
// Building the page's DOM: elements made with text nodes only (no HTML is ever parsed from data), tables
// of raw numbers, and re-rendering that keeps the reader's open <details> open.

type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Readonly<Record<string, string>> | null = null,
  ...children: readonly Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) element.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'number' ? String(child) : child);
  }
  return element;
}

export interface NumbersTable {
  readonly caption?: string;
  readonly head?: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
}

/** Past this many columns a table is shown row by row on a narrow screen (each cell under its heading). */
const STACK_FROM_COLUMNS = 4;

/** A table of raw numbers; a wrapper scrolls it sideways on a narrow screen rather than the whole page. */
export function numbersTable(table: NumbersTable): HTMLElement {
  const label = (i: number): Record<string, string> => (table.head?.[i] ? { 'data-label': table.head[i] } : {});
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      (table.head?.length ?? 0) >= STACK_FROM_COLUMNS ? { class: 'stack' } : null,
      table.caption ? h('caption', null, table.caption) : null,
      table.head ? h('thead', null, h('tr', null, ...table.head.map((cell) => h('th', { scope: 'col' }, cell)))) : null,
      h(
        'tbody',
        null,
        ...table.rows.map((row) =>
          h('tr', null, ...row.map((cell, i) => (i === 0 && table.head ? h('th', { scope: 'row', ...label(i) }, cell) : h('td', label(i), cell)))),
        ),
      ),
    ),
  );
}

/** "The numbers", one click below a finding; `key` keeps it open across refreshes. */
export function numbersBelow(key: string, tables: readonly NumbersTable[], summary = 'The numbers'): HTMLElement {
  return h('details', { 'data-key': key }, h('summary', null, summary), ...tables.map(numbersTable));
}

/** Replaces what `container` shows, re-opening the <details> the reader had open. */
export function replaceContent(container: Element, nodes: readonly Node[]): void {
  const open = new Set<string>();
  for (const details of container.querySelectorAll('details[open][data-key]')) open.add(details.getAttribute('data-key') ?? '');
  container.replaceChildren(...nodes);
  for (const details of container.querySelectorAll<HTMLDetailsElement>('details[data-key]')) {
    if (open.has(details.getAttribute('data-key') ?? '')) details.open = true;
  }
}
