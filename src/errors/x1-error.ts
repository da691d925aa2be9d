// One error taxonomy for the whole library. Every error x1deploy means a user to read is an
// X1Error: its message says what happened and what to do, and carries no secret. Its `kind` is the
// only thing a shell (CLI, MCP, the coming server) looks at to decide how to answer; any other
// error is internal and is reported without its details.

/**
 * - invalid: the input or the repo is not as it must be; fix what the message names.
 * - denied: the caller may not do this (grants, budgets).
 * - conflict: someone else changed the same thing at the same time; run the command again.
 * - unavailable: a system x1deploy talks to (git remote, cluster, registry, GitHub) failed or is away.
 * - internal: a bug in x1deploy.
 */
export const ERROR_KINDS = ['invalid', 'denied', 'conflict', 'unavailable', 'internal'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** A problem with one field of an input, by its dotted path. */
export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

export class X1Error extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { readonly cause?: unknown },
  ) {
    super(message, options);
    // The class name, without each subclass spelling it again.
    this.name = new.target.name;
  }
}

export function isX1Error(err: unknown): err is X1Error {
  return err instanceof X1Error;
}

/** The input is malformed: every problem, by field. Nothing was written. */
export class InvalidRequestError extends X1Error {
  constructor(
    readonly issues: readonly FieldIssue[],
    /** What was invalid, as the answer's `error` says it: "invalid request", "invalid workspace settings". */
    readonly label = 'invalid request',
  ) {
    super('invalid', `${label}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
}

/** The caller may not do this (no matching grant, or over a workspace limit). Nothing was written. */
export class DeniedError extends X1Error {
  constructor(readonly reason: string) {
    super('denied', reason);
  }
}

/** A user-facing problem of the input that is not about one field (a flag, a file that cannot be read). */
export class UsageError extends X1Error {
  constructor(message: string) {
    super('invalid', message);
  }
}
