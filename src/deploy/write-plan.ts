// The one way a change reaches the gitops repo: auto mode commits to the default branch (compare-
// and-swap on the tip it was planned against); review mode proposes it on a side branch. When the
// tip moved, the whole read-and-plan runs again against the new tip: never a blind replay.
import { StaleHeadError, type CommitAuthor, type GitopsStore } from '../gitops/store.js';
import type { GrantMode } from '../grants/grants-file.js';
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

/** Run read-plan-write until it lands on an unchanged tip, at most `maxAttempts` times. */
export async function withFreshTip<T>(
  store: GitopsStore,
  maxAttempts: number,
  attempt: (snapshot: RepoSnapshot) => Promise<T>,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(await RepoSnapshot.atHead(store));
    } catch (err) {
      if (!(err instanceof StaleHeadError)) throw err;
      if (n >= maxAttempts) throw new TooManyConflictsError(n);
      // Jitter, so that writers which collided do not collide again in lockstep.
      await new Promise((r) => setTimeout(r, Math.random() * 25 * n));
    }
  }
}

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
