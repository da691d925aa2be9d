// Group commit (what `serve` does with concurrent writes): the waiting requests are planned one
// after another against the tip plus the changes planned before them, and land as one commit and
// one push; each caller gets its own answer. Against a real smart-HTTP git server.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deleteBranchDeploy, deployBranch, listBranchDeploys } from '../src/deploy/index.js';
import { openRemoteStore } from '../src/gitops/index.js';
import { grantDeploy } from '../src/owners/index.js';
import { StaleHeadError, type GitopsStore } from '../src/records/index.js';
import { groupCommits } from '../src/transaction/index.js';
import { gitServerForSuite, servedWorkspace } from './support/served-workspace.js';
import { FIXED_NOW, git, request, storeWith, tempDir } from './support/workspace-repo.js';

const sha = (i: number) => i.toString(16).padStart(40, 'a');

describe('group commit', () => {
  const suite = gitServerForSuite();

  /** A served bare copy of a fresh workspace, its remote store, and the bare repo's folder. */
  async function served(name: string, maxBranchDeploys = 100) {
    const { url, bare } = await servedWorkspace(suite, name, maxBranchDeploys);
    return { bare, store: await openRemoteStore(url, { cacheDir: tempDir() }) };
  }
  const pushes = (name: string) => suite.server.requests.filter((r) => r.method === 'POST' && r.path === `/${name}.git/git-receive-pack`).length;

  it('20 concurrent deploys land in fewer commits than requests, one push per commit, each answered with the commit holding its version', async () => {
    const { bare, store } = await served('many');
    const grouped = groupCommits(store);
    const before = Number(git(bare, 'rev-list', '--count', 'main'));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => deployBranch(grouped, request({ branch: `feat/b${i}`, commit_sha: sha(i) }), { agent: 'agent-7' })),
    );
    const commits = Number(git(bare, 'rev-list', '--count', 'main')) - before;
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(commits).toBeLessThan(20);
    expect(pushes('many')).toBe(commits);
    for (const [i, { answer, commit }] of results.entries()) {
      expect(answer).toMatchObject({ branch: `feat/b${i}`, version: 1, status: 'pending-build' });
      // The answered commit is on main and holds this request's record.
      git(bare, 'merge-base', '--is-ancestor', commit!, 'main');
      const record = parse(git(bare, 'show', `${commit}:apps/api/branches/${answer.slug}/deploy.yaml`));
      expect(record.versions[0].commit_sha).toBe(sha(i));
    }
    const list = await listBranchDeploys(store);
    expect(list.filter((p) => p.branch.startsWith('feat/b'))).toHaveLength(20);
    expect(git(bare, 'fsck', '--strict', '--no-dangling')).toBe('');
  });

  it('plans each request against the ones before it: one branch deployed 8 times gets versions 1 to 8, and a budget of 3 admits 3 of 6', async () => {
    const { store } = await served('serial', 3);
    const grouped = groupCommits(store);
    const same = await Promise.all(
      Array.from({ length: 8 }, (_, i) => deployBranch(grouped, request({ branch: 'feat/one', commit_sha: sha(100 + i) }), { agent: 'agent-7' })),
    );
    expect(same.map((r) => r.answer.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const budget = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => deployBranch(grouped, request({ branch: `feat/n${i}`, commit_sha: sha(i) }), { agent: 'agent-7' })),
    );
    // feat/one already counts: 2 more fit.
    expect(budget.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    const refused = budget.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(refused).toHaveLength(4);
    for (const r of refused) expect(String(r.reason.message)).toContain('at its limit of 3 concurrent branch deploys');
    const list = await listBranchDeploys(store);
    expect(list.filter((p) => p.branch !== 'main')).toHaveLength(3);
  });

  it('a denied or invalid request in a group is answered with its error and the others land', async () => {
    const { store } = await served('mixed');
    const grouped = groupCommits(store);
    const results = await Promise.allSettled([
      deployBranch(grouped, request({ branch: 'feat/ok1', commit_sha: sha(1) }), { agent: 'agent-7' }),
      deployBranch(grouped, request({ branch: 'feat/no', commit_sha: sha(2) }), { agent: 'agent-without-grant' }),
      deployBranch(grouped, request({ branch: 'feat/bad', commit_sha: 'not-a-sha' }), { agent: 'agent-7' }),
      deployBranch(grouped, request({ branch: 'feat/ok2', commit_sha: sha(3) }), { agent: 'agent-7' }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason.message)).toMatch(/agent-without-grant/);
    expect(String((results[2] as PromiseRejectedResult).reason.message)).toMatch(/commit_sha/);
    const branches = (await listBranchDeploys(store)).map((p) => p.branch).sort();
    expect(branches).toEqual(['feat/ok1', 'feat/ok2']);
  });

  it('a deploy and a delete of the same branch in one group, and a review-mode proposal beside auto deploys', async () => {
    const { bare, store } = await served('review');
    await deployBranch(store, request({ branch: 'feat/gone', commit_sha: sha(1) }), { agent: 'agent-7' });
    await grantDeploy(store, { agent: 'agent-9', app: 'web', branches: '*', mode: 'review', by: 'owner' }, FIXED_NOW);
    const grouped = groupCommits(store);
    const [deleted, redeployed, proposed, auto] = await Promise.all([
      deleteBranchDeploy(grouped, { app: 'api', branch: 'feat/gone' }, { agent: 'agent-7' }),
      deployBranch(grouped, request({ branch: 'feat/gone', commit_sha: sha(2) }), { agent: 'agent-7' }),
      deployBranch(grouped, request({ app: 'web', branch: 'feat/r', commit_sha: sha(3) }), { agent: 'agent-9' }),
      deployBranch(grouped, request({ branch: 'feat/a', commit_sha: sha(4) }), { agent: 'agent-7' }),
    ]);
    expect(deleted.commit).toBeDefined();
    // Planned after the delete: the branch starts again at version 1.
    expect(redeployed.answer.version).toBe(1);
    expect(proposed.answer).toMatchObject({ mode: 'review', gitops_branch: expect.stringMatching(/^x1deploy\/web\//) });
    expect(git(bare, 'rev-parse', proposed.answer.gitops_branch!)).toBe(proposed.commit);
    expect(auto.answer.version).toBe(1);
    // The proposal waits on its side branch: main has no record of it.
    expect(git(bare, 'ls-tree', '--name-only', 'main', 'apps/')).toBe('apps/api');
    expect((await listBranchDeploys(store)).map((p) => `${p.app} ${p.branch}`).sort()).toEqual(['api feat/a', 'api feat/gone', 'web feat/r']);
  });

  it('a request that plans too long loses its turn: the others land, and it plans again in a later group', async () => {
    const { bare, store } = await served('slow');
    const grouped = groupCommits(store, { turnMs: 150 });
    let tries = 0;
    const slow = grouped.transact(async (snapshot) => {
      // Stuck on its first try (a slow read, say); quick on the next.
      if (tries++ === 0) await new Promise((r) => setTimeout(r, 1500));
      const grants = (await snapshot.store.readFile(snapshot.commit, 'grants.yaml'))!;
      return snapshot.store.commit({
        parent: snapshot.commit,
        changes: new Map([['grants.yaml', `${grants}# slow\n`]]),
        message: 'slow change',
        author: { name: 'owner', email: 'owner@example.com', timestamp: 1 },
      });
    }, 5);
    await new Promise((r) => setTimeout(r, 20));
    const quick = await deployBranch(grouped, request({ branch: 'feat/quick', commit_sha: sha(1) }), { agent: 'agent-7' });
    const slowCommit = await slow;
    expect(tries).toBe(2);
    // The quick deploy did not wait for the slow one: it landed first, and the slow change on top of it.
    expect(git(bare, 'rev-parse', `${slowCommit}~1`)).toBe(quick.commit);
    expect(git(bare, 'show', 'main:grants.yaml')).toMatch(/# slow$/);
  });

  it('when another writer moves the tip under a group, every request of the group plans again and lands', async () => {
    const { bare, store } = await served('moved');
    let outsideWrites = 0;
    // The first commit a group tries finds the tip moved by another writer (a grant), as a second replica would.
    const racing: GitopsStore = storeWith(store, {
      commit: async (r) => {
        if (outsideWrites++ === 0) {
          await grantDeploy(store, { agent: 'agent-8', app: 'api', branches: '*', mode: 'auto', by: 'owner' }, FIXED_NOW);
          throw new StaleHeadError(r.parent, await store.head());
        }
        return store.commit(r);
      },
    });
    const grouped = groupCommits(racing);
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => deployBranch(grouped, request({ branch: `feat/m${i}`, commit_sha: sha(i) }), { agent: 'agent-7' })),
    );
    expect(results.map((r) => r.answer.version)).toEqual([1, 1, 1, 1, 1]);
    const grants = parse(git(bare, 'show', 'main:grants.yaml'));
    expect(grants.grants.map((g: { agent: string }) => g.agent)).toContain('agent-8');
    expect((await listBranchDeploys(store)).filter((p) => p.branch.startsWith('feat/m'))).toHaveLength(5);
  });
});
