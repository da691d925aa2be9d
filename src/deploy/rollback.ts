// x1deploy rollback: serve an earlier built version again. No rebuild: the image is pinned by the
// digest recorded when it was built. Needs the same grant as a deploy.
import { authorize } from '../grants/authorize.js';
import type { GitopsStore } from '../gitops/store.js';
import { stringifyRecord } from '../records/codec.js';
import type { DeployRecord } from '../records/deploy-record.js';
import { deployRecordPath } from '../records/paths.js';
import { renderBranchDeploy } from '../render/render-branch-deploy.js';
import { branchSlug } from '../spec/names.js';
import { z } from 'zod';
import { AppNameSchema, toFieldIssues } from '../spec/request.js';
import { currentVersion, previousBuiltVersion, rollbackTo } from '../versions/lifecycle.js';
import { validAgent, type ActorOptions } from './deploy-branch.js';
import { DeniedError, InvalidRequestError, RollbackRefusedError, UnknownBranchDeployError } from './errors.js';
import { trailers, type DeployAnswer } from './plan.js';
import { committerFor, DEFAULT_ATTEMPTS, proposalBranchName, withFreshTip, writePlanned } from './write-plan.js';

export const RollbackRequestSchema = z.strictObject({
  app: AppNameSchema,
  branch: z.string().min(1).describe('The branch whose preview to roll back.'),
  to: z.number().int().min(1).optional().describe('The version to serve again (default: the previous built one).'),
});
export type RollbackRequest = z.output<typeof RollbackRequestSchema>;

export interface RollbackResult {
  readonly answer: DeployAnswer & { readonly previous_version: number | null; readonly gitops_branch?: string };
  readonly commit: string | undefined;
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

export async function rollbackBranch(store: GitopsStore, request: RollbackRequest, options: ActorOptions): Promise<RollbackResult> {
  const agent = validAgent(options.agent);
  const parsed = RollbackRequestSchema.safeParse(request);
  if (!parsed.success) throw new InvalidRequestError(toFieldIssues(parsed.error));
  const clock = options.clock ?? (() => new Date());
  return withFreshTip(store, options.maxAttempts ?? DEFAULT_ATTEMPTS, async (snapshot) => {
    const workspace = await snapshot.workspace();
    const authorization = authorize(await snapshot.grants(), agent, request.app, request.branch);
    if (!authorization.allowed) throw new DeniedError(authorization.reason);
    const slug = branchSlug(request.app, request.branch);
    const record = await snapshot.deployRecord(request.app, slug);
    if (!record || record.branch !== request.branch) throw new UnknownBranchDeployError(request.app, request.branch);

    const target = rollbackTarget(record, request.to);
    const now = clock();
    const rolled = rollbackTo(record, target, now.toISOString());
    const version = rolled.versions[target - 1]!;
    const previous = currentVersion(record)?.number ?? null;
    const changes = new Map<string, string>([
      [deployRecordPath(record.app, slug), stringifyRecord(rolled)],
      ...renderBranchDeploy(workspace, rolled),
    ]);
    const message = [
      `Roll back ${record.app} ${record.branch} to version ${target}${previous ? ` (from ${previous})` : ''}`,
      '',
      `${agent} made version ${target} (${version.commit_sha.slice(0, 12)}) current again; its image is served by digest, no rebuild.`,
      '',
      trailers(agent, rolled, version),
    ].join('\n');
    const outcome = await writePlanned(store, snapshot.commit, {
      changes,
      message,
      author: committerFor(agent, now),
      mode: authorization.mode,
      proposalBranch: proposalBranchName(record.app, slug),
    });
    const answer = {
      url: rolled.url,
      version: target,
      image_ref: `${version.image_ref}@${version.digest}`,
      status: version.status,
      app: record.app,
      branch: record.branch,
      slug,
      mode: authorization.mode,
      previous_version: previous,
      ...(outcome.gitopsBranch ? { gitops_branch: outcome.gitopsBranch } : {}),
    };
    return { answer, commit: outcome.commit };
  });
}
