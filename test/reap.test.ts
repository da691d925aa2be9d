// x1deploy reap: branches gone upstream, against a local GitHub-speaking server (octokit, ETags),
// local git repos (git ls-remote) and a real registry (docker-registry on 127.0.0.1).
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordBuildOutcome } from '../src/build/index.js';
import { deployBranch, newBranchDeploy } from '../src/deploy/index.js';
import type { GitopsStore, AppRecord, DeployRecord } from '../src/records/index.js';
import { registryClient as manifestStore } from '../src/registry/index.js';
import { planReap, reapPreviews, type ReapOptions, type ReapResult, type ReapSources } from '../src/reap/index.js';
import type { HostTraffic } from '../src/traffic/index.js';
import { BranchListingError, branchSourceFor, MemoryEtagCache, type BranchListing, type BranchSource } from '../src/scm/index.js';
import { branchSlug, deployRequestSchema } from '../src/spec/index.js';
import type { WorkspaceConfig } from '../src/workspace/index.js';
import { workspaceConfigFor } from '../src/owners/index.js';
import { runCliAsync } from './support/cli.js';
import { startFakeGitHub, type FakeGitHub } from './support/fake-github.js';
import { skipWithoutRegistry, startRegistry, type TestRegistry } from './support/registry.js';
import {
  FIXED_NOW,
  git,
  makeWorkspaceRepo,
  repoFingerprint,
  request,
  SHA_A,
  SHA_B,
  tempDir,
  updateWorkspaceConfig,
} from './support/workspace-repo.js';
import { freePort } from './support/free-port.js';

const SHA_C = '3'.repeat(40);
const DAY = 86_400_000;
const LATER = new Date(FIXED_NOW.getTime() + DAY);
// Random per run, so a match in any output can only be a leak.
const TOKEN = `ghp_${randomBytes(18).toString('hex')}`;
const NO_REGISTRY = skipWithoutRegistry();

let fake: FakeGitHub;
let registry: TestRegistry | undefined;
let closedPort: number;
let workspaces = 0;
const warnings: string[] = [];

beforeAll(async () => {
  [fake, registry, closedPort] = await Promise.all([
    startFakeGitHub({ tokens: [TOKEN] }),
    NO_REGISTRY ? undefined : startRegistry(),
    freePort(),
  ]);
});
afterAll(async () => {
  await Promise.all([fake?.close(), registry?.stop()]);
});
afterEach(() => {
  const seen = [...fake.violations];
  fake.violations.length = 0;
  expect(seen).toEqual([]);
  for (const line of warnings.splice(0)) expect(line).not.toContain(TOKEN);
});

async function workspace(registryHost = registry?.host ?? `127.0.0.1:${closedPort}`) {
  const id = `acme${++workspaces}`;
  const { dir, store } = await makeWorkspaceRepo({ id, registry: registryHost });
  return { id, dir, store };
}

async function deploy(store: GitopsStore, app: string, branch: string, commit: string, repo?: string) {
  const { answer } = await deployBranch(store, request({ app, branch, commit_sha: commit, ...(repo ? { repo } : {}) }), {
    agent: 'agent-7',
    clock: () => FIXED_NOW,
  });
  return answer;
}

// One cache for the file, as one kept between daily sweeps: each test's repos have their own keys.
const etagCache = new MemoryEtagCache();

function sources(options: { githubApi?: string; wrap?: (source: BranchSource) => BranchSource } = {}): ReapSources {
  return {
    branchSource: (url) => {
      const source = branchSourceFor(url, {
        github: {
          token: TOKEN,
          baseUrl: options.githubApi ?? fake.baseUrl,
          webHost: 'github.com',
          userAgent: 'x1deploy-test',
          etagCache,
          log: { warn: (line) => warnings.push(line) },
          retry: { timeUnitMs: 1 },
        },
      });
      return options.wrap ? options.wrap(source) : source;
    },
    registry: manifestStore({ insecure: true }),
  };
}

function reap(store: GitopsStore, options: Partial<ReapOptions> = {}): Promise<ReapResult> {
  return reapPreviews(store, { sources: sources(), clock: () => LATER, ...options });
}

