// How the CLI answers: one JSON object on stdout with --json, readable text otherwise; user errors
// never print a stack trace. Exit codes: 0 ok, 1 invalid input or repo problem, 2 internal error,
// 3 denied.
import { DeniedError, InvalidRequestError } from '../deploy/errors.js';
import { isUserFacing } from '../user-facing-errors.js';
import { InvalidWorkspaceError } from '../workspace/init.js';
import type { FieldIssue } from '../spec/request.js';

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_INTERNAL = 2;
export const EXIT_DENIED = 3;

/** An error whose message is for the user as it is. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

export interface Output {
  readonly json: boolean;
}

export function printResult(out: Output, data: unknown, text: string): void {
  process.stdout.write(out.json ? `${JSON.stringify(data)}\n` : `${text}\n`);
}

function issuesText(issues: readonly FieldIssue[]): string {
  return issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n');
}

/** Print an error the way the contract says and return the exit code. */
export function reportError(out: Output, err: unknown): number {
  if (err instanceof InvalidRequestError || err instanceof InvalidWorkspaceError) {
    const error = err instanceof InvalidRequestError ? 'invalid request' : 'invalid workspace settings';
    if (out.json) process.stdout.write(`${JSON.stringify({ error, issues: err.issues })}\n`);
    else process.stderr.write(`x1deploy: ${error}:\n${issuesText(err.issues)}\n`);
    return EXIT_INVALID;
  }
  if (err instanceof DeniedError) {
    if (out.json) process.stdout.write(`${JSON.stringify({ denied: true, reason: err.reason })}\n`);
    else process.stderr.write(`x1deploy: denied: ${err.reason}\n`);
    return EXIT_DENIED;
  }
  if (err instanceof Error && isUserFacing(err)) {
    if (out.json) process.stdout.write(`${JSON.stringify({ error: (err as Error).message })}\n`);
    else process.stderr.write(`x1deploy: ${(err as Error).message}\n`);
    return EXIT_INVALID;
  }
  const detail = process.env.X1DEPLOY_DEBUG ? `\n${(err as Error)?.stack ?? String(err)}` : ' (set X1DEPLOY_DEBUG=1 for details)';
  const message = `internal error: ${err instanceof Error ? err.message : String(err)}`;
  if (out.json) process.stdout.write(`${JSON.stringify({ error: message })}\n`);
  process.stderr.write(`x1deploy: ${message}${detail}\n`);
  return EXIT_INTERNAL;
}
