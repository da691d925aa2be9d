import { beforeAll, describe, expect, it } from 'vitest';
import { BUILD_JOB_LABEL } from '../src/cluster/index.js';
import {
  buildJobName,
  buildJobObject,
  kanikoGitContext,
  NotBuildableError,
  pendingTargets,
  type BuildTarget,
  reportedDigest,
} from '../src/build/index.js';
import { buildNamespace, defaultWorkspaceConfig, WorkspaceConfigSchema, type WorkspaceConfig } from '../src/workspace/index.js';
import { scrubSecrets, isDnsLabel } from '../src/spec/index.js';
import type { DeployRecord, Version } from '../src/records/index.js';
import { workspaceConfigFor } from '../src/owners/index.js';
import { expectValidManifests, loadManifestValidator, type ManifestValidator } from './support/manifest-validator.js';

const SHA = 'a'.repeat(40);
const DIGEST = `sha256:${'d'.repeat(64)}`;

function version(overrides: Partial<Version> = {}): Version {
  return {
    number: 3,
    commit_sha: SHA,
    image_ref: `registry.internal:5000/ws/acme/app-api:${SHA}`,
    status: 'pending-build',
    requested_by: 'agent-7',
    created_at: '2026-01-01T00:00:00.000Z',
    spec: { dockerfile: 'services/api/Dockerfile', ports: [8080] },
    ...overrides,
  };
}

function target(overrides: Partial<BuildTarget> = {}): BuildTarget {
  return {
    app: 'api',
    branch: 'feat/checkout',
    slug: 'feat-checkout-abcdefgh',
    version: version(),
    repo: 'https://github.com/acme/api.git',
    ...overrides,
  };
}

const ws: WorkspaceConfig = workspaceConfigFor({ id: 'acme', registry: 'registry.internal:5000' });

let validator: ManifestValidator;
beforeAll(async () => {
  validator = await loadManifestValidator();
});

describe('the Kaniko build Job', () => {
  const job = buildJobObject(ws, target()) as Record<string, any>;
  const pod = job.spec.template.spec;
  const container = pod.containers[0];

  it('validates against the upstream batch/v1 Job schema', () => {
    expectValidManifests(validator, [job]);
    expect(job.metadata.namespace).toBe('ws-acme-builds');
    expect(job.metadata.name).toBe(buildJobName(target()));
  });

  it('clones exactly the commit from a single-branch clone and pushes the version tag, reporting the digest in the termination log', () => {
    expect(container.args).toEqual([
      `--context=git://github.com/acme/api.git#refs/heads/feat/checkout#${SHA}`,
      '--git=single-branch=true',
      '--git=recurse-submodules=false',
      '--dockerfile=services/api/Dockerfile',
      `--destination=registry.internal:5000/ws/acme/app-api:${SHA}`,
      '--digest-file=/dev/termination-log',
      '--cache=true',
      '--cache-repo=registry.internal:5000/ws/acme/cache',
      '--push-retry=2',
      '--label=org.opencontainers.image.source=https://github.com/acme/api.git',
      `--label=org.opencontainers.image.revision=${SHA}`,
    ]);
    expect(container.terminationMessagePath).toBe('/dev/termination-log');
    expect(container.terminationMessagePolicy).toBe('File');
    expect(container.image).toBe(ws.build.kanikoImage);
    expect(container.image).toMatch(/@sha256:[0-9a-f]{64}$/);
  });

  it('takes the git token and the registry credentials from Secrets, never as values', () => {
    expect(container.env).toEqual([
      { name: 'GIT_TOKEN', valueFrom: { secretKeyRef: { name: 'x1deploy-git-token', key: 'token', optional: true } } },
    ]);
    expect(pod.volumes).toEqual([
      {
        name: 'registry-credentials',
        secret: { secretName: 'x1deploy-registry-credentials', optional: true, items: [{ key: '.dockerconfigjson', path: 'config.json' }] },
      },
    ]);
    expect(container.volumeMounts).toEqual([{ name: 'registry-credentials', mountPath: '/kaniko/.docker', readOnly: true }]);
  });

  it('runs as root (Kaniko needs it) within Pod Security "baseline", with no cluster credentials', () => {
    expect(pod.securityContext).toEqual({ runAsUser: 0, runAsGroup: 0, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.restartPolicy).toBe('Never');
    // Baseline: no privileged containers, host namespaces, host paths or added capabilities.
    expect(container.securityContext.privileged).toBe(false);
    expect(container.securityContext.capabilities).toBeUndefined();
    expect(pod.hostNetwork ?? pod.hostPID ?? pod.hostIPC).toBeUndefined();
    expect(pod.volumes.every((v: Record<string, unknown>) => !('hostPath' in v))).toBe(true);
  });

  it('bounds the build: resources, deadline, retries and clean-up from x1deploy.yaml', () => {
    expect(job.spec.activeDeadlineSeconds).toBe(1800);
    expect(job.spec.backoffLimit).toBe(1);
    expect(job.spec.ttlSecondsAfterFinished).toBe(86400);
    expect(container.resources).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '4Gi' } });
    const tuned = buildJobObject(
      {
        ...ws,
        build: {
          ...ws.build,
          deadlineSeconds: 600,
          backoffLimit: 0,
          ttlSecondsAfterFinished: 60,
          insecureRegistry: true,
          namespace: 'builds',
        },
      },
      target(),
    ) as Record<string, any>;
    expect(tuned.metadata.namespace).toBe('builds');
    expect(tuned.spec).toMatchObject({ activeDeadlineSeconds: 600, backoffLimit: 0, ttlSecondsAfterFinished: 60 });
    expect(tuned.spec.template.spec.containers[0].args).toContain('--insecure-registry=registry.internal:5000');
    expectValidManifests(validator, [tuned]);
  });

  it('labels the Job and its pods so the builder finds the pods by the Job name', () => {
    expect(job.metadata.labels).toMatchObject({ 'x1.app': 'api', 'x1.branch': 'feat-checkout-abcdefgh', 'x1.version': '3' });
    expect(job.spec.template.metadata.labels[BUILD_JOB_LABEL]).toBe(job.metadata.name);
    expect(job.metadata.annotations).toMatchObject({ 'x1deploy.dev/branch': 'feat/checkout', 'x1deploy.dev/commit': SHA });
  });
});

