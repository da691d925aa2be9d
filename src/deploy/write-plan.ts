// The one way a change reaches the gitops repo: auto mode commits to the default branch (compare-
// and-swap on the tip it was planned against); review mode proposes it on a side branch. When the
// tip moved, the whole read-and-plan runs again against the new tip: never a blind replay.
import { StaleHeadError, type CommitAuthor, type GitopsStore } from '../gitops/store.js';
import type { GrantMode } from '../grants/grants-file.js';
import pRetry from 'p-retry';
import { RepoSnapshot } from '../records/snapshot.js';
import { TooManyConflictsError } from './errors.js';

export interface PlannedWrite {
  readonly changes: ReadonlyMap<string, string | null>;
  readonly message: string;
  readonly author: CommitAuthor;
  readonly mode: GrantMode;
  /** The side branch a review-mode change is proposed on. */
  readonly proposalBranch: string;
}

export interface WriteOutcome {
  readonly commit: string | undefined;
  /** Set in review mode: where the change waits for review. */
  readonly gitopsBranch?: string;
}

export async function writePlanned(store: GitopsStore, parent: string, write: PlannedWrite): Promise<WriteOutcome> {
  if (write.changes.size === 0) return { commit: undefined };
  const request = { parent, changes: write.changes, message: write.message, author: write.author };
  if (write.mode === 'review') {
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
  maxAttempts: number,
  attempt: (snapshot: RepoSnapshot) => Promise<T>,
): Promise<T> {
  try {
    return await pRetry(async () => attempt(await RepoSnapshot.atHead(store)), {
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

/** Attempts a command makes before it reports that the gitops branch kept moving. */
export const DEFAULT_ATTEMPTS = 25;

/**
 * The one gitops branch where a branch deploy's change waits for review: a newer deploy or a
 * rollback of the same branch replaces the proposal (and updates its pull request) instead of
 * opening another. Version numbers are assigned against the default branch, so an unmerged
 * proposal does not use one up.
 */
export function proposalBranchName(app: string, slug: string): string {
  return `x1deploy/${app}/${slug}`;
}

export function committerFor(agent: string, now: Date): CommitAuthor {
  return { name: agent, email: `${agent.replace(/@/g, '.')}@agents.x1deploy`, timestamp: Math.floor(now.getTime() / 1000) };
}

/** One line per changed file ("path: added"), for the review pull request's body. */
export async function describeChanges(store: GitopsStore, parent: string, changes: ReadonlyMap<string, string | null>): Promise<string[]> {
  const lines: string[] = [];
  for (const [path, text] of [...changes].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const before = await store.readFile(parent, path);
    if (text === null) lines.push(`${path}: removed`);
    else if (before === undefined) lines.push(`${path}: added`);
    else if (before !== text) lines.push(`${path}: changed`);
  }
  return lines;
}
