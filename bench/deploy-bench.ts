// `npm run bench`: the figures issues #2, #5, #11, #12 and #13 ask for, printed and written to bench/results.json.
//   - warm in-process deploy latency (p50/p95) into repos already holding 0, 100 and 1,000 branch deploys
//   - a full re-render of 1,000 branch deploys into one commit (every rendered file changes)
//   - render cost per branch deploy next to a floor of plain objects + yaml stringify, same run
//   - peak RSS
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { deployBranch, newBranchDeploy, renderAll } from '../src/deploy/index.js';
import { WORKSPACE_FILE } from '../src/layout/index.js';
import { stringifyRecord, type DeployRecord } from '../src/records/index.js';
import { openLocalStore } from '../src/gitops/index.js';
import { branchDeployObjects, renderBranchDeploy } from '../src/render/index.js';
import { branchSlug, deployRequestSchema } from '../src/spec/index.js';
import { tempRootForRun } from '../test/support/global-temp.js';
import { BIN } from './installed-bin.js';
import { NOW, requestFor, seededRepo, ws } from './seed.js';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: round(quantile(s, 0.5)), p95: round(quantile(s, 0.95)), n: s.length };
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** Seeding is set-up, not the thing measured: it runs in its own process so its memory is not counted. */
function seedInChild(count: number): string {
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'seed', String(count)], {
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`seeding failed:\n${child.stderr}`);
  return child.stdout.trim();
}

async function deployLatency(count: number, runs: number) {
  const dir = seedInChild(count);
  const store = await openLocalStore(dir);
  // Warm-up: module caches, JIT, the store's object cache.
  for (let i = 0; i < 5; i++) await deployBranch(store, requestFor(100_000 + i), { agent: 'bench' });
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Alternate new branches and new versions of existing ones: both are the common case.
    const input = i % 2 === 0 ? requestFor(200_000 + i) : requestFor(i % Math.max(count, 1), 300_000 + i);
    const t = performance.now();
    await deployBranch(store, input, { agent: 'bench' });
    samples.push(performance.now() - t);
  }
  return stats(samples);
}

async function fullRerender(count: number) {
  const dir = seedInChild(count);
  const store = await openLocalStore(dir);
  // Change the workspace defaults so that every Deployment changes: the worst case.
  const changed = { ...ws, defaults: { ...ws.defaults, limits: { cpu: '750m', memory: '768Mi' } } };
  await store.commit({
    parent: await store.head(),
    changes: new Map([[WORKSPACE_FILE, stringifyRecord(changed)]]),
    message: 'limits',
    author: { name: 'b', email: 'b@b' },
  });
  let t = performance.now();
  const result = await renderAll(store);
  const changedMs = performance.now() - t;
  t = performance.now();
  const again = await renderAll(store);
  const unchangedMs = performance.now() - t;
  if (!result.commit || again.commit) throw new Error('re-render did not commit exactly once');
  return { branch_deploys: result.branchDeploys, all_changed_ms: round(changedMs), nothing_changed_ms: round(unchangedMs) };
}

function renderCost(count: number) {
  const records: DeployRecord[] = [];
  const requestSchema = deployRequestSchema(ws.limits);
  for (let i = 0; i < count; i++) {
    const request = requestSchema.parse(requestFor(i));
    records.push(newBranchDeploy(ws, request, branchSlug(request.app, request.branch), { agent: 'b', now: NOW }));
  }
  for (const r of records.slice(0, 50)) renderBranchDeploy(ws, r); // warm
  let t = performance.now();
  for (const r of records) renderBranchDeploy(ws, r);
  const cdk8sMs = (performance.now() - t) / count;
  // The floor: the same objects as plain data (cloned, so each is built anew) and the same YAML.
  const plain = records.map((r) => branchDeployObjects(ws, r));
  t = performance.now();
  for (const objects of plain) for (const o of structuredClone(objects)) stringify(o, { lineWidth: 0 });
  const floorMs = (performance.now() - t) / count;
  return { per_branch_deploy_ms: round(cdk8sMs), floor_ms: round(floorMs), ratio: round(cdk8sMs / floorMs) };
}

// Each scenario runs in a process of its own, so its peak RSS is its own and one scenario's
// caches do not warm (or bloat) the next.
const SCENARIOS: Record<string, () => Promise<unknown> | unknown> = {
  'latency-0': () => deployLatency(0, 60),
  'latency-100': () => deployLatency(100, 60),
  'latency-1000': () => deployLatency(1000, 60),
  'rerender-1000': () => fullRerender(1000),
  'render-cost': () => renderCost(1000),
};

