// What verify reports: one entry per problem, each naming the file and saying what to do.
export const PROBLEM_KINDS = [
  'invalid-spec',
  'render-drift',
  'unauthorized-deploy',
  'unexplained-change',
  'refused-change',
  'owner-review',
  'not-a-regular-file',
  'secret-value',
  'uncommitted',
] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

export interface VerifyProblem {
  readonly kind: ProblemKind;
  /** Repo-relative path of the file the problem is in. */
  readonly path: string;
  readonly message: string;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly problems: readonly VerifyProblem[];
}

export const RENDER_COMMAND = 'x1deploy render --repo .';
