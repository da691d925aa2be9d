// Planning the removal of one preview: its record folder and its rendered folder go in one commit;
// the engine prunes the objects, and the next reap deletes the images. The same grant as a deploy
// is needed (an agent removes what it may deploy). Pure.
import type { Authorization } from '../grants/index.js';
import { branchDeployDir, renderedDir } from '../layout/index.js';
import { UnknownBranchDeployError, type DeployRecord } from '../records/index.js';
import { latestVersion } from '../versions/index.js';
import { grantDenied } from './plan-deploy.js';
import type { BranchChange } from './plan-rollback.js';

export interface DeleteState {
  readonly record: DeployRecord | undefined;
  readonly authorization: Authorization;
}

export interface DeleteAnswer {
  readonly app: string;
  readonly branch: string;
  readonly slug: string;
  readonly url: string;
  readonly deleted_versions: number;
}

export function planDelete(
  state: DeleteState,
  ref: { readonly app: string; readonly branch: string },
  who: { readonly agent: string },
): { readonly change: BranchChange; readonly answer: DeleteAnswer } {
  if (!state.authorization.allowed) throw grantDenied(state.authorization.reason, who.agent, ref.app);
  const record = state.record;
  if (!record || record.branch !== ref.branch) throw new UnknownBranchDeployError(ref.app, ref.branch);
  const changes = new Map<string, null>([
    [branchDeployDir(record.app, record.slug), null],
    [renderedDir(record.app, record.slug), null],
  ]);
  const message = [
    `Delete ${record.app} ${record.branch}`,
    '',
    `${who.agent} deleted the preview ${record.url} (${record.versions.length} version${record.versions.length === 1 ? '' : 's'}); its images go with the next reap.`,
    '',
    `X1-Agent: ${who.agent}`,
    `X1-App: ${record.app}`,
    `X1-Branch: ${record.branch}`,
  ].join('\n');
  return {
    change: { record, version: latestVersion(record), changes, message, mode: state.authorization.mode, removes: true },
    answer: { app: record.app, branch: record.branch, slug: record.slug, url: record.url, deleted_versions: record.versions.length },
  };
}
