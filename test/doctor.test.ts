// x1deploy doctor: every check says what it saw and, when it fails, what to do. Against the
// embedded default (no cluster, no registry) and against a set-up that works: a real registry
// (docker-registry on 127.0.0.1) and the Kubernetes API test server with the workspace's Application.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deployBranch } from '../src/deploy/index.js';
import { runDoctor } from '../src/doctor/index.js';
import { kubePreviewCluster, loadKubeConfig } from '../src/k8s/index.js';
import { argoApplicationName } from '../src/render/index.js';
import { registryClient } from '../src/registry/index.js';
import { cliInProcess } from './support/cli-in-process.js';
import { startFakeKube, type FakeKube } from './support/fake-kube.js';
import { skipWithoutRegistry, startRegistry, type TestRegistry } from './support/registry.js';
import { FIXED_NOW, makeWorkspaceRepo, request, updateWorkspaceConfig } from './support/workspace-repo.js';

vi.setConfig({ testTimeout: 60_000 });

describe('x1deploy doctor on the embedded default', () => {
  it('says the source is a placeholder, the cluster is not configured and the registry does not answer; exit 4', async () => {
    const { dir } = await makeWorkspaceRepo();
    const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME, X1DEPLOY_GITHUB_TOKEN: process.env.X1DEPLOY_GITHUB_TOKEN };
    Object.assign(process.env, { KUBECONFIG: '', HOME: '/nonexistent-home' });
    delete process.env.X1DEPLOY_GITHUB_TOKEN;
    try {
      const r = await cliInProcess(['doctor', '--repo', dir, '--json']);
      expect(r.code).toBe(4);
      const { ok, checks } = JSON.parse(r.stdout) as { ok: boolean; checks: { check: string; outcome: string; fix?: string }[] };
      expect(ok).toBe(false);
      expect(checks.map((c) => `${c.check} ${c.outcome}`)).toEqual([
        'gitops-repo ok',
        'verify ok',
        'engine-source failed',
        'cluster skipped',
        'registry failed',
        'github-token skipped',
      ]);
      for (const c of checks.filter((c) => c.outcome !== 'ok')) expect(c.fix).toMatch(/\w/);
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
});

const skip = skipWithoutRegistry();

describe.skipIf(skip)('x1deploy doctor on a set-up that works', () => {
  let registry: TestRegistry;
  let kube: FakeKube;
  beforeAll(async () => {
    [registry, kube] = await Promise.all([startRegistry(), startFakeKube()]);
  });
  afterAll(async () => {
    await registry?.stop();
    await kube?.close();
  });

  it('passes every check, and names a cluster that refuses reads', async () => {
    const { store } = await makeWorkspaceRepo({ gitopsRepoUrl: 'https://github.com/acme/gitops-demo.git', registry: registry.host });
    await updateWorkspaceConfig(store, (ws) => ({ ...ws, build: { ...ws.build, insecureRegistry: true } }));
    const { answer } = await deployBranch(store, request(), { agent: 'agent-7', clock: () => FIXED_NOW });
    kube.put({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: argoApplicationName('demo', 'api', answer.slug), namespace: 'argocd', labels: { 'x1deploy.dev/workspace': 'demo', 'x1.app': 'api', 'x1.branch': answer.slug } },
      spec: { project: 'ws-demo', destination: {} },
      status: { sync: { status: 'Synced', revision: 'c'.repeat(40) }, health: { status: 'Healthy' } },
    });
    const ports = {
      cluster: kubePreviewCluster(loadKubeConfig({ KUBECONFIG: kube.kubeconfig })),
      registry: () => registryClient({ insecure: true, timeoutMs: 5000 }),
      githubScopes: async () => ['repo', 'workflow'],
    };
    const checks = await runDoctor(store, ports);
    expect(checks.map((c) => `${c.check} ${c.outcome}`)).toEqual(['gitops-repo ok', 'engine-source ok', 'cluster ok', 'engine ok', 'registry ok', 'github-token ok']);
    expect(checks.find((c) => c.check === 'engine')!.detail).toBe('1 Application(s), 1 synced, for 1 preview(s)');
    expect(checks.find((c) => c.check === 'github-token')!.detail).toContain('scopes: repo, workflow');

    kube.forbid('list pods');
    const refused = await runDoctor(store, ports);
    expect(refused.find((c) => c.check === 'cluster')).toMatchObject({
      outcome: 'failed',
      detail: expect.stringMatching(/not allowed to list Pods in namespace ws-demo \(403\)/),
      fix: expect.stringMatching(/roles x1deploy install renders/),
    });
  });
});
