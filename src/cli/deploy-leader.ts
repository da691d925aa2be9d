// What a deploy runs once it leads (alone, or for the requests handed over to it). The installed
// bin loads it as a bundle of its own, compiled from V8's code cache (code-cache.ts), so what it
// gives back is data: a result, or the error as its answer, which the caller throws again
// (errorFromAnswer) with its own copy of the error classes, as a handed-over request's waiter does.
import './one-shot-zod.js';
import { deployBranch, type DeployResult } from '../deploy/index.js';
import { errorAnswer, isX1Error, type ErrorAnswer } from '../errors/index.js';
import { openGitopsStore } from '../gitops/index.js';
import { keepParsedRecordsOn, type GitopsStore } from '../records/index.js';
import { reviewPortFor } from '../review/index.js';
import { groupCommits } from '../transaction/index.js';
import { parsedRecordShelf } from './parsed-record-shelf.js';
import { parseRequestText } from './request-input.js';

export type LeaderAnswer = { readonly result: DeployResult } | { readonly error: ErrorAnswer };

export interface DeployJob {
  /** The request as the agent wrote it (YAML or JSON), parsed by whichever process deploys it. */
  readonly request: string;
  readonly agent: string;
}

/**
 * Deploys to `repo`, each answered on its own (a remote's group-committed: one commit and push), or
 * the error that keeps any from starting. An error x1deploy does not expect is thrown as it is.
 */
export async function leadDeploys(
  repo: string,
  options: {
    readonly together: boolean;
    /** A folder to keep parsed records in for the next deploy (parsed-record-shelf.ts); none from source. */
    readonly parsedRecords?: string;
  },
): Promise<{ readonly deploy: (job: DeployJob) => Promise<LeaderAnswer> } | { readonly error: ErrorAnswer }> {
  if (options.parsedRecords !== undefined) keepParsedRecordsOn(parsedRecordShelf(options.parsedRecords));
  const opened = await answered(() => openGitopsStore(repo));
  if ('error' in opened) return opened;
  const store: GitopsStore = options.together ? groupCommits(opened.result, { signer: 'group' }) : opened.result;
  const review = reviewPortFor(repo);
  return { deploy: (job) => answered(() => deployBranch(store, parseRequestText(job.request), { agent: job.agent, review })) };
}

async function answered<T>(run: () => Promise<T>): Promise<{ readonly result: T } | { readonly error: ErrorAnswer }> {
  try {
    return { result: await run() };
  } catch (e) {
    if (!isX1Error(e)) throw e;
    return { error: errorAnswer(e) };
  }
}
