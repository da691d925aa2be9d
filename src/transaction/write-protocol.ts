// The one way a change reaches the gitops repo. Every command that writes reads the repo at the
// tip, plans purely, and hands the plan here: auto mode commits to the default branch (compare-
// and-swap on the tip it was planned against); review mode proposes it on a side branch. When the
// tip moved, the whole read-and-plan runs again against the new tip: never a blind replay.
import pRetry from 'p-retry';
import { X1Error } from '../errors/index.js';
import { isTransactingStore } from './group-commit.js';
import { RepoSnapshot, StaleHeadError, type CommitAuthor, type FileChanges, type GitopsStore } from '../records/index.js';

/** Where a planned change lands: on the default branch, or proposed for review on a side branch. */
export type WriteMode = 'auto' | 'review';

export interface PlannedWrite {
  readonly changes: FileChanges;
  readonly message: string;
  readonly author: CommitAuthor;
  readonly mode: WriteMode;
  /** The side branch a review-mode change is proposed on. */
  readonly proposalBranch?: string;
}

export interface WriteOutcome {
  readonly commit: string | undefined;
  /** Set in review mode: where the change waits for review. */
  readonly gitopsBranch?: string;
}

/** The gitops branch kept moving under us; nothing was written by this request. */
export class TooManyConflictsError extends X1Error {
  constructor(attempts: number) {
    super('conflict', `the gitops branch changed under ${attempts} attempts in a row; nothing was written, try again`);
  }
}

/** Attempts a command makes before it reports that the gitops branch kept moving. */
export const DEFAULT_ATTEMPTS = 25;

export async function writePlanned(store: GitopsStore, parent: string, write: PlannedWrite): Promise<WriteOutcome> {
  if (write.changes.size === 0) return { commit: undefined };
  const request = { parent, changes: write.changes, message: write.message, author: write.author };
  if (write.mode === 'review') {
    if (write.proposalBranch === undefined) throw new Error('a review-mode write needs its proposal branch');
    return { commit: await store.proposeCommit({ ...request, branch: write.proposalBranch }), gitopsBranch: write.proposalBranch };
  }
  return { commit: await store.commit(request) };
}

/**
 * Run read-plan-write until it lands on an unchanged tip: up to `maxAttempts` attempts, with
 * exponential backoff and full jitter so that writers who collided spread out instead of colliding
 * again in lockstep (many agents deploying to one remote at once).
 */
export async function withFreshTip<T>(
  store: GitopsStore,
  attempt: (snapshot: RepoSnapshot) => Promise<T>,
  maxAttempts: number = DEFAULT_ATTEMPTS,
): Promise<T> {
  if (isTransactingStore(store)) return store.transact(attempt, maxAttempts);
  try {
    const once = async () => attempt(await RepoSnapshot.atHead(store));
    return await pRetry(() => (store.exclusive ? store.exclusive(once) : once()), {
      retries: maxAttempts - 1,
      factor: 2,
      minTimeout: 25,
      maxTimeout: 1500,
      randomize: true,
      shouldRetry: ({ error }) => error instanceof StaleHeadError,
    });
  } catch (err) {
    if (err instanceof StaleHeadError) throw new TooManyConflictsError(maxAttempts);
    throw err;
  }
}

/** One line per changed file ("path: added"), for the review pull request's body. */
export async function describeChanges(store: GitopsStore, parent: string, changes: FileChanges): Promise<string[]> {
  const lines: string[] = [];
  for (const [path, text] of [...changes].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const before = await store.readFile(parent, path);
    if (text === null) lines.push(`${path}: removed`);
    else if (before === undefined) lines.push(`${path}: added`);
    else if (before !== text) lines.push(`${path}: changed`);
  }
  return lines;
}