/** A local source repo with these branches (its default branch is main), listed by git ls-remote. */
function sourceRepo(branches: readonly string[]): { url: string; remove(branch: string): void } {
  const dir = tempDir('x1deploy-source-');
  const run = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, stdio: 'pipe' });
  run(dir, 'init', '-q', '-b', 'main', 'work');
  run(join(dir, 'work'), 'commit', '-q', '--allow-empty', '-m', 'first');
  for (const branch of branches) run(join(dir, 'work'), 'branch', branch);
  run(dir, 'clone', '-q', '--bare', 'work', 'source.git');
  const bare = join(dir, 'source.git');
  return { url: `file://${bare}`, remove: (branch) => void run(bare, 'branch', '-D', branch) };
}

function committedPaths(dir: string, commit = 'HEAD'): string[] {
  return git(dir, 'show', '--name-status', '--format=', commit).split('\n').filter(Boolean);
}

/** The real CLI, waited for without blocking: the fake GitHub it talks to runs in this process. */
const runCli = (args: readonly string[], env: Record<string, string>) => runCliAsync(args, { env });

const patchWorkspace = (store: GitopsStore, patch: (ws: WorkspaceConfig) => WorkspaceConfig) => updateWorkspaceConfig(store, patch);

// ---------------------------------------------------------------------------------------------------

