// Everything x1deploy generates from the records: the workspace objects, every branch
// deploy, the engine bootstrap and (opt-in) the in-cluster jobs. `render` and `verify` compare the
// repo with this.
import type { DeployRecord } from '../records/index.js';
import type { WorkspaceConfig } from '../workspace/index.js';
import { renderBootstrap } from './engines/render-bootstrap.js';
import type { RenderedFiles } from './object-folder.js';
import { renderBranchDeploy } from './render-branch-deploy.js';
import { renderJobsBootstrap } from './render-jobs.js';
import { renderWorkspace } from './render-workspace.js';

export function renderGenerated(workspace: WorkspaceConfig, apps: readonly string[], records: readonly DeployRecord[]): RenderedFiles {
  return new Map(generatedFiles(workspace, apps, records));
}

/**
 * The same files one at a time, each branch deploy's as it is rendered: a caller that keeps only
 * what it needs (a re-render keeps what changed) never holds every rendered file at once.
 */
export function* generatedFiles(
  workspace: WorkspaceConfig,
  apps: readonly string[],
  records: readonly DeployRecord[],
): Generator<readonly [path: string, text: string]> {
  yield* renderWorkspace(workspace, apps);
  for (const record of records) yield* renderBranchDeploy(workspace, record);
  yield* renderBootstrap(workspace);
  // bootstrap/jobs/ exists only when the workspace opted in to the in-cluster jobs.
  yield* renderJobsBootstrap(workspace);
}
