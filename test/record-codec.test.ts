// Records are written by `yaml` and read by js-yaml (with YAML 1.2's core schema): what one writes the
// other must read back exactly, and a hand-written file must mean to x1deploy what it means in YAML.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { parseRecord, readYamlRecord, RecordFileError, stringifyRecord } from '../src/records/index.js';

// Strings a plain scalar could be mistaken for: numbers, booleans and nulls of YAML 1.1, 1.2 and
// js-yaml's own defaults, indicators, and whitespace that needs quoting.
const LOOKALIKES = [
  '0b1',
  '-0b1',
  '-0x1F',
  '+0x1',
  '+0o7',
  '-0o7',
  '0o8',
  '0x',
  '0xG',
  '1_000',
  '0x_1',
  '012',
  '08',
  '+12',
  '-0',
  '1e3',
  '1E+3',
  '1.',
  '.5',
  '-.5',
  '+.inf',
  '-.Inf',
  '.NaN',
  '.nan',
  '.NAN',
  'nan',
  'inf',
  '1:20',
  '1:20:30.5',
  'yes',
  'no',
  'on',
  'off',
  'y',
  'n',
  'Y',
  'N',
  'YES',
  'true',
  'True',
  'TRUE',
  'tRUE',
  'false',
  'False',
  '~',
  'null',
  'Null',
  'NULL',
  'nULL',
  '',
  ' ',
  '2026-11-01',
  '2026-11-01T00:00:00.000Z',
  '2001-12-14 21:59:43.10 -5',
  '<<',
  '=',
  '? x',
  '- x',
  '-',
  '#x',
  'x #y',
  'a: b',
  'a:b',
  '&a',
  '*a',
  '!tag',
  '!!str',
  '|',
  '> x',
  "'q'",
  '"dq"',
  '%YAML',
  '@x',
  '`x',
  '{a}',
  '[a]',
  ',',
  '\t',
  '\n',
  'a\nb',
  'a\n',
  '  lead',
  'trail  ',
  'é',
  '\u2028',
  '\u0085',
  '\ufeff',
  '---',
  '...',
  '${API_KEY}',
  '$(VAR)',
  'a\\b',
  'x'.repeat(200),
];

const scalar = fc.oneof(
  fc.constantFrom(...LOOKALIKES),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.boolean(),
  fc.constant(null),
);
// `yaml` itself loses a byte order mark that starts the document, so keys do not start with one.
const key = fc.oneof(fc.constantFrom(...LOOKALIKES), fc.string({ unit: 'grapheme', maxLength: 8 })).filter((k) => !k.startsWith('\ufeff'));
const data = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, scalar, tie('list'), tie('map')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  map: fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true }),
})).map;

describe('record codec', () => {
  // A record is a map at its top (a lone top-level block scalar, "|\na", is one place js-yaml is
  // stricter than `yaml`, which writes it so).
  it('reads back exactly what it writes, and what yaml reads', () => {
    fc.assert(
      fc.property(data, (value) => {
        const text = stringifyRecord(value);
        const read = readYamlRecord(text);
        expect(read).toStrictEqual(parse(text));
        expect(read).toStrictEqual(value);
      }),
      { numRuns: Number(process.env.CODEC_RUNS ?? 3000) },
    );
  });

  it('reads back characters YAML calls non-printable, which yaml writes as they are', () => {
    for (const odd of ['\ufffe', '\uffff', 'a\ud800b', '\udc00', '\x7f', '\x80', '\x9f', '\x01', '\x1b[0m']) {
      const value = { env: { A: odd }, list: [odd], [`k${odd}`]: 1 };
      expect(readYamlRecord(stringifyRecord(value)), JSON.stringify(odd)).toStrictEqual(value);
    }
  });

  it('resolves each lookalike, written plain, as YAML 1.2 core does', () => {
    for (const text of LOOKALIKES.filter((t) => !/[\n\t#:'"`@%|>&*!{}[\],?\u2028\u0085\ufeff-]|^\s|\s$|^$/.test(t))) {
      expect(readYamlRecord(`v: ${text}\n`), text).toStrictEqual(parse(`v: ${text}\n`));
    }
  });

  it('reads hand-written YAML as yaml does', () => {
    const texts = [
      'a: 1 # a comment\nb: [x, "y", 0x1f, 0o17]\nc: {d: ~, e: .5}\n',
      'list:\n- one\n-   two\n- - nested\n  - 3\n',
      'block: |\n  line one\n  line two\nfolded: >-\n  a\n  b\n',
      `"quoted key": 'single ''quote'''\n? complex\n: value\n`,
      '%YAML 1.2\n---\nk: v\n...\n',
      'empty:\nnull_word: null\ntilde: ~\n',
      'anchored: &a text\nagain: *a\n',
      'big: 123456789012345678901234567890\nneg: -0\nexp: 6.02e23\n',
      '',
      '# only a comment\n',
    ];
    for (const text of texts) expect(readYamlRecord(text), text).toStrictEqual(parse(text));
  });

  it('writes a value shared twice out in full, and reads aliases older records hold', () => {
    const spec = { ports: [8080], env: { A: 'b' } };
    const text = stringifyRecord({ versions: [{ spec }, { spec }] });
    expect(text).not.toMatch(/[&*]/);
    expect(readYamlRecord(text)).toStrictEqual({ versions: [{ spec }, { spec }] });
    expect(readYamlRecord('a: &x [1]\nb: *x\n')).toStrictEqual({ a: [1], b: [1] });
    // A '*' that is no alias, beside a list too long to spread into one call.
    const long = stringifyRecord({ pattern: 'feat/*', ids: Array.from({ length: 200_000 }, (_, i) => i) });
    expect((readYamlRecord(long) as { ids: number[] }).ids).toHaveLength(200_000);
  });

  it('refuses aliases that expand past what the file could hold, in bounded time', () => {
    const laughs = ['a0: &a0 [x, x]', ...Array.from({ length: 30 }, (_, i) => `a${i + 1}: &a${i + 1} [*a${i}, *a${i}]`)].join('\n');
    const started = performance.now();
    expect(() => readYamlRecord(laughs)).toThrow(/alias/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('names the file and the problem when a record is not one YAML document', () => {
    const schema = z.object({ a: z.number() });
    for (const [text, problem] of [
      ['a: 1\na: 2\n', /not YAML \(duplicated mapping key/],
      ['a: 1\n---\na: 2\n', /not YAML/],
      ['a: [1\n', /not YAML/],
      ['a: !custom 1\n', /not YAML \(unknown tag/],
      [
        ['a0: &a0 [x, x]', ...Array.from({ length: 20 }, (_, i) => `a${i + 1}: &a${i + 1} [*a${i}, *a${i}]`)].join('\n'),
        /aliases \(\*name\) expand/,
      ],
      ['a: "1"\n', /a: must be a number/],
    ] as const) {
      let error: unknown;
      try {
        parseRecord('apps/x/app.yaml', text, schema);
      } catch (err) {
        error = err;
      }
      expect(error, text).toBeInstanceOf(RecordFileError);
      expect((error as RecordFileError).message).toMatch(/^apps\/x\/app\.yaml is not valid: /);
      expect((error as RecordFileError).message, text).toMatch(problem);
    }
  });
});
