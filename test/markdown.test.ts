// Agent-chosen text in pull request bodies and comments stays text.
import { describe, expect, it } from 'vitest';
import { codeSpan, plainText } from '../src/review/markdown.js';

describe('markdown escaping', () => {
  it.each([
    ['feat/x', '`feat/x`'],
    ['fix`<!--', '``fix`<!--``'],
    ['a``b', '```a``b```'],
    ['`start', '`` `start ``'],
    ['end`', '`` end` ``'],
  ])('codeSpan(%s) is %s', (text, span) => {
    expect(codeSpan(text)).toBe(span);
  });

  it('plainText cannot open HTML, a link, emphasis or a new table cell', () => {
    const out = plainText('Deploy <!-- [x](y) *b* | c');
    expect(out).toBe('Deploy &lt;\\!\\-\\- \\[x\\]\\(y\\) \\*b\\* \\| c');
    expect(out).not.toMatch(/<|(?<!\\)[[\]*|]/);
  });
});
