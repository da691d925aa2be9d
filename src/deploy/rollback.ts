// x1deploy rollback: serve an earlier built version again (planned in planning/). Lands the same
// way as a deploy: in review mode it is proposed on the branch deploy's gitops branch and its pull
// request is opened.
import { InvalidRequestError } from '../errors/index.js';
import { authorize } from '../grants/index.js';
import { planRollback, RollbackRequestSchema, validAgent, type DeployAnswer, type RollbackRequest } from '../planning/index.js';
import type { GitopsStore } from '../records/index.js';
import type { Published } from '../review/index.js';
import { branchSlug, toFieldIssues } from '../spec/index.js';
import { withFreshTip } from '../transaction/index.js';
import type { ActorOptions } from './deploy-branch.js';
import { answerLanded, landBranchChange } from './land.js';

export type RollbackAnswer = DeployAnswer & { readonly previous_version: number | null; readonly gitops_branch?: string } & Published;

export interface RollbackResult {
  readonly answer: RollbackAnswer;
  readonly commit: string | undefined;
}

export async function rollbackBranch(store: GitopsStore, input: RollbackRequest, options: ActorOptions): Promise<RollbackResult> {
  const agent = validAgent(options.agent);
  const parsed = RollbackRequestSchema.safeParse(input);
  if (!parsed.success) throw new InvalidRequestError(toFieldIssues(parsed.error));
  const request = parsed.data;
  const clock = options.clock ?? (() => new Date());
  const result = await withFreshTip(
    store,
    async (snapshot) => {
      const [workspace, grants, record, app] = await Promise.all([
        snapshot.workspace(),
        snapshot.grants(),
        snapshot.deployRecord(request.app, branchSlug(request.app, request.branch)),
        snapshot.app(request.app),
      ]);
      const authorization = authorize(grants, agent, request.app, request.branch);
      const now = clock();
      const plan = planRollback({ workspace, record, authorization }, request, { agent, now: now.toISOString() });
      const landed = await landBranchChange(store, snapshot, plan.change, { agent, now, review: options.review, sourceRepo: app?.repo });
      return { answer: plan.answer, landed };
    },
    options.maxAttempts,
  );
  return answerLanded(store, result, agent, options.review);
}
