// A fresh workspace gitops repo in a temp folder, plus real-git probes of its state.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLocalStore } from '../../src/gitops/index.js';
import { type GitopsStore, stringifyRecord, RepoSnapshot } from '../../src/records/index.js';
import { grantDeploy, initWorkspace } from '../../src/owners/index.js';
import type { WorkspaceConfig, WorkspaceInit } from '../../src/workspace/index.js';

export const FIXED_NOW = new Date('2026-11-01T12:00:00.000Z');

export function tempDir(prefix = 'x1deploy-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A workspace repo where agent-7 holds auto grants on every branch of apps api and web (unless `grants: false`). */
export async function makeWorkspaceRepo(init: WorkspaceInit & { grants?: boolean } = {}): Promise<{ dir: string; store: GitopsStore }> {
  const dir = join(tempDir(), 'gitops');
  await initWorkspace(dir, init, FIXED_NOW);
  const store = await openLocalStore(dir);
  if (init.grants !== false) {
    for (const app of ['api', 'web'])
      await grantDeploy(store, { agent: 'agent-7', app, branches: '*', mode: 'auto', by: 'owner' }, FIXED_NOW);
  }
  return { dir, store };
}

export function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
}

/** Everything a command could change: HEAD, refs, index, and every work-tree file's bytes. */
export function repoFingerprint(dir: string): string {
  const hash = createHash('sha256');
  hash.update(git(dir, 'rev-parse', 'HEAD'));
  hash.update(git(dir, 'for-each-ref'));
  hash.update(readFileSync(join(dir, '.git', 'index')));
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name === '.git') continue;
      const p = join(d, name);
      hash.update(p);
      if (statSync(p).isDirectory()) walk(p);
      else hash.update(readFileSync(p));
    }
  };
  walk(dir);
  return hash.digest('hex');
}

export const SHA_A = '1'.repeat(40);
export const SHA_B = '2'.repeat(40);

export function request(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { app: 'api', branch: 'feat/x', commit_sha: SHA_A, dockerfile: 'Dockerfile', ports: [8080], ...overrides };
}

/** An owner's edit of x1deploy.yaml, committed the way a reviewed change lands. */
export async function updateWorkspaceConfig(
  store: GitopsStore,
  patch: (ws: WorkspaceConfig) => WorkspaceConfig,
  message = 'Test settings',
): Promise<void> {
  const snapshot = await RepoSnapshot.atHead(store);
  const ws = await snapshot.workspace();
  await store.commit({
    parent: snapshot.commit,
    changes: new Map([['x1deploy.yaml', stringifyRecord(patch(ws))]]),
    message,
    author: { name: 'owner', email: 'owner@example.com', timestamp: Math.floor(FIXED_NOW.getTime() / 1000) },
  });
}

/** `store` with some of its methods replaced (a failing or slow commit), the rest bound to it. */
export function storeWith(store: GitopsStore, overrides: Partial<Omit<GitopsStore, 'branch'>>): GitopsStore {
  return {
    branch: store.branch,
    head: () => store.head(),
    readFile: (c, p) => store.readFile(c, p),
    listDir: (c, p) => store.listDir(c, p),
    listFiles: (c, p) => store.listFiles(c, p),
    branchHead: (n) => store.branchHead(n),
    branches: (p) => store.branches(p),
    proposeCommit: (r) => store.proposeCommit(r),
    commit: (r) => store.commit(r),
    ...overrides,
  };
}
