// What a pull request may change, decided from the change itself and the identity CI vouches for:
//   - every changed file under apps/ must be byte for byte what x1deploy writes when the
//     operations the change amounts to (deploys, a rollback, a source repo learned) are replayed
//     against the merge base with the same planning code, as that identity, under the target's
//     grants and limits. A record cannot claim a digest, a live status, another requester or an
//     older version rewritten: the replay would not write it.
//   - deleting a branch deploy, and every file x1deploy does not write (settings, grants,
//     CODEOWNERS, .gitattributes, .gitmodules, .github/, anything else), is an owner's change.
// rendered/ and bootstrap/ are judged elsewhere (render drift): they must follow the records.
import { parse as parseYamlText } from 'yaml';
import { X1Error } from '../errors/index.js';
import { authorize, type GrantsFile } from '../grants/index.js';
import { appRecordPath, branchDeployDir, deployRecordPath, parseRepoPath } from '../layout/index.js';
import { planDeploy, planRollback, validateDeployRequest } from '../planning/index.js';
import { RepoSnapshot, type DeployRecord, type GitopsStore, type Version } from '../records/index.js';
import { branchSlug } from '../spec/index.js';
import type { WorkspaceConfig } from '../workspace/index.js';
import type { Identity } from './identity.js';
import type { VerifyProblem } from './problems.js';
import type { PullRequestBase } from './pull-request.js';
import { ReplayTree } from './replay-tree.js';
import type { PathChange } from './tree.js';

export interface ChangeContext {
  readonly store: GitopsStore;
  readonly base: PullRequestBase;
  readonly head: string;
  /** x1deploy.yaml and grants.yaml as they are on the target's tip: the pull request cannot change what judges it. */
  readonly workspace: WorkspaceConfig;
  readonly grants: GrantsFile | undefined;
  readonly identity: Identity | undefined;
  /** Valid records at the head, by path (an invalid one is reported as invalid-spec and not replayed). */
  readonly headRecords: ReadonlyMap<string, DeployRecord>;
}

type Operation =
  | { readonly kind: 'deploy'; readonly record: DeployRecord; readonly version: Version; readonly repo?: string }
  | { readonly kind: 'rollback'; readonly record: DeployRecord; readonly to: number; readonly now: string }
  | { readonly kind: 'learn-repo'; readonly app: string; readonly repo: string | undefined; readonly now: string }
  | { readonly kind: 'delete'; readonly app: string; readonly slug: string };

const OWNER_FIX = 'an owner must make this change: open the pull request from a login listed in x1deploy.yaml identities.owners';
const X1_FIX =
  'make the change with x1deploy (deploy, rollback), which writes exactly these bytes; digests and live/failed statuses come only from the build job on the default branch';

export async function authorizeChanges(ctx: ChangeContext, changes: readonly PathChange[]): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = [];
  const recordPaths: PathChange[] = [];
  for (const change of changes) {
    const where = parseRepoPath(change.path);
    switch (where.kind) {
      case 'rendered':
      case 'workspace-rendered':
      case 'bootstrap':
      case 'jobs':
        continue; // render drift: generated files follow the records
      case 'stray':
        if (!change.path.startsWith('apps/')) continue; // render drift reports strays in generated folders
        break;
      case 'app-record':
      case 'deploy-record':
        recordPaths.push(change);
        continue;
    }
    if (!ctx.identity?.owner) problems.push(ownerOnly(change, ctx.identity));
  }
  if (recordPaths.length === 0) return problems;
  if (!ctx.identity) {
    for (const { path } of recordPaths) {
      problems.push({
        kind: 'unauthorized-deploy',
        path,
        message:
          'changes a record, but verify was not told who made this pull request: run it with --author <pull request author login> (the workflow passes it) or --agent <agent id>',
      });
    }
    return problems;
  }
  return [...problems, ...(await replay(ctx, ctx.identity, recordPaths))];
}

