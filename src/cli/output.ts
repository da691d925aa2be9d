// How the CLI answers: one JSON object on stdout with --json, readable text otherwise; user errors
// never print a stack trace. Exit codes come from the error taxonomy (errors/): 0 ok, 1 invalid
// input, a repo problem, a conflict or an unavailable system, 2 internal error, 3 denied.
import { errorAnswer, errorText, exitCodeFor, kindOf } from '../errors/index.js';

export interface Output {
  readonly json: boolean;
}

export function printResult(out: Output, data: unknown, text: string): void {
  process.stdout.write(out.json ? `${JSON.stringify(data)}\n` : `${text}\n`);
}

/** Print an error the way the contract says and return the exit code. */
export function reportError(out: Output, err: unknown): number {
  if (kindOf(err) === 'internal') {
    const detail = process.env.X1DEPLOY_DEBUG ? `\n${(err as Error)?.stack ?? String(err)}` : ' (set X1DEPLOY_DEBUG=1 for details)';
    const message = `internal error: ${err instanceof Error ? err.message : String(err)}`;
    if (out.json) process.stdout.write(`${JSON.stringify({ error: message, kind: 'internal' })}\n`);
    process.stderr.write(`x1deploy: ${message}${detail}\n`);
    return exitCodeFor(err);
  }
  if (out.json) process.stdout.write(`${JSON.stringify(errorAnswer(err))}\n`);
  else process.stderr.write(`x1deploy: ${errorText(err)}\n`);
  return exitCodeFor(err);
}