describe('build Job names', () => {
  it('are DNS labels of at most 63 characters, the same for the same build', () => {
    const longest = target({ app: 'a'.repeat(30), slug: 'b'.repeat(32), version: version({ number: 12345 }) });
    for (const t of [target(), longest]) {
      const name = buildJobName(t);
      expect(name.length).toBeLessThanOrEqual(63);
      expect(isDnsLabel(name)).toBe(true);
      expect(buildJobName(t)).toBe(name);
    }
    expect(buildJobName(target())).toMatch(/^api-feat-checkout-abcdefgh-v3-[0-9a-f]{8}$/);
  });

  it('differ when the version, the commit or the Dockerfile differ', () => {
    const names = new Set([
      buildJobName(target()),
      buildJobName(target({ version: version({ number: 4 }) })),
      buildJobName(target({ version: version({ commit_sha: 'b'.repeat(40) }) })),
      buildJobName(target({ version: version({ spec: { dockerfile: 'Dockerfile', ports: [8080] } }) })),
    ]);
    expect(names.size).toBe(4);
  });
});

describe('Kaniko git context', () => {
  it('turns an https clone URL into git://… with the branch ref and the commit', () => {
    expect(kanikoGitContext('api', 'https://git.example.com:8443/team/api', 'main', SHA)).toEqual({
      context: `git://git.example.com:8443/team/api#refs/heads/main#${SHA}`,
      singleBranch: true,
    });
  });

  it('clones the whole repo for a branch whose name holds "#", which the context cannot name', () => {
    expect(kanikoGitContext('api', 'https://github.com/acme/api.git', 'fix/#42', SHA)).toEqual({
      context: `git://github.com/acme/api.git##${SHA}`,
      singleBranch: false,
    });
  });

  it('refuses sources Kaniko cannot clone, saying what to do', () => {
    expect(() => kanikoGitContext('api', undefined, 'main', SHA)).toThrow(NotBuildableError);
    expect(() => kanikoGitContext('api', undefined, 'main', SHA)).toThrow(/has no source repo.*"repo"/);
    expect(() => kanikoGitContext('api', 'git@github.com:acme/api.git', 'main', SHA)).toThrow(/https:\/\/ only/);
    expect(() => kanikoGitContext('api', 'ssh://git@github.com/acme/api.git', 'main', SHA)).toThrow(/https:\/\/ only/);
  });
});

describe('the build namespace', () => {
  it('is ws-<id>-builds, cut and hashed when the workspace id is long', () => {
    expect(buildNamespace(ws)).toBe('ws-acme-builds');
    const long = workspaceConfigFor({ id: 'w'.repeat(60) });
    const ns = buildNamespace(long);
    expect(ns.length).toBeLessThanOrEqual(63);
    expect(isDnsLabel(ns)).toBe(true);
    expect(ns).toMatch(/-builds$/);
    expect(buildNamespace(workspaceConfigFor({ id: 'w'.repeat(59) }))).not.toBe(ns);
  });
});

