// `npx tsx bench/scale-bench.ts`: issue #13's figures, each ratio measured within one run (the two
// sides interleaved, so both see the same machine), min/median/max over repeated runs. Each
// scenario runs in a process of its own (its peak RSS is its own); seeding is set-up, in its own
// process too. Prints one JSON object (deploy-bench.ts folds it into bench/results.json).
//   seed_10k           seeding 10,000 previews (planned and rendered as x1deploy does), seconds and RSS
//   warm_deploy        warm in-process deploys at 1,000 and 10,000 previews, alternated in one process
//   list               list at 10,000 previews: the first call in a process, then warm calls
//   cold_deploy        `x1deploy deploy` as a new process on a 1,000-preview repo (packed, as clones
//                      are) vs the same change with git plumbing (apply to the index, commit), alternated
//   remote_deploy      warm-cache deploys to a remote with 1,000 previews vs an empty one (smart HTTP),
//                      alternated; objects pushed vs objects the commit wrote
//   concurrent_10      10 deploys to one remote from 10 processes at once vs one alone
//   rerender           a re-render of 1,000 (all files change); peak RSS of a re-render of 10,000
//   rerender_10000_cli `x1deploy render` of 10,000 as a process of its own, with its peak RSS
//   render_floor       render cost per preview vs plain objects through yaml, and through JSON
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { deployBranch, listBranchDeploys, newBranchDeploy, renderAll } from '../src/deploy/index.js';
import { openLocalStore, openRemoteStore } from '../src/gitops/index.js';
import { WORKSPACE_FILE } from '../src/layout/index.js';
import { stringifyRecord } from '../src/records/index.js';
import { branchDeployObjects, renderBranchDeploy } from '../src/render/index.js';
import { branchSlug, deployRequestSchema } from '../src/spec/index.js';
import { startGitHttpServer } from '../test/support/git-http-server.js';
import { tempRootForRun } from '../test/support/global-temp.js';
import { BIN } from './installed-bin.js';
import { NOW, requestFor, seededRepo, ws } from './seed.js';

const SELF = fileURLToPath(import.meta.url);

export interface Spread {
  readonly min: number;
  readonly median: number;
  readonly max: number;
  readonly n: number;
}

export function spread(samples: readonly number[]): Spread {
  const s = [...samples].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { min: r(s[0]!), median: r(s[Math.floor(s.length / 2)]!), max: r(s[s.length - 1]!), n: s.length };
}
const ratio = (a: Spread, b: Spread) => Math.round((a.median / b.median) * 100) / 100;

/** Copy of a seeded repo, so every scenario starts from the same state. */
function copyOf(seeded: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'x1deploy-scale-')), 'gitops');
  cpSync(seeded, dir, { recursive: true });
  // The copy's writeback would otherwise compete with the writes measured next.
  execFileSync('sync');
  return dir;
}

async function warmDeploy(small: string, large: string) {
  const stores = { small: await openLocalStore(copyOf(small)), large: await openLocalStore(copyOf(large)) };
  const samples: Record<keyof typeof stores, number[]> = { small: [], large: [] };
  for (let i = 0; i < 70; i++) {
    for (const size of ['small', 'large'] as const) {
      // New branches and new versions of existing ones, alternating: both are the common case.
      const input = i % 2 === 0 ? requestFor(500_000 + i) : requestFor(i * 7, 600_000 + i);
      const t = performance.now();
      await deployBranch(stores[size], input, { agent: 'bench' });
      if (i >= 10) samples[size].push(performance.now() - t);
    }
  }
  const at1k = spread(samples.small);
  const at10k = spread(samples.large);
  return { ms_at_1000: at1k, ms_at_10000: at10k, ratio: ratio(at10k, at1k) };
}

