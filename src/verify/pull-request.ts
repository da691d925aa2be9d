// What a pull request changes, judged against its target: each changed deploy must be allowed by
// grants.yaml as it is on the target (so a PR cannot grant itself), and owner files wait for an
// owner's review.
import { authorize } from '../grants/index.js';
import { OWNER_FILES } from '../layout/index.js';
import type { GitopsStore } from '../records/index.js';
import type { VerifyProblem } from './problems.js';
import { deployFiles, readGrants, type Specs } from './specs.js';

export interface PullRequestBase {
  /** How the user named the target, for messages: a branch, tag or commit. */
  readonly name: string;
  /** The target's tip: whose grants.yaml decides. */
  readonly commit: string;
  /** Where the pull request forked from the target: what it changed is measured from here. */
  readonly mergeBase: string;
}

export async function ownerChanges(store: GitopsStore, head: string, base: PullRequestBase): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = [];
  for (const path of OWNER_FILES) {
    const [before, after] = await Promise.all([store.readFile(base.mergeBase, path), store.readFile(head, path)]);
    if (before === after) continue;
    problems.push({
      kind: 'owner-review',
      path,
      message: `${after === undefined ? 'is deleted' : before === undefined ? 'is added' : 'changed'}: only the workspace owners may change it; an owner must review this pull request (then run verify with --allow-owner-changes)`,
    });
  }
  return problems;
}

/** Each deploy.yaml the pull request adds or changes, checked against the target's grants. */
export async function unauthorizedDeploys(store: GitopsStore, head: string, base: PullRequestBase, specs: Specs): Promise<VerifyProblem[]> {
  const before = await deployFiles(store, base.mergeBase);
  const changed = [...specs.deployTexts].filter(([path, text]) => before.get(path) !== text).map(([path]) => path);
  if (changed.length === 0) return [];
  const { grants, problems: grantProblems } = await readGrants(store, base.commit);
  const problems: VerifyProblem[] = [];
  for (const path of changed) {
    const record = specs.records.get(path);
    if (!record) continue; // reported as invalid-spec
    const newest = record.versions[record.versions.length - 1]!;
    const agent = newest.requested_by;
    if (grantProblems.length > 0) {
      problems.push({
        kind: 'unauthorized-deploy',
        path,
        message: `cannot be authorized: grants.yaml on ${base.name} is invalid (${grantProblems.join('; ')})`,
      });
      continue;
    }
    const decision = authorize(grants, agent, record.app, record.branch);
    if (!decision.allowed) {
      problems.push({
        kind: 'unauthorized-deploy',
        path,
        message: `version ${newest.number}, requested by ${agent}, is not allowed by grants.yaml on ${base.name}: ${decision.reason}. A pull request cannot grant itself: an owner grants it on ${base.name} first ("x1deploy grant")`,
      });
    }
  }
  return problems;
}
