// A deploy request's text parsed, as YAML or JSON (read by request-text.ts).
import { isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { deployRequestSchema, isPrototypeKey } from '../spec/index.js';
import { UsageError } from '../errors/index.js';

/** A request's text parsed as YAML (or JSON), refusing what no deploy request holds. */
export function parseRequestText(text: string): unknown {
  const doc = parseDocument(text);
  const [error] = doc.errors;
  if (error) {
    // The parser's message quotes the offending text, which may hold a secret: keep the position only.
    const where = error.linePos?.[0];
    throw new UsageError(`the request is not valid YAML or JSON${where ? ` (line ${where.line}, column ${where.col})` : ''}`);
  }
  refuseForbiddenKeys(doc.contents);
  keepScalarsAsWritten(doc);
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch {
    // yaml refuses a document whose aliases expand past the limit (a "billion laughs" bomb).
    throw new UsageError('the request uses too many YAML aliases (anchors expanded over and over); write the values out');
  }
}

function refuseForbiddenKeys(node: unknown, depth = 0): void {
  if (depth > 64) throw new UsageError('the request is nested too deeply');
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      if (typeof key === 'string' && isPrototypeKey(key)) {
        throw new UsageError(`the request has a field named "${key}", which is refused (it is not a field of a deploy request)`);
      }
      refuseForbiddenKeys(pair.value, depth + 1);
    }
  } else if (isSeq(node)) {
    for (const item of node.items) refuseForbiddenKeys(item, depth + 1);
  }
}

const TEXT_FIELDS = ['app', 'branch', 'commit_sha', 'dockerfile'];

// YAML reads an all-digit commit id, a branch named 1.10 or `PORT: 8080` as numbers, losing
// leading zeros and digits. Fields that are text take the scalar exactly as written instead.
function keepScalarsAsWritten(doc: Document): void {
  if (!isMap(doc.contents)) return;
  const asWritten = (node: unknown) => {
    if (
      isScalar(node) &&
      ['number', 'boolean', 'bigint'].includes(typeof node.value) &&
      node.type === 'PLAIN' &&
      typeof node.source === 'string'
    ) {
      node.value = node.source;
    }
  };
  for (const field of TEXT_FIELDS) asWritten(doc.get(field, true));
  const env = doc.get('env', true);
  if (isMap(env)) for (const pair of env.items) asWritten(pair.value);
}

/** The request's fields for `deploy --help`, from the same schema that validates them. */
export function requestFieldsHelp(): string {
  const schema = z.toJSONSchema(deployRequestSchema(), { io: 'input' }) as {
    properties: Record<string, { description?: string }>;
    required?: string[];
  };
  const required = new Set(schema.required ?? []);
  const lines = Object.entries(schema.properties).map(
    ([name, prop]) => `  ${name.padEnd(11)}${required.has(name) ? '(required) ' : ''}${prop.description ?? ''}`,
  );
  return `\nRequest fields (YAML or JSON; unknown fields are errors):\n${lines.join('\n')}\n`;
}
