import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deployBranch, ObjectNameCollisionError, listBranchDeploys, renderAll } from '../src/deploy/index.js';
import { InvalidRequestError } from '../src/errors/index.js';
import { grantDeploy } from '../src/owners/index.js';
import { RecordFileError } from '../src/records/index.js';
import { recordBuild } from '../src/versions/index.js';
import { FIXED_NOW, git, makeWorkspaceRepo, repoFingerprint, request, SHA_A, SHA_B, storeWith } from './support/workspace-repo.js';

const opts = { agent: 'agent-7', clock: () => FIXED_NOW };

describe('deploy', () => {
  it('writes the record, the version and the rendered files in one commit', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    const before = git(dir, 'rev-parse', 'HEAD');
    const { answer, commit } = await deployBranch(store, request(), opts);

    expect(answer).toMatchObject({ version: 1, status: 'pending-build', image_ref: `registry.localhost:5000/ws/demo/app-api:${SHA_A}` });
    expect(answer.url).toMatch(/^https:\/\/feat-x-[a-z2-7]{8}\.api\.demo\.preview\.localhost$/);
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(commit);
    expect(git(dir, 'rev-parse', 'HEAD~1')).toBe(before);
    expect(git(dir, 'status', '--porcelain')).toBe('');

    const changed = git(dir, 'diff', '--name-only', before, 'HEAD').split('\n').sort();
    const slug = answer.slug;
    expect(changed).toEqual(
      [
        'apps/api/app.yaml',
        `apps/api/branches/${slug}/deploy.yaml`,
        `rendered/api/${slug}/deployment.yaml`,
        `rendered/api/${slug}/ingress.yaml`,
        `rendered/api/${slug}/kustomization.yaml`,
        `rendered/api/${slug}/networkpolicy.yaml`,
        `rendered/api/${slug}/service.yaml`,
        'rendered/_workspace/certificate-api-previews.yaml',
        'rendered/_workspace/kustomization.yaml',
        // The namespace quota grows with the number of apps (each default branch is a deploy).
        'rendered/_workspace/resourcequota-x1deploy-previews.yaml',
      ].sort(),
    );
    const message = git(dir, 'log', '-1', '--format=%B');
    for (const trailer of ['X1-Agent: agent-7', 'X1-App: api', 'X1-Branch: feat/x', 'X1-Version: 1', `X1-Commit: ${SHA_A}`]) {
      expect(message).toContain(trailer);
    }
    expect(git(dir, 'log', '-1', '--format=%(trailers:key=X1-Version,valueonly)')).toBe('1');

    const record = parse(readFileSync(join(dir, `apps/api/branches/${slug}/deploy.yaml`), 'utf8'));
    expect(record).toMatchObject({
      app: 'api',
      branch: 'feat/x',
      slug,
      status: 'pending',
      versions: [{ number: 1, status: 'pending-build', requested_by: 'agent-7' }],
    });
    const deployment = parse(readFileSync(join(dir, `rendered/api/${slug}/deployment.yaml`), 'utf8'));
    expect(deployment.spec.replicas).toBe(0);
  });

  it('is idempotent: the same request again answers the same and makes no commit', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    const first = await deployBranch(store, request(), opts);
    const fp = repoFingerprint(dir);
    const again = await deployBranch(store, { ...request(), commit_sha: SHA_A.toUpperCase() }, opts);
    expect(again.commit).toBeUndefined();
    expect(again.answer).toEqual(first.answer);
    expect(repoFingerprint(dir)).toBe(fp);
  });

  it('a new commit is a new version; a running branch keeps serving its built version', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    const { answer } = await deployBranch(store, request({ replicas: 2 }), opts);
    // Simulate the build job: record a digest for version 1 and commit it the way it will.
    const path = `apps/api/branches/${answer.slug}/deploy.yaml`;
    const { DeployRecordSchema } = await import('../src/records/deploy-record.js');
    const { stringifyRecord } = await import('../src/records/codec.js');
    const { renderBranchDeploy } = await import('../src/render/render-branch-deploy.js');
    const { RepoSnapshot } = await import('../src/records/snapshot.js');
    const snap = await RepoSnapshot.atHead(store);
    const ws = await snap.workspace();
    const built = recordBuild(DeployRecordSchema.parse(parse(readFileSync(join(dir, path), 'utf8'))), 1, {
      digest: `sha256:${'d'.repeat(64)}`,
      built_at: FIXED_NOW.toISOString(),
      now: FIXED_NOW.toISOString(),
    });
    await store.commit({
      parent: snap.commit,
      changes: new Map([[path, stringifyRecord(built)], ...renderBranchDeploy(ws, built)]),
      message: 'build',
      author: { name: 't', email: 't@t' },
    });

    const second = await deployBranch(store, request({ commit_sha: SHA_B, replicas: 2 }), opts);
    expect(second.answer).toMatchObject({ version: 2, status: 'pending-build' });
    const deployment = parse(readFileSync(join(dir, `rendered/api/${answer.slug}/deployment.yaml`), 'utf8'));
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.template.spec.containers[0].image).toBe(
      `registry.localhost:5000/ws/demo/app-api:${SHA_A}@sha256:${'d'.repeat(64)}`,
    );
    expect(deployment.metadata.labels['x1.version']).toBe('1');
    expect(git(dir, 'status', '--porcelain')).toBe('');
  });

  it('refuses an invalid request with every problem and changes nothing', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    const fp = repoFingerprint(dir);
    const err = await deployBranch(
      store,
      { app: 'API', branch: 'a b', commit_sha: 'x', ports: [], replica: 1, env: { TOKEN: 'ghp_' + 'a'.repeat(36) } },
      opts,
    ).catch((e) => e);
    expect(err).toBeInstanceOf(InvalidRequestError);
    const paths = (err as InvalidRequestError).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['app', 'branch', 'commit_sha', 'ports', 'env.TOKEN', '(request)']));
    expect(JSON.stringify((err as InvalidRequestError).issues)).not.toContain('a'.repeat(36));
    expect(repoFingerprint(dir)).toBe(fp);
  });

  it('refuses a request over the workspace limits and changes nothing', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    const fp = repoFingerprint(dir);
    await expect(deployBranch(store, request({ replicas: 4 }), opts)).rejects.toThrow(/limit of 3/);
    expect(repoFingerprint(dir)).toBe(fp);
  });

  it('keeps feat/x and feat-x apart', async () => {
    const { store } = await makeWorkspaceRepo();
    const a = await deployBranch(store, request({ branch: 'feat/x' }), opts);
    const b = await deployBranch(store, request({ branch: 'feat-x' }), opts);
    expect(a.answer.slug).not.toBe(b.answer.slug);
    expect(b.answer.slug).toBe('feat-x');
    const rows = await listBranchDeploys(store);
    expect(rows.map((r) => r.branch).sort()).toEqual(['feat-x', 'feat/x']);
  });

  it('refuses a preview whose object name another app already uses, changing nothing', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    for (const app of ['a', 'a-b'])
      await grantDeploy(store, { agent: 'agent-7', app, branches: '*', mode: 'auto', by: 'owner' }, FIXED_NOW);
    await deployBranch(store, request({ app: 'a', branch: 'b-c' }), opts);
    const fp = repoFingerprint(dir);
    const err = await deployBranch(store, request({ app: 'a-b', branch: 'c' }), opts).catch((e) => e);
    expect(err).toBeInstanceOf(ObjectNameCollisionError);
    expect(err.message).toBe(
      'a-b c would name its objects a-b-c, which a b-c already uses in the namespace; deploy the branch under another name',
    );
    expect(repoFingerprint(dir)).toBe(fp);
  });

  it('a corrupted deploy.yaml gives an error naming the file and field', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    const { answer } = await deployBranch(store, request(), opts);
    const path = `apps/api/branches/${answer.slug}/deploy.yaml`;
    const text = readFileSync(join(dir, path), 'utf8').replace('status: pending-build', 'status: sort-of-built');
    const head = await store.head();
    await store.commit({ parent: head, changes: new Map([[path, text]]), message: 'hand edit', author: { name: 'h', email: 'h@h' } });
    const err = await deployBranch(store, request({ commit_sha: SHA_B }), opts).catch((e) => e);
    expect(err).toBeInstanceOf(RecordFileError);
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toContain('versions.0.status');
  });
});

