// `npx tsx bench/reap-bench.ts`: a reap sweep over 100 source repos × 250 branches against the local
// GitHub-speaking server (test/support/fake-github.ts, in this process), through the real path:
// x1deploy.yaml settings, octokit with ETags kept in a JSON file, the planner and the commit.
//   - first sweep (no cached ETags), an unchanged second sweep, and a third after one previewed
//     branch per repo was deleted upstream (each such repo is listed twice, then 100 previews go)
// Prints one JSON object. Times include the fake server's own work (it validates every answer
// against GitHub's OpenAPI description), so they overstate what the client costs.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { newBranchDeploy } from '../src/deploy/index.js';
import { initGitopsRepo, openLocalStore } from '../src/gitops/index.js';
import { type GitopsStore, type AppRecord, stringifyRecord, RepoSnapshot } from '../src/records/index.js';
import { appRecordPath, deployRecordPath, WORKSPACE_FILE } from '../src/layout/index.js';
import { reapPreviews, reapSourcesFor } from '../src/reap/index.js';
import { type ImageRegistry as ManifestStore } from '../src/registry/index.js';
import { renderBranchDeploy, renderWorkspace } from '../src/render/index.js';
import { branchSlug, deployRequestSchema } from '../src/spec/index.js';
import { workspaceConfigFor } from '../src/owners/index.js';
import { startFakeGitHub, type FakeGitHub } from '../test/support/fake-github.js';

const REPOS = 100;
const BRANCHES = 250;
const PREVIEWS_PER_REPO = 2;
const SEEDED_AT = '2026-11-01T00:00:00.000Z';
const SWEEP_AT = new Date('2026-11-02T00:00:00.000Z');
const TOKEN = `ghp_${randomBytes(18).toString('hex')}`;
const ROUTE = 'GET /repos/{owner}/{repo}/branches';

const app = (i: number) => `app${String(i).padStart(2, '0')}`;
const branch = (j: number) => `task-${String(j).padStart(3, '0')}`;

async function seed(fake: FakeGitHub, cacheFile: string): Promise<GitopsStore> {
  const defaults = workspaceConfigFor({ id: 'bench', domain: 'previews.example.com', registry: '127.0.0.1:9' });
  const ws = {
    ...defaults,
    limits: { ...defaults.limits, maxBranchDeploys: 1_000_000 },
    reap: { ...defaults.reap, githubApiUrl: fake.baseUrl, githubWebHost: 'github.com', etagCacheFile: cacheFile },
  };
  const files = new Map<string, string>([[WORKSPACE_FILE, stringifyRecord(ws)]]);
  const apps: string[] = [];
  for (let i = 0; i < REPOS; i++) {
    const name = app(i);
    apps.push(name);
    const repo = `https://github.com/bench/${name}`;
    fake.state.addRepo(`bench/${name}`, { branches: Array.from({ length: BRANCHES - 1 }, (_, j) => branch(j)) });
    const record: AppRecord = {
      apiVersion: 'x1deploy.dev/v1',
      kind: 'App',
      name,
      repo,
      default_branch: 'main',
      created_by: 'bench',
      created_at: SEEDED_AT,
    };
    files.set(appRecordPath(name), stringifyRecord(record));
    for (const b of ['main', ...Array.from({ length: PREVIEWS_PER_REPO }, (_, j) => branch(j))]) {
      const request = deployRequestSchema(ws.limits).parse({ app: name, branch: b, commit_sha: 'a'.repeat(40), ports: [8080] });
      const deploy = newBranchDeploy(ws, request, branchSlug(name, b), { agent: 'bench', now: SEEDED_AT });
      files.set(deployRecordPath(name, deploy.slug), stringifyRecord(deploy));
      for (const [path, text] of renderBranchDeploy(ws, deploy)) files.set(path, text);
    }
  }
  for (const [path, text] of renderWorkspace(ws, apps)) files.set(path, text);
  const dir = join(mkdtempSync(join(tmpdir(), 'x1deploy-reap-bench-')), 'gitops');
  await initGitopsRepo(dir, files, { message: 'seed', author: { name: 'bench', email: 'bench@x1deploy' } });
  return openLocalStore(dir);
}

/** No registry in this bench: every image is reported absent. */
const noRegistry: ManifestStore = { manifestDigest: async () => undefined, deleteManifest: async () => 'absent' };

async function sweep(fake: FakeGitHub, store: GitopsStore, options: { force?: boolean } = {}) {
  const ws = await (await RepoSnapshot.atHead(store)).workspace();
  const sources = { ...reapSourcesFor(ws, { env: { X1DEPLOY_GITHUB_TOKEN: TOKEN } }), registry: noRegistry };
  fake.requests.clear();
  const t = performance.now();
  const result = await reapPreviews(store, { sources, clock: () => SWEEP_AT, force: options.force });
  const ms = performance.now() - t;
  const listed = fake.requests.entries.filter((r) => r.route === ROUTE);
  const perRepo = new Map<string, number>();
  for (const r of listed) perRepo.set(r.path, (perRepo.get(r.path) ?? 0) + 1);
  const statuses: Record<string, number> = {};
  for (const r of listed) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  return {
    requests: listed.length,
    requests_per_repo_max: Math.max(...perRepo.values()),
    statuses,
    all_304: listed.length > 0 && listed.every((r) => r.status === 304),
    repos_listed_twice: result.listings.filter((l) => l.confirmed).length,
    failed_listings: result.listings.filter((l) => l.outcome === 'failed').length,
    reaped: result.plan.reap.length,
    committed: result.commit !== undefined,
    ms: Math.round(ms),
  };
}

async function main(): Promise<void> {
  const fake = await startFakeGitHub({ tokens: [TOKEN] });
  try {
    const cacheFile = join(mkdtempSync(join(tmpdir(), 'x1deploy-reap-bench-cache-')), 'etags.json');
    const store = await seed(fake, cacheFile);
    const first = await sweep(fake, store);
    const cacheBytes = statSync(cacheFile).size;
    const second = await sweep(fake, store);
    for (let i = 0; i < REPOS; i++) fake.state.repo(`bench/${app(i)}`).branches.delete(branch(0));
    const third = await sweep(fake, store, { force: true });
    const figures = {
      when: new Date().toISOString(),
      node: process.version,
      repos: REPOS,
      branches_per_repo: BRANCHES,
      previews: REPOS * PREVIEWS_PER_REPO,
      first_sweep: first,
      unchanged_second_sweep: second,
      one_branch_deleted_per_repo: third,
      etag_cache_file_bytes: cacheBytes,
      goal: { requests_per_repo_max: 3, second_sweep_all_304: true },
      goal_met: first.requests_per_repo_max <= 3 && second.requests_per_repo_max <= 3 && second.all_304,
    };
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
    if (fake.violations.length > 0) throw new Error(`the fake GitHub saw requests GitHub would refuse:\n${fake.violations.join('\n')}`);
  } finally {
    await fake.close();
  }
}

await main();
