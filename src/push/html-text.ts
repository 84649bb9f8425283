/**
 * Plain text for a notification body (SPEC §8.5): tags stripped, entities decoded, as Mastodon's
 * push serializer does with `strip_tags` and HTMLEntities. Entities are decoded after the tags are
 * gone, so `&lt;b&gt;` written by a user shows as `<b>` instead of vanishing.
 *
 * The tag scanner is a single forward pass (no backtracking regex), so a hostile 100 kB status
 * costs linear time.
 */

/** Elements whose end means a line break in the rendered text. */
const BLOCK_ENDS = new Set(['div', 'li', 'blockquote', 'pre', 'tr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
/** Elements whose content is never text. */
const RAW_TEXT = new Set(['script', 'style']);

/**
 * For HTML fields (a status's `content`, an account's `note`): whitespace collapses as a browser
 * would, `<br>` becomes a newline and a paragraph break a blank line.
 */
export function htmlToText(html: string): string {
  const text = stripTags(html.replace(/[ \t\n\r\f]+/g, ' '));
  return tidy(decodeEntities(text));
}

/**
 * For plain-text fields (`spoiler_text`, `text`): their newlines are meant, so they stay. Tags and
 * entities are still handled because Mastodon does so and some hosts send HTML there anyway.
 */
export function plainToText(text: string): string {
  return tidy(decodeEntities(stripTags(text)));
}

/** Drops every tag, comment and script/style element, inserting line breaks for br/p/blocks. */
export function stripTags(html: string): string {
  let out = '';
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt === -1) {
      out += html.slice(i);
      break;
    }
    out += html.slice(i, lt);
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      i = end === -1 ? html.length : end + 3;
      continue;
    }
    const tag = /^<(\/?)([A-Za-z][A-Za-z0-9-]*)|^<[!?]/.exec(html.slice(lt, lt + 40));
    if (tag === null) {
      // "a < b", "<3": a lone '<' is text, as in an HTML parser.
      out += '<';
      i = lt + 1;
      continue;
    }
    const closing = tag[1] === '/';
    const name = (tag[2] ?? '').toLowerCase();
    i = tagEnd(html, lt + 1) + 1;
    if (!closing && RAW_TEXT.has(name)) {
      // Case-insensitive search from i; lowercasing the string instead could shift indices.
      const closer = new RegExp(`</${name}`, 'gi');
      closer.lastIndex = i;
      const close = closer.exec(html);
      i = close === null ? html.length : tagEnd(html, close.index + 1) + 1;
    } else if (name === 'br') {
      out += '\n';
    } else if (closing && name === 'p') {
      out += '\n\n';
    } else if (closing && BLOCK_ENDS.has(name)) {
      out += '\n';
    }
  }
  return out;
}

/** Index of the '>' closing the tag that starts before `from`; quoted attribute values may hold '>'. */
function tagEnd(html: string, from: number): number {
  let quote = '';
  for (let j = from; j < html.length; j += 1) {
    const c = html[j];
    if (quote !== '') {
      if (c === quote) quote = '';
    } else if ((c === '"' || c === "'") && /=\s*$/.test(html.slice(Math.max(from, j - 8), j))) {
      quote = c;
    } else if (c === '>') {
      return j;
    }
  }
  // An unterminated tag swallows the rest, as browsers do at end of input.
  return html.length - 1;
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0',
  hellip: '…', mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', sbquo: '‚',
  ldquo: '“', rdquo: '”', bdquo: '„', laquo: '«', raquo: '»', middot: '·',
  bull: '•', copy: '©', reg: '®', trade: '™', deg: '°', times: '×',
  divide: '÷', euro: '€', pound: '£', yen: '¥', cent: '¢', sect: '§',
  para: '¶', shy: '\u00ad', zwj: '\u200d', zwnj: '\u200c', lrm: '\u200e', rlm: '\u200f',
  ensp: '\u2002', emsp: '\u2003', thinsp: '\u2009', prime: '′', Prime: '″',
};

/** Decodes numeric references and the common named ones; unknown names stay as written. */
export function decodeEntities(text: string): string {
  return text.replace(/&(?:#(\d{1,8})|#[xX]([0-9A-Fa-f]{1,7})|([A-Za-z][A-Za-z0-9]{1,31}));/g, (whole, dec, hex, name) => {
    if (name !== undefined) return Object.hasOwn(NAMED_ENTITIES, name) ? NAMED_ENTITIES[name] : whole;
    const code = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex, 16);
    // HTML §13.2.5.80: NUL, surrogates and values past U+10FFFF become U+FFFD.
    if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
    return String.fromCodePoint(code);
  });
}

/** Trims spaces at line ends, keeps at most one blank line, trims the whole. */
function tidy(text: string): string {
  return text
    .replace(/[ \t]*\n[ \t]*/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
