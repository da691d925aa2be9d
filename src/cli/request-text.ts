// A deploy request's text, from a file or stdin: bounded, and refused unless it is UTF-8. Apart
// from its parsing (request-input.ts), so a deploy handed to another process reads no YAML here.
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors/index.js';

/** A request larger than this is no deploy request: refused before it is decoded or parsed. */
export const REQUEST_MAX_BYTES = 1 << 20;

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > REQUEST_MAX_BYTES) throw new UsageError(`the request is larger than ${REQUEST_MAX_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Bytes as UTF-8, refusing invalid sequences: a replaced character would make a branch name differ from the real one. */
function utf8(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError('the request is not valid UTF-8; save it as UTF-8 and send it again');
  }
}

/** The request in `file` (or stdin for -) as text. */
export async function readRequestText(file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = file === '-' ? await readStdin() : await readFile(file);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(
      `cannot read the request ${file === '-' ? 'from stdin' : `file ${file}`}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (bytes.length > REQUEST_MAX_BYTES) throw new UsageError(`the request is larger than ${REQUEST_MAX_BYTES} bytes`);
  return utf8(bytes);
}
