// Which review port a command gets from its environment: the GitHub web host is computed the same
// way as for branch listings (api.github.com serves github.com).
import { describe, expect, it } from 'vitest';
import { GitHubReview, reviewPortFor } from '../src/review/index.js';

describe('reviewPortFor', () => {
  const token = { X1DEPLOY_GITHUB_TOKEN: 'ghs_x' };

  it.each([
    [{ ...token }, 'https://github.com/acme/gitops.git'],
    [{ ...token, X1DEPLOY_GITHUB_API: 'https://api.github.com' }, 'https://github.com/acme/gitops.git'],
    [{ ...token, X1DEPLOY_GITHUB_API: 'https://ghe.example.com/api/v3' }, 'https://ghe.example.com/acme/gitops.git'],
  ])('turns review on for %o and %s', (env, repo) => {
    const port = reviewPortFor(repo, env);
    expect(port).toBeInstanceOf(GitHubReview);
    expect((port as GitHubReview).gitopsRepo).toEqual({ owner: 'acme', repo: 'gitops' });
  });

  it('stays off without a token, for a local repo, and for a repo on another host', () => {
    expect(reviewPortFor('https://github.com/acme/gitops.git', {})).toBeUndefined();
    expect(reviewPortFor('/srv/gitops', token)).toBeUndefined();
    expect(reviewPortFor('https://gitlab.com/acme/gitops.git', token)).toBeUndefined();
  });
});
