// x1deploy reap: idle previews, from a real Prometheus (Debian's, on 127.0.0.1) whose TSDB was
// backfilled with ingress-nginx request counters by promtool.
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployBranch } from '../src/deploy/index.js';
import { type GitopsStore, stringifyRecord, RepoSnapshot } from '../src/records/index.js';
import { reapPreviews, reapSourcesFor, type ReapResult } from '../src/reap/index.js';
import { PrometheusTraffic, previewHostRegex, TrafficError } from '../src/traffic/index.js';
import { type WorkspaceConfig, DEFAULT_TRAFFIC_QUERY } from '../src/workspace/index.js';
import { skipWithoutPrometheus, startPrometheus, type Series, type TestPrometheus } from './support/prometheus.js';
import { git, makeWorkspaceRepo, repoFingerprint, request, SHA_A } from './support/workspace-repo.js';

const SKIP = skipWithoutPrometheus();
const DAY = 86_400_000;
const IDLE_DAYS = 3;
const NOW = new Date();
/** Older than the idle window: these previews may be idle. */
const OLD = new Date(NOW.getTime() - (IDLE_DAYS + 2) * DAY);
const METRIC = 'nginx_ingress_controller_requests';

let prometheus: TestPrometheus | undefined;
let closedPort: number;
let ws: { dir: string; store: GitopsStore };
const hosts: Record<string, string> = {};
const slugs: Record<string, string> = {};

/** A sample every 30 minutes over the last idleDays + 1 days, valued by `value(t)`. */
function series(host: string, value: (t: Date) => number): Series {
  const samples: [Date, number][] = [];
  for (let t = NOW.getTime() - (IDLE_DAYS + 1) * DAY; t < NOW.getTime() - 60_000; t += 30 * 60_000)
    samples.push([new Date(t), value(new Date(t))]);
  return { labels: { host, status: '200', ingress: 'preview' }, samples };
}

async function deploy(app: string, branch: string, at: Date): Promise<void> {
  const { answer } = await deployBranch(ws.store, request({ app, branch, commit_sha: SHA_A }), { agent: 'agent-7', clock: () => at });
  hosts[branch] = new URL(answer.url).hostname;
  slugs[branch] = answer.slug;
}

async function setReap(reap: Partial<WorkspaceConfig['reap']>): Promise<void> {
  const snapshot = await RepoSnapshot.atHead(ws.store);
  const config = await snapshot.workspace();
  await ws.store.commit({
    parent: snapshot.commit,
    changes: new Map([['x1deploy.yaml', stringifyRecord({ ...config, reap: { ...config.reap, ...reap } })]]),
    message: 'Test reap settings',
    author: { name: 'owner', email: 'owner@example.com', timestamp: Math.floor(NOW.getTime() / 1000) },
  });
}

async function sweep(options: { dryRun?: boolean } = {}): Promise<ReapResult> {
  const config = await (await RepoSnapshot.atHead(ws.store)).workspace();
  return reapPreviews(ws.store, { sources: reapSourcesFor(config, { env: {} }), clock: () => NOW, ...options });
}

beforeAll(async () => {
  closedPort = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
  // The registry is a closed port: idle reaping does not depend on it.
  ws = await makeWorkspaceRepo({ id: 'idle', registry: `127.0.0.1:${closedPort}` });
  await deploy('api', 'main', OLD); // the default branch: never reaped, however idle
  await deploy('api', 'quiet', OLD); // no request in the window: reaped
  await deploy('api', 'busy', OLD); // requests in the last day: kept
  await deploy('api', 'fresh', OLD); // no series at all (no data yet): kept
  await deploy('web', 'young', new Date(NOW.getTime() - DAY)); // idle, but deployed within the window: kept
  if (SKIP) return;
  const lastDay = NOW.getTime() - DAY;
  prometheus = await startPrometheus(METRIC, [
    series(hosts.main!, () => 17),
    series(hosts.quiet!, () => 42),
    series(hosts.busy!, (t) => (t.getTime() < lastDay ? 5 : 5 + Math.floor((t.getTime() - lastDay) / 3_600_000))),
    series(hosts.young!, () => 0),
    // Another workspace's host, outside the query's host regex.
    series('x.api.other.example.com', () => 1),
  ]);
  console.info(`prometheus: backfilled and ready in ${prometheus.startMs.toFixed(0)} ms`);
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
});

