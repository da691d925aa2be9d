// Rendered manifests as YAML, byte for byte what the `yaml` library writes (`stringify(object,
// { lineWidth: 0 })`), about ten times faster for the plain shapes manifests have: maps, lists,
// integers, booleans, null and strings that need no quoting. The library writes every rendered
// file, and a re-render of 1,000 previews spent most of its time there. Any value outside those
// shapes (a string that would be quoted or folded, a float, a key that needs quoting) sends the
// whole object to the library, so the output never differs; a test holds the two side by side.
import { stringify } from 'yaml';

/** The YAML of one manifest (a trailing newline included). */
export function manifestYaml(object: unknown): string {
  if (!plainShape(object)) return stringify(object, { lineWidth: 0 });
  if (isEmpty(object)) return Array.isArray(object) ? '[]\n' : '{}\n';
  const lines: string[] = [];
  if (isMap(object)) emitMap(object, 0, lines);
  else if (Array.isArray(object)) emitSeq(object, 0, lines);
  else {
    lines.push(scalar(object as Scalar));
  }
  return `${lines.join('\n')}\n`;
}

type Scalar = string | number | boolean | null;

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isEmpty = (v: unknown) => (Array.isArray(v) ? v.length === 0 : isMap(v) && Object.values(v).every((x) => x === undefined));

/**
 * A string the library writes as a plain scalar, from a conservative set: no spaces, quotes,
 * comment or flow indicators, no leading indicator, and nothing YAML 1.2 reads as another type.
 */
const PLAIN = /^[A-Za-z0-9_./][A-Za-z0-9_./@=+%-]*(?::[A-Za-z0-9_./@=+%-]+)*$/;
const OTHER_TYPE =
  /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|true|True|TRUE|false|False|FALSE|null|Null|NULL|~)$/;

const plainString = (s: string) => s.length > 0 && s.length <= 1024 && PLAIN.test(s) && !OTHER_TYPE.test(s);
/** A value that reads as a number, boolean or null unquoted: the library double-quotes it. */
const quotedString = (s: string) => s.length <= 1024 && OTHER_TYPE.test(s);

/** Whether `value` takes the fast path (exported for the test that keeps it taken). */
export function plainShape(value: unknown): boolean {
  if (value === null || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isSafeInteger(value) && !Object.is(value, -0);
  if (typeof value === 'string') return plainString(value) || quotedString(value);
  if (Array.isArray(value)) return value.every((v) => v !== undefined && plainShape(v));
  if (isMap(value)) {
    if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return false;
    return Object.entries(value).every(([k, v]) => plainString(k) && (v === undefined || plainShape(v)));
  }
  return false;
}

function scalar(v: Scalar): string {
  if (typeof v === 'string' && OTHER_TYPE.test(v)) return `"${v}"`;
  return v === null ? 'null' : String(v);
}

function emitMap(map: Record<string, unknown>, indent: number, lines: string[]): void {
  const pad = ' '.repeat(indent);
  for (const [key, value] of Object.entries(map)) {
    if (value === undefined) continue;
    if (isEmpty(value)) lines.push(`${pad}${key}: ${Array.isArray(value) ? '[]' : '{}'}`);
    else if (isMap(value)) {
      lines.push(`${pad}${key}:`);
      emitMap(value, indent + 2, lines);
    } else if (Array.isArray(value)) {
      lines.push(`${pad}${key}:`);
      emitSeq(value, indent + 2, lines);
    } else lines.push(`${pad}${key}: ${scalar(value as Scalar)}`);
  }
}

function emitSeq(seq: readonly unknown[], indent: number, lines: string[]): void {
  const pad = ' '.repeat(indent);
  for (const item of seq) {
    if (isEmpty(item)) lines.push(`${pad}- ${Array.isArray(item) ? '[]' : '{}'}`);
    else if (isMap(item) || Array.isArray(item)) {
      // The item's first line goes on the dash line; the rest stay indented under it.
      const at = lines.length;
      if (isMap(item)) emitMap(item, indent + 2, lines);
      else emitSeq(item, indent + 2, lines);
      lines[at] = `${pad}- ${lines[at]!.slice(indent + 2)}`;
    } else lines.push(`${pad}- ${scalar(item as Scalar)}`);
  }
}
