// /webhooks/github: a signed `delete` delivery reaps the preview of the deleted branch at once,
// through the real reaper (its listing of the source repo is `git ls-remote` of a real repo);
// a bad signature changes nothing; a repeated delivery is answered once.
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deployBranch, followPush } from '../src/deploy/index.js';
import { RepoSnapshot, type GitopsStore } from '../src/records/index.js';
import { reapPreviews, reapSourcesFor } from '../src/reap/index.js';
import { startService, tokenTable, type RunningServer } from '../src/serve/index.js';
import { FIXED_NOW, git, makeWorkspaceRepo, repoFingerprint, request, tempDir } from './support/workspace-repo.js';

vi.setConfig({ testTimeout: 60_000 });
const SECRET = 'webhook-secret-for-tests';

let dir: string;
let store: GitopsStore;
let source: string;
let service: RunningServer;

beforeAll(async () => {
  ({ dir, store } = await makeWorkspaceRepo());
  // The app's source repo, with the two branches previewed.
  source = join(tempDir(), 'api.git');
  const work = join(tempDir(), 'api');
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  execFileSync('git', ['-C', work, '-c', 'user.name=dev', '-c', 'user.email=dev@example.com', 'commit', '-q', '--allow-empty', '-m', 'start']);
  for (const b of ['feat/gone', 'feat/stays']) execFileSync('git', ['-C', work, 'branch', b]);
  execFileSync('git', ['clone', '-q', '--bare', work, source]);
  // Deployed a month ago: well past the reaper's grace for fresh deploys.
  const by = { agent: 'agent-7', clock: () => FIXED_NOW };
  for (const branch of ['feat/gone', 'feat/stays']) await deployBranch(store, request({ branch, repo: `file://${source}` }), by);
  service = await startService(
    {
      store,
      tokens: tokenTable([]),
      observe: { cluster: { unavailable: 'none' }, probe: false },
      version: 'test',
      webhook: {
        secret: SECRET,
        reap: async (store) => {
          const ws = await (await RepoSnapshot.atHead(store)).workspace();
          const result = await reapPreviews(store, { sources: reapSourcesFor(ws, {}) });
          return { reaped: result.commit ? result.plan.reap.length : 0 };
        },
        follow: (store, push) => followPush(store, push),
      },
    },
    { host: '127.0.0.1', port: 0 },
  );
});

afterAll(async () => {
  await service?.close();
});

function deliver(event: string, payload: unknown, options: { delivery?: string; secret?: string } = {}) {
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac('sha256', options.secret ?? SECRET).update(body).digest('hex')}`;
  return fetch(`${service.url}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': options.delivery ?? crypto.randomUUID(),
      'x-hub-signature-256': signature,
    },
    body,
  });
}

const previews = async () => (await (await RepoSnapshot.atHead(store)).allDeployRecords()).map((r) => r.branch).sort();

describe('GitHub webhooks', () => {
  it('a bad signature is 401 and changes nothing; ping and unrelated events do nothing', async () => {
    execFileSync('git', ['-C', source, 'branch', '-D', 'feat/gone']);
    const before = repoFingerprint(dir);
    const forged = await deliver('delete', { ref: 'feat/gone', ref_type: 'branch' }, { secret: 'not-the-secret' });
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ kind: 'denied' });
    const unsigned = await fetch(`${service.url}/webhooks/github`, { method: 'POST', headers: { 'x-github-event': 'delete' }, body: '{}' });
    expect(unsigned.status).toBe(401);
    expect(await (await deliver('ping', { zen: 'Keep it logically awesome.' })).json()).toMatchObject({ pong: true });
    const other = await deliver('issues', { action: 'opened' });
    expect(other.status).toBe(202);
    expect(await other.json()).toMatchObject({ action: 'ignored' });
    expect(repoFingerprint(dir)).toBe(before);
  });

  it('a branch delete reaps its preview at once, once per delivery, and only branches the listing shows gone', async () => {
    expect(await previews()).toEqual(['feat/gone', 'feat/stays']);
    const delivery = crypto.randomUUID();
    const r = await deliver('delete', { ref: 'feat/gone', ref_type: 'branch', repository: { full_name: 'acme/api' } }, { delivery });
    expect(r.status).toBe(202);
    expect(await r.json()).toMatchObject({ event: 'delete', action: 'reaped', reaped: 1 });
    expect(await previews()).toEqual(['feat/stays']);
    expect(git(dir, 'log', '-1', '--format=%s')).toMatch(/^Reap/);
    const head = git(dir, 'rev-parse', 'HEAD');
    // GitHub redelivers: answered, nothing done again.
    expect(await (await deliver('delete', { ref: 'feat/gone', ref_type: 'branch' }, { delivery })).json()).toMatchObject({ duplicate: true });
    // A closed pull request whose branch still exists reaps nothing (positive evidence only).
    const closed = await deliver('pull_request', { action: 'closed', pull_request: { head: { ref: 'feat/stays' } } });
    expect(await closed.json()).toMatchObject({ action: 'reaped', reaped: 0 });
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(head);
    expect(await previews()).toEqual(['feat/stays']);
  });

  it('a push redeploys a branch that follows it, as its agent, and no other', async () => {
    const by = { agent: 'agent-7', clock: () => FIXED_NOW };
    await deployBranch(store, request({ branch: 'feat/stays', repo: `file://${source}`, follow: true }), by);
    const pushed = 'c'.repeat(40);
    const push = (branch: string, sha = pushed) =>
      deliver('push', { ref: `refs/heads/${branch}`, after: sha, repository: { clone_url: `file://${source}`, html_url: 'https://example.invalid/api' } });
    const r = await push('feat/stays');
    expect(r.status).toBe(202);
    expect(await r.json()).toMatchObject({ action: 'followed', deployed: 1, outcomes: [{ app: 'api', branch: 'feat/stays', agent: 'agent-7', outcome: 'deployed' }] });
    const record = (await (await RepoSnapshot.atHead(store)).allDeployRecords()).find((d) => d.branch === 'feat/stays')!;
    const newest = record.versions[record.versions.length - 1]!;
    expect(newest).toMatchObject({ commit_sha: pushed, requested_by: 'agent-7', status: 'pending-build', spec: { follow: true } });
    // The same push again changes nothing; a branch that does not follow is left alone; a tag is not a branch.
    expect(await (await push('feat/stays')).json()).toMatchObject({ deployed: 0, outcomes: [{ outcome: 'unchanged' }] });
    expect(await (await push('main')).json()).toMatchObject({ deployed: 0, outcomes: [] });
    const tag = await deliver('push', { ref: 'refs/tags/v1', after: pushed, repository: { clone_url: `file://${source}` } });
    expect(await tag.json()).toMatchObject({ action: 'ignored' });
  });
});
