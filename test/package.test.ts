// The package as a stranger gets it: `npm pack`, installed into an empty folder, and the installed
// bin run: --version, init, grant, deploy, status, and serve answering /healthz and stopping on SIGTERM.
// And as the image gets it: the Dockerfile's install step (scripts/install-packed.sh), run as the
// image's non-root user with nothing writable but /tmp, as the rendered pods run it. (No container
// engine runs here, so the image itself is not built; its steps and settings are checked instead.)
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { renderJobsBootstrap } from '../src/render/index.js';
import { tokenHash } from '../src/serve/index.js';
import { workspaceConfigFor } from '../src/owners/index.js';
import { freePort } from './support/free-port.js';
import { startGitHttpServer } from './support/git-http-server.js';
import { git, makeWorkspaceRepo, tempDir } from './support/workspace-repo.js';

// npm pack builds dist/ (prepare) and the install resolves the dependencies from npm's cache: slow.
vi.setConfig({ testTimeout: 600_000 });
const ROOT = fileURLToPath(new URL('..', import.meta.url));

let packs: string;
let packed: string;
beforeAll(() => {
  packs = tempDir();
  packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', packs], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()!;
}, 600_000);

/** Lets other users into `dir` and its folders up to this run's temp folder (both made 0700). */
function openToAll(dir: string): void {
  const run = tmpdir();
  for (let d = dir; d.startsWith(`${run}/`); d = dirname(d)) chmodSync(d, 0o755);
  chmodSync(run, 0o711);
}

