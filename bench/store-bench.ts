// Cost of one deploy-sized commit() (6 files) as the gitops repo grows: 0, 100 and 1,000 deploys.
// Run: npx tsx bench/store-bench.ts [samples]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { initGitopsRepo, openLocalStore } from '../src/gitops/index.js';
import { type GitopsStore } from '../src/records/index.js';

const author = { name: 'bench', email: 'bench@example.com', timestamp: 1_700_000_000 };
const samples = Math.max(10, Number(process.argv[2] ?? 40));

/** The ~7 files one branch deploy leaves in the repo; `rev` varies the content. */
function deployFiles(app: string, slug: string, rev: number): Map<string, string> {
  const body = (kind: string) => `# ${kind} for ${app}/${slug} rev ${rev}\n` + `key: value-${rev}\n`.repeat(40);
  return new Map([
    [`apps/${app}/branches/${slug}/deploy.yaml`, body('deploy')],
    [`apps/${app}/branches/${slug}/values.yaml`, body('values')],
    [`rendered/${app}/${slug}/deployment.yaml`, body('deployment')],
    [`rendered/${app}/${slug}/service.yaml`, body('service')],
    [`rendered/${app}/${slug}/ingress.yaml`, body('ingress')],
    [`rendered/${app}/${slug}/kustomization.yaml`, body('kustomization')],
    [`rendered/${app}/${slug}/configmap.yaml`, body('configmap')],
  ]);
}

/** A deploy commit touches 6 files: the spec, the values and 4 rendered manifests. */
function deployChange(app: string, slug: string, rev: number): Map<string, string | null> {
  const files = deployFiles(app, slug, rev);
  files.delete(`rendered/${app}/${slug}/configmap.yaml`);
  return files;
}

const appOf = (i: number) => `app${i % 10}`;
const slugOf = (i: number) => `feature-${i}`;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Repo {
  deploys: number;
  files: number;
  initMs: number;
  store: GitopsStore;
  head: string;
  fresh: number[];
  redeploy: number[];
}

async function setUp(deploys: number, dir: string): Promise<Repo> {
  const files = new Map<string, string>([['README.md', 'gitops\n']]);
  for (let i = 0; i < deploys; i++) for (const [p, t] of deployFiles(appOf(i), slugOf(i), 0)) files.set(p, t);
  const t0 = performance.now();
  await initGitopsRepo(dir, files, { message: 'init', author });
  const initMs = performance.now() - t0;
  const store = await openLocalStore(dir);
  return { deploys, files: files.size, initMs, store, head: await store.head(), fresh: [], redeploy: [] };
}

async function timed(repo: Repo, changes: Map<string, string | null>, into: number[]): Promise<void> {
  const t0 = performance.now();
  const oid = await repo.store.commit({ parent: repo.head, changes, message: 'bench', author });
  into.push(performance.now() - t0);
  repo.head = oid!;
}

const root = await mkdtemp(join(tmpdir(), 'x1-store-bench-'));
try {
  const repos: Repo[] = [];
  for (const n of [0, 100, 1000]) repos.push(await setUp(n, join(root, String(n))));
  // Sizes take turns, so a noisy neighbour slows them all alike.
  for (let s = 0; s < samples; s++) {
    for (const repo of repos) {
      // A new branch deploy (6 added files) ...
      const i = repo.deploys + s;
      await timed(repo, deployChange(appOf(i), slugOf(i), 0), repo.fresh);
      // ... and a redeploy of an existing one (6 modified files).
      const j = repo.deploys > 0 ? (s * 37) % repo.deploys : i;
      await timed(repo, deployChange(appOf(j), slugOf(j), s + 1), repo.redeploy);
    }
  }
  const warm = (xs: number[]) => xs.slice(3).sort((a, b) => a - b);
  const f = (x: number, w: number) => x.toFixed(1).padStart(w);
  console.log(`commit() of 6 files, ${samples} samples per size (first 3 dropped as warm-up), ms`);
  console.log('deploys  files   init(ms)  new p50  new p95  redeploy p50  redeploy p95');
  for (const r of repos) {
    const [n, d] = [warm(r.fresh), warm(r.redeploy)];
    console.log(
      `${String(r.deploys).padStart(7)} ${String(r.files).padStart(6)} ${f(r.initMs, 10)} ${f(pct(n, 50), 8)} ${f(pct(n, 95), 8)} ${f(pct(d, 50), 13)} ${f(pct(d, 95), 13)}`,
    );
  }
  const p50 = (r: Repo) => pct(warm(r.fresh), 50);
  console.log(`new-deploy p50 ratio 1,000 vs 0 deploys: ${(p50(repos[2]!) / p50(repos[0]!)).toFixed(2)}x`);
} finally {
  await rm(root, { recursive: true, force: true });
}