describe('planReap (pure)', () => {
  const ws = workspaceConfigFor({ id: 'plan' });
  const REPO = 'https://github.com/acme/api';
  const app: AppRecord = {
    apiVersion: 'x1deploy.dev/v1',
    kind: 'App',
    name: 'api',
    repo: REPO,
    default_branch: 'main',
    created_by: 'agent-7',
    created_at: FIXED_NOW.toISOString(),
  };
  const record = (branch: string, at = FIXED_NOW, appName = 'api'): DeployRecord =>
    newBranchDeploy(ws, deployRequestSchema(ws.limits).parse(request({ app: appName, branch })), branchSlug(appName, branch), {
      agent: 'agent-7',
      now: at.toISOString(),
    });
  const listing = (...branches: string[]): BranchListing => ({
    complete: true,
    branches: new Set(branches),
    notModified: false,
    requests: 1,
  });
  const hostOf = (r: DeployRecord) => new URL(r.url).hostname;

  it('reaps a branch missing from a complete listing, never the default branch, and not a deploy newer than the listing', () => {
    const records = [record('main'), record('feat/gone'), record('feat/here'), record('feat/new', new Date(LATER.getTime() - 60_000))];
    const plan = planReap({ records, apps: new Map([['api', app]]), listings: new Map([[REPO, listing('feat/here')]]), now: LATER });
    expect(plan.reap.map((i) => [i.branch, i.reason])).toEqual([['feat/gone', 'branch-gone']]);
    expect(plan.reap[0]!.detail).toContain(`not among the 1 branches of ${REPO}`);
    // The deploy newer than the listing is kept, and the plan says why.
    expect(plan).toMatchObject({
      previews: 3,
      maxDeletions: 1,
      stoppedByLimit: false,
      skipped: [{ app: 'api', branch: 'feat/new', check: 'branch-gone', why: expect.stringMatching(/deployed within 10 minutes/) }],
    });
  });

  it('a failed listing, a repo not listed and an app without a repo or record reap nothing', () => {
    const records = [record('feat/a'), record('feat/b', FIXED_NOW, 'web'), record('feat/c', FIXED_NOW, 'docs')];
    const apps = new Map<string, AppRecord>([
      ['api', app],
      ['web', { ...app, name: 'web', repo: undefined }],
    ]);
    const failed = new BranchListingError(REPO, 'truncated', 'the pages stopped at 2 of the 3 GitHub announced');
    for (const listings of [new Map([[REPO, failed]]), new Map()]) {
      const plan = planReap({ records, apps, listings, now: LATER });
      expect(plan.reap).toEqual([]);
      expect(plan.skipped.map((s) => [s.app, s.check])).toEqual([
        ['api', 'branch-gone'],
        ['web', 'branch-gone'],
        ['docs', 'branch-gone'],
        ['docs', 'idle'],
      ]);
    }
    const plan = planReap({ records, apps, listings: new Map([[REPO, failed]]), now: LATER });
    expect(plan.skipped[0]!.why).toMatch(/truncated|stopped at 2 of the 3/);
    expect(plan.skipped[1]!.why).toMatch(/names no source repo/);
  });

  it('idle: only an idle host older than the window; no data, active, young and default are kept; a traffic error reaps nothing', () => {
    const old = new Date(LATER.getTime() - 10 * DAY);
    const [main, quiet, busy, fresh, young] = [
      record('main', old),
      record('quiet', old),
      record('busy', old),
      record('fresh', old),
      record('young', new Date(LATER.getTime() - DAY)),
    ] as const;
    const traffic = new Map<string, HostTraffic>([
      [hostOf(main), 'idle'],
      [hostOf(quiet), 'idle'],
      [hostOf(busy), 'active'],
      [hostOf(young), 'idle'],
    ]);
    const input = {
      records: [main, quiet, busy, fresh, young],
      apps: new Map([['api', { ...app, repo: undefined }]]),
      listings: new Map(),
      idleDays: 7,
      now: LATER,
    };
    const plan = planReap({ ...input, traffic });
    expect(plan.reap.map((i) => [i.branch, i.reason])).toEqual([['quiet', 'idle']]);
    expect(plan.reap[0]!.detail).toContain(`${hostOf(quiet)} served no HTTP request in the last 7 days`);

    const down = planReap({ ...input, traffic: new Error('cannot read preview traffic from Prometheus') });
    expect(down.reap).toEqual([]);
    expect(down.skipped).toContainEqual({ app: 'api', check: 'idle', why: 'cannot read preview traffic from Prometheus' });
    // Idle reaping is off without idleDays, whatever the traffic says.
    expect(planReap({ ...input, idleDays: undefined, traffic }).reap).toEqual([]);
  });

  it('stops past a quarter of the previews (at least 1) unless forced or given a higher limit', () => {
    const records = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].map((b) => record(`feat/${b}`));
    const apps = new Map([['api', app]]);
    const listings = new Map([[REPO, listing('main', 'feat/a', 'feat/b', 'feat/c', 'feat/d', 'feat/e', 'feat/f')]]);
    const plan = planReap({ records, apps, listings, now: LATER });
    expect(plan).toMatchObject({ previews: 9, maxDeletions: 2, stoppedByLimit: true });
    expect(plan.reap).toHaveLength(3);
    expect(planReap({ records, apps, listings, now: LATER, force: true }).stoppedByLimit).toBe(false);
    expect(planReap({ records, apps, listings, now: LATER, maxDeletions: 3 }).stoppedByLimit).toBe(false);
    expect(planReap({ records: records.slice(0, 2), apps, listings: new Map([[REPO, listing('main')]]), now: LATER })).toMatchObject({
      maxDeletions: 1,
      stoppedByLimit: true,
    });
  });
});

