// `x1deploy build` as a process: the kube client from KUBECONFIG (pointing at the local API
// server), registry basic auth from the environment, --once and --watch with SIGTERM.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deployBranch } from '../src/deploy/index.js';
import type { GitopsStore } from '../src/records/index.js';
import { branchSlug } from '../src/spec/index.js';
import { startCli, type RunningCli } from './support/cli.js';
import { startFakeKube, type FakeKube } from './support/fake-kube.js';
import { REGISTRY_TEST_USER, skipWithoutRegistry, startRegistry, type TestRegistry } from './support/registry.js';
import { git, makeWorkspaceRepo, request, SHA_A, SHA_B, tempDir, updateWorkspaceConfig } from './support/workspace-repo.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REPO = 'https://github.com/acme/api.git';

function startBuild(args: readonly string[], env: NodeJS.ProcessEnv): RunningCli {
  return startCli(['build', ...args], { cwd: ROOT, env });
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let registry: TestRegistry;
let fake: FakeKube;
let workspaces = 0;

async function workspace(): Promise<{ id: string; dir: string; store: GitopsStore }> {
  const id = `cli${++workspaces}`;
  const { dir, store } = await makeWorkspaceRepo({ id, registry: registry.host });
  await updateWorkspaceConfig(
    store,
    (ws) => ({ ...ws, build: { ...ws.build, insecureRegistry: true } }),
    'The test registry speaks plain HTTP',
  );
  return { id, dir, store };
}

const credentials = {
  X1DEPLOY_REGISTRY_USERNAME: REGISTRY_TEST_USER.username,
  X1DEPLOY_REGISTRY_PASSWORD: REGISTRY_TEST_USER.password,
};

describe.skipIf(skipWithoutRegistry())('x1deploy build (CLI)', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    [registry, fake] = await Promise.all([startRegistry({ auth: true }), startFakeKube()]);
  }, 30_000);
  afterAll(async () => {
    await registry?.stop();
    await fake?.close();
  });
  afterEach(() => {
    fake.onCreate = undefined;
    expect(fake.unexpected).toEqual([]);
  });

  it('--once builds what is pending, waits for the Job, records the digest and exits 0', async () => {
    const w = await workspace();
    await deployBranch(w.store, request({ repo: REPO }), { agent: 'agent-7' });
    // "Kaniko": push the image the Job names, then exit 0 with its digest in the termination message.
    fake.onCreate = (job) => {
      setTimeout(async () => {
        const digest = await registry.pushImage(`ws/${w.id}/app-api`, String(job.metadata.annotations['x1deploy.dev/commit']));
        fake.succeed(job.metadata.name, { digest });
      }, 50);
    };
    const run = startBuild(['--repo', w.dir, '--once', '--json', '--interval', '0.05'], { KUBECONFIG: fake.kubeconfig, ...credentials });
    const code = await run.exited;
    expect(run.stderr).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.unfinished).toEqual([]);
    expect(out.recorded).toEqual([expect.objectContaining({ kind: 'built', app: 'api', branch: 'feat/x', version: 1 })]);
    const digest = await registry.tagDigest(`ws/${w.id}/app-api`, SHA_A);
    expect(out.recorded[0].digest).toBe(digest);
    const rec = parse(readFileSync(join(w.dir, 'apps/api/branches', branchSlug('api', 'feat/x'), 'deploy.yaml'), 'utf8'));
    expect(rec.versions[0]).toMatchObject({ status: 'live', digest });
    expect(git(w.dir, 'status', '--porcelain')).toBe('');
    expect(run.stdout + run.stderr).not.toContain(REGISTRY_TEST_USER.password);
  });

  it('--once whose build failed records the failure and exits 4 (ran, with failures)', async () => {
    const w = await workspace();
    await deployBranch(w.store, request({ repo: REPO }), { agent: 'agent-7' });
    fake.onCreate = (job) => {
      setTimeout(() => fake.fail(job.metadata.name, { exitCode: 1, log: 'error building image' }), 50);
    };
    const run = startBuild(['--repo', w.dir, '--once', '--json', '--interval', '0.05'], { KUBECONFIG: fake.kubeconfig, ...credentials });
    expect(await run.exited).toBe(4);
    expect(JSON.parse(run.stdout).recorded).toEqual([expect.objectContaining({ kind: 'failed', version: 1 })]);
  });

  it('--once with nothing pending says so and asks the cluster nothing', async () => {
    const w = await workspace();
    const seen = fake.requests.length;
    const run = startBuild(['--repo', w.dir], { KUBECONFIG: fake.kubeconfig, ...credentials });
    expect(await run.exited).toBe(0);
    expect(run.stdout).toBe('Nothing to build: no version is waiting for its image.\n');
    expect(fake.requests.length).toBe(seen);
  });

  it('--watch records versions as they become pending, and stops cleanly on SIGTERM', async () => {
    const w = await workspace();
    const run = startBuild(['--repo', w.dir, '--watch', '--json', '--interval', '0.05'], { KUBECONFIG: fake.kubeconfig, ...credentials });
    try {
      // While it watches, an agent deploys a commit whose image is already in the registry.
      await new Promise((r) => setTimeout(r, 300));
      const digest = await registry.pushImage(`ws/${w.id}/app-api`, SHA_B);
      await deployBranch(w.store, request({ repo: REPO, commit_sha: SHA_B }), { agent: 'agent-7' });
      await until('the watcher to record the version', () => run.stdout.includes('"kind":"found"'));
      expect(JSON.parse(run.stdout.trim().split('\n')[0]!)).toMatchObject({ kind: 'found', digest, version: 1 });
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
    expect(run.stderr).toBe('');
  });

  it('without a cluster configured, exits 1 and says where the cluster comes from', async () => {
    const w = await workspace();
    await deployBranch(w.store, request({ repo: REPO }), { agent: 'agent-7' });
    const run = startBuild(['--repo', w.dir, '--json'], { KUBECONFIG: '', HOME: tempDir(), KUBERNETES_SERVICE_HOST: '' });
    expect(await run.exited).toBe(1);
    expect(JSON.parse(run.stdout).error).toMatch(/^no Kubernetes cluster configured: set KUBECONFIG/);
  });

  it('refuses --once with --watch', async () => {
    const w = await workspace();
    const run = startBuild(['--repo', w.dir, '--once', '--watch'], { KUBECONFIG: fake.kubeconfig });
    expect(await run.exited).toBe(1);
    expect(run.stderr).toBe('x1deploy: choose one of --once and --watch\n');
  });
});
