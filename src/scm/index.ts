import type { BranchSource } from './branch-source.js';
import { GitLsRemoteBranchSource, type GitRemoteOptions } from './git-remote.js';
import { GitHubBranchSource, type GitHubBranchSourceOptions } from './github.js';
import { gitHubWebHost, parseGitHubRepoUrl } from './github-urls.js';

export { DEFAULT_GITHUB_API, gitHubWebHost, parseGitHubRepoUrl, type RepoCoordinates } from './github-urls.js';
export { BranchListingError, type BranchListing, type BranchListingFailure, type BranchSource } from './branch-source.js';
export { EtagCacheFileError, JsonFileEtagCache, MemoryEtagCache, type CachedResponse, type EtagCache } from './etag-cache.js';
export {
  GitHubBranchSource,
  GitHubPullRequests,
  GitHubRequestError,
  InvalidCommentMarkerError,
  type CommentArgs,
  type CommentRef,
  type DeploymentArgs,
  type DeploymentState,
  type GitHubBranchSourceOptions,
  type GitHubOptions,
  type PullRequestArgs,
  type PullRequestRef,
  type RetryPolicy,
  type ScmLog,
} from './github.js';
export { GitLsRemoteBranchSource, type GitRemoteOptions } from './git-remote.js';

export interface BranchSourceOptions {
  /** The GitHub API to use for repos on its host (github.com unless it is a GitHub Enterprise server). */
  readonly github?: GitHubBranchSourceOptions;
  readonly git?: GitRemoteOptions;
}

/**
 * The source that lists `repoUrl`'s branches: the GitHub API for repos on the configured GitHub host,
 * or on github.com (anonymously when GitHub is configured for an Enterprise host); git otherwise.
 * Pass `github.etagCache` to reuse ETags across calls: each call builds a new source.
 */
export function branchSourceFor(repoUrl: string, options: BranchSourceOptions = {}): BranchSource {
  const github = options.github;
  if (github !== undefined && parseGitHubRepoUrl(repoUrl, gitHubWebHost(github)) !== undefined) return new GitHubBranchSource(github);
  if (parseGitHubRepoUrl(repoUrl, 'github.com') !== undefined) {
    // No token: it belongs to the Enterprise host, and GitHub must never see it.
    return new GitHubBranchSource({
      userAgent: github?.userAgent ?? 'x1deploy',
      etagCache: github?.etagCache,
      log: github?.log,
      retry: github?.retry,
    });
  }
  return new GitLsRemoteBranchSource(options.git);
}