const scenario = process.argv[2];
if (scenario === 'seed') {
  process.stdout.write(await seededRepo(Number(process.argv[3])));
} else if (scenario) {
  process.on('exit', tempRootForRun('x1deploy-bench-run-'));
  const result = await SCENARIOS[scenario]!();
  process.stdout.write(JSON.stringify({ result, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) }));
} else {
  // Seeded repos, copies, servers' folders: all below one folder, removed when the run ends.
  process.on('exit', tempRootForRun('x1deploy-bench-run-'));
  const run = (name: string) => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), name], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (child.status !== 0) throw new Error(`scenario ${name} failed:\n${child.stderr}`);
    return JSON.parse(child.stdout) as { result: any; peak_rss_mb: number };
  };
  const runs = Object.fromEntries(Object.keys(SCENARIOS).map((name) => [name, run(name)]));
  // Issue #5's reap sweep figures come from their own script, in its own process too.
  const reapChild = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'reap-bench.ts')], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (reapChild.status !== 0) throw new Error(`reap bench failed:\n${reapChild.stderr}`);
  const reapSweep = JSON.parse(reapChild.stdout) as { goal_met: boolean };
  // Issue #11's status of 100 previews: one batched look at the workspace, in its own process.
  const statusChild = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'status-bench.ts')], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (statusChild.status !== 0) throw new Error(`status bench failed:\n${statusChild.stderr}`);
  const status100 = JSON.parse(statusChild.stdout) as { api_calls_per_look: number; ready: number; latency_ms: { median: number } };
  // Issue #12's 50 concurrent MCP deploys through one server (group commit), in its own process.
  const serveChild = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'serve-bench.ts')], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (serveChild.status !== 0) throw new Error(`serve bench failed:\n${serveChild.stderr}`);
  const serve50 = JSON.parse(serveChild.stdout) as { all_landed: boolean; remote: { commits: number; pushes: number } };
  // Issue #13's scale figures (paired ratios, 10,000 previews, cold, remote, concurrent), in their own processes.
  const scaleChild = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'scale-bench.ts')], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (scaleChild.status !== 0) throw new Error(`scale bench failed:\n${scaleChild.stderr}`);
  const scale = JSON.parse(scaleChild.stdout) as Record<string, any>;
  const cold = coldStart();
  const results = {
    when: new Date().toISOString(),
    node: process.version,
    deploy_latency_ms: {
      repo_0: runs['latency-0']!.result,
      repo_100: runs['latency-100']!.result,
      repo_1000: runs['latency-1000']!.result,
    },
    rerender_1000: runs['rerender-1000']!.result,
    render_cost: runs['render-cost']!.result,
    peak_rss_mb: Object.fromEntries(Object.entries(runs).map(([name, r]) => [name, r.peak_rss_mb])),
    reap_sweep: reapSweep,
    status_100: status100,
    cold_start: cold,
    serve_50_mcp_deploys: serve50,
    scale,
  };
  const peak = Math.max(...Object.values(results.peak_rss_mb));
  const targets = {
    'p50 at 1,000 ≤ 40 ms': results.deploy_latency_ms.repo_1000.p50 <= 40,
    'p50 at 1,000 ≤ 1.5× empty': results.deploy_latency_ms.repo_1000.p50 <= 1.5 * results.deploy_latency_ms.repo_0.p50,
    're-render of 1,000 ≤ 5 s': results.rerender_1000.all_changed_ms <= 5000,
    'render ≤ 2.5× floor': results.render_cost.ratio <= 2.5,
    'peak RSS ≤ 300 MB': peak <= 300,
    'reap: ≤ 3 requests per repo, all 304 when unchanged': reapSweep.goal_met,
    'cold --version ≤ 2× node -e 0 (medians, interleaved)': cold.ratio <= 2,
    'status of 100 previews: one list call per kind (≤ 7), all 100 answered': status100.api_calls_per_look <= 7 && status100.ready === 100,
    '50 concurrent MCP deploys through one server all land, in fewer commits and pushes than deploys':
      serve50.all_landed && serve50.remote.commits < 50 && serve50.remote.pushes < 50,
    'cold local deploy ≤ 6× the git floor (1,000 previews)': scale.cold_deploy.ratio <= 6,
    'warm deploy at 10,000 ≤ 1.2× at 1,000 (paired)': scale.warm_deploy.ratio <= 1.2,
    'remote deploy at 1,000 ≤ 1.2× an empty remote (paired), objects pushed = written':
      scale.remote_deploy.ratio <= 1.2 && scale.remote_deploy.objects_pushed_equal_written,
    '10 concurrent deploys to one remote ≤ 3× one': scale.concurrent_10.ratio <= 3,
    'list at 10,000 ≤ 1 s warm': scale.list.warm_ms.median <= 1000,
    're-render of 1,000 ≤ 2.5 s': scale.rerender_1000.ms <= 2500,
    'peak RSS of `x1deploy render` of 10,000 ≤ 300 MB': scale.rerender_10000_cli.cli_peak_rss_mb <= 300,
    'seeding 10,000 previews < 60 s': scale.seed_10k.seconds < 60,
  };
  console.log(JSON.stringify(results, null, 2));
  for (const [what, ok] of Object.entries(targets)) console.log(`${ok ? 'met   ' : 'MISSED'}  ${what}`);
  writeFileSync(join(import.meta.dirname, 'results.json'), `${JSON.stringify({ ...results, targets }, null, 2)}\n`);
}

/**
 * Issue #13's cold start: the installed bin's `--version` against `node -e 0`, interleaved in one
 * run so both see the same machine, min/median/max of each. Builds dist/ first (the bin runs it).
 */
function coldStart() {
  const built = spawnSync('npm', ['run', '--silent', 'build'], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`build failed:\n${built.stderr}`);
  const floor: number[] = [];
  const version: number[] = [];
  const time = (args: string[]) => {
    const started = performance.now();
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
    return performance.now() - started;
  };
  for (let i = 0; i < 11; i++) {
    floor.push(time(['-e', '0']));
    version.push(time([BIN, '--version']));
  }
  const stats = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return { min: Math.round(sorted[0]!), median: Math.round(sorted[5]!), max: Math.round(sorted[sorted.length - 1]!) };
  };
  const f = stats(floor);
  const v = stats(version);
  return { node_e_0_ms: f, version_ms: v, ratio: Math.round((v.median / f.median) * 100) / 100 };
}
