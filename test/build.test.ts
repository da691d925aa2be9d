// The build loop against a real registry (docker-registry on 127.0.0.1) and a local server speaking
// the Kubernetes routes the builder calls, through the real @kubernetes/client-node adapter.
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  buildJobName,
  buildJobObject,
  buildPass,
  buildUntilSettled,
  watchBuilds,
  type BuildEvent,
  type BuildPassOptions,
} from '../src/build/index.js';
import { ClusterError } from '../src/cluster/index.js';
import { registryClient, RegistryError } from '../src/registry/index.js';
import { deployBranch } from '../src/deploy/index.js';
import { grantDeploy } from '../src/owners/index.js';
import { type GitopsStore, type DeployRecord, RepoSnapshot } from '../src/records/index.js';
import { kubeBuildCluster, loadKubeConfig } from '../src/k8s/index.js';
import { branchSlug } from '../src/spec/index.js';
import { startFakeKube, type FakeKube } from './support/fake-kube.js';
import { expectValidManifests, loadManifestValidator, type ManifestValidator } from './support/manifest-validator.js';
import { REGISTRY_TEST_USER, skipWithoutRegistry, startRegistry, type TestRegistry } from './support/registry.js';
import { git, makeWorkspaceRepo, request, SHA_A, SHA_B, updateWorkspaceConfig } from './support/workspace-repo.js';

const SHA_C = '3'.repeat(40);
const REPO = 'https://github.com/acme/api.git';
const BUILT_AT = new Date('2026-11-02T08:00:00.000Z');

let registry: TestRegistry;
let fake: FakeKube;
let validator: ManifestValidator;
let workspaces = 0;

interface Workspace {
  readonly id: string;
  readonly dir: string;
  readonly store: GitopsStore;
  readonly namespace: string;
}

/** A fresh workspace (own namespace, own image repositories) whose registry is the test registry. */
async function workspace(): Promise<Workspace> {
  const id = `acme${++workspaces}`;
  const { dir, store } = await makeWorkspaceRepo({ id, registry: registry.host });
  await updateWorkspaceConfig(
    store,
    (ws) => ({ ...ws, build: { ...ws.build, insecureRegistry: true } }),
    'The test registry speaks plain HTTP',
  );
  return { id, dir, store, namespace: `ws-${id}-builds` };
}

function options(extra: Partial<BuildPassOptions> = {}): BuildPassOptions {
  return {
    cluster: kubeBuildCluster(loadKubeConfig({ KUBECONFIG: fake.kubeconfig })),
    registry: registryClient({ insecure: true }),
    concurrency: 2,
    clock: () => BUILT_AT,
    ...extra,
  };
}

async function deploy(w: Workspace, overrides: Record<string, unknown> = {}) {
  return (await deployBranch(w.store, request({ repo: REPO, ...overrides }), { agent: 'agent-7' })).answer;
}

function record(w: Workspace, branch = 'feat/x'): DeployRecord {
  return parse(readFileSync(join(w.dir, 'apps/api/branches', branchSlug('api', branch), 'deploy.yaml'), 'utf8'));
}

function deployment(w: Workspace, branch = 'feat/x'): Record<string, any> {
  return parse(readFileSync(join(w.dir, 'rendered/api', branchSlug('api', branch), 'deployment.yaml'), 'utf8'));
}

function commits(w: Workspace): number {
  return Number(git(w.dir, 'rev-list', '--count', 'HEAD'));
}

function posted(w: Workspace): Record<string, any>[] {
  return fake.created.filter((j) => j.metadata?.namespace === w.namespace);
}

function jobOf(events: BuildEvent[], kind: BuildEvent['kind']): string {
  const event = events.find((e) => e.kind === kind);
  if (!event) throw new Error(`no ${kind} event in ${JSON.stringify(events)}`);
  return event.job;
}

const skip = skipWithoutRegistry();

