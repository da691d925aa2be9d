// A deploy from the CLI, handed to whichever process of this machine is landing deploys to the
// same remote right now (transaction/handoff.ts), so that many agents' deploys share one commit.
import type { DeployResult } from '../deploy/index.js';
import type { GitopsStore } from '../records/index.js';
import { groupCommits, handOffOrLead } from '../transaction/index.js';

export interface DeployJob {
  readonly input: unknown;
  readonly agent: string;
}

function parseDeployJob(raw: unknown): DeployJob {
  const job = raw as Partial<DeployJob> | null;
  if (typeof job !== 'object' || job === null || typeof job.agent !== 'string' || !('input' in job)) throw new Error('it is not a deploy request');
  // The agent is checked again as the leader deploys, like any --agent.
  return { input: job.input, agent: job.agent };
}

/**
 * Deploy, together with the other processes of this machine deploying to the same remote right
 * now: one of them plans every request against one tip and lands them in one commit and push.
 * Only the process that does loads the planner; the others hand their request over and wait.
 */
export async function deployTogether(store: GitopsStore, repo: string, job: DeployJob): Promise<DeployResult> {
  const port = store.handoff?.();
  const deployWith = async (target: GitopsStore) => {
    const [{ deployBranch }, { reviewPortFor }] = await Promise.all([import('../deploy/index.js'), import('../review/index.js')]);
    const review = reviewPortFor(repo);
    return (next: DeployJob) => deployBranch(target, next.input, { agent: next.agent, review });
  };
  if (!port) return (await deployWith(store))(job);
  return handOffOrLead(port, {
    job,
    parseJob: parseDeployJob,
    runner: () => deployWith(groupCommits(store, { signer: 'group' })),
  });
}
