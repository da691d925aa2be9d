// Status, wait and logs against the Kubernetes API test server (real routes and payload shapes,
// objects checked against the upstream schemas), and without any cluster (the embedded default).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { recordBuildOutcome } from '../src/build/index.js';
import { deployBranch } from '../src/deploy/index.js';
import { kubePreviewCluster, loadKubeConfig } from '../src/k8s/index.js';
import { liveStatus, previewLogs, waitForSettled, type ObservePorts } from '../src/observe/index.js';
import type { GitopsStore } from '../src/records/index.js';
import { branchSlug } from '../src/spec/index.js';
import { cliInProcess } from './support/cli-in-process.js';
import { startFakeKube, type FakeKube } from './support/fake-kube.js';
import { loadManifestValidator, type ManifestValidator } from './support/manifest-validator.js';
import { FIXED_NOW, makeWorkspaceRepo, request } from './support/workspace-repo.js';

vi.setConfig({ testTimeout: 120_000 });
type Json = Record<string, any>;

const NS = 'ws-demo';
const by = { agent: 'agent-7', clock: () => FIXED_NOW };
let kube: FakeKube;
let validator: ManifestValidator;

beforeAll(async () => {
  kube = await startFakeKube();
  validator = await loadManifestValidator();
});
afterAll(async () => {
  await kube?.close();
});

function put(object: Json): void {
  expect(validator.validate(object), `${object.kind}/${object.metadata?.name}`).toEqual([]);
  kube.put(object);
}

const ports = (): ObservePorts => ({ cluster: kubePreviewCluster(loadKubeConfig({ KUBECONFIG: kube.kubeconfig })), probe: false });

/** A repo with api feat/<name> deployed and built (version 1 live in git). */
async function builtPreview(name: string, engine: 'argocd' | 'flux' = 'argocd'): Promise<{ dir: string; store: GitopsStore; slug: string; deployment: Json }> {
  const { dir, store } = await makeWorkspaceRepo({ engine });
  const branch = `feat/${name}`;
  const { answer } = await deployBranch(store, request({ branch }), by);
  await recordBuildOutcome(store, { app: 'api', slug: answer.slug, version: 1 }, { ok: true, digest: `sha256:${'a'.repeat(64)}` });
  const deployment = parse((await store.readFile(await store.head(), `rendered/api/${answer.slug}/deployment.yaml`))!) as Json;
  return { dir, store, slug: answer.slug, deployment };
}

function deploymentWith(rendered: Json, ready: number): Json {
  return { ...rendered, status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: ready, availableReplicas: ready } };
}

function podOf(rendered: Json, name: string, container: Json, ready: boolean): Json {
  const template = rendered.spec.template as Json;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { ...template.metadata.labels } },
    spec: template.spec,
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [{ name: 'app', image: 'x', imageID: '', ready, restartCount: 0, ...container }],
    },
  };
}

