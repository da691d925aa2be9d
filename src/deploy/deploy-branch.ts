// The deploy command: read at the tip, validate, authorize, plan, then write one commit.
import { authorize } from '../grants/authorize.js';
import type { GitopsStore } from '../gitops/store.js';
import { publishForReview, type Published } from '../review/publish.js';
import type { ReviewPort } from '../review/review-port.js';
import type { Version } from '../records/deploy-record.js';
import { RepoSnapshot } from '../records/snapshot.js';
import { sameRequest } from '../versions/lifecycle.js';
import { AgentIdSchema } from '../spec/agent.js';
import { branchSlug } from '../spec/names.js';
import { deployRequestSchema, toFieldIssues, type DeployRequest } from '../spec/request.js';
import type { WorkspaceConfig } from '../workspace/config.js';
import { InvalidRequestError } from './errors.js';
import { planDeploy, type DeployAnswer } from './plan.js';
import { committerFor, DEFAULT_ATTEMPTS, describeChanges, proposalBranchName, withFreshTip, writePlanned } from './write-plan.js';

export interface ActorOptions {
  readonly agent: string;
  /** Where reviewers see changes (GitHub pull requests and the preview comment); none for a plain git repo. */
  readonly review?: ReviewPort;
  readonly clock?: () => Date;
  readonly maxAttempts?: number;
}

export interface DeployResult {
  readonly answer: DeployAnswer & { readonly gitops_branch?: string } & Published;
  /** The gitops commit made; undefined when the branch already had this request. */
  readonly commit: string | undefined;
}

export function validateDeployRequest(input: unknown, ws: WorkspaceConfig): DeployRequest {
  const parsed = deployRequestSchema(ws.limits).safeParse(input);
  if (!parsed.success) throw new InvalidRequestError(toFieldIssues(parsed.error));
  return parsed.data;
}

export function validAgent(agent: string): string {
  const parsed = AgentIdSchema.safeParse(agent);
  if (!parsed.success) throw new InvalidRequestError([{ path: 'agent', message: parsed.error.issues[0]!.message }]);
  return parsed.data;
}

export async function deployBranch(store: GitopsStore, input: unknown, options: ActorOptions): Promise<DeployResult> {
  const agent = validAgent(options.agent);
  const clock = options.clock ?? (() => new Date());
  const landed = await withFreshTip(store, options.maxAttempts ?? DEFAULT_ATTEMPTS, async (snapshot) => {
    const workspace = await snapshot.workspace();
    const request = validateDeployRequest(input, workspace);
    const slug = branchSlug(request.app, request.branch);
    const [apps, app, existing, grants, previewCount, nameOwner] = await Promise.all([
      snapshot.apps(),
      snapshot.app(request.app),
      snapshot.deployRecord(request.app, slug),
      snapshot.grants(),
      snapshot.previewCount(),
      snapshot.objectNameOwner(request.app, slug),
    ]);
    const authorization = authorize(grants, agent, request.app, request.branch);
    const now = clock();
    const plan = planDeploy({ workspace, apps, app, existing, authorization, previewCount, nameOwner }, request, slug, {
      agent,
      now: now.toISOString(),
    });
    const proposalBranch = proposalBranchName(request.app, slug);
    const review = plan.answer.mode === 'review' && plan.changes.size > 0;
    const landing = { plan, sourceRepo: app?.repo ?? request.repo, proposalBranch, review, changes: [] as string[] };
    if (review && options.review) landing.changes = await describeChanges(store, snapshot.commit, plan.changes);
    if (review) {
      const proposed = await alreadyProposed(snapshot, proposalBranch, request.app, slug, plan.version);
      if (proposed) return { ...landing, answer: { ...plan.answer, gitops_branch: proposalBranch }, commit: proposed };
    }
    const outcome = await writePlanned(store, snapshot.commit, {
      changes: plan.changes,
      message: plan.message,
      author: committerFor(agent, now),
      mode: plan.answer.mode,
      proposalBranch,
    });
    const answer = outcome.gitopsBranch ? { ...plan.answer, gitops_branch: outcome.gitopsBranch } : plan.answer;
    return { ...landing, answer, commit: outcome.commit };
  });
  if (!options.review || landed.commit === undefined) return { answer: landed.answer, commit: landed.commit };
  const published = await publishForReview(options.review, {
    title: landed.plan.message.split('\n')[0]!,
    record: landed.plan.record,
    version: landed.plan.version,
    agent,
    proposal: landed.review ? { head: landed.proposalBranch, base: store.branch } : undefined,
    changes: landed.changes,
    sourceRepo: landed.sourceRepo,
  });
  return { answer: { ...landed.answer, ...published }, commit: landed.commit };
}

/** The open proposal of this version, when it asks for the same commit and spec. */
async function alreadyProposed(
  snapshot: RepoSnapshot,
  branch: string,
  app: string,
  slug: string,
  version: Version,
): Promise<string | undefined> {
  const head = await snapshot.store.branchHead(branch);
  if (head === undefined) return undefined;
  const proposed = (await new RepoSnapshot(snapshot.store, head).deployRecord(app, slug))?.versions[version.number - 1];
  return proposed && sameRequest(proposed, version) ? head : undefined;
}
