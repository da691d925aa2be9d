// Landing a planned change of one branch deploy (a deploy or a rollback): auto mode commits it to
// the default branch; review mode proposes it on the branch deploy's proposal branch. Once it is in
// git, the reviewers are told (the gitops pull request, the preview comment on the app's PR); a
// failure to tell them is reported with the answer, never thrown: the change itself stands.
import { proposalBranchName } from '../layout/index.js';
import type { BranchChange } from '../planning/index.js';
import type { GitopsStore, RepoSnapshot } from '../records/index.js';
import { publishForReview, type Published, type ReviewPort } from '../review/index.js';
import { agentCommitter, describeChanges, writePlanned } from '../transaction/index.js';

export interface Landed {
  readonly change: BranchChange;
  /** The commit made (or the proposal already open for it); undefined when nothing changed. */
  readonly commit: string | undefined;
  /** Set in review mode: where the change waits for review. */
  readonly gitopsBranch?: string;
  /** For the review pull request's body: "path: added", … */
  readonly described: readonly string[];
  readonly sourceRepo: string | undefined;
}

export interface LandOptions {
  readonly agent: string;
  readonly now: Date;
  readonly review?: ReviewPort;
  readonly sourceRepo: string | undefined;
  /** The commit of an open proposal that already asks for exactly this change, if any. */
  readonly alreadyProposed?: string;
}

export async function landBranchChange(
  store: GitopsStore,
  snapshot: RepoSnapshot,
  change: BranchChange,
  options: LandOptions,
): Promise<Landed> {
  const proposalBranch = proposalBranchName(change.record.app, change.record.slug);
  const base = { change, sourceRepo: options.sourceRepo, described: [] as string[] };
  if (change.changes.size === 0) return { ...base, commit: undefined };
  if (change.mode === 'review' && options.alreadyProposed !== undefined) {
    return { ...base, commit: options.alreadyProposed, gitopsBranch: proposalBranch };
  }
  const described = options.review && change.mode === 'review' ? await describeChanges(store, snapshot.commit, change.changes) : [];
  const outcome = await writePlanned(store, snapshot.commit, {
    changes: change.changes,
    message: change.message,
    author: agentCommitter(options.agent, options.now),
    mode: change.mode,
    proposalBranch,
  });
  return { ...base, described, commit: outcome.commit, ...(outcome.gitopsBranch ? { gitopsBranch: outcome.gitopsBranch } : {}) };
}

/** Tell the reviewers about a change that landed; nothing when there is no review port or no commit. */
export async function publishLanded(store: GitopsStore, landed: Landed, agent: string, review: ReviewPort | undefined): Promise<Published> {
  if (!review || landed.commit === undefined) return {};
  const { change } = landed;
  return publishForReview(review, {
    title: change.message.split('\n')[0]!,
    record: change.record,
    version: change.version,
    agent,
    proposal: landed.gitopsBranch ? { head: landed.gitopsBranch, base: store.branch } : undefined,
    changes: landed.described,
    sourceRepo: landed.sourceRepo,
    ...(change.removes ? { removed: true } : {}),
  });
}

/**
 * The answer to the agent once the change is in git: the plan's answer, where it waits (review
 * mode), and what reviewers were told.
 */
export async function answerLanded<A extends object>(
  store: GitopsStore,
  landed: { readonly answer: A; readonly landed: Landed },
  agent: string,
  review: ReviewPort | undefined,
): Promise<{ readonly answer: A & { readonly gitops_branch?: string } & Published; readonly commit: string | undefined }> {
  const published = await publishLanded(store, landed.landed, agent, review);
  const where = landed.landed.gitopsBranch ? { gitops_branch: landed.landed.gitopsBranch } : {};
  return { answer: { ...landed.answer, ...where, ...published }, commit: landed.landed.commit };
}
