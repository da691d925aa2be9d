// After a change lands (or is proposed), tell the reviewers: the gitops pull request for a
// review-mode proposal, and the one preview comment on the app's own pull request. The change is
// already in git by then, so a GitHub failure is reported with the answer, never thrown.
import type { DeployRecord, Version } from '../records/index.js';
import { parseGitHubRepoUrl } from '../scm/index.js';
import { pinnedImageRef, scrubSecrets } from '../spec/index.js';
import { previewStatus, type PreviewStatus } from '../status/index.js';
import { readTemplate } from '../templates/index.js';
import { codeSpan, plainText } from './markdown.js';
import type { DeploymentReport, ReviewPort } from './review-port.js';

export interface Published {
  readonly pull_request?: string;
  readonly source_comment?: string;
  /** What went wrong talking to GitHub; the gitops change itself stands. */
  readonly review_error?: string;
}

export interface PublishRequest {
  readonly title: string;
  readonly record: DeployRecord;
  readonly version: Version;
  readonly agent: string;
  /** Set in review mode: the gitops branch with the proposal, and the branch it goes to. */
  readonly proposal?: { readonly head: string; readonly base: string };
  /** "rendered/api/x/deployment.yaml: changed", … */
  readonly changes: readonly string[];
  /** The app's source repo (app.yaml), for the commit link and the PR comment. */
  readonly sourceRepo?: string;
  /** The state observed in the cluster (after a wait); without it, the state git alone shows. */
  readonly live?: PreviewStatus;
  /** The preview was deleted or reaped. */
  readonly removed?: boolean;
}

/** The GitHub environment of one preview. */
export function previewEnvironment(record: Pick<DeployRecord, 'app' | 'slug'>): string {
  return `preview/${record.app}/${record.slug}`;
}

/** The status model's answer from git alone (no cluster observed), for when nothing else is known. */
function gitState(record: DeployRecord): PreviewStatus {
  return previewStatus({
    record,
    observation: { cluster: { observed: false, why: 'not observed when this was published' }, pods: [], events: [] },
    now: new Date(0).toISOString(),
  });
}

function deploymentOf(state: PreviewStatus, removed: boolean): Pick<DeploymentReport, 'state' | 'description' | 'environmentUrl'> {
  const what = `${state.state}${state.reason && state.reason !== 'NoClusterAccess' ? ` (${state.reason})` : ''}`;
  const detail = state.message ? `: ${scrubSecrets(state.message.split('\n')[0]!)}` : '';
  if (removed) return { state: 'inactive', description: 'the preview was deleted' };
  switch (state.state) {
    case 'ready':
      return { state: 'success', description: `version ${state.version} is ready`, environmentUrl: state.url };
    case 'build-failed':
    case 'degraded':
      return { state: 'failure', description: `version ${state.version} ${what}${detail}` };
    case 'reaped':
      return { state: 'inactive', description: 'the preview was reaped' };
    default:
      return { state: 'in_progress', description: `version ${state.version} ${what}` };
  }
}

export function sourceCommitLink(repoUrl: string | undefined, sha: string): string {
  const gh = repoUrl ? parseGitHubRepoUrl(repoUrl) : undefined;
  if (gh) return `[${sha.slice(0, 12)}](https://github.com/${gh.owner}/${gh.repo}/commit/${sha})`;
  return repoUrl ? `\`${sha}\` in ${repoUrl}` : `\`${sha}\``;
}

export async function publishForReview(port: ReviewPort, req: PublishRequest): Promise<Published> {
  const out: { pull_request?: string; source_comment?: string; review_error?: string } = {};
  const errors: string[] = [];
  const image = pinnedImageRef(req.version.image_ref, req.version.digest);
  if (req.proposal) {
    try {
      const body = await readTemplate('pull-request-body.md', {
        app: req.record.app,
        // Agents choose branch names and ids: they go in as code spans that no backtick can close.
        branch: codeSpan(req.record.branch),
        version: String(req.version.number),
        url: req.record.url,
        image,
        agent: codeSpan(req.agent),
        sourceCommitUrl: sourceCommitLink(req.sourceRepo, req.version.commit_sha),
        summary: `${plainText(req.title)}.\n\nChanged files:\n${req.changes.map((c) => `- ${codeSpan(c)}`).join('\n')}`,
      });
      const pr = await port.proposeForReview({ head: req.proposal.head, base: req.proposal.base, title: req.title, body });
      out.pull_request = pr.url;
    } catch (err) {
      errors.push(`the gitops pull request could not be opened (${(err as Error).message}); deploy again to retry`);
    }
  }
  if (req.sourceRepo) {
    const state = req.live ?? gitState(req.record);
    const shown = req.removed
      ? 'deleted'
      : req.proposal
        ? `waiting for review${out.pull_request ? ` in ${out.pull_request}` : ''}`
        : `${state.state}${state.reason && state.reason !== 'NoClusterAccess' ? ` (${state.reason})` : ''}`;
    const why =
      !req.removed && (state.state === 'build-failed' || state.state === 'degraded') && state.message
        ? ['', `${codeSpan(scrubSecrets(state.message.split('\n')[0]!).slice(0, 300))}${state.fix ? ` — ${plainText(state.fix)}` : ''}`]
        : [];
    const body = [
      `**x1deploy preview** of ${codeSpan(req.record.branch)}`,
      '',
      '| preview | version | state | commit |',
      '| --- | --- | --- | --- |',
      `| ${req.record.url} | ${req.version.number} | ${shown} | ${req.version.commit_sha.slice(0, 12)} |`,
      ...why,
    ].join('\n');
    try {
      const comment = await port.commentOnSourcePullRequest({ repoUrl: req.sourceRepo, branch: req.record.branch, body });
      if (comment) out.source_comment = comment.url;
    } catch (err) {
      errors.push(`the preview comment could not be written (${(err as Error).message})`);
    }
    // A review-mode proposal is not deployed until it is merged: no deployment for it yet.
    if (!req.proposal) {
      try {
        await port.reportDeployment({
          repoUrl: req.sourceRepo,
          environment: previewEnvironment(req.record),
          sha: req.version.commit_sha,
          ...deploymentOf(state, req.removed ?? false),
        });
      } catch (err) {
        errors.push(`the GitHub deployment status could not be written (${(err as Error).message})`);
      }
    }
  }
  if (errors.length) out.review_error = errors.join('; ');
  return out;
}
