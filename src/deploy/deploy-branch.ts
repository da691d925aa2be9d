// The deploy command: read at the tip, validate, plan, then write one commit. When the tip moved
// meanwhile the request is planned again against the new tip (never replayed blindly).
import { StaleHeadError, type GitopsStore } from '../gitops/store.js';
import { RepoSnapshot } from '../records/snapshot.js';
import { AgentIdSchema } from '../spec/agent.js';
import { branchSlug } from '../spec/names.js';
import { deployRequestSchema, toFieldIssues, type DeployRequest } from '../spec/request.js';
import type { WorkspaceConfig } from '../workspace/config.js';
import { InvalidRequestError, TooManyConflictsError } from './errors.js';
import { planDeploy, type DeployAnswer } from './plan.js';

export interface DeployOptions {
  readonly agent: string;
  readonly clock?: () => Date;
  readonly maxAttempts?: number;
}

export interface DeployResult {
  readonly answer: DeployAnswer;
  /** The gitops commit made; undefined when the branch already ran this request. */
  readonly commit: string | undefined;
}

export function validateDeployRequest(input: unknown, ws: WorkspaceConfig): DeployRequest {
  const parsed = deployRequestSchema(ws.limits).safeParse(input);
  if (!parsed.success) throw new InvalidRequestError(toFieldIssues(parsed.error));
  return parsed.data;
}

export function committerFor(agent: string, now: Date) {
  return { name: agent, email: `${agent.replace(/@/g, '.')}@agents.x1deploy`, timestamp: Math.floor(now.getTime() / 1000) };
}

export async function deployBranch(store: GitopsStore, input: unknown, options: DeployOptions): Promise<DeployResult> {
  const agent = AgentIdSchema.safeParse(options.agent);
  if (!agent.success) throw new InvalidRequestError([{ path: 'agent', message: agent.error.issues[0]!.message }]);
  const clock = options.clock ?? (() => new Date());
  const maxAttempts = options.maxAttempts ?? 8;

  for (let attempt = 1; ; attempt++) {
    const snapshot = await RepoSnapshot.atHead(store);
    const workspace = await snapshot.workspace();
    const request = validateDeployRequest(input, workspace);
    const slug = branchSlug(request.app, request.branch);
    const [apps, app, existing] = await Promise.all([
      snapshot.apps(),
      snapshot.app(request.app),
      snapshot.deployRecord(request.app, slug),
    ]);
    const now = clock();
    const plan = planDeploy({ workspace, apps, app, existing }, request, slug, { agent: agent.data, now: now.toISOString() });
    if (plan.changes.size === 0) return { answer: plan.answer, commit: undefined };
    try {
      const commit = await store.commit({
        parent: snapshot.commit,
        changes: plan.changes,
        message: plan.message,
        author: committerFor(agent.data, now),
      });
      return { answer: plan.answer, commit };
    } catch (err) {
      if (!(err instanceof StaleHeadError)) throw err;
      if (attempt >= maxAttempts) throw new TooManyConflictsError(attempt);
      await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
    }
  }
}