describe('reapPreviews: branches gone upstream', () => {
  it.skipIf(NO_REGISTRY)(
    'reaps a branch deleted upstream in one commit, deletes its image by digest, never the default branch',
    async () => {
      const { id, dir, store } = await workspace();
      const upstream = fake.state.addRepo(`acme/${id}`, { branches: ['feat/x', 'feat/y'] });
      const repoUrl = `https://github.com/acme/${id}`;
      const main = await deploy(store, 'api', 'main', SHA_C, repoUrl);
      const gone = await deploy(store, 'api', 'feat/x', SHA_A);
      await deploy(store, 'api', 'feat/y', SHA_B);
      const image = `ws/${id}/app-api`;
      const digests = { a: await registry!.pushImage(image, SHA_A), b: await registry!.pushImage(image, SHA_B) };
      await registry!.pushImage(image, SHA_C);
      await recordBuildOutcome(store, { app: 'api', slug: gone.slug, version: 1 }, { ok: true, digest: digests.a }, FIXED_NOW);
      // feat/x goes; so does main, which as the default branch is kept all the same.
      upstream.branches.delete('feat/x');
      upstream.branches.delete('main');
      const commitsBefore = Number(git(dir, 'rev-list', '--count', 'HEAD'));

      const result = await reap(store);

      expect(result.plan.reap).toEqual([
        {
          app: 'api',
          branch: 'feat/x',
          slug: gone.slug,
          url: gone.url,
          reason: 'branch-gone',
          detail: `branch feat/x is not among the 1 branches of ${repoUrl} in a complete listing`,
        },
      ]);
      expect(result.listings).toEqual([
        // The second listing, right after the first, is answered 304.
        { repo: repoUrl, outcome: 'complete', branches: 1, requests: 2, notModified: false, confirmed: true },
      ]);
      expect(Number(git(dir, 'rev-list', '--count', 'HEAD'))).toBe(commitsBefore + 1);
      expect(result.commit).toBe(git(dir, 'rev-parse', 'HEAD'));
      const removed = committedPaths(dir);
      expect(removed.length).toBeGreaterThan(2);
      for (const line of removed) expect(line).toMatch(new RegExp(`^D\\t(apps/api/branches|rendered/api)/${gone.slug}/`));
      expect(existsSync(join(dir, 'apps/api/branches', gone.slug))).toBe(false);
      expect(existsSync(join(dir, 'rendered/api', gone.slug))).toBe(false);
      expect(existsSync(join(dir, 'rendered/api', main.slug))).toBe(true);
      expect(git(dir, 'status', '--porcelain')).toBe('');
      expect(git(dir, 'log', '-1', '--format=%an <%ae>%n%s')).toBe(
        'x1deploy-reaper <reap@x1deploy>\nReap 1 branch deploy (1 branch gone upstream)',
      );
      expect(git(dir, 'log', '-1', '--format=%(trailers:key=X1-Reaped,valueonly)')).toBe('api feat/x branch-gone');
      expect(git(dir, 'log', '-1', '--format=%B')).toContain(`- api feat/x (${gone.slug}): branch-gone: branch feat/x is not among`);

      expect(result.images).toEqual([{ repository: `${registry!.host}/${image}`, digest: digests.a, tags: [SHA_A], outcome: 'deleted' }]);
      expect(await registry!.tagDigest(image, SHA_A)).toBeUndefined();
      expect(await registry!.tagDigest(image, SHA_B)).toBe(digests.b);
      expect(await registry!.tagDigest(image, SHA_C)).toBeDefined();

      // Nothing left to reap: the next sweep changes nothing, and its unchanged listing is all 304s.
      const again = await reap(store);
      expect(again.plan.reap).toEqual([]);
      expect(again.commit).toBeUndefined();
      expect(again.listings[0]).toMatchObject({ requests: 1, notModified: true, confirmed: false });
      expect(Number(git(dir, 'rev-list', '--count', 'HEAD'))).toBe(commitsBefore + 1);
    },
  );

  it.skipIf(NO_REGISTRY)('keeps a digest another branch deploy still uses, deletes the one only the reaped preview had', async () => {
    const { id, store } = await workspace();
    const upstream = fake.state.addRepo(`acme/${id}`, { branches: ['feat/x', 'feat/y'] });
    await deploy(store, 'api', 'main', SHA_C, `https://github.com/acme/${id}`);
    const gone = await deploy(store, 'api', 'feat/x', SHA_A);
    await deploy(store, 'api', 'feat/x', SHA_B);
    const survivor = await deploy(store, 'api', 'feat/y', SHA_A);
    const image = `ws/${id}/app-api`;
    const shared = await registry!.pushImage(image, SHA_A);
    const own = await registry!.pushImage(image, SHA_B);
    // feat/x v1's build is recorded (its digest is in deploy.yaml); v2's image was pushed but never recorded.
    await recordBuildOutcome(store, { app: 'api', slug: gone.slug, version: 1 }, { ok: true, digest: shared }, FIXED_NOW);
    upstream.branches.delete('feat/x');

    const result = await reap(store);

    expect(result.plan.reap.map((i) => i.slug)).toEqual([gone.slug]);
    const repository = `${registry!.host}/${image}`;
    expect(result.images).toEqual([
      { repository, digest: shared, tags: [SHA_A], outcome: 'kept', detail: `still used by api/${survivor.slug}` },
      { repository, digest: own, tags: [SHA_B], outcome: 'deleted' },
    ]);
    expect(await registry!.tagDigest(image, SHA_A)).toBe(shared);
    expect(await registry!.tagDigest(image, SHA_B)).toBeUndefined();
  });

  it('a 500, an unreachable API, an empty and a truncated listing reap nothing for that repo; a registry failure after the commit is reported', async () => {
    // The workspace's registry is a closed port: the image deletes after the commit fail.
    const { id, dir, store } = await workspace(`127.0.0.1:${closedPort}`);
    // More than one page of branches, so that a page can go missing.
    const filler = Array.from({ length: 150 }, (_, i) => `f-${String(i).padStart(3, '0')}`);
    const flaky = fake.state.addRepo(`acme/${id}`, { branches: ['feat/a', 'feat/b', ...filler] });
    const local = sourceRepo(['old', 'new']);
    await deploy(store, 'api', 'feat/a', SHA_A, `https://github.com/acme/${id}`);
    await deploy(store, 'api', 'feat/b', SHA_A);
    const web = await deploy(store, 'web', 'old', SHA_B, local.url);
    await deploy(store, 'web', 'new', SHA_B);
    flaky.branches.delete('feat/a');
    local.remove('old');

    const cases = [
      { failure: { kind: 'status', status: 500 } as const, why: /HTTP 500/ },
      { failure: { kind: 'empty' } as const, why: /listed no branches/ },
      { failure: { kind: 'truncated' } as const, why: /page|truncated/ },
      { failure: undefined, api: `http://127.0.0.1:${closedPort}`, why: /no answer|request failed/ },
    ];
    const fingerprint = repoFingerprint(dir);
    for (const c of cases) {
      flaky.failure = c.failure;
      const result = await reap(store, { dryRun: true, sources: sources({ githubApi: c.api }) });
      expect(
        result.plan.reap.map((i) => [i.app, i.branch]),
        JSON.stringify(c),
      ).toEqual([['web', 'old']]);
      expect(result.plan.skipped).toEqual([
        { app: 'api', repo: `https://github.com/acme/${id}`, check: 'branch-gone', why: expect.stringMatching(c.why) },
      ]);
      expect(result.plan.skipped[0]!.why).toContain('treat no branch as deleted');
      expect(result.listings.find((l) => l.repo.includes('github.com'))).toMatchObject({ outcome: 'failed' });
      expect(result.commit).toBeUndefined();
    }
    expect(repoFingerprint(dir)).toBe(fingerprint);

    flaky.failure = { kind: 'status', status: 500 };
    const result = await reap(store);
    flaky.failure = undefined;
    expect(result.plan.reap.map((i) => [i.app, i.branch])).toEqual([['web', 'old']]);
    expect(committedPaths(dir).every((line) => line.includes(`/web/`) && line.includes(web.slug))).toBe(true);
    expect(result.images).toEqual([
      {
        repository: `127.0.0.1:${closedPort}/ws/${id}/app-web`,
        tags: [SHA_B],
        outcome: 'failed',
        detail: expect.stringMatching(/^nothing deleted here: cannot reach the image registry at http:\/\/127\.0\.0\.1:\d+/),
      },
    ]);
  });

  it('a live branch that a concurrent deletion shifts out of the GitHub pages is not reaped: the listing is taken again', async () => {
    const { id, store } = await workspace();
    const names = Array.from({ length: 150 }, (_, i) => `b-${String(i).padStart(3, '0')}`);
    const upstream = fake.state.addRepo(`acme/${id}`, { branches: names });
    const repoUrl = `https://github.com/acme/${id}`;
    // b-050 is on page 1, b-100 first on page 2; main sorts last.
    await deploy(store, 'api', 'main', SHA_A, repoUrl);
    const deleted = await deploy(store, 'api', 'b-050', SHA_A);
    const live = await deploy(store, 'api', 'b-100', SHA_A);
    for (const b of ['b-001', 'b-002', 'b-003', 'b-004', 'b-005', 'b-006', 'b-007']) await deploy(store, 'api', b, SHA_A);

    // b-050 is deleted upstream after page 1 was read and before page 2 is: b-100 moves onto page 1.
    const realFetch = globalThis.fetch;
    globalThis.fetch = async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.includes(`/repos/acme/${id}/branches`) && url.includes('page=2') && upstream.branches.has('b-050')) {
        upstream.branches.delete('b-050');
      }
      return realFetch(input, init);
    };
    const seen: BranchListing[] = [];
    const spy = (source: BranchSource): BranchSource => ({
      listBranches: async (url) => {
        const listing = await source.listBranches(url);
        seen.push(listing);
        return listing;
      },
    });
    let result: ReapResult;
    try {
      result = await reap(store, { sources: sources({ wrap: spy }) });
    } finally {
      globalThis.fetch = realFetch;
    }

    expect(seen[0]!.branches.has('b-100')).toBe(false); // one listing alone would have reaped a live preview
    expect(seen[1]!.branches.has('b-100')).toBe(true);
    expect(result.plan.reap).toEqual([]);
    expect(result.listings[0]).toMatchObject({ outcome: 'complete', confirmed: true, requests: 4 });

    // The next sweep sees b-050 gone in both listings.
    const next = await reap(store);
    expect(next.plan.reap.map((i) => i.slug)).toEqual([deleted.slug]);
    expect(next.plan.reap.map((i) => i.slug)).not.toContain(live.slug);
  });
});

