// After a change lands (or is proposed), tell the reviewers: the gitops pull request for a
// review-mode proposal, and the one preview comment on the app's own pull request. The change is
// already in git by then, so a GitHub failure is reported with the answer, never thrown.
import type { DeployRecord, Version } from '../records/index.js';
import { parseGitHubRepoUrl } from '../scm/index.js';
import { pinnedImageRef } from '../spec/index.js';
import { readTemplate } from '../templates/index.js';
import { codeSpan, plainText } from './markdown.js';
import type { ReviewPort } from './review-port.js';

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
    const state = req.proposal
      ? `waiting for review${out.pull_request ? ` in ${out.pull_request}` : ''}`
      : req.version.status === 'live'
        ? 'live'
        : 'building';
    const body = [
      `**x1deploy preview** of ${codeSpan(req.record.branch)}`,
      '',
      '| preview | version | status | commit |',
      '| --- | --- | --- | --- |',
      `| ${req.record.url} | ${req.version.number} | ${state} (${req.version.status}) | ${req.version.commit_sha.slice(0, 12)} |`,
    ].join('\n');
    try {
      const comment = await port.commentOnSourcePullRequest({ repoUrl: req.sourceRepo, branch: req.record.branch, body });
      if (comment) out.source_comment = comment.url;
    } catch (err) {
      errors.push(`the preview comment could not be written (${(err as Error).message})`);
    }
  }
  if (errors.length) out.review_error = errors.join('; ');
  return out;
}
