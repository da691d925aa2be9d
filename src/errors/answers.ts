// How each kind of error is answered: the CLI's exit codes and the structured answer every
// surface (CLI --json, MCP) gives. One mapping, so the surfaces cannot drift apart.
import { DeniedError, ERROR_KINDS, InvalidRequestError, X1Error, isX1Error, type ErrorKind, type FieldIssue } from './x1-error.js';

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_INTERNAL = 2;
export const EXIT_DENIED = 3;
/** The command ran, but some of its work failed (a build, a branch listing): a CronJob or CI step should alert. */
export const EXIT_FAILURES = 4;
/** status: the preview settled somewhere other than ready (degraded, build-failed, reaped). */
export const EXIT_NOT_READY = 5;
/** status: still on its way (pending-build, building, syncing, rolling-out), or --wait ran out of time. */
export const EXIT_IN_PROGRESS = 6;

const EXIT_CODES: Record<ErrorKind, number> = {
  invalid: EXIT_INVALID,
  denied: EXIT_DENIED,
  // Conflicts and unavailable systems are the user's to retry or fix, not x1deploy bugs.
  conflict: EXIT_INVALID,
  unavailable: EXIT_INVALID,
  internal: EXIT_INTERNAL,
};

/** The structured answer for a failed command or tool call. */
export type ErrorAnswer =
  | { readonly error: string; readonly kind: 'invalid'; readonly issues: readonly FieldIssue[] }
  | { readonly denied: true; readonly kind: 'denied'; readonly reason: string }
  | { readonly error: string; readonly kind: ErrorKind };

/**
 * Said for an error x1deploy did not expect. It does not claim that nothing was written: an error
 * after the write began (a push whose answer was lost) may leave the change landed.
 */
export const INTERNAL_ERROR_MESSAGE =
  "internal error in x1deploy; the change may or may not have landed: check the branch deploy's status before trying again, and ask the workspace operator to check the x1deploy logs if it happens again";

export function exitCodeFor(err: unknown): number {
  return EXIT_CODES[kindOf(err)];
}

export function kindOf(err: unknown): ErrorKind {
  return isX1Error(err) ? err.kind : 'internal';
}

export function errorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof InvalidRequestError) return { error: err.label, kind: 'invalid', issues: err.issues };
  if (err instanceof DeniedError) return { denied: true, kind: 'denied', reason: err.reason };
  if (isX1Error(err)) return { error: err.message, kind: err.kind };
  return { error: INTERNAL_ERROR_MESSAGE, kind: 'internal' };
}

/**
 * The error an answer stands for, as the process that got it from another (a handed-off request)
 * throws it again: same kind, same words, so every surface answers as if it had run here.
 */
export function errorFromAnswer(answer: ErrorAnswer): X1Error {
  if ('denied' in answer) return new DeniedError(answer.reason);
  if ('issues' in answer) return new InvalidRequestError(answer.issues, answer.error);
  return new X1Error(ERROR_KINDS.includes(answer.kind) ? answer.kind : 'internal', answer.error);
}

/** The answer as one paragraph a person or an agent reads. */
export function errorText(err: unknown): string {
  const answer = errorAnswer(err);
  if ('denied' in answer) return `denied: ${answer.reason}`;
  if ('issues' in answer) return `${answer.error}:\n${answer.issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`;
  return answer.error;
}