describe('x1deploy reap (CLI)', () => {
  it('--dry-run prints the plan and changes nothing; past --max-deletions it stops (exit 1); --force proceeds', async () => {
    const { id, dir, store } = await workspace(`127.0.0.1:${closedPort}`);
    const upstream = fake.state.addRepo(`acme/${id}`, { branches: ['p1', 'p2', 'p3', 'p4'] });
    await deploy(store, 'api', 'main', SHA_A, `https://github.com/acme/${id}`);
    for (const b of ['p1', 'p2', 'p3', 'p4']) await deploy(store, 'api', b, SHA_A);
    await patchWorkspace(store, (ws) => ({
      ...ws,
      build: { ...ws.build, insecureRegistry: true },
      reap: { ...ws.reap, githubApiUrl: fake.baseUrl, githubWebHost: 'github.com' },
    }));
    for (const b of ['p1', 'p2', 'p3']) upstream.branches.delete(b);
    const fingerprint = repoFingerprint(dir);
    const env = { X1DEPLOY_GITHUB_TOKEN: TOKEN };
    const dry = await runCli(['reap', '--repo', dir, '--dry-run', '--max-deletions', '3'], env);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('Would reap 3 of 4 previews (dry run, nothing changed):');
    for (const b of ['p1', 'p2', 'p3']) expect(dry.stdout).toContain(`  api ${b} (${b}): branch-gone: branch ${b} is not among`);
    expect(repoFingerprint(dir)).toBe(fingerprint);

    const stopped = await runCli(['reap', '--repo', dir], env);
    expect(stopped.code).toBe(1);
    expect(stopped.stdout).toContain('Stopped: 3 previews would be reaped, more than the limit of 1 (of 4 previews)');
    expect(stopped.stdout).toMatch(/run again with --force, or with --max-deletions 3/);
    expect(repoFingerprint(dir)).toBe(fingerprint);

    const forced = await runCli(['reap', '--repo', dir, '--force', '--json'], env);
    // Reaped, but the registry was not reachable to delete the images: ran, with failures.
    expect(forced.code).toBe(4);
    const out = JSON.parse(forced.stdout);
    expect(out.plan.reap.map((i: { branch: string }) => i.branch)).toEqual(['p1', 'p2', 'p3']);
    expect(out.commit).toBe(git(dir, 'rev-parse', 'HEAD'));
    expect(out.images).toEqual([
      expect.objectContaining({ outcome: 'failed', detail: expect.stringContaining('cannot reach the image registry') }),
    ]);
    expect(git(dir, 'ls-tree', '--name-only', 'HEAD', 'apps/api/branches/')).toBe(
      ['main', 'p4'].map((s) => `apps/api/branches/${s}`).join('\n'),
    );
    for (const r of [dry, stopped, forced]) expect(r.stdout + r.stderr).not.toContain(TOKEN);
  });
});