function ownerOnly(change: PathChange, identity: Identity | undefined): VerifyProblem {
  const what = change.after === undefined ? 'is deleted' : change.before === undefined ? 'is added' : 'changed';
  return {
    kind: 'owner-review',
    path: change.path,
    message: `${what}, and only a workspace owner may change files x1deploy does not write (${identity ? identity.described : 'no identity given'}); ${OWNER_FIX}`,
  };
}

async function replay(ctx: ChangeContext, identity: Identity, recordPaths: readonly PathChange[]): Promise<VerifyProblem[]> {
  const { store, base } = ctx;
  const mergeBase = new RepoSnapshot(store, base.mergeBase);
  const problems: VerifyProblem[] = [];
  /** Paths already reported: a refused operation is one problem, not one more per file. */
  const reported = new Set<string>();
  const report = (path: string, kind: VerifyProblem['kind'], message: string, covers: readonly string[] = [path]) => {
    problems.push({ kind, path, message });
    for (const p of covers) reported.add(p);
  };

  const operations: Operation[] = [];
  const deployChanged = new Set<string>();
  for (const change of recordPaths) {
    const where = parseRepoPath(change.path);
    if (where.kind !== 'deploy-record') continue;
    deployChanged.add(where.app);
    const before = await readOr(() => mergeBase.deployRecord(where.app, where.slug));
    if (before === 'unreadable') {
      report(change.path, 'unexplained-change', `is invalid on the merge base with ${base.name}, so no change to it can be replayed; ${OWNER_FIX}`);
      continue;
    }
    if (change.after === undefined) {
      // An owner removes any preview; an agent removes one it may deploy (x1deploy delete).
      const agent = identity.agent ?? (identity.proposer && before ? grantedAgent(ctx.grants, where.app, before.branch) : undefined);
      const agentMay = before !== undefined && agent !== undefined && authorize(ctx.grants, agent, where.app, before.branch).allowed;
      if (identity.owner || agentMay) operations.push({ kind: 'delete', app: where.app, slug: where.slug });
      else
        report(
          change.path,
          'owner-review',
          `deletes the branch deploy ${where.app}/${where.slug}: removing a preview is for an agent granted on its branch (x1deploy delete), the reaper (on the default branch) or an owner; ${OWNER_FIX}`,
        );
      continue;
    }
    const after = ctx.headRecords.get(change.path);
    if (!after) {
      reported.add(change.path); // invalid-spec says why
      continue;
    }
    const earlier = before?.versions.length ?? 0;
    const added = after.versions.slice(earlier);
    if (added.length > 0) {
      for (const version of added) operations.push({ kind: 'deploy', record: after, version });
    } else if (before && after.current_version !== undefined && after.current_version !== before.current_version) {
      const target = after.versions[after.current_version - 1];
      operations.push({ kind: 'rollback', record: after, to: after.current_version, now: target?.deployed_at ?? '' });
    } else {
      report(
        change.path,
        'unexplained-change',
        `changes the branch deploy without adding a version or moving current_version to a built version, which is all a pull request can do to it; ${X1_FIX}`,
      );
    }
  }

  // app.yaml: written with an app's first deploy, or when a deploy names the repo an app lacked.
  const appChanges = recordPaths.filter((c) => parseRepoPath(c.path).kind === 'app-record');
  for (const change of appChanges) {
    const where = parseRepoPath(change.path);
    if (where.kind !== 'app-record') continue;
    const headApp = change.after ? await readOr(() => new RepoSnapshot(store, ctx.head).app(where.app)) : undefined;
    const repo = headApp === 'unreadable' ? undefined : headApp?.repo;
    const firstDeploy = operations.find((o) => o.kind === 'deploy' && o.record.app === where.app);
    if (firstDeploy?.kind === 'deploy' && repo !== undefined) operations[operations.indexOf(firstDeploy)] = { ...firstDeploy, repo };
    else if (!deployChanged.has(where.app)) {
      if (change.before === undefined) {
        report(change.path, 'unexplained-change', `adds the app ${where.app} without its first deploy: x1deploy writes an app.yaml only with one; ${X1_FIX}`);
      } else if (change.after === undefined) {
        if (!identity.owner) report(change.path, 'owner-review', `deletes the app ${where.app}; ${OWNER_FIX}`);
        else operations.push({ kind: 'delete', app: where.app, slug: '' });
      } else {
        operations.push({ kind: 'learn-repo', app: where.app, repo, now: headApp === 'unreadable' ? '' : (headApp?.created_at ?? '') });
      }
    }
  }

  const tree = await ReplayTree.at(store, base.mergeBase);
  const snapshot = new RepoSnapshot(tree, base.mergeBase);
  for (const op of order(operations)) {
    const path = op.kind === 'delete' || op.kind === 'learn-repo' ? appRecordPath(op.app) : deployRecordPath(op.record.app, op.record.slug);
    if (op.kind === 'delete') {
      tree.apply(new Map([[op.slug ? branchDeployDir(op.app, op.slug) : appRecordPath(op.app), null]]));
      continue;
    }
    try {
      const planned = await planOperation(ctx, snapshot, identity, op);
      if ('refused' in planned) report(path, 'unauthorized-deploy', planned.refused);
      else tree.apply(planned.changes);
    } catch (err) {
      if (!(err instanceof X1Error) || err.kind === 'internal') throw err;
      report(path, 'refused-change', `${describe(op)} is refused as x1deploy would refuse it: ${err.message}`);
    }
  }

  // Every record path the pull request changed, and every one the replay wrote, must agree.
  const changedPaths = new Set(recordPaths.map((c) => c.path));
  for (const path of [...new Set([...changedPaths, ...tree.written.keys()])].sort()) {
    if (reported.has(path)) continue;
    const replayed = tree.written.has(path) ? (tree.written.get(path) ?? undefined) : await store.readFile(base.mergeBase, path);
    const actual = changedPaths.has(path) ? await store.readFile(ctx.head, path) : await store.readFile(base.mergeBase, path);
    if (replayed === actual) continue;
    problems.push({ kind: 'unexplained-change', path, message: mismatch(path, replayed, actual, identity, base.name) });
  }
  return problems;
}