/** Waits for GET url to answer 2xx (a server child starting; a minute, for a busy machine). */
async function untilHealthy(url: string): Promise<boolean> {
  for (let i = 0; i < 600; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('the npm package', () => {
  it('installs in an empty folder and runs', async () => {
    const app = tempDir();
    writeFileSync(join(app, 'package.json'), '{"name":"stranger","version":"1.0.0","private":true}\n');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(packs, packed)], { cwd: app, stdio: 'pipe' });
    const bin = join(app, 'node_modules', '.bin', 'x1deploy');
    const x1 = (...args: string[]) => execFileSync(bin, args, { cwd: app, encoding: 'utf8', env: { ...process.env, KUBECONFIG: '', HOME: app } });

    const own = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; engines: { node: string } };
    expect(x1('--version').trim()).toBe(own.version);
    expect(own.engines.node).toBe('>=20.15');
    // The bin's path before the bundle still runs: npx's cache may hold a link to it (npm/cli#9766).
    const formerBin = join(app, 'node_modules', 'x1deploy', 'dist', 'src', 'cli', 'main.js');
    expect(execFileSync(formerBin, ['--version'], { cwd: app, encoding: 'utf8' }).trim()).toBe(own.version);
    x1('init', 'gitops');
    x1('grant', '--repo', 'gitops', '--agent', 'a1', '--app', 'api', '--branches', '*', '--mode', 'auto', '--by', 'owner');
    writeFileSync(join(app, 'request.yaml'), `app: api\nbranch: feat/x\ncommit_sha: ${'a'.repeat(40)}\nports: [8080]\n`);
    expect(JSON.parse(x1('deploy', 'request.yaml', '--repo', 'gitops', '--agent', 'a1', '--json'))).toMatchObject({ version: 1, status: 'pending-build' });
    // The deploy ran its two bundles (its program, and its leader) through V8's code cache, kept
    // under HOME; the next deploy reads them. No other command made one.
    const codeCache = join(app, '.cache', 'x1deploy', 'v8');
    const cached = readdirSync(codeCache).sort();
    expect(cached).toEqual([expect.stringMatching(/^deploy\.cjs\.[0-9a-f]{20}\.bin$/), expect.stringMatching(/^leader\.cjs\.[0-9a-f]{20}\.bin$/)]);
    const cachedAt = cached.map((file) => statSync(join(codeCache, file)).mtimeMs);
    writeFileSync(join(app, 'request.yaml'), `app: api\nbranch: feat/y\ncommit_sha: ${'b'.repeat(40)}\nports: [8080]\n`);
    expect(JSON.parse(x1('deploy', 'request.yaml', '--repo', 'gitops', '--agent', 'a1', '--json'))).toMatchObject({ version: 1, status: 'pending-build' });
    expect(cached.map((file) => statSync(join(codeCache, file)).mtimeMs)).toEqual(cachedAt);
    // The bin is the CommonJS file; the ES module entry it loads for other commands, where npx's
    // cache may still link (the bin before this one), deploys too, through the same bundles.
    expect(realpathSync(bin)).toBe(realpathSync(join(app, 'node_modules', 'x1deploy', 'dist', 'cli', 'x1deploy.cjs')));
    const esmEntry = join(app, 'node_modules', 'x1deploy', 'dist', 'cli', 'x1deploy.js');
    writeFileSync(join(app, 'request.yaml'), `app: api\nbranch: feat/w\ncommit_sha: ${'b'.repeat(40)}\nports: [8080]\n`);
    const env = { ...process.env, KUBECONFIG: '', HOME: app };
    const viaEsm = execFileSync(esmEntry, ['deploy', 'request.yaml', '--repo', 'gitops', '--agent', 'a1', '--json'], { cwd: app, encoding: 'utf8', env });
    expect(JSON.parse(viaEsm)).toMatchObject({ version: 1, status: 'pending-build', branch: 'feat/w' });
    expect(cached.map((file) => statSync(join(codeCache, file)).mtimeMs)).toEqual(cachedAt);
    // A deploy loads none of Node's child_process (with net, dgram and the rest it pulls in), which
    // commander and cdk8s require as they load; zlib, which a commit deflates with, is the control.
    const builtins = join(app, 'builtins.txt');
    const recorder = join(app, 'record-builtins.cjs');
    writeFileSync(recorder, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(builtins)}, process.moduleLoadList.join('\\n')));\n`);
    writeFileSync(join(app, 'request.yaml'), `app: api\nbranch: feat/v\ncommit_sha: ${'b'.repeat(40)}\nports: [8080]\n`);
    execFileSync(bin, ['deploy', 'request.yaml', '--repo', 'gitops', '--agent', 'a1', '--json'], { cwd: app, encoding: 'utf8', env: { ...env, NODE_OPTIONS: `--require ${recorder}` } });
    const loaded = readFileSync(builtins, 'utf8').split('\n');
    expect(loaded).toContain('NativeModule zlib');
    expect(loaded).not.toContain('NativeModule child_process');
    // Its usage errors are commander's, as from the whole program: --json answers in JSON.
    const usage = (() => {
      try {
        x1('deploy', 'request.yaml', '--agent', 'a1', '--json');
      } catch (err) {
        return err as { status: number; stdout: string };
      }
      throw new Error('deploy without --repo succeeded');
    })();
    expect(usage.status).toBe(1);
    expect(JSON.parse(usage.stdout)).toEqual({ error: "required option '--repo <dir>' not specified", kind: 'invalid' });
    // Help is the whole program's, with the request's fields.
    expect(x1('deploy', '--help')).toContain('commit_sha');
    // Its errors come back as this process's own: the same answers and exit codes as from source.
    const failed = (...args: string[]) => {
      try {
        x1(...args);
      } catch (err) {
        const { status, stdout } = err as { status: number; stdout: string };
        return { status, answer: JSON.parse(stdout) as unknown };
      }
      throw new Error(`x1deploy ${args.join(' ')} succeeded`);
    };
    expect(failed('deploy', 'request.yaml', '--repo', 'gitops', '--agent', 'stranger', '--json')).toEqual({
      status: 3,
      answer: { denied: true, kind: 'denied', reason: expect.stringContaining('stranger') },
    });
    writeFileSync(join(app, 'request.yaml'), 'app: api\nbranch: feat/z\ncommit_sha: nope\nports: [8080]\n');
    expect(failed('deploy', 'request.yaml', '--repo', 'gitops', '--agent', 'a1', '--json')).toEqual({
      status: 1,
      answer: { error: expect.any(String), kind: 'invalid', issues: [expect.objectContaining({ path: 'commit_sha' })] },
    });
    expect(failed('deploy', 'request.yaml', '--repo', join(app, 'nowhere'), '--agent', 'a1', '--json')).toMatchObject({ status: 1, answer: { kind: 'invalid' } });

    // Against a remote, processes deploying at once hand their requests to the one holding the cache
    // clone, whose leader bundle runs inside the lock the main bundle took.
    const served = tempDir();
    execFileSync('git', ['clone', '-q', '--bare', join(app, 'gitops'), join(served, 'gitops.git')]);
    const remote = await startGitHttpServer(served);
    try {
      const deployRemote = (branch: string) =>
        new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
          const child = spawn(bin, ['deploy', '-', '--repo', remote.url('gitops.git'), '--agent', 'a1', '--json'], { cwd: app, env: { ...process.env, KUBECONFIG: '', HOME: app } });
          let out = '';
          let err = '';
          child.stdout.on('data', (d) => (out += d));
          child.stderr.on('data', (d) => (err += d));
          child.on('close', (code) => resolve({ code, out, err }));
          child.stdin.end(JSON.stringify({ app: 'api', branch, commit_sha: 'c'.repeat(40), ports: [8080] }));
        });
      const results = await Promise.all(['feat/r1', 'feat/r2', 'feat/r3'].map(deployRemote));
      for (const r of results) {
        expect(r.code, r.err).toBe(0);
        expect(JSON.parse(r.out)).toMatchObject({ version: 1, status: 'pending-build' });
      }
      const landed = execFileSync('git', ['-C', join(served, 'gitops.git'), 'ls-tree', '--name-only', 'main', 'apps/api/branches/'], { encoding: 'utf8' });
      expect(landed.split('\n').filter((l) => /feat-r[123]/.test(l))).toHaveLength(3);
    } finally {
      await remote.close();
    }
    let status: { status: number; stdout: string } | undefined;
    try {
      x1('status', '--repo', 'gitops', '--app', 'api', '--branch', 'feat/x', '--json');
    } catch (err) {
      status = err as { status: number; stdout: string };
    }
    expect(status?.status).toBe(6);
    expect(JSON.parse(status!.stdout)).toMatchObject({ state: 'pending-build' });

    writeFileSync(join(app, 'tokens.yaml'), `- sha256: ${tokenHash('tok-package-test-0123456789')}\n  agent: a1\n`);
    const port = await freePort();
    const server = spawn(bin, ['serve', '--repo', 'gitops', '--tokens', 'tokens.yaml', '--listen', `127.0.0.1:${port}`], { cwd: app, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    server.stderr!.on('data', (d) => (stderr += d));
    try {
      expect(await untilHealthy(`http://127.0.0.1:${port}/healthz`), stderr).toBe(true);
      const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (server.exitCode === null) server.kill('SIGKILL');
    }
  });

  it("runs as the image runs it: the Dockerfile's install, uid 65532, nothing writable but /tmp", async () => {
    const rootRun = process.getuid?.() === 0;
    if (!rootRun) {
      if (process.env.CI === 'true') throw new Error('this test switches to uid 65532 with setpriv and must run as root in CI');
      console.warn('NOTICE: not root; skipping the test that runs x1deploy as the image user (uid 65532)');
      return;
    }
    // The Dockerfile's settings agree with the pods install renders and with the verify workflow.
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const ws = workspaceConfigFor({ id: 'acme' });
    const jobs = renderJobsBootstrap({
      ...ws,
      jobs: { ...ws.jobs, enabled: true, image: `r.example/x1deploy:1@sha256:${'c'.repeat(64)}`, gitopsRepo: 'https://git.example/g.git', serve: { ...ws.jobs.serve, enabled: true } },
    });
    const pod = parse(jobs.get('bootstrap/jobs/deployment-x1deploy-serve.yaml')!).spec.template.spec;
    const user = /^USER (\d+):(\d+)$/m.exec(dockerfile)!;
    expect([Number(user[1]), Number(user[2])]).toEqual([pod.securityContext.runAsUser, pod.securityContext.runAsGroup]);
    expect(Number(user[1])).toBeGreaterThan(0);
    expect(dockerfile.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^ {4}HOME=\/tmp \\$/m);
    expect(pod.containers[0].env).toContainEqual({ name: 'HOME', value: '/tmp' });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(dockerfile).toContain('sh scripts/install-packed.sh /tmp/x1deploy-*.tgz package-lock.json /opt/x1deploy');
    const entrypoint = JSON.parse(/^ENTRYPOINT (.+)$/m.exec(dockerfile)![1]!) as string[];
    expect(entrypoint.slice(0, 1)).toEqual(['node']);
    expect(readFileSync(join(ROOT, 'templates', 'verify-steps-image.yaml'), 'utf8')).toContain(`--user ${user[1]}:${user[2]}`);

    // The install step itself, into a root-owned folder the image user can read but not write.
    const image = tempDir();
    openToAll(image);
    const opt = join(image, 'opt', 'x1deploy');
    execFileSync('sh', [join(ROOT, 'scripts', 'install-packed.sh'), join(packs, packed), join(ROOT, 'package-lock.json'), opt], { stdio: 'pipe' });
    const main = join(opt, entrypoint[1]!.replace(/^\/opt\/x1deploy\//, ''));
    expect(statSync(main).isFile()).toBe(true);
    // No dev dependency came along.
    expect(readdirSync(join(opt, 'node_modules'))).not.toContain('vitest');
    // Every path under the image's folders with its size and modification time.
    const tree = () => execFileSync('find', [image, '-printf', '%p %s %T@\\n'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const before = tree();

    const tmp = tempDir();
    openToAll(tmp);
    const home = join(tmp, 'home');
    mkdirSync(home);
    chownSync(home, 65532, 65532);
    const env = { PATH: process.env.PATH!, HOME: home, X1DEPLOY_CACHE_DIR: join(home, 'x1deploy-cache'), NODE_ENV: 'production', KUBECONFIG: '' };
    const asImageUser = ['--reuid=65532', '--regid=65532', '--clear-groups', '--', process.execPath, main];
    const x1 = (...args: string[]) => execFileSync('setpriv', [...asImageUser, ...args], { cwd: home, env, encoding: 'utf8', stdio: 'pipe' });
    const own = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(x1('--version').trim()).toBe(own.version);

    // verify on a checkout it cannot write (the workflow mounts it read-only).
    const { dir } = await makeWorkspaceRepo({ id: 'acme' });
    openToAll(dir);
    execFileSync('chmod', ['-R', 'a+rX', dir]);
    expect(JSON.parse(x1('verify', '--repo', dir, '--json'))).toMatchObject({ ok: true });

    // serve against a remote over smart HTTP: its clone lives in the cache under HOME, and a deploy lands.
    const served = tempDir();
    openToAll(served);
    const bare = join(served, 'gitops.git');
    execFileSync('git', ['clone', '-q', '--bare', dir, bare]);
    const git_server = await startGitHttpServer(served);
    const tokens = join(tmp, 'tokens.yaml');
    writeFileSync(tokens, `- sha256: ${tokenHash('tok-image-user-0123456789')}\n  agent: agent-7\n`);
    chmodSync(tokens, 0o644);
    const port = await freePort();
    const server = spawn('setpriv', [...asImageUser, 'serve', '--repo', git_server.url('gitops.git'), '--tokens', tokens, '--listen', `127.0.0.1:${port}`], {
      cwd: home,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    server.stderr!.on('data', (d) => (stderr += d));
    try {
      expect(await untilHealthy(`http://127.0.0.1:${port}/readyz`), stderr).toBe(true);
      const answer = await fetch(`http://127.0.0.1:${port}/api/v1/deploy`, {
        method: 'POST',
        headers: { authorization: 'Bearer tok-image-user-0123456789', 'content-type': 'application/json' },
        body: JSON.stringify({ app: 'api', branch: 'feat/image', commit_sha: 'e'.repeat(40), ports: [8080] }),
      });
      const body = (await answer.json()) as { version: number; commit: string };
      expect(answer.status, JSON.stringify(body)).toBe(200);
      expect(git(bare, 'rev-parse', 'main')).toBe(body.commit);
      const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (server.exitCode === null) server.kill('SIGKILL');
      await git_server.close();
    }
    // Nothing was written into the image's folders.
    expect(tree()).toBe(before);
    expect(before.split('\n').length).toBeGreaterThan(1000);
  });
});
