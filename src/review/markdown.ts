// Text from agents (branch names, agent ids) placed in Markdown that GitHub renders: a branch like
// ``fix`<!--`` must not leave its code span or open an HTML comment in a pull request or comment.

/** `text` as one inline code span, whatever backticks it holds (CommonMark: a longer fence). */
export function codeSpan(text: string): string {
  const oneLine = text.replace(/[\r\n]+/g, ' ');
  const longest = Math.max(0, ...[...oneLine.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = oneLine.startsWith('`') || oneLine.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${oneLine}${pad}${fence}`;
}

/** `text` as plain Markdown text: markup characters escaped, HTML cannot start, table cells stay cells. */
export function plainText(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/[\\`*_{}[\]()#+!|~<>&-]/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : `\\${c}`));
}
