import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type GitopsStore, stringifyRecord, RepoSnapshot } from '../src/records/index.js';
import { installJobs } from '../src/install/index.js';
import { JobsConfigError, renderJobsBootstrap } from '../src/render/index.js';
import type { WorkspaceConfig } from '../src/workspace/index.js';
import { workspaceConfigFor } from '../src/owners/index.js';
import { expectValidManifests, kubectlKustomize, loadManifestValidator, type ManifestValidator } from './support/manifest-validator.js';
import { runCli as runCliIn } from './support/cli.js';
import { git, makeWorkspaceRepo, repoFingerprint, updateWorkspaceConfig } from './support/workspace-repo.js';

const runCli = (args: readonly string[]) => runCliIn(args, { cwd: ROOT });

const IMAGE = `ghcr.io/acme/x1deploy:0.1.0@sha256:${'c'.repeat(64)}`;
const GITOPS = 'https://github.com/acme/gitops-acme.git';
const DIR = 'bootstrap/jobs';

type Jobs = Partial<WorkspaceConfig['jobs']>;

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function configure(store: GitopsStore, jobs: Jobs): Promise<void> {
  await updateWorkspaceConfig(store, (ws) => ({ ...ws, jobs: { ...ws.jobs, ...jobs } }), 'Configure the in-cluster jobs');
}

function objects(dir: string): Record<string, any>[] {
  return readdirSync(join(dir, DIR))
    .filter((f) => f !== 'kustomization.yaml')
    .sort()
    .map((f) => parse(readFileSync(join(dir, DIR, f), 'utf8')));
}

function find(list: Record<string, any>[], kind: string, name: string): Record<string, any> {
  const found = list.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind}/${name} in ${list.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

/** The Pod Security "restricted" rules x1deploy's own pods must pass (see the upstream pod-security-standards). */
function expectRestricted(pod: Record<string, any>): void {
  expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
  for (const c of pod.containers) {
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true });
    expect(c.securityContext.privileged).not.toBe(true);
  }
  expect(pod.hostNetwork ?? pod.hostPID ?? pod.hostIPC).toBeUndefined();
  expect(pod.volumes.every((v: Record<string, unknown>) => 'emptyDir' in v)).toBe(true);
}

let validator: ManifestValidator;
beforeAll(async () => {
  validator = await loadManifestValidator();
});

