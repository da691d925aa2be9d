// Everything x1deploy generates from the records, in one map: the workspace objects, every branch
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
  const files = renderWorkspace(workspace, apps);
  for (const record of records) for (const [path, text] of renderBranchDeploy(workspace, record)) files.set(path, text);
  for (const [path, text] of renderBootstrap(workspace)) files.set(path, text);
  // bootstrap/jobs/ exists only when the workspace opted in to the in-cluster jobs.
  for (const [path, text] of renderJobsBootstrap(workspace)) files.set(path, text);
  return files;
}