describe.skipIf(skip)('x1deploy build', () => {
  beforeAll(async () => {
    [registry, fake, validator] = await Promise.all([startRegistry(), startFakeKube(), loadManifestValidator()]);
  }, 30_000);
  afterAll(async () => {
    await registry?.stop();
    await fake?.close();
  });
  afterEach(() => {
    expect(fake.unexpected).toEqual([]);
  });

  it('records the digest of an image already in the registry without creating a Job', async () => {
    const w = await workspace();
    const answer = await deploy(w, { replicas: 2 });
    expect(answer.status).toBe('pending-build');
    const digest = await registry.pushImage(`ws/${w.id}/app-api`, SHA_A);
    const before = commits(w);

    const events = await buildPass(w.store, options());

    expect(events).toEqual([expect.objectContaining({ kind: 'found', digest, version: 1, image_ref: answer.image_ref })]);
    expect(posted(w)).toEqual([]);
    expect(commits(w)).toBe(before + 1);
    expect(git(w.dir, 'log', '-1', '--format=%s')).toBe(`Build api feat/x version 1: built ${digest.slice(0, 19)}, live now`);
    expect(git(w.dir, 'status', '--porcelain')).toBe('');
    const rec = record(w);
    expect(rec).toMatchObject({ status: 'live', current_version: 1 });
    expect(rec.versions[0]).toMatchObject({ status: 'live', digest, built_at: BUILT_AT.toISOString() });
    const dep = deployment(w);
    expect(dep.spec.replicas).toBe(2);
    expect(dep.spec.template.spec.containers[0].image).toBe(`${answer.image_ref}@${digest}`);
    expectValidManifests(validator, [dep]);

    // Nothing pending any more: the next pass does nothing and asks nothing.
    const seen = fake.requests.length;
    expect(await buildPass(w.store, options())).toEqual([]);
    expect(fake.requests.length).toBe(seen);
  });

  it('creates one Kaniko Job for a missing image and records the digest its pod reports on exit 0', async () => {
    const w = await workspace();
    const answer = await deploy(w);
    const before = commits(w);

    const first = await buildPass(w.store, options());
    const job = jobOf(first, 'started');
    expect(first).toEqual([expect.objectContaining({ kind: 'started', version: 1, job })]);
    // The Job as the API server received it is exactly the chart's object: the client dropped nothing.
    const ws = await (await RepoSnapshot.atHead(w.store)).workspace();
    const rec = record(w);
    const expected = buildJobObject(ws, { app: 'api', branch: 'feat/x', slug: rec.slug, version: rec.versions[0]!, repo: REPO });
    expect(posted(w)).toEqual([expected]);
    expectValidManifests(validator, posted(w));
    expect(fake.requests).toContainEqual({ method: 'POST', path: `/apis/batch/v1/namespaces/${w.namespace}/jobs` });
    expect(commits(w)).toBe(before);

    fake.run(job);
    expect(await buildPass(w.store, options())).toEqual([expect.objectContaining({ kind: 'running', job })]);
    expect(commits(w)).toBe(before);

    // The digest comes from the termination message: this one was never pushed to the registry.
    const reported = `sha256:${'7'.repeat(64)}`;
    fake.succeed(job, { digest: reported });
    const done = await buildPass(w.store, options());
    expect(done).toEqual([expect.objectContaining({ kind: 'built', digest: reported, job, commit: expect.any(String) })]);
    expect(commits(w)).toBe(before + 1);
    expect(record(w).versions[0]).toMatchObject({ status: 'live', digest: reported, built_at: BUILT_AT.toISOString() });
    expect(deployment(w).spec.template.spec.containers[0].image).toBe(`${answer.image_ref}@${reported}`);
    expect(deployment(w).spec.replicas).toBe(1);
    expect(posted(w)).toHaveLength(1);
  });

  it('records a failed build with the Job reason and the log tail, scrubbed, and keeps serving the previous version', async () => {
    const w = await workspace();
    await deploy(w);
    const v1digest = await registry.pushImage(`ws/${w.id}/app-api`, SHA_A);
    await buildPass(w.store, options());
    await deploy(w, { commit_sha: SHA_B });
    expect(record(w).versions[1]!.status).toBe('pending-build');

    const job = jobOf(await buildPass(w.store, options()), 'started');
    const token = `ghp_${'Tk3n'.repeat(9)}`;
    const log = [
      ...Array.from({ length: 30 }, (_, i) => `INFO[00${i}] step ${i}`),
      `Cloning https://x-access-token:${token}@github.com/acme/api.git`,
      'error building image: error building stage: failed to execute command: exit status 2',
    ].join('\n');
    // Kaniko wrote its digest file before the push failed: it must not be trusted.
    const unpushed = `sha256:${'9'.repeat(64)}`;
    fake.fail(job, { exitCode: 1, message: unpushed, log });
    const before = commits(w);

    const events = await buildPass(w.store, options({ logTailLines: 20 }));

    expect(events).toEqual([expect.objectContaining({ kind: 'failed', version: 2, job })]);
    const reason = (events[0] as Extract<BuildEvent, { kind: 'failed' }>).reason;
    expect(reason).toMatch(new RegExp(`^build Job ${job} failed: BackoffLimitExceeded \\(Job has reached the specified backoff limit\\)`));
    expect(reason).toMatch(/pod .+: kaniko exited with code 1 \(Error\)/);
    expect(reason).toContain('last 20 log lines:');
    expect(reason).toContain('error building image: error building stage: failed to execute command: exit status 2');
    expect(reason).toContain('INFO[0012] step 12');
    expect(reason).not.toContain('INFO[0011] step 11');
    expect(reason).toContain('https://[redacted]@github.com/acme/api.git');
    expect(reason).not.toContain(token);
    expect(reason).not.toContain(unpushed);

    expect(commits(w)).toBe(before + 1);
    expect(git(w.dir, 'log', '-1', '--format=%s')).toBe('Build api feat/x version 2: build failed, still serving version 1');
    const rec = record(w);
    expect(rec).toMatchObject({ status: 'live', current_version: 1 });
    expect(rec.versions[1]).toMatchObject({ status: 'failed', failure: reason });
    expect(rec.versions[1]!.digest).toBeUndefined();
    expect(deployment(w).spec.template.spec.containers[0].image).toBe(`${rec.versions[0]!.image_ref}@${v1digest}`);
    // Not in any file, nor anywhere in the history.
    expect(git(w.dir, 'log', '-p', '--all')).not.toContain(token);
  });

  it('runs at most `concurrency` Jobs and starts the next when one finishes', async () => {
    const w = await workspace();
    for (const [branch, sha] of [
      ['feat/a', SHA_A],
      ['feat/b', SHA_B],
      ['feat/c', SHA_C],
    ] as const) {
      await deploy(w, { branch, commit_sha: sha });
    }
    const first = await buildPass(w.store, options({ concurrency: 2 }));
    expect(first.map((e) => `${e.branch}:${e.kind}`)).toEqual(['feat/a:started', 'feat/b:started', 'feat/c:waiting']);
    expect(first[2]).toMatchObject({ why: 'concurrency' });
    expect(posted(w)).toHaveLength(2);

    fake.succeed(first[0]!.job, { digest: await registry.pushImage(`ws/${w.id}/app-api`, SHA_A) });
    const second = await buildPass(w.store, options({ concurrency: 2 }));
    expect(second.map((e) => `${e.branch}:${e.kind}`)).toEqual(['feat/a:built', 'feat/b:running', 'feat/c:started']);
    expect(posted(w)).toHaveLength(3);
  });

  it('--once: passes until every pending version has its outcome, never over the concurrency limit', async () => {
    const w = await workspace();
    const shas = [SHA_A, SHA_B, SHA_C];
    for (const [i, sha] of shas.entries()) await deploy(w, { branch: `feat/${i}`, commit_sha: sha });
    const pushed = new Map<string, string>();
    // "Kaniko": a moment after its Job is created, push the image and exit 0 with its digest.
    fake.onCreate = (job) => {
      if (job.metadata.namespace !== w.namespace) return;
      setTimeout(async () => {
        const tag = String(job.metadata.annotations['x1deploy.dev/commit']);
        const digest = await registry.pushImage(`ws/${w.id}/app-api`, tag);
        pushed.set(tag, digest);
        fake.succeed(job.metadata.name, { digest });
      }, 20);
    };
    let mostActive = 0;
    try {
      const result = await buildUntilSettled(w.store, {
        ...options({ concurrency: 1 }),
        intervalMs: 25,
        onPass: (events) => {
          mostActive = Math.max(mostActive, events.filter((e) => e.kind === 'started' || e.kind === 'running').length);
        },
      });
      expect(result.unfinished).toEqual([]);
      expect(result.recorded.map((e) => e.kind)).toEqual(['built', 'built', 'built']);
      expect(result.passes).toBeGreaterThanOrEqual(4);
    } finally {
      fake.onCreate = undefined;
    }
    expect(mostActive).toBe(1);
    for (const [i, sha] of shas.entries()) {
      expect(record(w, `feat/${i}`).versions[0]).toMatchObject({ status: 'live', digest: pushed.get(sha) });
      expect(await registry.tagDigest(`ws/${w.id}/app-api`, sha)).toBe(pushed.get(sha));
    }
  });

  it('--watch: a pass that fails (API server away) is reported and the next pass carries on', async () => {
    const w = await workspace();
    await deploy(w);
    const real = options().cluster;
    let calls = 0;
    const flaky = {
      ...real,
      readJob: (ns: string, name: string) =>
        ++calls === 1 ? Promise.reject(new ClusterError('the API server is restarting')) : real.readJob(ns, name),
    };
    const stop = new AbortController();
    const errors: string[] = [];
    const passes: BuildEvent[][] = [];
    const count = await watchBuilds(w.store, {
      ...options({ cluster: flaky }),
      intervalMs: 10,
      signal: stop.signal,
      onError: (err) => errors.push((err as Error).message),
      onPass: (events) => {
        passes.push([...events]);
        if (events.some((e) => e.kind === 'started')) stop.abort();
      },
    });
    expect(errors).toEqual(['the API server is restarting']);
    expect(count).toBe(2);
    expect(passes).toEqual([[expect.objectContaining({ kind: 'started', version: 1 })]]);
  });

  it('picks up the Job a previous builder created instead of creating another', async () => {
    const w = await workspace();
    await deploy(w);
    const rec = record(w);
    const ws = await (await RepoSnapshot.atHead(w.store)).workspace();
    const target = { app: 'api', branch: 'feat/x', slug: rec.slug, version: rec.versions[0]!, repo: REPO };
    const cluster = options().cluster;
    expect(await cluster.createJob(w.namespace, buildJobObject(ws, target))).toBe('created');
    // A second create of the same name is the API's 409: reported, not thrown.
    expect(await cluster.createJob(w.namespace, buildJobObject(ws, target))).toBe('exists');

    const events = await buildPass(w.store, options());
    expect(events).toEqual([expect.objectContaining({ kind: 'running', job: buildJobName(target) })]);
    expect(posted(w)).toHaveLength(2);
  });

  it('builds an image two branches share once: the other waits, then finds it in the registry', async () => {
    const w = await workspace();
    await deploy(w, { branch: 'feat/a' });
    await deploy(w, { branch: 'feat/b' });
    const first = await buildPass(w.store, options());
    expect(first.map((e) => `${e.branch}:${e.kind}`)).toEqual(['feat/a:started', 'feat/b:waiting']);
    expect(first[1]).toMatchObject({ why: 'same-image' });

    const digest = await registry.pushImage(`ws/${w.id}/app-api`, SHA_A);
    fake.succeed(first[0]!.job, { digest });
    const second = await buildPass(w.store, options());
    expect(second.map((e) => `${e.branch}:${e.kind}`)).toEqual(['feat/a:built', 'feat/b:found']);
    expect(second.every((e) => 'digest' in e && e.digest === digest)).toBe(true);
    expect(posted(w)).toHaveLength(1);
  });

  it("builds only a branch's newest pending version: the older one is superseded when it goes live", async () => {
    const w = await workspace();
    await deploy(w);
    await deploy(w, { commit_sha: SHA_B });
    const first = await buildPass(w.store, options());
    expect(first.map((e) => `v${e.version}:${e.kind}`)).toEqual(['v2:started', 'v1:waiting']);
    expect(first[1]).toMatchObject({ why: 'newer-version' });

    fake.succeed(first[0]!.job, { digest: await registry.pushImage(`ws/${w.id}/app-api`, SHA_B) });
    expect((await buildPass(w.store, options())).map((e) => `v${e.version}:${e.kind}`)).toEqual(['v2:built']);
    expect(record(w).versions.map((v) => v.status)).toEqual(['superseded', 'live']);
    expect(posted(w)).toHaveLength(1);
  });

  it('builds a version proposed for review ahead of the merge, records nothing, and records it at once when merged', async () => {
    const w = await workspace();
    await grantDeploy(w.store, { agent: 'agent-8', app: 'api', branches: '*', mode: 'review', by: 'owner' });
    const { answer } = await deployBranch(w.store, request({ repo: REPO, branch: 'feat/review' }), { agent: 'agent-8' });
    const proposal = `x1deploy/api/${branchSlug('api', 'feat/review')}`;
    expect(answer.gitops_branch).toBe(proposal);
    const head = git(w.dir, 'rev-parse', 'main');
    const first = await buildPass(w.store, options());
    expect(first.map((e) => `${e.branch} v${e.version}:${e.kind}`)).toEqual(['feat/review v1:started']);
    fake.succeed(first[0]!.job, { digest: await registry.pushImage(`ws/${w.id}/app-api`, SHA_A) });
    const second = await buildPass(w.store, options());
    expect(second).toEqual([
      expect.objectContaining({ kind: 'prebuilt', gitops_branch: proposal, digest: expect.stringMatching(/^sha256:/) }),
    ]);
    expect(git(w.dir, 'rev-parse', 'main')).toBe(head);
    // The reviewer merges the proposal: the next pass finds the finished Job and records it.
    git(w.dir, 'merge', '--ff-only', '-q', proposal);
    const merged = await buildPass(w.store, options());
    expect(merged.map((e) => `${e.branch} v${e.version}:${e.kind}`)).toEqual(['feat/review v1:built']);
    expect(record(w, 'feat/review').versions[0]).toMatchObject({ status: 'live', digest: expect.stringMatching(/^sha256:/) });
  });

  it('records a version it cannot build (no source repo) as failed, saying why, without a Job', async () => {
    const w = await workspace();
    await deployBranch(w.store, request(), { agent: 'agent-7' });
    const events = await buildPass(w.store, options());
    expect(events).toEqual([expect.objectContaining({ kind: 'failed', reason: expect.stringMatching(/app api has no source repo/) })]);
    expect(record(w).versions[0]).toMatchObject({ status: 'failed', failure: expect.stringMatching(/deploy it again with "repo"/) });
    expect(posted(w)).toEqual([]);
  });

  it('says what to do when the cluster refuses, and writes nothing', async () => {
    const w = await workspace();
    await deploy(w);
    const refusing = await startFakeKube();
    try {
      refusing.forbid('create jobs');
      const before = commits(w);
      const cluster = kubeBuildCluster(loadKubeConfig({ KUBECONFIG: refusing.kubeconfig }));
      const err = await buildPass(w.store, options({ cluster })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClusterError);
      expect((err as Error).message).toMatch(
        new RegExp(
          `^not allowed to create Jobs in namespace ${w.namespace} \\(403\\): jobs.batch is forbidden.*; bind the build's service account to the Role that "x1deploy install" renders$`,
        ),
      );
      expect(commits(w)).toBe(before);
    } finally {
      await refusing.close();
    }
  });
});

