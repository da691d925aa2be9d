// `npx tsx bench/serve-bench.ts`: 50 concurrent MCP deploys through one `serve` (the SDK's
// Streamable HTTP client, 10 agents with their own tokens, 5 deploys each), against a remote gitops
// repo behind a real smart-HTTP git server (git http-backend), and once against a local repo. All
// must land; prints per-call p50/p95/max, the wall time, and how many commits and pushes it took
// (group commit: far fewer than 50). One JSON object on stdout.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { listBranchDeploys } from '../src/deploy/index.js';
import { openLocalStore, openRemoteStore } from '../src/gitops/index.js';
import { grantDeploy, initWorkspace } from '../src/owners/index.js';
import { RepoSnapshot, stringifyRecord, type GitopsStore } from '../src/records/index.js';
import { WORKSPACE_FILE } from '../src/layout/index.js';
import { startService, tokenHash, tokenTable } from '../src/serve/index.js';
import { startGitHttpServer } from '../test/support/git-http-server.js';

const AGENTS = 10;
const PER_AGENT = 5;
const NOW = new Date('2026-11-30T12:00:00.000Z');

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const round = (ms: number) => Math.round(ms);

async function seed(dir: string): Promise<void> {
  await initWorkspace(dir, { id: 'bench', domain: 'previews.example.com' }, NOW);
  const store = await openLocalStore(dir);
  const snapshot = await RepoSnapshot.atHead(store);
  const ws = await snapshot.workspace();
  await store.commit({
    parent: snapshot.commit,
    changes: new Map([[WORKSPACE_FILE, stringifyRecord({ ...ws, limits: { ...ws.limits, maxBranchDeploys: 1000 } })]]),
    message: 'Room for the bench',
    author: { name: 'owner', email: 'owner@example.com' },
  });
  for (let a = 0; a < AGENTS; a++) await grantDeploy(store, { agent: `agent-${a}`, app: 'api', branches: '*', mode: 'auto', by: 'owner' }, NOW);
}

async function fiftyDeploys(store: GitopsStore, commitsNow: () => number, pushesNow: () => number = () => 0) {
  const tokens = Array.from({ length: AGENTS }, (_, a) => `bench-token-${a}-0123456789abcdef`);
  const service = await startService(
    {
      store,
      tokens: tokenTable(tokens.map((t, a) => ({ sha256: tokenHash(t), agent: `agent-${a}` }))),
      observe: { cluster: { unavailable: 'no cluster in the bench' }, probe: false },
      version: 'bench',
    },
    { host: '127.0.0.1', port: 0 },
  );
  try {
    const clients = await Promise.all(
      tokens.map(async (token) => {
        const client = new Client({ name: 'bench', version: '1' });
        await client.connect(new StreamableHTTPClientTransport(new URL(`${service.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
        return client;
      }),
    );
    // One deploy alone, three times (the reference the 50 are compared with).
    const alone: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const r = (await clients[0]!.callTool({
        name: 'deploy_branch',
        arguments: { app: 'api', branch: `alone-${i}`, commit_sha: (i + 1).toString(16).padStart(40, 'd'), ports: [8080] },
      })) as { isError?: boolean };
      if (r.isError) throw new Error('the lone deploy failed');
      alone.push(performance.now() - t0);
    }
    const before = commitsNow();
    const pushesBefore = pushesNow();
    const started = performance.now();
    const latencies: number[] = [];
    const answers = await Promise.all(
      clients.flatMap((client, a) =>
        Array.from({ length: PER_AGENT }, async (_, i) => {
          const t0 = performance.now();
          const result = (await client.callTool({
            name: 'deploy_branch',
            arguments: { app: 'api', branch: `agent-${a}/task-${i}`, commit_sha: (a * 100 + i + 1).toString(16).padStart(40, 'c'), ports: [8080] },
          })) as { isError?: boolean; content: { text: string }[] };
          latencies.push(performance.now() - t0);
          if (result.isError) throw new Error(`deploy failed: ${result.content[0]?.text}`);
          return result;
        }),
      ),
    );
    const wall = performance.now() - started;
    await Promise.all(clients.map((c) => c.close()));
    const landed = (await listBranchDeploys(store)).filter((p) => p.branch.includes('/task-')).length;
    const sorted = latencies.sort((x, y) => x - y);
    return {
      deploys: answers.length,
      landed,
      commits: commitsNow() - before,
      pushes: pushesNow() - pushesBefore,
      wall_ms: round(wall),
      one_deploy_alone_ms: round(alone.sort((x, y) => x - y)[1]!),
      wall_vs_one_alone: Math.round((wall / alone[1]!) * 100) / 100,
      latency_ms: { p50: round(quantile(sorted, 0.5)), p95: round(quantile(sorted, 0.95)), max: round(sorted[sorted.length - 1]!) },
    };
  } finally {
    await service.close();
  }
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'x1deploy-serve-bench-'));
  const server = await startGitHttpServer(root);
  try {
    const seeded = join(root, 'seed');
    await seed(seeded);
    const bare = join(root, 'gitops.git');
    execFileSync('git', ['clone', '-q', '--bare', seeded, bare]);
    const count = (dir: string) => Number(execFileSync('git', ['-C', dir, 'rev-list', '--count', 'HEAD'], { encoding: 'utf8' }));
    const remoteStore = await openRemoteStore(server.url('gitops.git'), { cacheDir: join(root, 'cache') });
    const pushes = () => server.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/git-receive-pack')).length;
    const remote = await fiftyDeploys(remoteStore, () => count(bare), pushes);

    const localDir = join(root, 'local');
    await seed(localDir);
    const local = await fiftyDeploys(await openLocalStore(localDir), () => count(localDir));
    const result = { remote, local, all_landed: remote.landed === 50 && local.landed === 50 };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
