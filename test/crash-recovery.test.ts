// A deploy killed at any point leaves the repo so that the next command works: the lock it held
// is taken over, its commit (if the ref had moved) is finished in the work tree and the index, and
// git finds nothing wrong.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { deployBranch } from '../src/deploy/index.js';
import { openBareStore, openLocalStore } from '../src/gitops/index.js';
import { RepoSnapshot } from '../src/records/index.js';
import { git, makeWorkspaceRepo, request } from './support/workspace-repo.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

function clean(dir: string): void {
  expect(git(dir, 'status', '--porcelain')).toBe('');
  expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');
}

describe('crash recovery of the local store', () => {
  it('a holder killed after its ref moved: the next deploy finishes its work tree and index, then lands', async () => {
    const { dir } = await makeWorkspaceRepo();
    const from = git(dir, 'rev-parse', 'HEAD');
    // What the killed process had done: objects written and the ref moved, the work tree not yet.
    const refOnly = openBareStore(join(dir, '.git'), 'main');
    const snapshot = await RepoSnapshot.atHead(refOnly);
    const planned = await deployBranch(refOnly, request({ branch: 'feat/killed' }), { agent: 'agent-7' });
    const to = planned.commit!;
    expect(snapshot.commit).toBe(from);
    expect(git(dir, 'status', '--porcelain')).not.toBe('');
    writeFileSync(
      join(dir, '.git', 'x1deploy.lock'),
      JSON.stringify({ pid: deadPid(), host: hostname(), from, to, at: Date.now() - 1000 }),
    );
    writeFileSync(join(dir, '.git', 'index.lock'), 'half an index');

    const store = await openLocalStore(dir);
    const next = await deployBranch(store, request({ branch: 'feat/next' }), { agent: 'agent-7' });
    expect(git(dir, 'rev-parse', 'HEAD~1')).toBe(to);
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(next.commit);
    clean(dir);
  });

  it('a holder killed before its ref moved: its locks are cleared and nothing of its change remains', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    const from = git(dir, 'rev-parse', 'HEAD');
    writeFileSync(
      join(dir, '.git', 'x1deploy.lock'),
      JSON.stringify({ pid: deadPid(), host: hostname(), from, to: 'f'.repeat(40), at: Date.now() - 1000 }),
    );
    writeFileSync(join(dir, '.git', 'index.lock'), '');
    const next = await deployBranch(store, request(), { agent: 'agent-7' });
    expect(git(dir, 'rev-parse', 'HEAD~1')).toBe(from);
    expect(next.commit).toBe(git(dir, 'rev-parse', 'HEAD'));
    clean(dir);
  });

  it('a lock held by a live process is not taken over', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    writeFileSync(join(dir, '.git', 'x1deploy.lock'), JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() }));
    await expect(deployBranch(store, request(), { agent: 'agent-7' })).rejects.toThrow(
      /x1deploy.lock is held by another x1deploy or git process/,
    );
  });

  it('deploys killed at random moments never stop the next one, and leave git clean', async () => {
    const { dir } = await makeWorkspaceRepo();
    for (let i = 0; i < 6; i++) {
      // The second half with the index split and its shared index written again by every commit.
      if (i === 3) {
        git(dir, 'config', 'core.splitIndex', 'true');
        git(dir, 'config', 'splitIndex.maxPercentChange', '0');
      }
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'deploy', '-', '--repo', dir, '--agent', 'agent-7', '--json'], {
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      child.stdin.end(JSON.stringify(request({ branch: `feat/k${i}`, commit_sha: (i + 1).toString(16).padStart(40, 'a') })));
      const closed = new Promise((resolve) => child.on('close', resolve));
      await new Promise((r) => setTimeout(r, 400 + Math.random() * 1600));
      child.kill('SIGKILL');
      await closed;
      const store = await openLocalStore(dir);
      // One branch redeployed each time: six killed deploys that all landed plus six new branches
      // would pass the workspace's limit of 10 previews.
      await deployBranch(store, request({ branch: 'feat/after', commit_sha: (i + 1).toString(16).padStart(40, 'b') }), {
        agent: 'agent-7',
      });
      clean(dir);
    }
  }, 300_000);
});

describe('the local store respects the work tree', () => {
  it('refuses to overwrite an uncommitted edit of a file it writes, and writes nothing', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    await deployBranch(store, request(), { agent: 'agent-7' });
    const head = git(dir, 'rev-parse', 'HEAD');
    const record = join(dir, 'apps/api/branches', (await import('../src/spec/index.js')).branchSlug('api', 'feat/x'), 'deploy.yaml');
    writeFileSync(record, '# my notes\n');
    await expect(deployBranch(store, request({ commit_sha: 'b'.repeat(40) }), { agent: 'agent-7' })).rejects.toMatchObject({
      name: 'UncommittedChangesError',
      kind: 'conflict',
      message: expect.stringMatching(/deploy\.yaml in .* has uncommitted changes that this command would overwrite/),
    });
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(head);
    expect(git(dir, 'status', '--porcelain')).toMatch(/deploy\.yaml$/);
  });

  it('refuses an index it cannot update before the ref moves', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    git(dir, 'update-index', '--index-version', '4');
    const head = git(dir, 'rev-parse', 'HEAD');
    await expect(deployBranch(store, request(), { agent: 'agent-7' })).rejects.toMatchObject({
      name: 'UnsupportedIndexError',
      message: expect.stringMatching(/index version 4 is not supported; run "git update-index --index-version 2/),
    });
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(head);
  });

  it('refuses a sha256 repository when it opens it', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'x1deploy-test-sha256-'));
    git(dir, 'init', '-q', '--object-format=sha256');
    await expect(openLocalStore(dir)).rejects.toThrow(/uses sha256 object ids, which x1deploy does not support/);
  });
});

describe('the local store keeps git’s own records', () => {
  it('writes the reflog entries git would for its commits', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    const { commit } = await deployBranch(store, request(), { agent: 'agent-7' });
    const log = git(dir, 'reflog', 'show', '--format=%H %gs', 'main').split('\n');
    expect(log[0]).toBe(`${commit} commit: ${git(dir, 'log', '-1', '--format=%s')}`);
    expect(log.at(-1)).toMatch(/ commit \(initial\): Create workspace demo$/);
    expect(git(dir, 'reflog', 'show', '--format=%H', 'HEAD').split('\n')[0]).toBe(commit);
    clean(dir);
  });

  it('a long-lived store refuses to commit once the user checked out another branch', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    git(dir, 'checkout', '-q', '-b', 'mine');
    const head = git(dir, 'rev-parse', 'main');
    await expect(deployBranch(store, request(), { agent: 'agent-7' })).rejects.toThrow(
      /has branch mine checked out, but x1deploy commits to main/,
    );
    expect(git(dir, 'rev-parse', 'main')).toBe(head);
  });
});
