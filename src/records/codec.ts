// Reading and writing x1deploy's own YAML files. Every read is validated: a hand-corrupted file
// gives an error naming the file and the field, never a crash or a silent default.
//
// Written with `yaml`, read with js-yaml: a re-render of 1,000 spent 440 ms in `yaml`'s parser and
// 45 in js-yaml's. js-yaml reads with a schema that resolves plain scalars exactly as YAML 1.2's core
// schema does, which is what `yaml` writes by ('0b1' and '-0x1' stay strings, as `yaml` leaves them
// unquoted), so every record reads back as it was written. Every reader (the gate, a deploy, a
// re-render) goes through readYamlRecord: they cannot disagree on what a file says.
import { FAILSAFE_SCHEMA, load, Type } from 'js-yaml';
import { parse, stringify } from 'yaml';
import type { z } from 'zod';
import { X1Error } from '../errors/index.js';

const plain = (tag: string, pattern: RegExp, construct: (text: string) => unknown) =>
  new Type(`tag:yaml.org,2002:${tag}`, {
    kind: 'scalar',
    resolve: (text: string | null) => pattern.test(text ?? ''),
    construct: (text: string | null) => construct(text ?? ''),
  });

/** YAML 1.2's core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution), as `yaml` has it. */
const CORE_1_2 = FAILSAFE_SCHEMA.extend({
  implicit: [
    plain('null', /^(?:~|[Nn]ull|NULL)?$/, () => null),
    plain('bool', /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, (t) => t[0] === 't' || t[0] === 'T'),
    plain('int', /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/, (t) =>
      t.startsWith('0o') ? parseInt(t.slice(2), 8) : t.startsWith('0x') ? parseInt(t.slice(2), 16) : parseInt(t, 10),
    ),
    plain('float', /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/, (t) =>
      /nan$/i.test(t) ? NaN : /inf$/i.test(t) ? (t[0] === '-' ? -Infinity : Infinity) : parseFloat(t),
    ),
  ],
});

/** What js-yaml refuses anywhere in a stream; one character (and its neighbour) at a time, so linear. */
const NON_PRINTABLE =
  // eslint-disable-next-line no-control-regex -- the control characters are what it looks for
  /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A YAML file's data; throws on anything that is not one YAML document. Aliases (*name) are read,
 * as older records written with them must be, but only while what they expand to stays within
 * bounds: each alias of an alias can double what every later walk of the data visits.
 */
export function readYamlRecord(text: string): unknown {
  // `yaml` writes some characters YAML calls non-printable (U+FFFE, a lone surrogate) as they are,
  // which js-yaml refuses: such a file, rare, is read by `yaml`, under the same core schema.
  const data = NON_PRINTABLE.test(text) ? parse(text) : load(text, { schema: CORE_1_2 });
  if (text.includes('*')) refuseExpansion(data, Math.max(10_000, 10 * text.length));
  return data ?? null;
}

function refuseExpansion(data: unknown, limit: number): void {
  const pending: unknown[] = [data];
  for (let visited = 0; pending.length > 0; visited++) {
    if (visited > limit) throw new Error(`its aliases (*name) expand to more than ${limit} values; write the values out instead`);
    const value = pending.pop();
    // One at a time: spreading a long list into push() overflows the call stack.
    if (value !== null && typeof value === 'object') for (const child of Object.values(value)) pending.push(child);
  }
}

export class RecordFileError extends X1Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(
      'invalid',
      `${file} is not valid: ${problems.join('; ')}. Fix the file (or revert the commit that changed it) and run the command again.`,
    );
  }
}

export function parseRecord<S extends z.ZodType>(file: string, text: string, schema: S): z.output<S> {
  let data: unknown;
  try {
    data = readYamlRecord(text);
  } catch (err) {
    throw new RecordFileError(file, [`it is not YAML (${(err as Error).message.split('\n')[0]})`]);
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    throw new RecordFileError(
      file,
      result.error.issues.map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`),
    );
  }
  return result.data;
}

/**
 * Stable YAML: no line folding, so the same data is always the same bytes. No aliases either: a
 * version that shares its spec with another is written out in full, as a reviewer must read it.
 */
export function stringifyRecord(data: unknown): string {
  return stringify(data, { lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false });
}