async function list(large: string) {
  const store = await openLocalStore(large);
  let t = performance.now();
  const first = await listBranchDeploys(store);
  const firstMs = performance.now() - t;
  const warm: number[] = [];
  for (let i = 0; i < 7; i++) {
    t = performance.now();
    const again = await listBranchDeploys(store);
    warm.push(performance.now() - t);
    if (again.length !== first.length) throw new Error('list changed between calls');
  }
  return { previews: first.length, first_call_ms: Math.round(firstMs), warm_ms: spread(warm) };
}

function coldDeploy(small: string) {
  const dir = copyOf(small);
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  // Packed first, as a clone or any repo git has gc'd is: the seed's 8,000 loose objects are past
  // git's auto-gc threshold, so the floor's first commit would otherwise start a gc in the
  // background, packing the repo while the next deploys are timed.
  git('gc', '-q');
  const x1: number[] = [];
  const floor: number[] = [];
  const patch = join(dir, '..', 'change.patch');
  for (let i = 0; i < 9; i++) {
    const request = JSON.stringify(requestFor(700_000 + i));
    let t = performance.now();
    const r = spawnSync(process.execPath, [BIN, 'deploy', '-', '--repo', dir, '--agent', 'bench', '--json'], { input: request, encoding: 'utf8' });
    x1.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`deploy failed: ${r.stderr}`);
    // The same change again, by git: undo it, then apply it to the index and commit.
    execFileSync('sh', ['-c', `git -C "${dir}" diff --binary HEAD~1 HEAD > "${patch}"`]);
    git('reset', '-q', '--hard', 'HEAD~1');
    t = performance.now();
    execFileSync('sh', ['-c', `git -C "${dir}" apply --index "${patch}" && git -C "${dir}" commit -q -m change`]);
    floor.push(performance.now() - t);
    git('reset', '-q', '--hard', 'HEAD~1');
  }
  const a = spread(x1);
  const b = spread(floor);
  return { x1deploy_ms: a, git_floor_ms: b, ratio: ratio(a, b) };
}

async function remoteDeploy(small: string) {
  const root = mkdtempSync(join(tmpdir(), 'x1deploy-scale-remote-'));
  const server = await startGitHttpServer(root);
  try {
    execFileSync('git', ['clone', '-q', '--bare', small, join(root, 'large.git')]);
    const empty = await seededRepo(0);
    execFileSync('git', ['clone', '-q', '--bare', empty, join(root, 'empty.git')]);
    const stores = {
      empty: await openRemoteStore(server.url('empty.git'), { cacheDir: join(root, 'cache-empty') }),
      large: await openRemoteStore(server.url('large.git'), { cacheDir: join(root, 'cache-large') }),
    };
    const samples: Record<keyof typeof stores, number[]> = { empty: [], large: [] };
    const pushed: number[] = [];
    const written: number[] = [];
    for (let i = 0; i < 25; i++) {
      for (const which of ['empty', 'large'] as const) {
        const before = server.requests.length;
        const t = performance.now();
        const { commit } = await deployBranch(stores[which], requestFor(800_000 + i), { agent: 'bench' });
        if (i >= 3) samples[which].push(performance.now() - t);
        if (which === 'large') {
          const push = server.requests.slice(before).find((r) => r.path.endsWith('/git-receive-pack') && r.method === 'POST');
          pushed.push(push?.packObjects ?? -1);
          const bare = join(root, 'large.git');
          const entries = execFileSync('git', ['-C', bare, 'diff-tree', '-r', '-t', '--no-commit-id', `${commit}~1`, commit!], { encoding: 'utf8' });
          written.push(entries.split('\n').filter(Boolean).length + 2);
        }
      }
    }
    const a = spread(samples.large);
    const b = spread(samples.empty);
    return {
      ms_at_1000: a,
      ms_empty: b,
      ratio: ratio(a, b),
      objects_pushed_equal_written: pushed.every((n, i) => n === written[i]),
      objects_written: spread(written),
    };
  } finally {
    await server.close();
  }
}

