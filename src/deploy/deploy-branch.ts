// The deploy command: read at the tip, validate, authorize, plan, then write one commit.
import { authorize } from '../grants/index.js';
import { proposalOf, type GitopsStore, type RepoSnapshot, type Version } from '../records/index.js';
import type { Published, ReviewPort } from '../review/index.js';
import { branchSlug } from '../spec/index.js';
import { withFreshTip } from '../transaction/index.js';
import { sameRequest } from '../versions/index.js';
import { answerLanded, landBranchChange } from './land.js';
import { planDeploy, validAgent, validateDeployRequest, type DeployAnswer } from '../planning/index.js';

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

export async function deployBranch(store: GitopsStore, input: unknown, options: ActorOptions): Promise<DeployResult> {
  const agent = validAgent(options.agent);
  const clock = options.clock ?? (() => new Date());
  const result = await withFreshTip(
    store,
    async (snapshot) => {
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
      const alreadyProposed =
        plan.answer.mode === 'review' && plan.changes.size > 0
          ? await openProposalOf(snapshot, request.app, slug, plan.version)
          : undefined;
      const change = { record: plan.record, version: plan.version, changes: plan.changes, message: plan.message, mode: plan.answer.mode };
      const sourceRepo = app?.repo ?? request.repo;
      const landed = await landBranchChange(store, snapshot, change, { agent, now, review: options.review, sourceRepo, alreadyProposed });
      return { answer: plan.answer, landed };
    },
    options.maxAttempts,
  );
  return answerLanded(store, result, agent, options.review);
}

/** The open proposal of this version, when it asks for the same commit and spec. */
async function openProposalOf(snapshot: RepoSnapshot, app: string, slug: string, version: Version): Promise<string | undefined> {
  const found = await proposalOf(snapshot.store, app, slug);
  const proposed = found?.record.versions[version.number - 1];
  return proposed && sameRequest(proposed, version) ? found!.commit : undefined;
}
