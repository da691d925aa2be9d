// A deploy request from a file or stdin, as YAML or JSON.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { deployRequestSchema } from '../spec/request.js';
import { UserError } from './output.js';

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
    throw new UserError(`cannot read the request ${file === '-' ? 'from stdin' : `file ${file}`}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return parse(text);
  } catch (err) {
    // The YAML parser's message quotes the offending text, which may hold a secret: keep the position only.
    const where = (err as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    throw new UserError(`the request is not valid YAML or JSON${where ? ` (line ${where.line}, column ${where.col})` : ''}`);
  }
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