async function concurrent10(small: string) {
  const root = mkdtempSync(join(tmpdir(), 'x1deploy-scale-concurrent-'));
  const server = await startGitHttpServer(root);
  execFileSync('git', ['clone', '-q', '--bare', small, join(root, 'g.git')]);
  const url = server.url('g.git');
  const deploy = (i: number, cache: string) =>
    new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, 'deploy', '-', '--repo', url, '--agent', 'bench', '--json'], {
        env: { ...process.env, X1DEPLOY_CACHE_DIR: cache },
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => (code === 0 ? resolve(code) : reject(new Error(`deploy ${i} failed: ${stderr}`))));
      child.stdin.end(JSON.stringify(requestFor(900_000 + i)));
    });
  try {
    // One machine: every process shares the user's cache clone (warmed by a first deploy).
    const shared = join(root, 'cache-shared');
    await deploy(0, shared);
    const alone: number[] = [];
    const together: number[] = [];
    for (let round = 0; round < 3; round++) {
      let t = performance.now();
      await deploy(round * 100 + 1, shared);
      alone.push(performance.now() - t);
      t = performance.now();
      await Promise.all(Array.from({ length: 10 }, (_, i) => deploy(round * 100 + i + 2, shared)));
      together.push(performance.now() - t);
    }
    // Ten machines: each process has a cache of its own, warmed first.
    const caches = Array.from({ length: 10 }, (_, i) => join(root, `cache-${i}`));
    await Promise.all(caches.map((cache, i) => deploy(1000 + i, cache)));
    const t = performance.now();
    await Promise.all(caches.map((cache, i) => deploy(1100 + i, cache)));
    const separate = performance.now() - t;
    const a = spread(together);
    const b = spread(alone);
    return { ten_at_once_ms: a, one_alone_ms: b, ratio: ratio(a, b), ten_separate_caches_ms: Math.round(separate), ratio_separate_caches: Math.round((separate / b.median) * 100) / 100 };
  } finally {
    await server.close();
  }
}

/** A copy of `seeded` whose workspace limits changed, so a re-render changes every Deployment. */
async function changedLimits(seeded: string): Promise<string> {
  const dir = copyOf(seeded);
  const store = await openLocalStore(dir);
  const changed = { ...ws, defaults: { ...ws.defaults, limits: { cpu: '750m', memory: '768Mi' } } };
  await store.commit({ parent: await store.head(), changes: new Map([[WORKSPACE_FILE, stringifyRecord(changed)]]), message: 'limits', author: { name: 'b', email: 'b@b' } });
  return dir;
}

async function rerender(seeded: string) {
  const store = await openLocalStore(await changedLimits(seeded));
  const t = performance.now();
  const result = await renderAll(store);
  if (!result.commit) throw new Error('the re-render made no commit');
  return { branch_deploys: result.branchDeploys, ms: Math.round(performance.now() - t) };
}

