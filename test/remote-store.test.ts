import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deployBranch } from '../src/deploy/index.js';
import { openRemoteStore } from '../src/gitops/index.js';
import { gitServerForSuite, servedWorkspace } from './support/served-workspace.js';
import { git, request, tempDir } from './support/workspace-repo.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

function runDeploy(url: string, sha: string, cacheDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'deploy', '-', '--repo', url, '--agent', 'agent-7', '--json'], {
      env: { ...process.env, X1DEPLOY_CACHE_DIR: cacheDir, X1DEPLOY_GIT_TOKEN: 'test-token-never-logged' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(JSON.stringify(request({ branch: 'feat/race', commit_sha: sha })));
  });
}

describe('remote gitops repo over smart HTTP (git http-backend)', () => {
  const suite = gitServerForSuite();

  it('deploys through a cache clone and pushes one commit', async () => {
    const { url } = await servedWorkspace(suite, 'one');
    const store = await openRemoteStore(url, { cacheDir: tempDir() });
    expect(store.branch).toBe('main');
    const { answer, commit } = await deployBranch(store, request(), { agent: 'agent-7' });
    expect(answer.version).toBe(1);
    const bare = join(suite.root, 'one.git');
    expect(git(bare, 'rev-parse', 'main')).toBe(commit);
    expect(git(bare, 'log', '-1', '--format=%(trailers:key=X1-Version,valueonly)', 'main')).toBe('1');
    // A second store (another machine's cache) sees it and plans on top of it.
    const other = await openRemoteStore(url, { cacheDir: tempDir() });
    const second = await deployBranch(other, request({ commit_sha: 'b'.repeat(40) }), { agent: 'agent-7' });
    expect(second.answer.version).toBe(2);
    expect(git(bare, 'rev-parse', 'main~1')).toBe(commit);

    // The first cache lacks that commit: its next deploy fetches it, and lands on top of it.
    const uploads = (from: number) => suite.server.requests.slice(from).filter((r) => r.method === 'POST' && r.path.endsWith('/git-upload-pack')).length;
    let from = suite.server.requests.length;
    const third = await deployBranch(store, request({ commit_sha: 'c'.repeat(40) }), { agent: 'agent-7' });
    expect(third.answer.version).toBe(3);
    expect(git(bare, 'rev-parse', 'main~1')).toBe(second.commit);
    expect(uploads(from)).toBe(1);
    // Now the cache has the remote's tip (it pushed it): the listing is the whole fetch.
    from = suite.server.requests.length;
    const fourth = await deployBranch(store, request({ commit_sha: 'd'.repeat(40) }), { agent: 'agent-7' });
    expect(fourth.answer.version).toBe(4);
    expect(git(bare, 'rev-parse', 'main')).toBe(fourth.commit);
    expect(uploads(from)).toBe(0);
  });

  it('20 concurrent deploys from separate processes all land: 20 versions, no lost update, fsck clean', async () => {
    const { url } = await servedWorkspace(suite, 'race');
    const caches = Array.from({ length: 20 }, (_, i) => {
      const d = join(tempDir(), `cache-${i}`);
      mkdirSync(d);
      return d;
    });
    const shas = Array.from({ length: 20 }, (_, i) => (i + 1).toString(16).padStart(40, 'c'));
    const results = await Promise.all(shas.map((sha, i) => runDeploy(url, sha, caches[i]!)));
    for (const r of results) {
      if (r.code !== 0) console.error(r.stdout, r.stderr);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout + r.stderr).not.toContain('test-token-never-logged');
    }
    const versions = results.map((r) => JSON.parse(r.stdout).version).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    const bare = join(suite.root, 'race.git');
    const slug = JSON.parse(results[0]!.stdout).slug;
    const record = parse(git(bare, 'show', `main:apps/api/branches/${slug}/deploy.yaml`));
    expect(record.versions).toHaveLength(20);
    expect(new Set(record.versions.map((v: { commit_sha: string }) => v.commit_sha))).toEqual(new Set(shas));
    // One commit per deploy on a straight line: nothing was lost or merged.
    expect(Number(git(bare, 'rev-list', '--count', '--grep=^X1-Version:', 'main'))).toBe(20);
    expect(git(bare, 'rev-list', '--merges', 'main')).toBe('');
    // Rejected pushes leave dangling objects on the server, which is normal; errors are not.
    expect(git(bare, 'fsck', '--strict', '--no-dangling')).toBe('');
  }, 360_000);

  it('10 concurrent deploys sharing one cache clone all land, and every reported commit is on the server branch', async () => {
    const { url } = await servedWorkspace(suite, 'shared');
    const cache = join(tempDir(), 'shared-cache');
    mkdirSync(cache);
    const shas = Array.from({ length: 10 }, (_, i) => (i + 1).toString(16).padStart(40, 'd'));
    const results = await Promise.all(shas.map((sha) => runDeploy(url, sha, cache)));
    for (const r of results) {
      if (r.code !== 0) console.error(r.stdout, r.stderr);
      expect(r.code).toBe(0);
    }
    const bare = join(suite.root, 'shared.git');
    const onServer = new Set(git(bare, 'rev-list', 'main').split('\n'));
    const reported = results.map((r) => JSON.parse(r.stdout).commit as string);
    for (const commit of reported) expect(onServer.has(commit)).toBe(true);
    expect(results.map((r) => JSON.parse(r.stdout).version).sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    // Deploys that waited for each other were handed to one process and share a commit: every
    // version is in the history once, in at most ten commits.
    const trailers = git(bare, 'log', '--format=%B', 'main').match(/^X1-Version: \d+$/gm)!;
    expect(trailers.map((t) => Number(t.split(' ')[1])).sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    const commits = Number(git(bare, 'rev-list', '--count', '--grep=^X1-Version:', 'main'));
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(commits).toBeLessThanOrEqual(10);
    expect(new Set(reported).size).toBe(commits);
    // The cache keeps no push refs of its own.
    const cacheRepo = join(
      cache,
      readdirSync(cache).find((f) => !f.endsWith('.lock'))!,
    );
    expect(git(cacheRepo, 'for-each-ref', 'refs/x1deploy-push')).toBe('');
  }, 360_000);

  it('a push sends the objects the commit wrote and no more, however big the repo', async () => {
    const { url } = await servedWorkspace(suite, 'sized', 100);
    const store = await openRemoteStore(url, { cacheDir: tempDir() });
    // 30 previews, so a walk of the whole tree would send far more than a commit writes.
    for (let i = 0; i < 30; i++) await deployBranch(store, request({ branch: `feat/p${i}`, commit_sha: (i + 1).toString(16).padStart(40, 'b') }), { agent: 'agent-7' });
    const pushes = () => suite.server.requests.filter((r) => r.method === 'POST' && r.path === '/sized.git/git-receive-pack');
    const before = pushes().length;
    const { commit } = await deployBranch(store, request({ branch: 'feat/p3', commit_sha: 'f'.repeat(40) }), { agent: 'agent-7' });
    const bare = join(suite.root, 'sized.git');
    expect(git(bare, 'rev-parse', 'main')).toBe(commit);
    const sent = pushes().slice(before);
    expect(sent).toHaveLength(1);
    // What the commit wrote: the changed blobs and the trees on their paths (diff-tree), the root tree and the commit.
    const written = git(bare, 'diff-tree', '-r', '-t', '--no-commit-id', `${commit}~1`, commit!).split('\n').filter(Boolean).length + 2;
    expect(sent[0]!.packObjects).toBe(written);
    expect(sent[0]!.packObjects).toBeLessThan(20);
    expect(git(bare, 'fsck', '--strict', '--no-dangling')).toBe('');
  });

  it('refuses credentials in the URL and names no token in errors', async () => {
    await expect(openRemoteStore('https://user:secret-pw@example.invalid/x.git')).rejects.toThrow(/credentials in the URL are refused/);
    const err = await openRemoteStore(suite.server.url('missing.git'), { cacheDir: tempDir(), token: 'tok-123' }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(String(err.message)).not.toContain('tok-123');
  });
});
