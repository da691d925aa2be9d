// x1deploy history: a branch deploy's versions, newest first, with the versions a review-mode
// proposal adds (marked `proposed`: they exist on the gitops branch until it is merged).
import { proposalOf, RepoSnapshot, UnknownBranchDeployError, type GitopsStore, type Version } from '../records/index.js';
import { branchSlug } from '../spec/index.js';

export type HistoryVersion = Version & { readonly proposed?: true };

export interface BranchHistory {
  readonly app: string;
  readonly branch: string;
  readonly slug: string;
  readonly url: string;
  readonly current_version: number | null;
  readonly versions: readonly HistoryVersion[];
  /** The proposal waiting for review, if any. */
  readonly proposal: { readonly version: number; readonly gitops_branch: string } | null;
}

export async function branchHistory(store: GitopsStore, app: string, branch: string): Promise<BranchHistory> {
  const snapshot = await RepoSnapshot.atHead(store);
  await snapshot.workspace();
  const slug = branchSlug(app, branch);
  const found = await snapshot.deployRecord(app, slug);
  const record = found && found.branch === branch ? found : undefined;
  const proposal = await proposalOf(store, app, slug);
  const proposedRecord = proposal && proposal.record.branch === branch ? proposal.record : undefined;
  if (!record && !proposedRecord) throw new UnknownBranchDeployError(app, branch);
  const known = record?.versions.length ?? 0;
  const proposed = (proposedRecord?.versions ?? []).filter((v) => v.number > known).map((v): HistoryVersion => ({ ...v, proposed: true }));
  const base = (record ?? proposedRecord)!;
  return {
    app,
    branch,
    slug,
    url: base.url,
    current_version: record?.current_version ?? null,
    versions: [...(record?.versions ?? []), ...proposed].reverse(),
    proposal:
      proposal && proposed.length > 0 ? { version: proposed[proposed.length - 1]!.number, gitops_branch: proposal.gitops_branch } : null,
  };
}