describe('x1deploy install', { timeout: 60_000 }, () => {
  it('is opt-in: with jobs.enabled false it renders nothing and says how to enable it', async () => {
    const { dir } = await makeWorkspaceRepo({ id: 'acme' });
    const before = repoFingerprint(dir);
    const r = runCli(['install', '--repo', dir, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toMatch(
      /opt-in and jobs\.enabled is false in x1deploy\.yaml; set jobs\.enabled: true and jobs\.image/,
    );
    expect(repoFingerprint(dir)).toBe(before);
    expect(existsSync(join(dir, DIR))).toBe(false);
    expect(renderJobsBootstrap(workspaceConfigFor({ id: 'acme' })).size).toBe(0);
  });

  it('refuses to render when enabled without an image or a repo URL the jobs can push to', async () => {
    const { dir, store } = await makeWorkspaceRepo({ id: 'acme' });
    await configure(store, { enabled: true });
    const before = repoFingerprint(dir);
    const r = runCli(['install', '--repo', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('jobs.image (the x1deploy image, pinned by digest) is not set');
    // init's gitops.repoUrl is an .invalid placeholder: not a URL to push to.
    expect(r.stderr).toContain('neither jobs.gitopsRepo nor gitops.repoUrl is an https:// URL the jobs can push to');
    expect(repoFingerprint(dir)).toBe(before);
    expect(() =>
      renderJobsBootstrap({ ...workspaceConfigFor({ id: 'acme' }), jobs: { ...workspaceConfigFor({}).jobs, enabled: true } }),
    ).toThrow(JobsConfigError);
  });

  it('renders the builds namespace, service account, scoped roles and the two CronJobs, all schema-valid, in one commit', async () => {
    const { dir, store } = await makeWorkspaceRepo({ id: 'acme' });
    await configure(store, { enabled: true, image: IMAGE, gitopsRepo: GITOPS });
    const before = Number(git(dir, 'rev-list', '--count', 'HEAD'));
    const r = runCli(['install', '--repo', dir, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Number(git(dir, 'rev-list', '--count', 'HEAD'))).toBe(before + 1);
    expect(out.commit).toBe(git(dir, 'rev-parse', 'HEAD'));
    expect(git(dir, 'status', '--porcelain')).toBe('');
    expect(out.written).toEqual([
      '.github/workflows/x1deploy-verify.yaml',
      `${DIR}/cronjob-x1deploy-build.yaml`,
      `${DIR}/cronjob-x1deploy-reap.yaml`,
      `${DIR}/kustomization.yaml`,
      `${DIR}/namespace-ws-acme-builds.yaml`,
      `${DIR}/role-x1deploy-builder.yaml`,
      `${DIR}/role-x1deploy-reader.yaml`,
      `${DIR}/rolebinding-x1deploy-builder.yaml`,
      `${DIR}/rolebinding-x1deploy-reader.yaml`,
      `${DIR}/serviceaccount-x1deploy-jobs.yaml`,
    ]);
    // The pull request check now runs the same pinned image, jailed: no network, read-only root and checkout.
    const step = (parse(readFileSync(join(dir, '.github/workflows/x1deploy-verify.yaml'), 'utf8')).jobs.verify.steps as Record<string, any>[]).find((s) => s.run);
    expect(step!.env).toEqual({ X1DEPLOY_IMAGE: IMAGE, BASE_REF: '${{ github.base_ref }}', PR_AUTHOR: '${{ github.event.pull_request.user.login }}' });
    expect(step!.run).toBe(
      'docker run --rm --network none --read-only --tmpfs /tmp --user 65532:65532 --volume "$GITHUB_WORKSPACE:/repo:ro" "$X1DEPLOY_IMAGE" verify --repo /repo --base "origin/$BASE_REF" --author "$PR_AUTHOR"',
    );
    expect(step!.run).not.toContain('npx');

    const list = objects(dir);
    expectValidManifests(validator, list);

    const ns = find(list, 'Namespace', 'ws-acme-builds');
    expect(ns.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/warn': 'baseline',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
    expect(ns.metadata.namespace).toBeUndefined();

    expect(find(list, 'ServiceAccount', 'x1deploy-jobs').metadata.namespace).toBe('ws-acme-builds');
    const builder = find(list, 'Role', 'x1deploy-builder');
    expect(builder.metadata.namespace).toBe('ws-acme-builds');
    expect(builder.rules).toEqual([
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
    ]);
    const reader = find(list, 'Role', 'x1deploy-reader');
    expect(reader.metadata.namespace).toBe('ws-acme');
    for (const rule of reader.rules) {
      expect(rule.verbs).toEqual(['get', 'list', 'watch']);
      expect(rule.resources).not.toContain('secrets');
    }
    for (const [name, namespace] of [
      ['x1deploy-builder', 'ws-acme-builds'],
      ['x1deploy-reader', 'ws-acme'],
    ]) {
      const binding = find(list, 'RoleBinding', name!);
      expect(binding.metadata.namespace).toBe(namespace);
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'x1deploy-jobs', namespace: 'ws-acme-builds' }]);
    }

    const build = find(list, 'CronJob', 'x1deploy-build');
    expect(build.metadata.namespace).toBe('ws-acme-builds');
    expect(build.spec).toMatchObject({ schedule: '* * * * *', concurrencyPolicy: 'Forbid' });
    // A --once run waits for its build Jobs: its own deadline is longer than theirs.
    expect(build.spec.jobTemplate.spec.activeDeadlineSeconds).toBeGreaterThan(1800);
    const buildPod = build.spec.jobTemplate.spec.template.spec;
    expect(buildPod.serviceAccountName).toBe('x1deploy-jobs');
    expect(buildPod.containers[0].image).toBe(IMAGE);
    expect(buildPod.containers[0].args).toEqual(['build', '--repo', GITOPS, '--concurrency', '2', '--json', '--once']);
    expectRestricted(buildPod);
    // Credentials only by reference: the only literal value is HOME.
    expect(buildPod.containers[0].env.filter((e: Record<string, unknown>) => 'value' in e)).toEqual([{ name: 'HOME', value: '/tmp' }]);
    expect(buildPod.containers[0].env).toContainEqual({
      name: 'X1DEPLOY_GIT_TOKEN',
      valueFrom: { secretKeyRef: { name: 'x1deploy-gitops-token', key: 'token', optional: false } },
    });

    const reap = find(list, 'CronJob', 'x1deploy-reap');
    expect(reap.spec.schedule).toBe('17 3 * * *');
    const reapContainer = reap.spec.jobTemplate.spec.template.spec.containers[0];
    expect(reapContainer.args).toEqual(['reap', '--repo', GITOPS, '--json']);
    expect(reapContainer.env.map((e: { name: string }) => e.name)).toEqual([
      'HOME',
      'X1DEPLOY_GIT_TOKEN',
      'X1DEPLOY_REGISTRY_USERNAME',
      'X1DEPLOY_REGISTRY_PASSWORD',
      'X1DEPLOY_GITHUB_TOKEN',
      'X1DEPLOY_PROMETHEUS_TOKEN',
    ]);
    expect(reapContainer.env.filter((e: Record<string, unknown>) => 'value' in e)).toEqual([{ name: 'HOME', value: '/tmp' }]);
    expectRestricted(reap.spec.jobTemplate.spec.template.spec);

    const kustomize = kubectlKustomize(join(dir, DIR));
    if (kustomize.ran) expect(kustomize.error).toBeUndefined();
    else if (process.env.CI === 'true') throw new Error(kustomize.error);
    else console.warn(`NOTICE: ${kustomize.error}; kubectl kustomize not checked`);

    const again = runCli(['install', '--repo', dir, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).commit).toBeNull();
    expect(Number(git(dir, 'rev-list', '--count', 'HEAD'))).toBe(before + 1);
  });

  it('renders a Deployment running build --watch instead of the CronJob, and removes what is no longer rendered', async () => {
    const { dir, store } = await makeWorkspaceRepo({ id: 'acme' });
    await configure(store, { enabled: true, image: IMAGE, gitopsRepo: GITOPS });
    await installJobs(store);
    await configure(store, { buildMode: 'watch', buildConcurrency: 4, registryUrl: 'http://registry.registry.svc:5000' });
    const result = await installJobs(store);
    expect(result.removed).toEqual([`${DIR}/cronjob-x1deploy-build.yaml`]);
    expect(existsSync(join(dir, DIR, 'cronjob-x1deploy-build.yaml'))).toBe(false);
    const list = objects(dir);
    expectValidManifests(validator, list);
    const deployment = find(list, 'Deployment', 'x1deploy-build');
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    expect(deployment.spec.template.spec.containers[0].args).toEqual([
      'build',
      '--repo',
      GITOPS,
      '--concurrency',
      '4',
      '--registry-url',
      'http://registry.registry.svc:5000',
      '--json',
      '--watch',
    ]);
    expect(find(list, 'CronJob', 'x1deploy-reap').spec.jobTemplate.spec.template.spec.containers[0].args).toEqual([
      'reap',
      '--repo',
      GITOPS,
      '--registry-url',
      'http://registry.registry.svc:5000',
      '--json',
    ]);
    expectRestricted(deployment.spec.template.spec);
    expect(readFileSync(join(dir, DIR, 'kustomization.yaml'), 'utf8')).toContain('deployment-x1deploy-build.yaml');
  });

  it('renders x1deploy serve beside the jobs: restricted pods, probes, tokens from a Secret, a Service, an Ingress and read-only roles', async () => {
    const { dir, store } = await makeWorkspaceRepo({ id: 'acme' });
    await configure(store, {
      enabled: true,
      image: IMAGE,
      gitopsRepo: GITOPS,
      serve: { enabled: true, replicas: 2, tokensSecret: 'serve-tokens', webhookSecret: 'gh-hook', host: 'x1deploy.acme.example' },
    });
    const result = await installJobs(store);
    expect(result.written).toEqual(
      expect.arrayContaining([
        `${DIR}/deployment-x1deploy-serve.yaml`,
        `${DIR}/service-x1deploy.yaml`,
        `${DIR}/ingress-x1deploy.yaml`,
        `${DIR}/role-x1deploy-observer.yaml`,
        `${DIR}/role-x1deploy-applications.yaml`,
      ]),
    );
    const list = objects(dir);
    expectValidManifests(validator, list);
    const deployment = find(list, 'Deployment', 'x1deploy-serve');
    const pod = deployment.spec.template.spec;
    expectRestricted({ ...pod, volumes: pod.volumes.filter((v: Record<string, unknown>) => !('secret' in v)) });
    expect(pod.containers[0].image).toBe(IMAGE);
    expect(pod.containers[0].image).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(pod.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);
    expect(pod.containers[0].args).toEqual(['serve', '--repo', GITOPS, '--tokens', '/etc/x1deploy/tokens/tokens.yaml', '--listen', '0.0.0.0:8080']);
    expect(pod.containers[0].readinessProbe.httpGet).toEqual({ path: '/readyz', port: 8080 });
    expect(pod.containers[0].livenessProbe.httpGet).toEqual({ path: '/healthz', port: 8080 });
    expect(pod.volumes).toContainEqual({ name: 'tokens', secret: { secretName: 'serve-tokens', items: [{ key: 'tokens.yaml', path: 'tokens.yaml' }] } });
    expect(pod.containers[0].env).toContainEqual({
      name: 'X1DEPLOY_GITHUB_WEBHOOK_SECRET',
      valueFrom: { secretKeyRef: { name: 'gh-hook', key: 'secret', optional: true } },
    });
    expect(deployment.spec.replicas).toBe(2);
    expect(find(list, 'Service', 'x1deploy').spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http' }]);
    const ingress = find(list, 'Ingress', 'x1deploy');
    expect(ingress.metadata.annotations).toEqual({ 'cert-manager.io/cluster-issuer': 'letsencrypt-dns01' });
    expect(ingress.spec.rules[0].host).toBe('x1deploy.acme.example');
    // It reads previews and Argo CD's Applications; it never reads Secrets.
    const observer = find(list, 'Role', 'x1deploy-observer');
    expect(observer.metadata.namespace).toBe('ws-acme');
    const resources = list.filter((o) => o.kind === 'Role').flatMap((r) => r.rules.flatMap((rule: { resources: string[] }) => rule.resources));
    expect(resources).not.toContain('secrets');
    expect(find(list, 'Role', 'x1deploy-applications').metadata.namespace).toBe('argocd');
    const built = kubectlKustomize(join(dir, DIR));
    if (built.ran) expect(built.error).toBeUndefined();
  });

  it('uses the engine repo URL when it is https, and removes bootstrap/jobs/ when the jobs are disabled again', async () => {
    const { dir, store } = await makeWorkspaceRepo({ id: 'acme' });
    const snapshot = await RepoSnapshot.atHead(store);
    const ws = await snapshot.workspace();
    await store.commit({
      parent: snapshot.commit,
      changes: new Map([['x1deploy.yaml', stringifyRecord({ ...ws, gitops: { ...ws.gitops, repoUrl: GITOPS } })]]),
      message: 'The real gitops URL',
      author: { name: 'owner', email: 'owner@example.com', timestamp: 1_790_000_000 },
    });
    await configure(store, { enabled: true, image: IMAGE });
    await installJobs(store);
    const build = find(objects(dir), 'CronJob', 'x1deploy-build');
    expect(build.spec.jobTemplate.spec.template.spec.containers[0].args.slice(0, 3)).toEqual(['build', '--repo', GITOPS]);

    await configure(store, { enabled: false });
    const r = runCli(['install', '--repo', dir, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ written: [], removed: expect.arrayContaining([`${DIR}/kustomization.yaml`]) });
    expect(existsSync(join(dir, DIR))).toBe(false);
    expect(git(dir, 'log', '-1', '--format=%s')).toBe('Remove the in-cluster jobs (jobs.enabled is false)');
  });
});
