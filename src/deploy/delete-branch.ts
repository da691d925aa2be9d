// x1deploy delete: remove one preview now instead of waiting for the reaper. One commit (or, under
// a review-mode grant, one proposal); the engine prunes the objects.
import { authorize } from '../grants/index.js';
import { planDelete, validAgent, type DeleteAnswer } from '../planning/index.js';
import type { GitopsStore } from '../records/index.js';
import type { Published } from '../review/index.js';
import { branchSlug } from '../spec/index.js';
import { withFreshTip } from '../transaction/index.js';
import type { ActorOptions } from './deploy-branch.js';
import { answerLanded, landBranchChange } from './land.js';
import { parseBranchRef } from './status.js';

export interface DeleteResult {
  readonly answer: DeleteAnswer & { readonly gitops_branch?: string } & Published;
  readonly commit: string | undefined;
}

export async function deleteBranchDeploy(store: GitopsStore, input: unknown, options: ActorOptions): Promise<DeleteResult> {
  const agent = validAgent(options.agent);
  const ref = parseBranchRef(input);
  const clock = options.clock ?? (() => new Date());
  const result = await withFreshTip(
    store,
    async (snapshot) => {
      const [grants, record, app] = await Promise.all([
        snapshot.grants(),
        snapshot.deployRecord(ref.app, branchSlug(ref.app, ref.branch)),
        snapshot.app(ref.app),
      ]);
      const plan = planDelete({ record, authorization: authorize(grants, agent, ref.app, ref.branch) }, ref, { agent });
      const landed = await landBranchChange(store, snapshot, plan.change, { agent, now: clock(), review: options.review, sourceRepo: app?.repo });
      return { answer: plan.answer, landed };
    },
    options.maxAttempts,
  );
  return answerLanded(store, result, agent, options.review);
}
