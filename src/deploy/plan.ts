// Planning a deploy is pure: the repo state read at one commit plus the validated request give
// the new records, the rendered files and the commit message. Nothing is written here.
import { stringifyRecord } from '../records/codec.js';
import type { AppRecord } from '../records/app-record.js';
import type { DeployRecord, Version } from '../records/deploy-record.js';
import { appRecordPath, deployRecordPath } from '../records/paths.js';
import { renderBranchDeploy } from '../render/render-branch-deploy.js';
import { renderWorkspace } from '../render/render-workspace.js';
import { branchDeployNames, type BranchSlug } from '../spec/names.js';
import type { DeployRequest } from '../spec/request.js';
import { addVersion, firstVersion } from '../versions/lifecycle.js';
import type { WorkspaceConfig } from '../workspace/config.js';

export interface DeployState {
  readonly workspace: WorkspaceConfig;
  readonly apps: readonly string[];
  readonly app: AppRecord | undefined;
  /** The record in the slug's folder, whichever branch it belongs to. */
  readonly existing: DeployRecord | undefined;
}

export interface DeployAnswer {
  readonly url: string;
  readonly version: number;
  readonly image_ref: string;
  readonly status: string;
  readonly app: string;
  readonly branch: string;
  readonly slug: string;
}

export interface DeployPlan {
  readonly answer: DeployAnswer;
  readonly record: DeployRecord;
  readonly version: Version;
  /** Files to write; empty when the request is what the branch already runs. */
  readonly changes: Map<string, string>;
  readonly message: string;
}

export class SlugCollisionError extends Error {
  constructor(readonly slug: string, readonly branch: string, readonly other: string) {
    super(`branch "${branch}" maps to slug "${slug}", which branch "${other}" already uses; rename the branch`);
    this.name = 'SlugCollisionError';
  }
}

export function imageRepository(ws: WorkspaceConfig, app: string): string {
  return `${ws.registry}/ws/${ws.workspace.id}/app-${app}`;
}

export function planDeploy(
  state: DeployState,
  request: DeployRequest,
  slug: BranchSlug,
  who: { readonly agent: string; readonly now: string },
): DeployPlan {
  const ws = state.workspace;
  if (state.existing && state.existing.branch !== request.branch) {
    throw new SlugCollisionError(slug, request.branch, state.existing.branch);
  }
  const { app, branch, commit_sha, ...spec } = request;
  const names = branchDeployNames(ws.workspace, app, slug);
  const next = {
    commit_sha,
    spec,
    image_ref: `${imageRepository(ws, app)}:${commit_sha}`,
    requested_by: who.agent,
    now: who.now,
  };
  const result = state.existing
    ? addVersion(state.existing, next)
    : firstVersion(
        { apiVersion: 'x1deploy.dev/v1', kind: 'BranchDeploy', app, branch, slug, url: names.url, created_at: who.now },
        next,
      );
  const { record, version } = result;
  const answer: DeployAnswer = {
    url: record.url,
    version: version.number,
    image_ref: version.digest ? `${version.image_ref}@${version.digest}` : version.image_ref,
    status: version.status,
    app,
    branch,
    slug,
  };
  const changes = new Map<string, string>();
  if (!result.changed) return { answer, record, version, changes, message: '' };

  if (!state.app) {
    const appRecord: AppRecord = {
      apiVersion: 'x1deploy.dev/v1',
      kind: 'App',
      name: app,
      default_branch: 'main',
      created_by: who.agent,
      created_at: who.now,
    };
    changes.set(appRecordPath(app), stringifyRecord(appRecord));
    for (const [path, text] of renderWorkspace(ws, [...state.apps, app])) changes.set(path, text);
  }
  changes.set(deployRecordPath(app, slug), stringifyRecord(record));
  for (const [path, text] of renderBranchDeploy(ws, record)) changes.set(path, text);

  return { answer, record, version, changes, message: deployMessage(record, version, who.agent) };
}

function deployMessage(record: DeployRecord, version: Version, agent: string): string {
  const what = version.status === 'live' ? 'live now (image already built)' : 'pending build';
  return [
    `Deploy ${record.app} ${record.branch} version ${version.number} (${version.commit_sha.slice(0, 12)})`,
    '',
    `${agent} requested version ${version.number} of ${record.app}/${record.slug}: ${what}.`,
    `Preview: ${record.url}`,
    '',
    `X1-Agent: ${agent}`,
    `X1-App: ${record.app}`,
    `X1-Branch: ${record.branch}`,
    `X1-Version: ${version.number}`,
    `X1-Commit: ${version.commit_sha}`,
  ].join('\n');
}