describe('x1deploy.yaml build and jobs sections', () => {
  it('default when absent, so repos created before them still load', () => {
    const { build: _b, jobs: _j, ...older } = defaultWorkspaceConfig({ id: 'acme' });
    const parsed = WorkspaceConfigSchema.parse(older);
    expect(parsed.build).toEqual(defaultWorkspaceConfig({ id: 'acme' }).build);
    expect(parsed.jobs.enabled).toBe(false);
  });

  it('refuse a Kaniko image that is not pinned by digest', () => {
    const cfg = defaultWorkspaceConfig({ id: 'acme' });
    const result = WorkspaceConfigSchema.safeParse({ ...cfg, build: { kanikoImage: 'ghcr.io/osscontainertools/kaniko:latest' } });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]).toMatchObject({ path: ['build', 'kanikoImage'], message: expect.stringMatching(/pinned by digest/) });
  });

  it('refuse a gitops URL for the jobs that holds credentials', () => {
    const cfg = defaultWorkspaceConfig({ id: 'acme' });
    const result = WorkspaceConfigSchema.safeParse({ ...cfg, jobs: { gitopsRepo: 'https://user:pw@github.com/acme/gitops.git' } });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error!.issues)).not.toContain('pw@');
  });
});

describe('the digest a build pod reports', () => {
  const pod = (exitCode: number, message?: string, createdAt = '2026-01-01T00:00:00Z') => ({
    name: 'p',
    createdAt,
    terminated: { exitCode, message },
  });

  it('is trusted only from a container that exited 0', () => {
    expect(reportedDigest([pod(0, DIGEST)])).toBe(DIGEST);
    expect(reportedDigest([pod(0, `${DIGEST}\n`)])).toBe(DIGEST);
    // Kaniko writes the digest file before pushing: a failed push leaves a digest of nothing.
    expect(reportedDigest([pod(1, DIGEST)])).toBeUndefined();
    expect(reportedDigest([pod(0, 'not a digest')])).toBeUndefined();
    expect(reportedDigest([pod(0, undefined)])).toBeUndefined();
  });

  it('comes from the attempt that succeeded when the Job retried', () => {
    expect(reportedDigest([pod(1, `sha256:${'1'.repeat(64)}`, '2026-01-01T00:00:00Z'), pod(0, DIGEST, '2026-01-01T00:05:00Z')])).toBe(
      DIGEST,
    );
  });
});

describe('pending versions', () => {
  const record = (slug: string, versions: Partial<Version>[]): DeployRecord => ({
    apiVersion: 'x1deploy.dev/v1',
    kind: 'BranchDeploy',
    app: 'api',
    branch: slug,
    slug,
    url: `https://${slug}.api.acme.example.com`,
    status: 'pending',
    created_at: '2026-01-01T00:00:00.000Z',
    versions: versions.map((v, i) => version({ ...v, number: i + 1 })),
  });

  it("come each branch's newest request first, then the oldest request first across branches", () => {
    const targets = pendingTargets(
      [
        record('b', [{ created_at: '2026-01-01T00:01:00.000Z' }, { created_at: '2026-01-01T00:05:00.000Z' }]),
        record('a', [
          { created_at: '2026-01-01T00:03:00.000Z' },
          { status: 'live', digest: DIGEST, created_at: '2026-01-01T00:04:00.000Z' },
        ]),
      ],
      new Map([['api', 'https://github.com/acme/api.git']]),
    );
    expect(targets.map((t) => `${t.slug}/v${t.version.number}`)).toEqual(['a/v1', 'b/v2', 'b/v1']);
    expect(targets[0]!.repo).toBe('https://github.com/acme/api.git');
  });
});

describe('scrubSecrets', () => {
  it('removes credential-shaped text and keeps digests, commit ids and paths', () => {
    const text = [
      `Cloning https://x-access-token:ghs_${'A1b2'.repeat(9)}@github.com/acme/api.git`,
      `token ghp_${'Z9y8'.repeat(9)} leaked`,
      'Authorization: Basic dXNlcjpzZWNyZXRwYXNzd29yZA==',
      '{"auths":{"registry":{"auth":"dXNlcjpzZWNyZXRwYXNzd29yZA=="}}}',
      'PASSWORD=hunter2hunter2 DB_PASSWORD="s3cr3t"',
      'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJlc2lnbmF0dXJl',
      `AKIAIOSFODNN7EXAMPLE and ${'QWxhZGRpbjpvcGVuIHNlc2FtZQ1234567890abcdefXYZ'}`,
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----',
      `pushed ${DIGEST} for ${SHA} from services/api/Dockerfile`,
      '\x1b[31mERROR\x1b[0m exit status 1',
    ].join('\n');
    const out = scrubSecrets(text);
    for (const secret of [
      'ghs_',
      'ghp_',
      'dXNlcjpzZWNyZXRwYXNzd29yZA',
      'hunter2',
      's3cr3t',
      'eyJhbGci',
      'AKIAIOSFODNN7EXAMPLE',
      'QWxhZGRpbjpv',
      'MIIEow',
    ]) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain(`pushed ${DIGEST} for ${SHA} from services/api/Dockerfile`);
    expect(out).toContain('https://[redacted]@github.com/acme/api.git');
    expect(out).toContain('ERROR exit status 1');
    expect(out).not.toContain('\x1b');
  });
});
