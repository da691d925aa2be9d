// The review port a command uses: GitHub when the gitops repo is on GitHub and a token is set.
import { gitHubWebHost, parseGitHubRepoUrl } from '../scm/index.js';
import { GitHubReview } from './github-review.js';
import type { ReviewPort } from './review-port.js';

/**
 * X1DEPLOY_GITHUB_TOKEN (or the gitops push token X1DEPLOY_GIT_TOKEN) authorizes the API calls;
 * X1DEPLOY_GITHUB_API points at GitHub Enterprise (`https://<host>/api/v3`).
 */
export function reviewPortFor(repo: string, env: NodeJS.ProcessEnv = process.env): ReviewPort | undefined {
  const baseUrl = env.X1DEPLOY_GITHUB_API;
  // The same rule as the branch listings: api.github.com serves github.com, an Enterprise API its own host.
  const webHost = gitHubWebHost({ baseUrl });
  const gitops = /^https:\/\//.test(repo) ? parseGitHubRepoUrl(repo, webHost) : undefined;
  const token = env.X1DEPLOY_GITHUB_TOKEN ?? env.X1DEPLOY_GIT_TOKEN;
  if (!gitops || !token) return undefined;
  return new GitHubReview(gitops, { token, baseUrl, webHost, userAgent: 'x1deploy' });
}