/** `x1deploy render` as users run it (the bundled bin in a process of its own), with its peak RSS. */
async function rerenderCli(seeded: string) {
  const dir = await changedLimits(seeded);
  // The child reports its own peak RSS as it exits.
  const hook = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\nmaxrss '+process.resourceUsage().maxRSS))`;
  const t = performance.now();
  const r = spawnSync(process.execPath, ['--import', hook, BIN, 'render', '--repo', dir, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = Math.round(performance.now() - t);
  if (r.status !== 0) throw new Error(`render failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { commit?: string; branch_deploys: number };
  if (!out.commit) throw new Error('the re-render made no commit');
  const rss = Number(/maxrss (\d+)/.exec(r.stderr)![1]);
  return { branch_deploys: out.branch_deploys, ms, cli_peak_rss_mb: Math.round(rss / 1024) };
}

function renderFloor() {
  const schema = deployRequestSchema(ws.limits);
  const records = Array.from({ length: 1000 }, (_, i) => {
    const request = schema.parse(requestFor(i));
    return newBranchDeploy(ws, request, branchSlug(request.app, request.branch), { agent: 'b', now: NOW });
  });
  const render: number[] = [];
  const yamlFloor: number[] = [];
  const jsonFloor: number[] = [];
  const plain = records.map((r) => branchDeployObjects(ws, r));
  for (let run = 0; run < 5; run++) {
    let t = performance.now();
    for (const r of records) renderBranchDeploy(ws, r);
    render.push((performance.now() - t) / records.length);
    t = performance.now();
    for (const objects of plain) for (const o of structuredClone(objects)) stringify(o, { lineWidth: 0 });
    yamlFloor.push((performance.now() - t) / records.length);
    t = performance.now();
    for (const objects of plain) for (const o of structuredClone(objects)) JSON.stringify(o, null, 2);
    jsonFloor.push((performance.now() - t) / records.length);
  }
  const r = spread(render.map((x) => x * 1000));
  const y = spread(yamlFloor.map((x) => x * 1000));
  const j = spread(jsonFloor.map((x) => x * 1000));
  return { render_us: r, yaml_floor_us: y, json_floor_us: j, ratio_to_yaml: ratio(r, y), ratio_to_json: ratio(r, j) };
}

const SCENARIOS: Record<string, (dirs: string[]) => Promise<unknown> | unknown> = {
  warm_deploy: ([small, large]) => warmDeploy(small!, large!),
  list: ([, large]) => list(large!),
  cold_deploy: ([small]) => coldDeploy(small!),
  remote_deploy: ([small]) => remoteDeploy(small!),
  concurrent_10: ([small]) => concurrent10(small!),
  rerender_1000: ([small]) => rerender(small!),
  rerender_10000: ([, large]) => rerender(large!),
  rerender_10000_cli: ([, large]) => rerenderCli(large!),
  render_floor: () => renderFloor(),
};

function inChild(args: string[]): { result: any; peak_rss_mb: number; ms: number } {
  const t = performance.now();
  const child = spawnSync(process.execPath, ['--import', 'tsx', SELF, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (child.status !== 0) throw new Error(`${args.join(' ')} failed:\n${child.stderr}`);
  return { ...(JSON.parse(child.stdout) as { result: unknown; peak_rss_mb: number }), ms: performance.now() - t } as never;
}

async function main(): Promise<void> {
  const [, , command, ...rest] = process.argv;
  if (command === 'seed') {
    const t = performance.now();
    const dir = await seededRepo(Number(rest[0]));
    process.stdout.write(JSON.stringify({ result: { dir, seconds: Math.round((performance.now() - t) / 100) / 10 }, peak_rss_mb: peakRss() }));
    return;
  }
  if (command) {
    // A scenario's copies and servers go when it ends (the seeds above outlive their process).
    process.on('exit', tempRootForRun('x1deploy-bench-run-'));
    const result = await SCENARIOS[command]!(rest);
    process.stdout.write(JSON.stringify({ result, peak_rss_mb: peakRss() }));
    return;
  }
  // Seeds, copies and servers' folders: all below one folder, removed when the run ends.
  process.on('exit', tempRootForRun('x1deploy-bench-run-'));
  const only = process.env.X1_SCALE_ONLY?.split(',');
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'ignore' });
  const small = inChild(['seed', '1000']);
  const large = inChild(['seed', '10000']);
  const dirs = [small.result.dir as string, large.result.dir as string];
  const out: Record<string, unknown> = { seed_10k: { seconds: large.result.seconds, peak_rss_mb: large.peak_rss_mb } };
  for (const name of Object.keys(SCENARIOS)) {
    if (only && !only.includes(name)) continue;
    const run = inChild([name, ...dirs]);
    out[name] = { ...(run.result as object), peak_rss_mb: run.peak_rss_mb };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function peakRss(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

await main();
