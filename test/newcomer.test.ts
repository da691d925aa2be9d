// A newcomer's path: each surprise a new user met, as a test (issue: "A newcomer's path without
// surprises"). The CLI runs in process; the repos are real.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { kanikoGitContext } from '../src/build/index.js';
import { deployBranch } from '../src/deploy/index.js';
import { grantDeploy } from '../src/owners/index.js';
import { LISTING_GRACE_MS, planReap } from '../src/reap/index.js';
import type { DeployRecord, GitopsStore } from '../src/records/index.js';
import { branchSlug } from '../src/spec/index.js';
import { cliInProcess as cli } from './support/cli-in-process.js';
import { FIXED_NOW, git, makeWorkspaceRepo, repoFingerprint, request, SHA_A, SHA_B, tempDir } from './support/workspace-repo.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLE = join(ROOT, 'examples', 'requests', 'api-feature.yaml');

function requestFile(body: Record<string, unknown>): string {
  const file = join(tempDir(), 'request.json');
  writeFileSync(file, JSON.stringify(body));
  return file;
}

describe('a newcomer', () => {
  let dir: string;
  let store: GitopsStore;
  beforeEach(async () => {
    ({ dir, store } = await makeWorkspaceRepo());
  });

  it('1. deploys the worked example and gets an app that can be built (its request names the source repo)', async () => {
    const r = await cli(['deploy', EXAMPLE, '--repo', dir, '--agent', 'agent-7', '--json']);
    expect(r.code).toBe(0);
    const answer = JSON.parse(r.stdout);
    expect(answer.warnings).toBeUndefined();
    const app = parse(readFileSync(join(dir, 'apps/api/app.yaml'), 'utf8'));
    expect(app.repo).toMatch(/^https:\/\//);
    expect(() => kanikoGitContext('api', app.repo, answer.branch, answer.image_ref.split(':').pop())).not.toThrow();
  });

  it('1. is warned at deploy time when the app has no source repo, with what to do', async () => {
    const r = await cli(['deploy', requestFile(request()), '--repo', dir, '--agent', 'agent-7', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).warnings).toEqual([expect.stringMatching(/app api has no source repo.*deploy again with "repo"/)]);
    const text = await cli(['deploy', requestFile(request({ branch: 'feat/y' })), '--repo', dir, '--agent', 'agent-7']);
    expect(text.stdout).toMatch(/warning: app api has no source repo/);
  });

  it('2. adds the repo by deploying the same commit again with it; a different repo is refused', async () => {
    await deployBranch(store, request(), { agent: 'agent-7' });
    const again = await cli([
      'deploy',
      requestFile(request({ repo: 'https://github.com/acme/api.git' })),
      '--repo',
      dir,
      '--agent',
      'agent-7',
      '--json',
    ]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).commit).toMatch(/^[0-9a-f]{40}$/);
    expect(parse(readFileSync(join(dir, 'apps/api/app.yaml'), 'utf8')).repo).toBe('https://github.com/acme/api.git');
    expect(git(dir, 'log', '-1', '--format=%s')).toBe('Record the source repo of api');
    const fp = repoFingerprint(dir);
    const other = await cli([
      'deploy',
      requestFile(request({ repo: 'https://github.com/acme/other.git' })),
      '--repo',
      dir,
      '--agent',
      'agent-7',
      '--json',
    ]);
    expect(other.code).toBe(1);
    expect(JSON.parse(other.stdout)).toMatchObject({
      kind: 'invalid',
      issues: [{ path: 'repo', message: expect.stringMatching(/one app is one source repo/) }],
    });
    expect(repoFingerprint(dir)).toBe(fp);
  });

  it('3. re-granting without --mode keeps an auto grant auto; granting and revoking twice both say "already so" and exit 0', async () => {
    const again = await cli(['grant', '--repo', dir, '--agent', 'agent-7', '--app', 'api', '--branches', '*', '--by', 'owner', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ commit: null, summary: expect.stringMatching(/already holds an auto grant/) });
    const first = await cli(['revoke', '--repo', dir, '--agent', 'agent-7', '--app', 'api', '--by', 'owner', '--json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).commit).toMatch(/^[0-9a-f]{40}$/);
    const second = await cli(['revoke', '--repo', dir, '--agent', 'agent-7', '--app', 'api', '--by', 'owner']);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/revoked already; nothing changed/);
    const never = await cli(['revoke', '--repo', dir, '--agent', 'agent-99', '--app', 'api', '--by', 'owner']);
    expect(never.code).toBe(1);
  });

  it('4. sees review-mode deploys in list and history, marked proposed, with their gitops branch', async () => {
    await grantDeploy(store, { agent: 'agent-8', app: 'web', branches: '*', mode: 'review', by: 'owner' }, FIXED_NOW);
    await deployBranch(store, request({ app: 'web', branch: 'feat/new' }), { agent: 'agent-8' });
    const gitopsBranch = `x1deploy/web/${branchSlug('web', 'feat/new')}`;
    const list = JSON.parse((await cli(['list', '--repo', dir, '--json'])).stdout);
    expect(list).toEqual([
      expect.objectContaining({
        app: 'web',
        branch: 'feat/new',
        status: 'proposed',
        proposal: { version: 1, gitops_branch: gitopsBranch },
      }),
    ]);
    const history = JSON.parse((await cli(['history', '--repo', dir, '--app', 'web', '--branch', 'feat/new', '--json'])).stdout);
    expect(history.proposal).toEqual({ version: 1, gitops_branch: gitopsBranch });
    expect(history.versions).toEqual([expect.objectContaining({ number: 1, status: 'pending-build', proposed: true })]);
    const table = (await cli(['list', '--repo', dir])).stdout;
    expect(table).toMatch(new RegExp(`v1 on ${gitopsBranch}`));
  });

  it('5. reads tables with a header, one line per row, the served version apart from the newest attempt', async () => {
    const { store: s } = { store };
    await deployBranch(s, request(), { agent: 'agent-7' });
    await deployBranch(s, request({ commit_sha: SHA_B }), { agent: 'agent-7' });
    const list = (await cli(['list', '--repo', dir])).stdout.trimEnd().split('\n');
    expect(list[0]).toMatch(/^APP\s+BRANCH\s+SERVING\s+NEWEST\s+PROPOSED\s+URL$/);
    expect(list).toHaveLength(2);
    expect(list[1]).toMatch(/^api\s+feat\/x\s+-\s+v2 pending-build\s+-\s+https:/);
    const grants = (await cli(['grants', '--repo', dir])).stdout.trimEnd().split('\n');
    expect(grants[0]).toMatch(/^AGENT\s+APP\s+BRANCHES\s+MODE\s+STATE$/);
    // A column starts at the same place on every row.
    const at = grants[0]!.indexOf('MODE');
    for (const row of grants.slice(1)) expect(row.slice(at, at + 4)).toMatch(/auto|revi/);
  });

  it('5. keeps a multi-line failure reason on one history line', async () => {
    const { recordBuildOutcome } = await import('../src/build/index.js');
    await deployBranch(store, request(), { agent: 'agent-7' });
    await recordBuildOutcome(
      store,
      { app: 'api', slug: branchSlug('api', 'feat/x'), version: 1 },
      { ok: false, reason: 'build Job failed\nline 2\nline 3' },
    );
    const out = (await cli(['history', '--repo', dir, '--app', 'api', '--branch', 'feat/x'])).stdout.trimEnd().split('\n');
    expect(out[1]).toMatch(/^\s*VERSION\s+STATUS/);
    expect(out[2]).toMatch(/v1\s+failed\s+.*build Job failed …$/);
    expect(out).toHaveLength(4);
  });

  it('6. gets plain messages with an example, and "did you mean" for a near field name', async () => {
    const bad = await cli([
      'deploy',
      requestFile({ ...request(), resources: { cpu: 64 }, replica: 2 }),
      '--repo',
      dir,
      '--agent',
      'agent-7',
      '--json',
    ]);
    const issues = JSON.parse(bad.stdout).issues as { path: string; message: string }[];
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'resources.cpu', message: 'must be text such as "250m" or "1" (got a number)' },
        { path: '(request)', message: expect.stringMatching(/^unknown field "replica" \(did you mean "replicas"\?\)/) },
      ]),
    );
    for (const i of issues) expect(i.message).not.toMatch(/Invalid input|expected \w+, received/);
    await deployBranch(store, request(), { agent: 'agent-7' });
    const rollback = await cli(['rollback', '--repo', dir, '--app', 'api', '--branch', 'feat/x', '--to', 'abc', '--agent', 'agent-7']);
    expect(rollback.code).toBe(1);
  });

  it('7. is told that verify checks the commit when the work tree holds an uncommitted edit', async () => {
    await deployBranch(store, request(), { agent: 'agent-7' });
    expect((await cli(['verify', '--repo', dir])).code).toBe(0);
    const file = join(dir, 'rendered/api', branchSlug('api', 'feat/x'), 'deployment.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('replicas: 0', 'replicas: 50'));
    const r = await cli(['verify', '--repo', dir, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).problems).toEqual([
      expect.objectContaining({
        kind: 'uncommitted',
        path: `rendered/api/${branchSlug('api', 'feat/x')}/deployment.yaml`,
        message: expect.stringMatching(/verify checks the checked-out commit/),
      }),
    ]);
  });

  it('8. sees which previews the reaper skipped for the grace window, and why', () => {
    const deployedAt = new Date(FIXED_NOW.getTime() - LISTING_GRACE_MS / 2).toISOString();
    const record = {
      apiVersion: 'x1deploy.dev/v1',
      kind: 'BranchDeploy',
      app: 'api',
      branch: 'feat/gone',
      slug: 'feat-gone-x',
      url: 'https://feat-gone-x.api.demo.preview.localhost',
      status: 'pending',
      created_at: deployedAt,
      versions: [
        {
          number: 1,
          commit_sha: SHA_A,
          image_ref: 'r/a:1',
          status: 'pending-build',
          requested_by: 'a',
          created_at: deployedAt,
          spec: { dockerfile: 'Dockerfile', ports: [1] },
        },
      ],
    } as DeployRecord;
    const app = {
      apiVersion: 'x1deploy.dev/v1',
      kind: 'App',
      name: 'api',
      repo: 'https://github.com/acme/api.git',
      default_branch: 'main',
      created_by: 'a',
      created_at: deployedAt,
    } as const;
    const plan = planReap({
      records: [record],
      apps: new Map([['api', app]]),
      listings: new Map([[app.repo, { complete: true, branches: new Set(['main']), notModified: false, requests: 1 }]]),
      now: FIXED_NOW,
    });
    expect(plan.reap).toEqual([]);
    expect(plan.skipped).toEqual([
      expect.objectContaining({
        app: 'api',
        branch: 'feat/gone',
        check: 'branch-gone',
        why: expect.stringMatching(/deployed within 10 minutes/),
      }),
    ]);
  });

  it('9. init names the flag the user typed, once, and says what to do about the placeholder gitops URL', async () => {
    const bad = await cli(['init', join(tempDir(), 'w'), '--workspace', 'Bad_Id', '--json']);
    expect(bad.code).toBe(1);
    const issues = JSON.parse(bad.stdout).issues;
    expect(issues).toEqual([{ path: 'workspace.id', message: expect.stringMatching(/\(from --workspace\)$/) }]);
    const ok = await cli(['init', join(tempDir(), 'w2'), '--json']);
    expect(JSON.parse(ok.stdout).next_steps).toEqual([expect.stringMatching(/placeholder: push this repo.*--gitops-url/)]);
    const given = await cli(['init', join(tempDir(), 'w3'), '--gitops-url', 'https://github.com/acme/gitops.git', '--json']);
    expect(JSON.parse(given.stdout).next_steps).toBeUndefined();
  });

  it('10. finds in the README the request the example file really holds', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const example = readFileSync(EXAMPLE, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'));
    const block = /```yaml\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('The request (`examples/requests/api-feature.yaml`)')))![1]!;
    expect(block.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))).toEqual(
      example.map((l) => l.replace(/\s+#.*$/, '')),
    );
  });
});
