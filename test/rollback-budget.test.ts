import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { recordBuildOutcome } from '../src/build/index.js';
import { deployBranch, RollbackRefusedError, branchHistory, rollbackBranch } from '../src/deploy/index.js';
import { DeniedError, InvalidRequestError } from '../src/errors/index.js';
import type { GitopsStore } from '../src/records/index.js';
import { renderWorkspace } from '../src/render/index.js';
import { workspaceConfigFor } from '../src/owners/index.js';
import { runCli } from './support/cli.js';
import { expectValidManifests, loadManifestValidator } from './support/manifest-validator.js';
import { git, makeWorkspaceRepo, repoFingerprint, request, updateWorkspaceConfig } from './support/workspace-repo.js';

const agent = { agent: 'agent-7' };
const sha = (c: string) => c.repeat(40);
const digest = (c: string) => `sha256:${c.repeat(64)}`;

async function deployAndBuild(store: GitopsStore, commit: string, built: string | null) {
  const { answer } = await deployBranch(store, request({ commit_sha: commit }), agent);
  if (built) await recordBuildOutcome(store, { app: 'api', slug: answer.slug, version: answer.version }, { ok: true, digest: built });
  return answer;
}

function deployment(dir: string, slug: string) {
  return parse(readFileSync(join(dir, `rendered/api/${slug}/deployment.yaml`), 'utf8'));
}

describe('versions and rollback', () => {
  let dir: string;
  let store: GitopsStore;
  let slug: string;

  beforeAll(async () => {
    ({ dir, store } = await makeWorkspaceRepo());
    slug = (await deployAndBuild(store, sha('a'), digest('1'))).slug; // v1 built
    await deployAndBuild(store, sha('b'), digest('2')); // v2 built, current
    await deployAndBuild(store, sha('c'), null); // v3 pending
  });

  it('history lists the versions newest first', async () => {
    const h = await branchHistory(store, 'api', 'feat/x');
    expect(h.versions.map((v) => [v.number, v.status])).toEqual([
      [3, 'pending-build'],
      [2, 'live'],
      [1, 'superseded'],
    ]);
    expect(h.current_version).toBe(2);
    expect(deployment(dir, slug).spec.template.spec.containers[0].image).toContain(`@${digest('2')}`);
  });

  it('refuses versions that do not exist, were never built or are current, and changes nothing', async () => {
    const fp = repoFingerprint(dir);
    await expect(rollbackBranch(store, { app: 'api', branch: 'feat/x', to: 9 }, agent)).rejects.toThrow(
      'has no version 9; its versions are 1-3',
    );
    await expect(rollbackBranch(store, { app: 'api', branch: 'feat/x', to: 3 }, agent)).rejects.toThrow(
      'version 3 of api feat/x was never built (pending-build)',
    );
    await expect(rollbackBranch(store, { app: 'api', branch: 'feat/x', to: 2 }, agent)).rejects.toBeInstanceOf(RollbackRefusedError);
    await expect(rollbackBranch(store, { app: 'api', branch: 'feat/x' }, { agent: 'agent-9' })).rejects.toBeInstanceOf(DeniedError);
    expect(repoFingerprint(dir)).toBe(fp);
  });

  it('rolls back to the previous built version by default: one commit, no build, pinned by digest', async () => {
    const before = git(dir, 'rev-parse', 'HEAD');
    const { answer, commit } = await rollbackBranch(store, { app: 'api', branch: 'feat/x' }, agent);
    expect(answer).toMatchObject({
      version: 1,
      previous_version: 2,
      image_ref: `registry.localhost:5000/ws/demo/app-api:${sha('a')}@${digest('1')}`,
    });
    expect(git(dir, 'rev-parse', 'HEAD~1')).toBe(before);
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(commit);
    expect(git(dir, 'log', '-1', '--format=%s')).toBe('Roll back api feat/x to version 1 (from 2)');
    const d = deployment(dir, slug);
    expect(d.spec.template.spec.containers[0].image).toBe(answer.image_ref);
    expect(d.metadata.labels['x1.version']).toBe('1');
    const h = await branchHistory(store, 'api', 'feat/x');
    // The pending v3 would roll the branch forward when its build lands: the rollback supersedes it.
    expect(h.versions.map((v) => [v.number, v.status])).toEqual([
      [3, 'superseded'],
      [2, 'superseded'],
      [1, 'live'],
    ]);
    expect(await recordBuildOutcome(store, { app: 'api', slug, version: 3 }, { ok: true, digest: digest('3') })).toBeUndefined();
  });

  it('rolls forward to a named built version through the CLI', () => {
    const r = runCli(['rollback', '--repo', dir, '--app', 'api', '--branch', 'feat/x', '--to', '2', '--agent', 'agent-7', '--json']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ version: 2, previous_version: 1 });
    const history = JSON.parse(runCli(['history', '--repo', dir, '--app', 'api', '--branch', 'feat/x', '--json']).stdout);
    expect(history.current_version).toBe(2);
    expect(runCli(['rollback', '--repo', dir, '--app', 'api', '--branch', 'feat/x', '--to', 'two', '--agent', 'agent-7']).code).not.toBe(0);
  });

  it('a failed build keeps the branch on its current version', async () => {
    const { answer } = await deployBranch(store, request({ commit_sha: sha('d') }), agent);
    await recordBuildOutcome(store, { app: 'api', slug, version: answer.version }, { ok: false, reason: 'exit 1: COPY failed' });
    const h = await branchHistory(store, 'api', 'feat/x');
    expect(h.current_version).toBe(2);
    expect(h.versions[0]).toMatchObject({ status: 'failed', failure: 'exit 1: COPY failed' });
    expect(deployment(dir, slug).spec.template.spec.containers[0].image).toContain(`@${digest('2')}`);
  });
});

