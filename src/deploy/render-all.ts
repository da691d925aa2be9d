// `x1deploy render`: re-render every branch deploy and the workspace objects from the records,
// removing rendered files no record produces any more. One commit, or none when nothing changed.
import type { GitopsStore } from '../gitops/store.js';
import { RepoSnapshot } from '../records/snapshot.js';
import { RENDERED_ROOT, renderBranchDeploy } from '../render/render-branch-deploy.js';
import { renderWorkspace } from '../render/render-workspace.js';

export interface RenderAllResult {
  readonly commit: string | undefined;
  readonly branchDeploys: number;
}

export async function renderAll(store: GitopsStore, options: { readonly now?: Date } = {}): Promise<RenderAllResult> {
  const snapshot = await RepoSnapshot.atHead(store);
  const workspace = await snapshot.workspace();
  const records = await snapshot.allDeployRecords();
  const desired = renderWorkspace(workspace, await snapshot.apps());
  for (const record of records) for (const [path, text] of renderBranchDeploy(workspace, record)) desired.set(path, text);

  const changes = new Map<string, string | null>();
  const existing = await store.listFiles(snapshot.commit, RENDERED_ROOT);
  for (const path of existing) if (!desired.has(path)) changes.set(path, null);
  for (const [path, text] of desired) changes.set(path, text);

  const now = options.now ?? new Date();
  const commit = await store.commit({
    parent: snapshot.commit,
    changes,
    message: `Re-render ${records.length} branch deploys\n\nx1deploy render regenerated ${RENDERED_ROOT}/ from the records.`,
    author: { name: 'x1deploy', email: 'render@x1deploy', timestamp: Math.floor(now.getTime() / 1000) },
  });
  return { commit, branchDeploys: records.length };
}