describe('live status against the Kubernetes API', () => {
  it('names the secret key a pod is missing, and the fix an owner makes', async () => {
    const { store, slug, deployment } = await builtPreview('secret');
    put(deploymentWith(deployment, 0));
    put(
      podOf(
        deployment,
        `${deployment.metadata.name}-6c9f8-abcde`,
        { state: { waiting: { reason: 'CreateContainerConfigError', message: "couldn't find key STRIPE_KEY in Secret ws-demo/workspace-secrets" } } },
        false,
      ),
    );
    const s = await liveStatus(store, { app: 'api', branch: 'feat/secret' }, ports());
    expect(s).toMatchObject({ state: 'degraded', reason: 'CreateContainerConfigError', slug });
    expect(s.fix).toBe('ask a workspace owner to add key STRIPE_KEY to the Secret workspace-secrets, or remove the ${STRIPE_KEY} reference from env and deploy again');
    // One list per kind for the whole workspace, with the preview selector, not one call per preview.
    const paths = kube.requests.map((r) => r.path);
    expect(paths).toContain('/apis/apps/v1/namespaces/ws-demo/deployments?labelSelector=x1.app%2Cx1.branch');
    expect(kube.unexpected).toEqual([]);
  });

  it('Flux: a failed Kustomization is SyncFailed; an older applied revision is NotApplied, naming it', async () => {
    const { store } = await builtPreview('flux', 'flux');
    const kustomization = (ready: Json, revision: string) => ({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: 'x1deploy', namespace: NS },
      spec: { interval: '1m', path: './rendered', prune: true, sourceRef: { kind: 'GitRepository', name: 'x1deploy' } },
      status: { lastAppliedRevision: `main@sha1:${revision}`, conditions: [{ lastTransitionTime: '2026-11-30T10:00:00Z', ...ready }] },
    });
    put(kustomization({ type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', message: 'Applied revision' }, 'b'.repeat(40)));
    const waiting = await liveStatus(store, { app: 'api', branch: 'feat/flux' }, ports());
    expect(waiting).toMatchObject({ state: 'syncing', reason: 'NotApplied', engine_revision: 'b'.repeat(40) });
    expect(waiting.message).toContain('the engine last applied bbbbbbbbbbbb');

    put(kustomization({ type: 'Ready', status: 'False', reason: 'BuildFailed', message: 'kustomize build failed: accumulating resources' }, 'b'.repeat(40)));
    const failed = await liveStatus(store, { app: 'api', branch: 'feat/flux' }, ports());
    expect(failed).toMatchObject({ state: 'degraded', reason: 'SyncFailed', message: 'kustomize build failed: accumulating resources' });
    kube.remove('Kustomization', NS, 'x1deploy');
  });

  it('--wait returns within 2 s of the state changing', async () => {
    const { store, deployment } = await builtPreview('wait');
    put(deploymentWith(deployment, 0));
    const podName = `${deployment.metadata.name}-7f7f7-qwert`;
    put(podOf(deployment, podName, { state: { waiting: { reason: 'ContainerCreating' } } }, false));
    let changedAt = 0;
    setTimeout(() => {
      put(deploymentWith(deployment, 1));
      put(podOf(deployment, podName, { state: { running: { startedAt: '2026-11-30T10:00:00Z' } }, ready: true, started: true }, true));
      changedAt = Date.now();
    }, 1500);
    const seen: string[] = [];
    const { status, timed_out } = await waitForSettled(store, { app: 'api', branch: 'feat/wait' }, ports(), {
      timeoutMs: 60_000,
      intervalMs: 500,
      onChange: (s) => seen.push(s.state),
    });
    const returnedAt = Date.now();
    expect(timed_out).toBe(false);
    expect(status.state).toBe('ready');
    expect(seen).toEqual(['rolling-out', 'ready']);
    expect(returnedAt - changedAt).toBeLessThan(2000);
  });

  it('times out with the last state, and the CLI says which exit code', async () => {
    const { store, dir } = await builtPreview('slow');
    const { status, timed_out } = await waitForSettled(store, { app: 'api', branch: 'feat/slow' }, ports(), { timeoutMs: 1500, intervalMs: 500 });
    expect(timed_out).toBe(true);
    expect(status).toMatchObject({ state: 'syncing', reason: 'NotApplied' });

    process.env.KUBECONFIG = kube.kubeconfig;
    try {
      const cli = await cliInProcess(['status', '--repo', dir, '--app', 'api', '--branch', 'feat/slow', '--wait', '--timeout', '1s', '--json']);
      expect(cli.code).toBe(6);
      expect(JSON.parse(cli.stdout)).toMatchObject({ state: 'syncing', reason: 'NotApplied', timed_out: true });
    } finally {
      delete process.env.KUBECONFIG;
    }
  });

  it('a build log from the build pod, and a cluster that refuses reads says so instead of guessing', async () => {
    const { store, slug } = await builtPreview('buildlog');
    put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'api-feat-buildlog-v1-pod', namespace: 'ws-demo-builds', labels: { 'x1.app': 'api', 'x1.branch': slug, 'x1.version': '1' } },
      spec: { containers: [{ name: 'kaniko', image: 'kaniko' }] },
      status: { phase: 'Succeeded' },
    });
    kube.setLog('api-feat-buildlog-v1-pod', 'INFO step 1/3\nINFO pushing with token ghp_' + 'Ab1'.repeat(12) + '\nINFO Pushed image\n');
    const logs = await previewLogs(store, { app: 'api', branch: 'feat/buildlog', build: true }, ports());
    expect(logs).toMatchObject({ source: 'build', version: 1, pod: 'api-feat-buildlog-v1-pod', container: 'kaniko' });
    expect(logs.lines).toHaveLength(3);
    expect(logs.lines.join('\n')).not.toContain('Ab1Ab1Ab1');

    kube.forbid('list pods');
    const s = await liveStatus(store, { app: 'api', branch: 'feat/buildlog' }, ports());
    expect(s).toMatchObject({ state: 'syncing', reason: 'NoClusterAccess', observed: ['git'] });
    expect(s.message).toMatch(/not allowed to list Pods in namespace ws-demo \(403\)/);
  });
});