describe('budgets', () => {
  async function limitedRepo(maxBranchDeploys: number) {
    const repo = await makeWorkspaceRepo();
    await updateWorkspaceConfig(repo.store, (ws) => ({ ...ws, limits: { ...ws.limits, maxBranchDeploys } }));
    return repo;
  }

  it('allows previews up to the limit, denies one over with the count, always allows redeploys and the default branch', async () => {
    const { dir, store } = await limitedRepo(2);
    await deployBranch(store, request({ branch: 'feat/a' }), agent);
    await deployBranch(store, request({ branch: 'feat/b' }), agent); // at the limit
    const fp = repoFingerprint(dir);
    const err = await deployBranch(store, request({ branch: 'feat/c' }), agent).catch((e) => e);
    expect(err).toBeInstanceOf(DeniedError);
    expect(err.reason).toBe(
      'workspace demo is at its limit of 2 concurrent branch deploys (limits.maxBranchDeploys in x1deploy.yaml; 2 exist, default branches not counted); redeploy an existing branch or have one reaped first',
    );
    expect(repoFingerprint(dir)).toBe(fp);
    expect((await deployBranch(store, request({ branch: 'feat/a', commit_sha: sha('e') }), agent)).answer.version).toBe(2);
    expect((await deployBranch(store, request({ branch: 'main' }), agent)).answer.version).toBe(1);
    // Previews of another app count against the same workspace budget.
    await expect(deployBranch(store, request({ app: 'web', branch: 'feat/a' }), agent)).rejects.toBeInstanceOf(DeniedError);
  });

  it('renders a ResourceQuota and LimitRange from the limits that validate against the upstream schemas', async () => {
    const ws = workspaceConfigFor({});
    const objects = [...renderWorkspace(ws, ['api', 'web'])].filter(([p]) => !p.endsWith('kustomization.yaml')).map(([, t]) => parse(t));
    const quota = objects.find((o) => o.kind === 'ResourceQuota');
    // (10 previews + 2 default branches) × 3 replicas × (1 cpu, 1Gi) + headroom (2 cpu, 4Gi, 10 pods)
    expect(quota.spec.hard).toEqual({
      pods: '46',
      'requests.cpu': '38000m',
      'limits.cpu': '38000m',
      'requests.memory': '40960Mi',
      'limits.memory': '40960Mi',
      'services.loadbalancers': '0',
      'services.nodeports': '0',
    });
    const limitRange = objects.find((o) => o.kind === 'LimitRange');
    expect(limitRange.spec.limits[0]).toEqual({
      type: 'Container',
      defaultRequest: { cpu: '50m', memory: '128Mi' },
      default: { cpu: '500m', memory: '512Mi' },
    });
    expectValidManifests(await loadManifestValidator(), objects);
  });
});

describe('one app, one source repo', () => {
  it('records the repo of the first deploy and refuses another', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    await deployBranch(store, request({ repo: 'https://github.com/acme/api.git' }), agent);
    expect(parse(readFileSync(join(dir, 'apps/api/app.yaml'), 'utf8'))).toMatchObject({
      repo: 'https://github.com/acme/api.git',
      default_branch: 'main',
      created_by: 'agent-7',
    });
    const fp = repoFingerprint(dir);
    const err = await deployBranch(store, request({ branch: 'feat/y', repo: 'https://github.com/acme/other.git' }), agent).catch((e) => e);
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect(err.issues[0]).toMatchObject({ path: 'repo', message: expect.stringContaining('one app is one source repo') });
    expect(repoFingerprint(dir)).toBe(fp);
    await expect(
      deployBranch(store, request({ branch: 'feat/y', repo: 'https://user:pw@github.com/acme/api.git' }), agent),
    ).rejects.toBeInstanceOf(InvalidRequestError);
  });
});
