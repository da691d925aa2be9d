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
    const { parseRequestText } = await import('./request-input.js');
    const input = parseRequestText(job.request);
    const { openGitopsStore } = await import('../gitops/index.js');
    return (await deployerOn(await openGitopsStore(repo), repo))({ input, agent: job.agent });
  }
  return handOffOrLead(cacheHandoffPort(cacheCloneDir(repo)), {
    job,
    parseJob: parseDeployJob,
    runner: async () => {
      const [{ openGitopsStore }, { groupCommits }, { parseRequestText }] = await Promise.all([
        import('../gitops/index.js'),
        import('../transaction/index.js'),
        import('./request-input.js'),
      ]);
      const deploy = await deployerOn(groupCommits(await openGitopsStore(repo), { signer: 'group' }), repo);
      return (next: DeployJob) => deploy({ input: parseRequestText(next.request), agent: next.agent });
    },
  });
}

async function deployerOn(store: GitopsStore, repo: string): Promise<(job: { input: unknown; agent: string }) => Promise<DeployResult>> {
  const [{ deployBranch }, { reviewPortFor }] = await Promise.all([import('../deploy/index.js'), import('../review/index.js')]);
  const review = reviewPortFor(repo);
  return ({ input, agent }) => deployBranch(store, input, { agent, review });
}
