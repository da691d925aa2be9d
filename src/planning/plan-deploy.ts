// Planning a deploy is pure: the repo state read at one commit plus the validated request give
// the decision (denied, or the new records, rendered files and commit message). Nothing is
// written here; every check runs before anything is planned for writing.
import { DeniedError, InvalidRequestError, X1Error } from '../errors/index.js';
import type { Authorization, GrantMode } from '../grants/index.js';
import { appRecordPath, deployRecordPath } from '../layout/index.js';
import { stringifyRecord, type AppRecord, type DeployRecord, type Version } from '../records/index.js';
import { renderBranchDeploy, renderWorkspace } from '../render/index.js';
import {
  AgentIdSchema,
  branchDeployNames,
  deployRequestSchema,
  prototypeKeyIssues,
  toFieldIssues,
  fillNameTemplate,
  imageRef,
  objectName,
  pinnedImageRef,
  type BranchSlug,
  type DeployRequest,
} from '../spec/index.js';
import { addVersion, firstVersion } from '../versions/index.js';
import type { WorkspaceConfig } from '../workspace/index.js';

export interface DeployState {
  readonly workspace: WorkspaceConfig;
  readonly apps: readonly string[];
  readonly app: AppRecord | undefined;
  /** The record in the slug's folder, whichever branch it belongs to. */
  readonly existing: DeployRecord | undefined;
  readonly authorization: Authorization;
  /** Branch deploys counting against maxBranchDeploys now. */
  readonly previewCount: number;
  /** Another app's branch deploy whose objects have the name this one would get (see objectNameOwner). */
  readonly nameOwner?: { readonly app: string; readonly branch: string };
}

export interface DeployAnswer {
  readonly url: string;
  readonly version: number;
  readonly image_ref: string;
  readonly status: string;
  readonly app: string;
  readonly branch: string;
  readonly slug: string;
  readonly mode: GrantMode;
  /** What will get in the way later (no source repo to build from), each with what to do. */
  readonly warnings?: readonly string[];
}

export interface DeployPlan {
  readonly answer: DeployAnswer;
  readonly record: DeployRecord;
  readonly version: Version;
  /** Files to write; empty when the request is what the branch already has. */
  readonly changes: Map<string, string>;
  readonly message: string;
}

export class SlugCollisionError extends X1Error {
  constructor(
    readonly slug: string,
    readonly branch: string,
    readonly other: string,
  ) {
    super('invalid', `branch "${branch}" maps to slug "${slug}", which branch "${other}" already uses; rename the branch`);
  }
}

/** Two apps' previews whose `<app>-<slug>` names coincide (app a, slug b-c and app a-b, slug c). */
export class ObjectNameCollisionError extends X1Error {
  constructor(name: string, app: string, branch: string, other: { readonly app: string; readonly branch: string }) {
    super(
      'invalid',
      `${app} ${branch} would name its objects ${name}, which ${other.app} ${other.branch} already uses in the namespace; deploy the branch under another name`,
    );
  }
}

/** The request as the workspace's limits allow it, or every problem at once. */
export function validateDeployRequest(input: unknown, ws: WorkspaceConfig): DeployRequest {
  const keys = prototypeKeyIssues(input);
  if (keys.length > 0) throw new InvalidRequestError(keys);
  const parsed = deployRequestSchema(ws.limits).safeParse(input);
  if (!parsed.success) throw new InvalidRequestError(toFieldIssues(parsed.error));
  return parsed.data;
}

/** A refusal for want of a grant, saying whom to ask for which command. */
export function grantDenied(reason: string, agent: string, app: string): DeniedError {
  return new DeniedError(`${reason}; a workspace owner can grant it: x1deploy grant --agent ${agent} --app ${app} --branches <pattern>`);
}

export function validAgent(agent: string): string {
  const parsed = AgentIdSchema.safeParse(agent);
  if (!parsed.success) throw new InvalidRequestError([{ path: 'agent', message: parsed.error.issues[0]!.message }]);
  return parsed.data;
}

function sourceRepoFor(state: DeployState, request: DeployRequest): string | undefined {
  const recorded = state.app?.repo;
  if (recorded !== undefined && request.repo !== undefined && request.repo !== recorded) {
    throw new InvalidRequestError([
      {
        path: 'repo',
        message: `app ${request.app} is built from ${recorded}; one app is one source repo, so deploy this repo as another app`,
      },
    ]);
  }
  const template = state.workspace.apps.sourceRepo;
  return (
    recorded ??
    request.repo ??
    (template ? fillNameTemplate(template, { app: request.app, slug: '', workspace: state.workspace.workspace.id }) : undefined)
  );
}

function requestedVersion(ws: WorkspaceConfig, request: DeployRequest, who: { readonly agent: string; readonly now: string }) {
  const { app, branch: _branch, commit_sha, repo: _repo, ...spec } = request;
  return { commit_sha, spec, image_ref: imageRef(ws, app, commit_sha), requested_by: who.agent, now: who.now };
}