describe.skipIf(skip)('the registry client', () => {
  let authed: TestRegistry;
  beforeAll(async () => {
    [registry, authed] = await Promise.all([startRegistry(), startRegistry({ auth: true })]);
  }, 30_000);
  afterAll(async () => {
    await registry?.stop();
    await authed?.stop();
  });

  it('finds a tag by HEAD with the manifest Accept types, and reports a missing one as undefined', async () => {
    const digest = await registry.pushImage('ws/t/app-api', 'v1');
    const client = registryClient({ insecure: true });
    expect(await client.manifestDigest(`${registry.host}/ws/t/app-api:v1`)).toBe(digest);
    expect(await client.manifestDigest(`${registry.host}/ws/t/app-api:v2`)).toBeUndefined();
    expect(await client.manifestDigest(`${registry.host}/ws/t/other:v1`)).toBeUndefined();
    // The fact the Accept list exists for: without it this registry does not find the OCI manifest.
    const bare = await fetch(`${registry.url}/v2/ws/t/app-api/manifests/v1`, { method: 'HEAD' });
    expect(bare.status).not.toBe(200);
  });

  it('reaches the registry at --registry-url when the image names another host', async () => {
    const digest = await registry.pushImage('ws/t/app-web', 'v1');
    const client = registryClient({ baseUrl: registry.url });
    expect(await client.manifestDigest(`registry.in-cluster.svc:5000/ws/t/app-web:v1`)).toBe(digest);
  });

  it('uses basic auth from the environment, and never puts the password in a message', async () => {
    const digest = await authed.pushImage('ws/t/app-api', 'v1');
    const ref = `${authed.host}/ws/t/app-api:v1`;
    const anonymous = await registryClient({ insecure: true })
      .manifestDigest(ref)
      .catch((e: unknown) => e);
    expect(anonymous).toBeInstanceOf(RegistryError);
    expect((anonymous as Error).message).toMatch(
      /needs credentials \(401\); set X1DEPLOY_REGISTRY_USERNAME and X1DEPLOY_REGISTRY_PASSWORD$/,
    );

    const wrong = await registryClient({ insecure: true, auth: { username: REGISTRY_TEST_USER.username, password: 'not-the-password' } })
      .manifestDigest(ref)
      .catch((e: unknown) => e);
    expect((wrong as Error).message).toMatch(/refused the credentials/);
    expect((wrong as Error).message).not.toContain('not-the-password');

    expect(await registryClient({ insecure: true, auth: REGISTRY_TEST_USER }).manifestDigest(ref)).toBe(digest);
  });

  it('says where it could not reach', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const err = await registryClient({ baseUrl: `http://127.0.0.1:${port}` })
      .manifestDigest('r.example/x/y:z')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toMatch(
      new RegExp(`^cannot reach the image registry at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`),
    );
  });
});