async function planOperation(
  ctx: ChangeContext,
  snapshot: RepoSnapshot,
  identity: Identity,
  op: Exclude<Operation, { kind: 'delete' }>,
): Promise<{ changes: ReadonlyMap<string, string | null> } | { refused: string }> {
  const { workspace, grants } = ctx;
  const app = op.kind === 'learn-repo' ? op.app : op.record.app;
  if (op.kind === 'deploy') {
    const agent = identity.proposer ? op.version.requested_by : identity.agent;
    if (agent === undefined) return { refused: notAnAgent(identity) };
    const request = validateDeployRequest(
      { app, branch: op.record.branch, commit_sha: op.version.commit_sha, ...op.version.spec, ...(op.repo !== undefined ? { repo: op.repo } : {}) },
      workspace,
    );
    const slug = branchSlug(app, request.branch);
    const authorization = authorize(grants, agent, app, request.branch);
    if (!authorization.allowed) return { refused: grantRefusal(ctx, agent, authorization.reason) };
    const [apps, appRecord, existing, previewCount, nameOwner] = await Promise.all([
      snapshot.apps(),
      snapshot.app(app),
      snapshot.deployRecord(app, slug),
      snapshot.previewCount(),
      snapshot.objectNameOwner(app, slug),
    ]);
    const plan = planDeploy({ workspace, apps, app: appRecord, existing, authorization, previewCount, nameOwner }, request, slug, {
      agent,
      now: op.version.created_at,
    });
    return { changes: plan.changes };
  }
  if (op.kind === 'rollback') {
    const agent = identity.agent ?? (identity.proposer ? grantedAgent(grants, app, op.record.branch) : undefined);
    if (agent === undefined) return { refused: notAnAgent(identity) };
    const authorization = authorize(grants, agent, app, op.record.branch);
    if (!authorization.allowed) return { refused: grantRefusal(ctx, agent, authorization.reason) };
    const record = await snapshot.deployRecord(app, op.record.slug);
    const plan = planRollback({ workspace, record, authorization }, { app, branch: op.record.branch, to: op.to }, { agent, now: op.now });
    return { changes: plan.change.changes };
  }
  // A repeated request that names the repo the app lacked: replayed as the newest version of a
  // branch deploy the agent may deploy.
  const records = (await Promise.all((await snapshot.slugs(app)).map((slug) => snapshot.deployRecord(app, slug)))).filter(
    (r): r is DeployRecord => r !== undefined,
  );
  for (const record of records) {
    const agent = identity.agent ?? (identity.proposer ? grantedAgent(grants, app, record.branch) : undefined);
    if (agent === undefined) return { refused: notAnAgent(identity) };
    const authorization = authorize(grants, agent, app, record.branch);
    if (!authorization.allowed) continue;
    const newest = record.versions[record.versions.length - 1]!;
    const request = validateDeployRequest(
      { app, branch: record.branch, commit_sha: newest.commit_sha, ...newest.spec, ...(op.repo !== undefined ? { repo: op.repo } : {}) },
      workspace,
    );
    const appRecord = await snapshot.app(app);
    const plan = planDeploy(
      { workspace, apps: await snapshot.apps(), app: appRecord, existing: record, authorization, previewCount: 0 },
      request,
      branchSlug(app, record.branch),
      { agent, now: op.now },
    );
    return { changes: plan.changes };
  }
  return { refused: `${identity.described} holds no grant for any branch of ${app} on ${ctx.base.name}, so it may not change ${app}'s app.yaml` };
}