describe('render and list', () => {
  it('re-renders byte-identically and commits nothing when nothing changed', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    await deployBranch(store, request(), opts);
    await deployBranch(store, request({ branch: 'main', replicas: 2 }), opts);
    const fp = repoFingerprint(dir);
    const result = await renderAll(store);
    expect(result.commit).toBeUndefined();
    expect(result.branchDeploys).toBe(2);
    expect(repoFingerprint(dir)).toBe(fp);
  });

  it('restores hand-edited and removes orphaned rendered files, and changes nothing else, whether or not the store can tell blob ids', async () => {
    const trees: string[] = [];
    for (const withIds of [true, false]) {
      const { dir, store } = await makeWorkspaceRepo();
      const { answer } = await deployBranch(store, request(), opts);
      await deployBranch(store, request({ branch: 'main', replicas: 2 }), opts);
      const deploymentPath = `rendered/api/${answer.slug}/deployment.yaml`;
      const original = readFileSync(join(dir, deploymentPath), 'utf8');
      await store.commit({
        parent: await store.head(),
        changes: new Map([
          [deploymentPath, original.replace('replicas: 0', 'replicas: 5')],
          ['rendered/api/gone/deployment.yaml', 'kind: Deployment\n'],
        ]),
        message: 'hand edit',
        author: { name: 'h', email: 'h@h' },
      });
      // storeWith keeps only the required methods: no fileId, no fileIds.
      const result = await renderAll(withIds ? store : storeWith(store, {}));
      expect(result.commit).toBeDefined();
      expect(git(dir, 'diff', '--name-only', 'HEAD~1', 'HEAD').split('\n').sort()).toEqual([deploymentPath, 'rendered/api/gone/deployment.yaml']);
      expect(readFileSync(join(dir, deploymentPath), 'utf8')).toBe(original);
      expect(existsSync(join(dir, 'rendered/api/gone'))).toBe(false);
      expect(git(dir, 'status', '--porcelain')).toBe('');
      trees.push(git(dir, 'rev-parse', 'HEAD^{tree}'));
    }
    expect(trees[1]).toBe(trees[0]);
  });

  it('lists each branch deploy', async () => {
    const { store } = await makeWorkspaceRepo();
    await deployBranch(store, request(), opts);
    const rows = await listBranchDeploys(store);
    expect(rows).toEqual([
      expect.objectContaining({
        app: 'api',
        branch: 'feat/x',
        version: 1,
        status: 'pending-build',
        current_version: null,
        image_ref: `registry.localhost:5000/ws/demo/app-api:${SHA_A}`,
      }),
    ]);
  });
});