function newRecordBase(ws: WorkspaceConfig, request: DeployRequest, slug: BranchSlug, now: string) {
  const { url } = branchDeployNames(ws.workspace, request.app, slug);
  return {
    apiVersion: 'x1deploy.dev/v1' as const,
    kind: 'BranchDeploy' as const,
    app: request.app,
    branch: request.branch,
    slug,
    url,
    created_at: now,
  };
}

/** The record a first deploy of this request creates (for examples and benchmarks). */
export function newBranchDeploy(
  ws: WorkspaceConfig,
  request: DeployRequest,
  slug: BranchSlug,
  who: { readonly agent: string; readonly now: string },
): DeployRecord {
  return firstVersion(newRecordBase(ws, request, slug, who.now), requestedVersion(ws, request, who)).record;
}

export function planDeploy(
  state: DeployState,
  request: DeployRequest,
  slug: BranchSlug,
  who: { readonly agent: string; readonly now: string },
): DeployPlan {
  const ws = state.workspace;
  if (!state.authorization.allowed) throw grantDenied(state.authorization.reason, who.agent, request.app);
  const mode = state.authorization.mode;
  if (state.existing && state.existing.branch !== request.branch) {
    throw new SlugCollisionError(slug, request.branch, state.existing.branch);
  }
  if (state.nameOwner) {
    throw new ObjectNameCollisionError(objectName(request.app, slug), request.app, request.branch, state.nameOwner);
  }
  const repo = sourceRepoFor(state, request);
  const defaultBranch = state.app?.default_branch ?? ws.apps.defaultBranch;
  if (!state.existing && request.branch !== defaultBranch && state.previewCount >= ws.limits.maxBranchDeploys) {
    throw new DeniedError(
      `workspace ${ws.workspace.id} is at its limit of ${ws.limits.maxBranchDeploys} concurrent branch deploys (limits.maxBranchDeploys in x1deploy.yaml; ${state.previewCount} exist, default branches not counted); redeploy an existing branch or have one reaped first`,
    );
  }

  const { app, branch } = request;
  const next = requestedVersion(ws, request, who);
  const result = state.existing ? addVersion(state.existing, next) : firstVersion(newRecordBase(ws, request, slug, who.now), next);
  const { record, version } = result;
  const warnings =
    repo === undefined
      ? [
          `app ${app} has no source repo, so the build cannot make its image: deploy again with "repo" (its https:// clone URL), or have an owner set apps.sourceRepo in x1deploy.yaml`,
        ]
      : [];
  const answer: DeployAnswer = {
    url: record.url,
    version: version.number,
    image_ref: pinnedImageRef(version.image_ref, version.digest),
    status: version.status,
    app,
    branch,
    slug,
    mode,
    ...(warnings.length ? { warnings } : {}),
  };
  const changes = new Map<string, string>();
  // The app record learns its source repo even when the version is unchanged (a repo added later).
  const learnsRepo = state.app !== undefined && state.app.repo === undefined && repo !== undefined;
  if (!result.changed && !learnsRepo) return { answer, record, version, changes, message: '' };

  if (!state.app || learnsRepo) {
    const appRecord: AppRecord = state.app
      ? { ...state.app, repo }
      : {
          apiVersion: 'x1deploy.dev/v1',
          kind: 'App',
          name: app,
          ...(repo !== undefined ? { repo } : {}),
          default_branch: defaultBranch,
          created_by: who.agent,
          created_at: who.now,
        };
    changes.set(appRecordPath(app), stringifyRecord(appRecord));
  }
  if (!result.changed) {
    return { answer, record, version, changes, message: repoMessage(app, repo!, who.agent) };
  }
  if (!state.app) {
    for (const [path, text] of renderWorkspace(ws, [...state.apps, app])) changes.set(path, text);
  }
  changes.set(deployRecordPath(app, slug), stringifyRecord(record));
  for (const [path, text] of renderBranchDeploy(ws, record)) changes.set(path, text);

  return { answer, record, version, changes, message: deployMessage(record, version, who.agent) };
}

function repoMessage(app: string, repo: string, agent: string): string {
  return [
    `Record the source repo of ${app}`,
    '',
    `${agent} named ${repo} as the repo ${app} is built from.`,
    '',
    `X1-Agent: ${agent}`,
    `X1-App: ${app}`,
  ].join('\n');
}

export function trailers(agent: string, record: DeployRecord, version: Version): string {
  return [
    `X1-Agent: ${agent}`,
    `X1-App: ${record.app}`,
    `X1-Branch: ${record.branch}`,
    `X1-Version: ${version.number}`,
    `X1-Commit: ${version.commit_sha}`,
  ].join('\n');
}

function deployMessage(record: DeployRecord, version: Version, agent: string): string {
  const what = version.status === 'live' ? 'live now (image already built)' : 'pending build';
  return [
    `Deploy ${record.app} ${record.branch} version ${version.number} (${version.commit_sha.slice(0, 12)})`,
    '',
    `${agent} requested version ${version.number} of ${record.app}/${record.slug}: ${what}.`,
    `Preview: ${record.url}`,
    '',
    trailers(agent, record, version),
  ].join('\n');
}