/** Deletions first (they free budget), then in the order x1deploy made them. */
function order(operations: readonly Operation[]): Operation[] {
  const when = (o: Operation) => (o.kind === 'delete' ? '' : o.kind === 'deploy' ? o.version.created_at : o.now);
  return [...operations].sort((a, b) => (when(a) < when(b) ? -1 : when(a) > when(b) ? 1 : 0));
}

function grantedAgent(grants: GrantsFile | undefined, app: string, branch: string): string | undefined {
  const agents = [...new Set((grants?.grants ?? []).map((g) => g.agent))];
  return agents.find((agent) => authorize(grants, agent, app, branch).allowed);
}

function notAnAgent(identity: Identity): string {
  return `${identity.described} is not an agent: deploys and rollbacks come from an agent (name its login under identities.agents in x1deploy.yaml) or from x1deploy's own proposals`;
}

function grantRefusal(ctx: ChangeContext, agent: string, reason: string): string {
  return `agent ${agent} may not make this change on ${ctx.base.name}: ${reason}. A pull request cannot grant itself: an owner grants it on ${ctx.base.name} first ("x1deploy grant")`;
}

function describe(op: Exclude<Operation, { kind: 'delete' }>): string {
  if (op.kind === 'deploy') return `version ${op.version.number} of ${op.record.app} ${op.record.branch}`;
  if (op.kind === 'rollback') return `the rollback of ${op.record.app} ${op.record.branch} to version ${op.to}`;
  return `the source repo of ${op.app}`;
}

async function readOr<T>(read: () => Promise<T>): Promise<T | 'unreadable'> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof X1Error && err.kind !== 'internal') return 'unreadable';
    throw err;
  }
}

function mismatch(path: string, replayed: string | undefined, actual: string | undefined, identity: Identity, baseName: string): string {
  const as = `by ${identity.described} from ${baseName}`;
  if (actual === undefined) return `is missing: x1deploy writes it for this change ${as}; ${X1_FIX}`;
  if (replayed === undefined) return `is not a file x1deploy writes for this change ${as}; ${X1_FIX}`;
  const field = firstDifference(parseYaml(replayed), parseYaml(actual));
  const at = field ? ` (first difference: ${field})` : '';
  return `is not what x1deploy writes for this change ${as}${at}; ${X1_FIX}`;
}

export function parseYaml(text: string): unknown {
  try {
    return parseYamlText(text);
  } catch {
    return text;
  }
}

/** The dotted path of the first place two parsed documents differ, or undefined when only formatting differs. */
export function firstDifference(a: unknown, b: unknown, at = ''): string | undefined {
  if (a === b) return undefined;
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const key of keys) {
      const found = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], at ? `${at}.${key}` : key);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  return at || '(the whole file)';
}