describe.skipIf(SKIP)('idle previews from Prometheus traffic', () => {
  it('classifies each preview host: a flat counter is idle, a rising one active, no series no-data', async () => {
    const traffic = new PrometheusTraffic({ url: prometheus!.url, query: DEFAULT_TRAFFIC_QUERY });
    const asked = [hosts.main!, hosts.quiet!, hosts.busy!, hosts.fresh!, hosts.young!];
    const result = await traffic.classify(asked, {
      idleDays: IDLE_DAYS,
      hostRegex: previewHostRegex({ slug: 'idle', domain: 'preview.localhost' }),
    });
    expect(Object.fromEntries(result)).toEqual({
      [hosts.main!]: 'idle',
      [hosts.quiet!]: 'idle',
      [hosts.busy!]: 'active',
      [hosts.fresh!]: 'no-data',
      [hosts.young!]: 'idle',
    });
  });

  it('a query Prometheus refuses is a TrafficError that says to fix reap.trafficQuery', async () => {
    const traffic = new PrometheusTraffic({ url: prometheus!.url, query: 'sum by (host) (increase({hostRegex}[' });
    const error = await traffic.classify([hosts.quiet!], { idleDays: IDLE_DAYS, hostRegex: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrafficError);
    expect((error as Error).message).toMatch(
      /the query was refused \(HTTP 400, bad_data: .*\); no preview is reaped for idleness: fix reap\.trafficQuery/,
    );
  });

  it('an unreachable Prometheus reaps nothing for idleness', async () => {
    await setReap({ idleDays: IDLE_DAYS, prometheusUrl: `http://127.0.0.1:${closedPort}` });
    const before = repoFingerprint(ws.dir);
    const result = await sweep();
    expect(result.plan.reap).toEqual([]);
    expect(result.commit).toBeUndefined();
    const idleSkips = result.plan.skipped.filter((s) => s.check === 'idle');
    expect(idleSkips.map((s) => s.app)).toEqual(['api', 'web']);
    expect(idleSkips[0]!.why).toMatch(/^cannot read preview traffic from Prometheus at http:\/\/127\.0\.0\.1:\d+: no answer/);
    expect(repoFingerprint(ws.dir)).toBe(before);
  });

  it('reaps the idle preview through x1deploy.yaml settings and the default query; keeps active, no-data, young and default', async () => {
    await setReap({ idleDays: IDLE_DAYS, prometheusUrl: prometheus!.url });
    const dry = await sweep({ dryRun: true });
    expect(dry.plan.reap.map((i) => [i.branch, i.reason])).toEqual([['quiet', 'idle']]);

    const result = await sweep();
    expect(result.plan.reap).toEqual([
      {
        app: 'api',
        branch: 'quiet',
        slug: slugs.quiet,
        url: `https://${hosts.quiet}`,
        reason: 'idle',
        detail: `${hosts.quiet} served no HTTP request in the last ${IDLE_DAYS} days, and the last deploy is older than that`,
      },
    ]);
    // The apps name no source repo: no listing, so nothing is reaped as gone, and it says so.
    expect(result.plan.skipped.map((s) => [s.app, s.check])).toEqual([
      ['api', 'branch-gone'],
      ['web', 'branch-gone'],
    ]);
    expect(result.commit).toBe(git(ws.dir, 'rev-parse', 'HEAD'));
    expect(git(ws.dir, 'log', '-1', '--format=%(trailers:key=X1-Reaped,valueonly)')).toBe('api quiet idle');
    expect(existsSync(join(ws.dir, 'apps/api/branches', slugs.quiet!))).toBe(false);
    expect(existsSync(join(ws.dir, 'rendered/api', slugs.quiet!))).toBe(false);
    for (const b of ['main', 'busy', 'fresh']) expect(existsSync(join(ws.dir, 'rendered/api', slugs[b]!))).toBe(true);
    expect(existsSync(join(ws.dir, 'rendered/web', slugs.young!))).toBe(true);
  });
});
