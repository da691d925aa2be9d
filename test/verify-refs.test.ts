// How verify names a pull request's target: branches, tags (annotated too), ~N and ^N steps,
// abbreviated commit ids; and where the pull request forked from it.
import { beforeAll, describe, expect, it } from 'vitest';
import { deployBranch } from '../src/deploy/index.js';
import { openCheckout, resolveBase, UnknownBaseError } from '../src/verify/index.js';
import { git, makeWorkspaceRepo, request, SHA_B } from './support/workspace-repo.js';

describe('resolveBase', () => {
  let dir: string;
  const commits: string[] = [];
  beforeAll(async () => {
    const repo = await makeWorkspaceRepo();
    dir = repo.dir;
    commits.push(git(dir, 'rev-parse', 'HEAD'));
    await deployBranch(repo.store, request(), { agent: 'agent-7' });
    commits.push(git(dir, 'rev-parse', 'HEAD'));
    git(dir, 'tag', 'light');
    git(dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'tag', '-a', 'annotated', '-m', 'a tag');
    await deployBranch(repo.store, request({ commit_sha: SHA_B }), { agent: 'agent-7' });
    commits.push(git(dir, 'rev-parse', 'HEAD'));
  });

  it.each([
    ['main', 2],
    ['main~1', 1],
    ['main~2', 0],
    ['main^', 1],
    ['main^1', 1],
    ['main~1^', 0],
    ['light', 1],
    ['annotated', 1],
  ])('%s names commit %i, as git rev-parse does', async (ref, index) => {
    const { head } = await openCheckout(dir);
    const base = await resolveBase(dir, ref, head);
    expect(base.commit).toBe(commits[index]);
    expect(base.commit).toBe(git(dir, 'rev-parse', `${ref}^{commit}`));
    expect(base.mergeBase).toBe(base.commit);
    expect(base.name).toBe(ref);
  });

  it('takes an abbreviated or upper-case commit id', async () => {
    const { head } = await openCheckout(dir);
    expect((await resolveBase(dir, commits[1]!.slice(0, 10), head)).commit).toBe(commits[1]);
    expect((await resolveBase(dir, commits[1]!.slice(0, 10).toUpperCase(), head)).commit).toBe(commits[1]);
  });

  it('names an unknown base and says how to fetch it', async () => {
    const { head } = await openCheckout(dir);
    for (const ref of ['nope', 'main~9', 'deadbeef', 'not a ref']) {
      await expect(resolveBase(dir, ref, head)).rejects.toThrow(UnknownBaseError);
    }
    await expect(resolveBase(dir, 'nope', head)).rejects.toThrow(/fetch it first \(in CI: check out with fetch-depth: 0/);
  });

  it('refuses a folder that is not a git checkout', async () => {
    await expect(openCheckout('/nonexistent-x1deploy')).rejects.toThrow(/is not a git repository with a checked-out commit/);
  });
});
