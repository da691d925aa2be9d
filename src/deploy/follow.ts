// Following a branch: a push to a branch whose newest deploy asked to follow it (`follow: true`)
// is deployed again at the pushed commit, as the agent that asked, when that agent holds an auto
// grant (a review grant would open a pull request per push: not following, reviewing).
import { authorize } from '../grants/index.js';
import { RepoSnapshot, type GitopsStore } from '../records/index.js';
import type { ReviewPort } from '../review/index.js';
import { parseGitHubRepoUrl } from '../scm/index.js';
import { latestVersion } from '../versions/index.js';
import { deployBranch } from './deploy-branch.js';

export interface Push {
  /** The repository's URLs as the event names them (clone_url, html_url, ssh_url, git_url). */
  readonly repoUrls: readonly string[];
  readonly branch: string;
  /** The pushed commit (`after`). */
  readonly sha: string;
}

export interface FollowOutcome {
  readonly app: string;
  readonly branch: string;
  readonly agent: string;
  readonly outcome: 'deployed' | 'unchanged' | 'not-auto' | 'failed';
  readonly detail?: string;
}

/** One spelling per repo: owner/repo for GitHub URLs, else the URL without a trailing ".git" or "/". */
function repoKey(url: string): string {
  const gh = parseGitHubRepoUrl(url);
  return gh ? `github:${gh.owner}/${gh.repo}`.toLowerCase() : url.replace(/\/+$/, '').replace(/\.git$/, '');
}

export async function followPush(store: GitopsStore, push: Push, review?: ReviewPort): Promise<FollowOutcome[]> {
  if (!/^[0-9a-f]{40}$/.test(push.sha) || /^0+$/.test(push.sha)) return []; // a deleted branch: the reaper's
  const wanted = new Set(push.repoUrls.filter(Boolean).map(repoKey));
  const snapshot = await RepoSnapshot.atHead(store);
  const [grants, records] = await Promise.all([snapshot.grants(), snapshot.allDeployRecords()]);
  const outcomes: FollowOutcome[] = [];
  for (const record of records) {
    if (record.branch !== push.branch || record.reaped_at) continue;
    const newest = latestVersion(record);
    if (newest.spec.follow !== true) continue;
    const app = await snapshot.app(record.app);
    if (!app?.repo || !wanted.has(repoKey(app.repo))) continue;
    const agent = newest.requested_by;
    const base = { app: record.app, branch: record.branch, agent };
    const granted = authorize(grants, agent, record.app, record.branch);
    if (!granted.allowed || granted.mode !== 'auto') {
      outcomes.push({ ...base, outcome: 'not-auto', detail: granted.allowed ? 'the grant is review mode' : granted.reason });
      continue;
    }
    try {
      const { commit } = await deployBranch(store, { app: record.app, branch: record.branch, commit_sha: push.sha, ...newest.spec }, { agent, review });
      outcomes.push({ ...base, outcome: commit ? 'deployed' : 'unchanged' });
    } catch (err) {
      outcomes.push({ ...base, outcome: 'failed', detail: err instanceof Error ? err.message : String(err) });
    }
  }
  return outcomes;
}
