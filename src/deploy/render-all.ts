// `x1deploy render`: re-render every branch deploy, the workspace objects and the engine bootstrap
// from the records, removing generated files no record produces any more. One commit, or none
// when nothing changed.
import { BOOTSTRAP_DIR, renderBootstrap } from '../engines/index.js';
import type { GitopsStore } from '../gitops/store.js';
import { renderJobsBootstrap } from '../install/index.js';
import type { DeployRecord } from '../records/deploy-record.js';
import { RepoSnapshot } from '../records/snapshot.js';
import { RENDERED_ROOT, renderBranchDeploy, type RenderedFiles } from '../render/render-branch-deploy.js';
import { renderWorkspace } from '../render/render-workspace.js';
import type { WorkspaceConfig } from '../workspace/config.js';

/** The folders x1deploy owns outright: every file in them is generated, and nothing else is. */
export const GENERATED_ROOTS: readonly string[] = [RENDERED_ROOT, BOOTSTRAP_DIR];

/** Every generated file for this workspace, its apps and branch deploys. */
export function renderGenerated(workspace: WorkspaceConfig, apps: readonly string[], records: readonly DeployRecord[]): RenderedFiles {
  const files = renderWorkspace(workspace, apps);
  for (const record of records) for (const [path, text] of renderBranchDeploy(workspace, record)) files.set(path, text);
  for (const [path, text] of renderBootstrap(workspace)) files.set(path, text);
  // bootstrap/jobs/ exists only when the workspace opted in to the in-cluster jobs.
  for (const [path, text] of renderJobsBootstrap(workspace)) files.set(path, text);
  return files;
}

export interface RenderAllResult {
  readonly commit: string | undefined;
  readonly branchDeploys: number;
}

export async function renderAll(store: GitopsStore, options: { readonly now?: Date } = {}): Promise<RenderAllResult> {
  const snapshot = await RepoSnapshot.atHead(store);
  const workspace = await snapshot.workspace();
  const records = await snapshot.allDeployRecords();
  const desired = renderGenerated(workspace, await snapshot.apps(), records);

  const changes = new Map<string, string | null>();
  for (const root of GENERATED_ROOTS) {
    for (const path of await store.listFiles(snapshot.commit, root)) if (!desired.has(path)) changes.set(path, null);
  }
  for (const [path, text] of desired) changes.set(path, text);

  const now = options.now ?? new Date();
  const commit = await store.commit({
    parent: snapshot.commit,
    changes,
    message: `Re-render ${records.length} branch deploys\n\nx1deploy render regenerated ${GENERATED_ROOTS.map((r) => `${r}/`).join(' and ')} from the records.`,
    author: { name: 'x1deploy', email: 'render@x1deploy', timestamp: Math.floor(now.getTime() / 1000) },
  });
  return { commit, branchDeploys: records.length };
}
