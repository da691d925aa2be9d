// `x1deploy verify`: the check every gitops pull request must pass. Reads only; never writes.
import type { GitopsStore } from '../records/index.js';
import type { VerifyProblem, VerifyResult } from './problems.js';
import { ownerChanges, unauthorizedDeploys, type PullRequestBase } from './pull-request.js';
import { renderDrift } from './render-drift.js';
import { readSpecs } from './specs.js';

export interface VerifyOptions {
  /** The commit to check; default: the store's branch tip. */
  readonly head?: string;
  /** The pull request's target; without it only the whole-repo checks run. */
  readonly base?: PullRequestBase;
  /** An owner reviewed the changes to owner files: do not count them as problems. */
  readonly allowOwnerChanges?: boolean;
}

export async function verifyGitops(store: GitopsStore, options: VerifyOptions = {}): Promise<VerifyResult> {
  const head = options.head ?? (await store.head());
  const specs = await readSpecs(store, head);
  const problems: VerifyProblem[] = [...specs.problems, ...(await renderDrift(store, head, specs))];
  if (options.base) {
    problems.push(...(await unauthorizedDeploys(store, head, options.base, specs)));
    if (!options.allowOwnerChanges) problems.push(...(await ownerChanges(store, head, options.base)));
  }
  problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
  return { ok: problems.length === 0, problems };
}
