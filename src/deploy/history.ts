// x1deploy history: a branch deploy's versions, newest first.
import type { GitopsStore } from '../records/index.js';
import type { Version } from '../records/index.js';
import { RepoSnapshot } from '../records/index.js';
import { branchSlug } from '../spec/index.js';
import { UnknownBranchDeployError } from '../records/index.js';

export interface BranchHistory {
  readonly app: string;
  readonly branch: string;
  readonly slug: string;
  readonly url: string;
  readonly current_version: number | null;
  readonly versions: readonly Version[];
}

export async function branchHistory(store: GitopsStore, app: string, branch: string): Promise<BranchHistory> {
  const snapshot = await RepoSnapshot.atHead(store);
  await snapshot.workspace();
  const record = await snapshot.deployRecord(app, branchSlug(app, branch));
  if (!record || record.branch !== branch) throw new UnknownBranchDeployError(app, branch);
  return {
    app,
    branch,
    slug: record.slug,
    url: record.url,
    current_version: record.current_version ?? null,
    versions: [...record.versions].reverse(),
  };
}
