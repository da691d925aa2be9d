// A deploy request from a file or stdin, as YAML or JSON.
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { deployRequestSchema } from '../spec/index.js';
import { UsageError } from '../errors/index.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function readRequestFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read the request ${file === '-' ? 'from stdin' : `file ${file}`}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const doc = parseDocument(text);
  const [error] = doc.errors;
  if (error) {
    // The parser's message quotes the offending text, which may hold a secret: keep the position only.
    const where = error.linePos?.[0];
    throw new UsageError(`the request is not valid YAML or JSON${where ? ` (line ${where.line}, column ${where.col})` : ''}`);
  }
  keepScalarsAsWritten(doc);
  return doc.toJS();
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
