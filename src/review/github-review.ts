// The review port on GitHub: gitops pull requests and the preview comment on the app's PR.
import { GitHubPullRequests, parseGitHubRepoUrl, gitHubWebHost, type GitHubOptions, type RepoCoordinates } from '../scm/index.js';
import type { DeploymentReport, PreviewComment, ProposalForReview, ReviewPort } from './review-port.js';

export const PREVIEW_COMMENT_MARKER = '<!-- x1deploy:preview -->';

export class GitHubReview implements ReviewPort {
  readonly #pulls: GitHubPullRequests;
  readonly #webHost: string;

  constructor(
    /** The gitops repo on GitHub. */
    readonly gitopsRepo: RepoCoordinates,
    readonly options: GitHubOptions,
  ) {
    this.#pulls = new GitHubPullRequests(options);
    this.#webHost = gitHubWebHost(options);
  }

  async proposeForReview(proposal: ProposalForReview) {
    const pr = await this.#pulls.openOrUpdatePullRequest({ ...this.gitopsRepo, ...proposal });
    return { url: pr.url, number: pr.number, created: pr.created };
  }

  async commentOnSourcePullRequest(comment: PreviewComment) {
    const source = parseGitHubRepoUrl(comment.repoUrl, this.#webHost);
    // A source repo on another host has no GitHub pull request to comment on.
    if (!source) return undefined;
    const ref = await this.#pulls.upsertPullRequestComment({
      ...source,
      headBranch: comment.branch,
      marker: PREVIEW_COMMENT_MARKER,
      body: comment.body,
    });
    return ref ? { url: ref.url } : undefined;
  }

  async reportDeployment(report: DeploymentReport) {
    const source = parseGitHubRepoUrl(report.repoUrl, this.#webHost);
    if (!source) return false;
    await this.#pulls.reportDeployment({ ...source, ...report });
    return true;
  }
}
