// Group commit across processes (transaction/handoff.ts), as `x1deploy deploy` uses it: deploys that
// wait while another process holds the shared cache clone are handed to whichever process leads
// next, land in one commit and one push, and each gets its own answer, errors included. Each call
// below stands for a process (the cache lock is a lock file: one process's second take fails like
// another's). Against a real smart-HTTP git server; the cross-process run is in remote-store.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deployTogether } from '../src/cli/deploy-together.js';
import { DeniedError, InvalidRequestError } from '../src/errors/index.js';
import { cacheCloneDir, cacheHandoffPort } from '../src/cache-clone/index.js';
import { handOffOrLead } from '../src/handoff/index.js';
import type { HandoffPort } from '../src/records/index.js';
import { gitServerForSuite, servedWorkspace } from './support/served-workspace.js';
import { git, request, tempDir } from './support/workspace-repo.js';

const sha = (i: number) => i.toString(16).padStart(40, 'e');
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const HOLDER = fileURLToPath(new URL('./support/hold-cache-lock.ts', import.meta.url));

/** The files left in the handoff folder's three parts. */
function leftIn(port: HandoffPort): string[] {
  return ['waiting', 'taken', 'answers'].flatMap((part) => (existsSync(join(port.dir, part)) ? readdirSync(join(port.dir, part)).map((f) => `${part}/${f}`) : []));
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

describe('deploys handed to the process holding the cache clone', () => {
  const suite = gitServerForSuite();
  const pushes = (name: string) => suite.server.requests.filter((r) => r.method === 'POST' && r.path === `/${name}.git/git-receive-pack`).length;

  const cacheDirBefore = process.env.X1DEPLOY_CACHE_DIR;
  afterEach(() => {
    if (cacheDirBefore === undefined) delete process.env.X1DEPLOY_CACHE_DIR;
    else process.env.X1DEPLOY_CACHE_DIR = cacheDirBefore;
  });

  /** A served workspace, this machine's cache folder for it, and its cache clone's handoff port. */
  async function machine(name: string): Promise<{ url: string; bare: string; port: HandoffPort }> {
    const { url, bare } = await servedWorkspace(suite, name);
    process.env.X1DEPLOY_CACHE_DIR = tempDir();
    return { url, bare, port: cacheHandoffPort(cacheCloneDir(url)) };
  }
  const job = (agent: string, fields: Record<string, unknown>) => ({ request: JSON.stringify(request(fields)), agent });

  it('requests that waited land in one commit and one push, each answered with its own result or error', async () => {
    const { url, bare, port } = await machine('waited');
    // One process holds the cache clone (a long fetch, say) while four deploys come in.
    let letGo!: () => void;
    const held = port.tryLead(() => new Promise<void>((resolve) => (letGo = resolve)));
    await until(() => letGo !== undefined, 'the lock');
    const tip = git(bare, 'rev-parse', 'main');
    const pushesBefore = pushes('waited');
    const outcomes = Promise.allSettled([
      deployTogether(url, job('agent-7', { branch: 'feat/a', commit_sha: sha(1) })),
      deployTogether(url, job('agent-7', { branch: 'feat/b', commit_sha: 'not-a-sha' })),
      deployTogether(url, job('agent-9', { branch: 'feat/c', commit_sha: sha(3) })),
      deployTogether(url, job('agent-7', { app: 'web', branch: 'feat/d', commit_sha: sha(4) })),
    ]);
    await until(() => leftIn(port).filter((f) => f.startsWith('waiting/') && f.endsWith('.json')).length === 4, 'four waiting requests');
    // A request is the agent's text before validation: readable by this user only.
    for (const file of leftIn(port).filter((f) => f.startsWith('waiting/'))) expect(statSync(join(port.dir, file)).mode & 0o077).toBe(0);
    expect(statSync(join(port.dir, 'waiting')).mode & 0o077).toBe(0);
    // Nothing was written while they waited.
    expect(git(bare, 'rev-parse', 'main')).toBe(tip);
    letGo();
    expect(await held).toEqual({ value: undefined });
    const [a, b, c, d] = await outcomes;

    // The two deploys that may land did, in one commit and one push, on top of the old tip.
    expect(a).toMatchObject({ status: 'fulfilled', value: { answer: { app: 'api', branch: 'feat/a', version: 1, status: 'pending-build' } } });
    expect(d).toMatchObject({ status: 'fulfilled', value: { answer: { app: 'web', branch: 'feat/d', version: 1 } } });
    const commit = (a as PromiseFulfilledResult<{ commit: string }>).value.commit;
    expect((d as PromiseFulfilledResult<{ commit: string }>).value.commit).toBe(commit);
    expect(git(bare, 'rev-parse', 'main')).toBe(commit);
    expect(git(bare, 'rev-parse', 'main~1')).toBe(tip);
    expect(pushes('waited') - pushesBefore).toBe(1);
    expect(parse(git(bare, 'show', `${commit}:apps/web/branches/${(d as PromiseFulfilledResult<{ answer: { slug: string } }>).value.answer.slug}/deploy.yaml`)).versions[0].commit_sha).toBe(sha(4));
    // One agent's two changes: signed by that agent, both named in the message.
    expect(git(bare, 'log', '-1', '--format=%an <%ae>', 'main')).toBe('agent-7 <agent-7@agents.x1deploy>');
    expect(git(bare, 'log', '-1', '--format=%B', 'main').match(/^X1-Version: 1$/gm)).toHaveLength(2);

    // The others got their own errors, as they would have running alone: same kinds, same fields.
    expect(b.status).toBe('rejected');
    const invalid = (b as PromiseRejectedResult).reason as InvalidRequestError;
    expect(invalid).toBeInstanceOf(InvalidRequestError);
    expect(invalid.issues.map((i) => i.path)).toContain('commit_sha');
    expect(c.status).toBe('rejected');
    expect((c as PromiseRejectedResult).reason).toBeInstanceOf(DeniedError);
    expect((c as PromiseRejectedResult).reason.message).toContain('agent-9');

    // Every request file and answer was removed.
    expect(leftIn(port).filter((f) => !f.includes('.tmp'))).toEqual([]);
    expect(git(bare, 'fsck', '--strict', '--no-dangling')).toBe('');
  });

  it('a request whose leader died is landed and answered by the next process that leads', async () => {
    const { url, bare, port } = await machine('orphan');
    // A leader took a request and died: its request is in taken/, its lock is left and goes stale.
    mkdirSync(join(port.dir, 'taken'), { recursive: true });
    const orphan = '000000001-4242-deadbeef';
    writeFileSync(join(port.dir, 'taken', `${orphan}.json`), JSON.stringify(job('agent-7', { branch: 'feat/orphan', commit_sha: sha(9) })));
    // Litter of processes that died long ago (an answer nobody read, a request half-written) goes;
    // a request being written right now stays.
    mkdirSync(join(port.dir, 'answers'), { recursive: true });
    mkdirSync(join(port.dir, 'waiting'), { recursive: true });
    const longAgoFiles = [join(port.dir, 'answers', '000000000-1-00000000.json'), join(port.dir, 'waiting', '.000000000-1-00000001.tmp')];
    for (const file of longAgoFiles) {
      writeFileSync(file, '{}');
      utimesSync(file, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    }
    writeFileSync(join(port.dir, 'waiting', '.999999999-1-00000002.tmp'), '{"req');
    const lock = `${dirname(port.dir)}.lock`;
    mkdirSync(lock);
    const longAgo = new Date(Date.now() - 120_000);
    utimesSync(lock, longAgo, longAgo);
    expect(await port.isLed()).toBe(false);

    const { answer, commit } = await deployTogether(url, job('agent-7', { branch: 'feat/next', commit_sha: sha(10) }));
    expect(answer).toMatchObject({ branch: 'feat/next', version: 1 });
    expect(git(bare, 'rev-parse', 'main')).toBe(commit);
    // The orphan landed in the same commit, and its answer waits for its requester.
    const left = JSON.parse(readFileSync(join(port.dir, 'answers', `${orphan}.json`), 'utf8'));
    expect(left).toMatchObject({ ok: true, value: { commit, answer: { branch: 'feat/orphan', version: 1 } } });
    expect(leftIn(port).sort()).toEqual([`answers/${orphan}.json`, 'waiting/.999999999-1-00000002.tmp']);
    expect(existsSync(lock)).toBe(false);
  });

  it('when what every request needs fails (the remote is away), each waiting request is answered with that error, none is left to land later', async () => {
    process.env.X1DEPLOY_CACHE_DIR = tempDir();
    const url = suite.server.url('no-such-repo.git');
    const port = cacheHandoffPort(cacheCloneDir(url));
    let letGo!: () => void;
    const held = port.tryLead(() => new Promise<void>((resolve) => (letGo = resolve)));
    await until(() => letGo !== undefined, 'the lock');
    const outcomes = Promise.allSettled([1, 2, 3].map((i) => deployTogether(url, job('agent-7', { branch: `feat/u${i}`, commit_sha: sha(30 + i) }))));
    await until(() => leftIn(port).filter((f) => /^waiting\/.*\.json$/.test(f)).length === 3, 'three waiting requests');
    letGo();
    await held;
    for (const outcome of await outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('no-such-repo.git') });
    }
    expect(leftIn(port).filter((f) => !f.includes('.tmp'))).toEqual([]);
  });

  it('a file in the folder that is no request is answered as invalid and changes nothing', async () => {
    const { url, bare, port } = await machine('garbage');
    mkdirSync(join(port.dir, 'waiting'), { recursive: true });
    writeFileSync(join(port.dir, 'waiting', '000000001-1-00000000.json'), '{"agent": 7}');
    writeFileSync(join(port.dir, 'waiting', '000000001-1-00000001.json'), 'x'.repeat(5 << 20));
    const tip = git(bare, 'rev-parse', 'main');
    const { commit } = await deployTogether(url, job('agent-7', { branch: 'feat/ok', commit_sha: sha(11) }));
    expect(git(bare, 'rev-parse', 'main~1')).toBe(tip);
    expect(git(bare, 'rev-parse', 'main')).toBe(commit);
    for (const id of ['000000001-1-00000000', '000000001-1-00000001']) {
      const left = JSON.parse(readFileSync(join(port.dir, 'answers', `${id}.json`), 'utf8'));
      expect(left).toMatchObject({ ok: false, error: { kind: 'invalid' } });
      expect(left.error.error).toContain('could not be read');
    }
  });

  it('processes: a leader killed holding the lock, and a waiter killed waiting: every deploy still lands', async () => {
    const { url, bare, port } = await machine('killed');
    const env = { ...process.env, X1DEPLOY_CACHE_DIR: process.env.X1DEPLOY_CACHE_DIR };
    const children: ChildProcess[] = [];
    const deploy = (branch: string, i: number) => {
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'deploy', '-', '--repo', url, '--agent', 'agent-7', '--json'], { env });
      children.push(child);
      let stdout = '';
      child.stdout!.on('data', (d) => (stdout += d));
      child.stdin!.end(JSON.stringify(request({ branch, commit_sha: sha(20 + i) })));
      return { child, done: new Promise<{ code: number | null; stdout: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout }))) };
    };
    try {
      // Warm: the cache clone exists. Then a leader takes the lock and dies holding it.
      expect((await deploy('feat/first', 0).done).code).toBe(0);
      const holder = spawn(process.execPath, ['--import', 'tsx', HOLDER, dirname(port.dir)], { env, stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(holder);
      await new Promise<void>((resolve) => holder.stdout!.on('data', (d) => String(d).includes('held') && resolve()));
      const waiters = ['feat/w1', 'feat/w2', 'feat/w3'].map((branch, i) => deploy(branch, i + 1));
      await until(() => leftIn(port).filter((f) => /^waiting\/.*\.json$/.test(f)).length === 3, 'three waiting requests');
      holder.kill('SIGKILL');
      // One waiter dies too: its request was handed over, so it lands all the same.
      waiters[2]!.child.kill('SIGKILL');
      const [w1, w2] = await Promise.all([waiters[0]!.done, waiters[1]!.done]);
      expect([w1.code, w2.code]).toEqual([0, 0]);
      const landed = [JSON.parse(w1.stdout), JSON.parse(w2.stdout)];
      expect(landed.map((a) => a.branch).sort()).toEqual(['feat/w1', 'feat/w2']);
      for (const answer of landed) git(bare, 'merge-base', '--is-ancestor', answer.commit, 'main');
      const slug3 = (await import('../src/spec/index.js')).branchSlug('api', 'feat/w3');
      expect(parse(git(bare, 'show', `main:apps/api/branches/${slug3}/deploy.yaml`)).versions[0].commit_sha).toBe(sha(23));
      // And the next deploy works at once.
      const next = await deploy('feat/next', 5).done;
      expect(next.code).toBe(0);
      expect(JSON.parse(next.stdout).commit).toBe(git(bare, 'rev-parse', 'main'));
      expect(git(bare, 'fsck', '--strict', '--no-dangling')).toBe('');
    } finally {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 240_000);
});

describe('the leader of handed-off requests', () => {
  it('starts a request that arrives while others are in flight at once, not after them', async () => {
    const gitdir = tempDir();
    mkdirSync(gitdir, { recursive: true });
    const port = cacheHandoffPort(gitdir);
    const started: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const handoff = (job: string) => ({
      job,
      parseJob: (raw: unknown) => {
        if (typeof raw !== 'string') throw new Error('not a job');
        return raw;
      },
      // Each request holds until the test lets them all go: a leader that waited for the first
      // one to end before it took the second (rounds) would never start the second.
      runner: async () => async (j: string) => {
        started.push(j);
        await gate;
        return j.toUpperCase();
      },
    });
    const first = handOffOrLead(port, handoff('a'));
    await until(() => started.length === 1, 'the leader to start its own request');
    const second = handOffOrLead(port, handoff('b'));
    await until(() => started.length === 2, 'the arriving request to start beside the first');
    expect(started).toEqual(['a', 'b']);
    release();
    expect(await Promise.all([first, second])).toEqual(['A', 'B']);
    expect(leftIn(port).filter((f) => !f.includes('.tmp'))).toEqual([]);
  });
});
