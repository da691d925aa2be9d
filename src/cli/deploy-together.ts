// `x1deploy deploy`, together with the other processes of this machine deploying to the same
// remote right now: the one holding the cache clone plans every waiting request against one tip and
// lands them in one commit and one push (handoff/). Only that process loads the planner, git and
// the request parser; the others read the request's text, hand it over and wait for their answer.
import { join } from 'node:path';
import { cacheCloneDir, cacheHandoffPort, isRemoteRepo, userCacheDir } from '../cache-clone/index.js';
import type { DeployResult } from '../deploy/index.js';
import { errorFromAnswer } from '../errors/index.js';
import { handOffOrLead } from '../handoff/index.js';
import { loadBundle, type Bundles } from './code-cache.js';
import type { DeployJob, LeaderAnswer } from './deploy-leader.js';

function parseDeployJob(raw: unknown): DeployJob {
  const job = raw as Partial<DeployJob> | null;
  if (typeof job !== 'object' || job === null || typeof job.request !== 'string' || typeof job.agent !== 'string') {
    throw new Error('it is not a deploy request');
  }
  return { request: job.request, agent: job.agent };
}

export async function deployTogether(repo: string, job: DeployJob): Promise<DeployResult> {
  if (!isRemoteRepo(repo)) return resultOf(await (await leader(repo, false))(job));
  return handOffOrLead(cacheHandoffPort(cacheCloneDir(repo)), {
    job,
    parseJob: parseDeployJob,
    runner: async () => {
      const deploy = await leader(repo, true);
      return async (next: DeployJob) => resultOf(await deploy(next));
    },
  });
}

async function leader(repo: string, together: boolean): Promise<(job: DeployJob) => Promise<LeaderAnswer>> {
  const { exports, key } = await leaderModule();
  // The bundle's parsed records are kept for the next deploy, apart from any other build's.
  const lead = await exports.leadDeploys(repo, { together, parsedRecords: key === undefined ? undefined : join(userCacheDir(), 'records', key) });
  if ('error' in lead) throw errorFromAnswer(lead.error);
  return lead.deploy;
}

function resultOf(answer: LeaderAnswer): DeployResult {
  if ('error' in answer) throw errorFromAnswer(answer.error);
  return answer.result;
}

/**
 * The leader's code: in the installed bin, a bundle of its own compiled from V8's code cache
 * (code-cache.ts; ~80 ms of a cold deploy's ~450 are compiling it from source); from source, the
 * module itself.
 */
async function leaderModule(): Promise<{ readonly exports: typeof import('./deploy-leader.js'); readonly key?: string }> {
  return (globalThis as Bundles).X1DEPLOY_LEADER_BUNDLE === undefined
    ? { exports: await import('./deploy-leader.js') }
    : loadBundle<typeof import('./deploy-leader.js')>((globalThis as Bundles).X1DEPLOY_LEADER_BUNDLE!);
}
