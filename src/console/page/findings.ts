/// <reference lib="dom" />
// A finding, PgHero's way: one sentence that says what is wrong (or that nothing is) and what to do, with
// the raw numbers one click below.
import type { Level } from './admin-api.js';
import { h, numbersBelow, type NumbersTable } from './elements.js';

export interface Finding {
  /** Stable across refreshes: it keeps the numbers open while the reader looks at them. */
  readonly key: string;
  readonly level: Level | 'removed';
  /** A few words above the sentence; empty for a sentence that stands alone. */
  readonly topic: string;
  readonly text: string;
  readonly more?: readonly string[];
  readonly numbers?: readonly NumbersTable[];
}

const BADGES: Readonly<Record<Finding['level'], string>> = { ok: 'OK', warning: 'Warning', problem: 'Problem', removed: 'Removed' };

export function renderFinding(finding: Finding): HTMLElement {
  return h(
    'article',
    { class: `finding ${finding.level}`, 'data-finding': finding.key },
    // Without a topic (Herald's own diagnosis sentences) the badge leads the sentence.
    finding.topic
      ? h('p', { class: 'topic' }, h('span', { class: 'badge' }, BADGES[finding.level]), ' ', finding.topic)
      : null,
    h('p', { class: 'text' }, finding.topic ? null : h('span', { class: 'badge' }, BADGES[finding.level]), finding.topic ? null : ' ', finding.text),
    ...(finding.more ?? []).map((line) => h('p', { class: 'more' }, line)),
    finding.numbers && finding.numbers.length > 0 ? numbersBelow(finding.key, finding.numbers) : null,
  );
}

/** The line above the findings: all is well, or how many need a look. */
export function headline(findings: readonly Pick<Finding, 'level'>[]): { level: Level; text: string } {
  const problems = findings.filter((f) => f.level === 'problem').length;
  const warnings = findings.filter((f) => f.level === 'warning').length;
  if (problems === 0 && warnings === 0) return { level: 'ok', text: 'Everything looks fine.' };
  const parts = [problems ? `${problems} ${problems === 1 ? 'problem' : 'problems'}` : '', warnings ? `${warnings} ${warnings === 1 ? 'warning' : 'warnings'}` : ''];
  const needs = problems + warnings === 1 ? 'needs' : 'need';
  return { level: problems ? 'problem' : 'warning', text: `${parts.filter(Boolean).join(' and ')} ${needs} a look.` };
}

export function renderHeadline(findings: readonly Pick<Finding, 'level'>[]): HTMLElement {
  const { level, text } = headline(findings);
  return h('p', { class: `headline ${level}`, role: 'status' }, text);
}
