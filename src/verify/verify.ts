// `x1deploy verify`: the check every gitops pull request must pass. Reads only; never writes.
import { RepoSnapshot, type GitopsStore } from '../records/index.js';
import { authorizeChanges } from './authorize-changes.js';
import { resolveIdentity, type IdentityClaim } from './identity.js';
import type { VerifyProblem, VerifyResult } from './problems.js';
import type { PullRequestBase } from './pull-request.js';
import { renderDrift } from './render-drift.js';
import { readGrants, readSpecs } from './specs.js';
import { irregularEntries, type CommitTrees } from './tree.js';
import { WORKSPACE_FILE, GRANTS_FILE } from '../layout/index.js';
import { X1Error } from '../errors/index.js';

/** A checked-out commit and the repository it is read from. */
export interface Checkout {
  readonly store: GitopsStore;
  readonly trees: CommitTrees;
  /** The commit to check. */
  readonly head: string;
}

export interface VerifyOptions extends IdentityClaim {
  /** The pull request's target; without it only the whole-repo checks run. */
  readonly base?: PullRequestBase;
}

export async function verifyGitops(checkout: Checkout, options: VerifyOptions = {}): Promise<VerifyResult> {
  const { store, trees, head } = checkout;
  const specs = await readSpecs(store, head);
  const problems: VerifyProblem[] = [
    ...specs.problems,
    ...(await renderDrift(store, head, specs)),
    ...(await irregularEntries(trees, head)),
  ];
  if (options.base) problems.push(...(await pullRequestProblems(checkout, options.base, options, specs.records)));
  problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
  return { ok: problems.length === 0, problems };
}

async function pullRequestProblems(
  { store, trees, head }: Checkout,
  base: PullRequestBase,
  claim: IdentityClaim,
  headRecords: Awaited<ReturnType<typeof readSpecs>>['records'],
): Promise<VerifyProblem[]> {
  const changes = await trees.changes(base.mergeBase, head);
  if (changes.length === 0) return [];
  // The target's settings and grants judge the pull request, never its own.
  let workspace;
  try {
    workspace = await new RepoSnapshot(store, base.commit).workspace();
  } catch (err) {
    if (!(err instanceof X1Error) || err.kind === 'internal') throw err;
    return [{ kind: 'unauthorized-deploy', path: WORKSPACE_FILE, message: `cannot judge the pull request: ${WORKSPACE_FILE} on ${base.name} is missing or invalid; an owner fixes it there first` }];
  }
  const { grants, problems: grantProblems } = await readGrants(store, base.commit);
  if (grantProblems.length > 0) {
    return [{ kind: 'unauthorized-deploy', path: GRANTS_FILE, message: `cannot judge the pull request: ${GRANTS_FILE} on ${base.name} is invalid (${grantProblems.join('; ')}); an owner fixes it there first` }];
  }
  const identity = resolveIdentity(workspace.identities, claim);
  return authorizeChanges({ store, base, head, workspace, grants, identity, headRecords }, changes);
}
