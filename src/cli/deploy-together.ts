// `x1deploy deploy`, together with the other processes of this machine deploying to the same
// remote right now: the one holding the cache clone plans every waiting request against one tip and
// lands them in one commit and one push (handoff/). Only that process loads the planner, git and
// the request parser; the others read the request's text, hand it over and wait for their answer.
import { cacheCloneDir, cacheHandoffPort, isRemoteRepo } from '../cache-clone/index.js';
import type { DeployResult } from '../deploy/index.js';
import { handOffOrLead } from '../handoff/index.js';
import type { GitopsStore } from '../records/index.js';

export interface DeployJob {
  /** The request as the agent wrote it (YAML or JSON), parsed by whichever process deploys it. */
  readonly request: string;
  readonly agent: string;
}

function parseDeployJob(raw: unknown): DeployJob {
  const job = raw as Partial<DeployJob> | null;
  if (typeof job !== 'object' || job === null || typeof job.request !== 'string' || typeof job.agent !== 'string') {
    throw new Error('it is not a deploy request');
  }
  return { request: job.request, agent: job.agent };
}

export async function deployTogether(repo: string, job: DeployJob): Promise<DeployResult> {
  if (!isRemoteRepo(repo)) {
    const leader = await import('./deploy-leader.js');
    const input = leader.parseRequestText(job.request);
    return deployerOn(leader, await leader.openGitopsStore(repo), repo)({ input, agent: job.agent });
  }
  return handOffOrLead(cacheHandoffPort(cacheCloneDir(repo)), {
    job,
    parseJob: parseDeployJob,
    runner: async () => {
      const leader = await import('./deploy-leader.js');
      const deploy = deployerOn(leader, leader.groupCommits(await leader.openGitopsStore(repo), { signer: 'group' }), repo);
      return (next: DeployJob) => deploy({ input: leader.parseRequestText(next.request), agent: next.agent });
    },
  });
}

type Leader = typeof import('./deploy-leader.js');

function deployerOn(leader: Leader, store: GitopsStore, repo: string): (job: { input: unknown; agent: string }) => Promise<DeployResult> {
  const review = leader.reviewPortFor(repo);
  return ({ input, agent }) => leader.deployBranch(store, input, { agent, review });
}