describe('without a cluster (the embedded default)', () => {
  it('status says so plainly and reports the git side, with exit codes for each kind of state', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    const env = { KUBECONFIG: '', HOME: '/nonexistent-home' };
    const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
    Object.assign(process.env, env);
    try {
      const { answer } = await deployBranch(store, request({ branch: 'feat/local' }), by);
      const pending = await cliInProcess(['status', '--repo', dir, '--app', 'api', '--branch', 'feat/local', '--json']);
      expect(pending.code).toBe(6);
      expect(JSON.parse(pending.stdout)).toMatchObject({ state: 'pending-build', reason: 'BuildPending', version: 1, current_version: null });

      await recordBuildOutcome(store, { app: 'api', slug: answer.slug, version: 1 }, { ok: true, digest: `sha256:${'c'.repeat(64)}` });
      const synced = await cliInProcess(['status', '--repo', dir, '--app', 'api', '--branch', 'feat/local']);
      expect(synced.code).toBe(6);
      expect(synced.stdout).toMatch(/syncing \(NoClusterAccess\)/);
      expect(synced.stdout).toMatch(/the cluster was not observed: no Kubernetes cluster configured/);

      await deployBranch(store, request({ branch: 'feat/local', commit_sha: 'f'.repeat(40) }), by);
      await recordBuildOutcome(store, { app: 'api', slug: branchSlug('api', 'feat/local'), version: 2 }, { ok: false, reason: 'kaniko exited 1\nnpm ERR! missing script: build' });
      const failed = await cliInProcess(['status', '--repo', dir, '--app', 'api', '--branch', 'feat/local', '--json']);
      expect(failed.code).toBe(5);
      expect(JSON.parse(failed.stdout)).toMatchObject({ state: 'build-failed', reason: 'BuildFailed', version: 2, current_version: 1 });
      const buildLog = await cliInProcess(['logs', '--repo', dir, '--app', 'api', '--branch', 'feat/local', '--build', '--version', '2', '--json']);
      expect(buildLog.code).toBe(0);
      expect(JSON.parse(buildLog.stdout)).toMatchObject({ source: 'build', version: 2, lines: ['kaniko exited 1', 'npm ERR! missing script: build'] });

      const deleted = await cliInProcess(['delete', '--repo', dir, '--app', 'api', '--branch', 'feat/local', '--agent', 'agent-7', '--json']);
      expect(deleted.code).toBe(0);
      expect(JSON.parse(deleted.stdout)).toMatchObject({ deleted_versions: 2 });
      const denied = await cliInProcess(['delete', '--repo', dir, '--app', 'api', '--branch', 'feat/x', '--agent', 'agent-9', '--json']);
      expect(denied.code).toBe(3);
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
});
