// Planning a rollback is pure: serve an earlier built version again, its image pinned by the digest
// recorded when it was built. It needs the same grant as a deploy.
import { z } from 'zod';
import { X1Error } from '../errors/index.js';
import type { Authorization, GrantMode } from '../grants/index.js';
import { deployRecordPath } from '../layout/index.js';
import { stringifyRecord, UnknownBranchDeployError, type DeployRecord, type FileChanges, type Version } from '../records/index.js';
import { renderBranchDeploy } from '../render/index.js';
import { AppNameSchema, pinnedImageRef } from '../spec/index.js';
import { currentVersion, previousBuiltVersion, rollbackTo } from '../versions/index.js';
import type { WorkspaceConfig } from '../workspace/index.js';
import { grantDenied, trailers, type DeployAnswer } from './plan-deploy.js';

/** A planned change of one branch deploy (a deploy or a rollback), ready to be written. */
export interface BranchChange {
  readonly record: DeployRecord;
  /** The version the change is about (the new one, or the one rolled back to). */
  readonly version: Version;
  readonly changes: FileChanges;
  readonly message: string;
  readonly mode: GrantMode;
  /** The change removes the preview (a delete). */
  readonly removes?: true;
}

export const RollbackRequestSchema = z.strictObject({
  app: AppNameSchema,
  branch: z.string().min(1).describe('The branch whose preview to roll back.'),
  to: z.number().int().min(1).optional().describe('The version to serve again (default: the previous built one).'),
});
export type RollbackRequest = z.output<typeof RollbackRequestSchema>;

/** A rollback that cannot be done as asked. Nothing was written. */
export class RollbackRefusedError extends X1Error {
  constructor(reason: string) {
    super('invalid', reason);
  }
}

/** Which version to go to, or why not. Pure. */
export function rollbackTarget(record: DeployRecord, to: number | undefined): number {
  const current = currentVersion(record);
  if (to === undefined) {
    const previous = previousBuiltVersion(record);
    if (!previous)
      throw new RollbackRefusedError(
        `${record.app} ${record.branch} has no built version before ${current ? `version ${current.number}` : 'now'} to roll back to`,
      );
    return previous.number;
  }
  const target = record.versions[to - 1];
  if (!Number.isInteger(to) || !target) {
    throw new RollbackRefusedError(`${record.app} ${record.branch} has no version ${to}; its versions are 1-${record.versions.length}`);
  }
  if (!target.digest)
    throw new RollbackRefusedError(
      `version ${to} of ${record.app} ${record.branch} was never built (${target.status}); only built versions can be served`,
    );
  if (current?.number === to)
    throw new RollbackRefusedError(`version ${to} of ${record.app} ${record.branch} is already the current version`);
  return to;
}

export interface RollbackState {
  readonly workspace: WorkspaceConfig;
  /** The record in the branch's slug folder, if any. */
  readonly record: DeployRecord | undefined;
  readonly authorization: Authorization;
}

export interface RollbackPlan {
  readonly change: BranchChange;
  readonly answer: DeployAnswer & { readonly previous_version: number | null };
}

/** The rollback's decision and its files, from the repo state read at one commit. Pure. */
export function planRollback(
  state: RollbackState,
  request: RollbackRequest,
  who: { readonly agent: string; readonly now: string },
): RollbackPlan {
  if (!state.authorization.allowed) throw grantDenied(state.authorization.reason, who.agent, request.app);
  const mode: GrantMode = state.authorization.mode;
  const record = state.record;
  if (!record || record.branch !== request.branch) throw new UnknownBranchDeployError(request.app, request.branch);
  const target = rollbackTarget(record, request.to);
  const rolled = rollbackTo(record, target, who.now);
  const version = rolled.versions[target - 1]!;
  const previous = currentVersion(record)?.number ?? null;
  const changes = new Map<string, string>([
    [deployRecordPath(record.app, record.slug), stringifyRecord(rolled)],
    ...renderBranchDeploy(state.workspace, rolled),
  ]);
  const message = [
    `Roll back ${record.app} ${record.branch} to version ${target}${previous ? ` (from ${previous})` : ''}`,
    '',
    `${who.agent} made version ${target} (${version.commit_sha.slice(0, 12)}) current again; its image is served by digest, no rebuild.`,
    '',
    trailers(who.agent, rolled, version),
  ].join('\n');
  return {
    change: { record: rolled, version, changes, message, mode },
    answer: {
      url: rolled.url,
      version: target,
      image_ref: pinnedImageRef(version.image_ref, version.digest),
      status: version.status,
      app: record.app,
      branch: record.branch,
      slug: record.slug,
      mode,
      previous_version: previous,
    },
  };
}

