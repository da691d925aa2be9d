// Review-mode changes waiting on their proposal branches (x1deploy/<app>/<slug>): the branch deploy
// as it would be once the pull request is merged.
import { parseProposalBranch, PROPOSAL_BRANCH_PREFIX, proposalBranchName } from '../layout/index.js';
import type { DeployRecord } from './deploy-record.js';
import type { GitopsStore } from './gitops-store.js';
import { RepoSnapshot } from './snapshot.js';

export interface Proposal {
  /** The gitops branch the change waits on. */
  readonly gitops_branch: string;
  readonly commit: string;
  /** The branch deploy's record on that branch. */
  readonly record: DeployRecord;
}

/** The proposal of one branch deploy, if any. */
export async function proposalOf(store: GitopsStore, app: string, slug: string): Promise<Proposal | undefined> {
  const gitops_branch = proposalBranchName(app, slug);
  const commit = await store.branchHead(gitops_branch);
  const record = commit ? await new RepoSnapshot(store, commit).deployRecord(app, slug) : undefined;
  return commit && record ? { gitops_branch, commit, record } : undefined;
}

/** Every open proposal, ordered by app then slug. */
export async function allProposals(store: GitopsStore): Promise<Proposal[]> {
  const found: Proposal[] = [];
  for (const [gitops_branch, commit] of await store.branches(PROPOSAL_BRANCH_PREFIX)) {
    const target = parseProposalBranch(gitops_branch);
    if (!target) continue;
    const record = await new RepoSnapshot(store, commit).deployRecord(target.app, target.slug);
    if (record) found.push({ gitops_branch, commit, record });
  }
  return found;
}
