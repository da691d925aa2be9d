// A real Prometheus for tests: Debian's `prometheus` on 127.0.0.1, its TSDB filled beforehand with
// `promtool tsdb create-blocks-from openmetrics` (backfill), so queries over past days have data.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath } from './system-tool.js';
import { freePort } from './free-port.js';

export const PROMETHEUS_BINARY = findOnPath('prometheus');
export const PROMTOOL_BINARY = findOnPath('promtool');

/**
 * Whether tests that need Prometheus must be skipped: only when it is missing outside CI (with a
 * notice). In CI (CI=true) they run and fail, so a missing Prometheus is never a silent pass.
 */
export function skipWithoutPrometheus(): boolean {
  if (PROMETHEUS_BINARY && PROMTOOL_BINARY) return false;
  if (process.env.CI === 'true') return false;
  console.warn(
    'NOTICE: prometheus/promtool are not installed; skipping the tests that need a real Prometheus (apt-get install prometheus)',
  );
  return true;
}

export interface Series {
  readonly labels: Readonly<Record<string, string>>;
  /** [time, value] pairs in time order. */
  readonly samples: readonly (readonly [Date, number])[];
}

export interface TestPrometheus {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Backfill plus start-up until /-/ready, in ms. */
  readonly startMs: number;
  stop(): Promise<void>;
}

/** Backfills `series` of `metric` and starts Prometheus on them (no scrape targets). */
export async function startPrometheus(metric: string, series: readonly Series[]): Promise<TestPrometheus> {
  if (!PROMETHEUS_BINARY || !PROMTOOL_BINARY) {
    throw new Error('prometheus/promtool are not on PATH: install them (apt-get install prometheus); .ci/run does so in CI');
  }
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'x1deploy-prometheus-'));
  const data = join(dir, 'data');
  const lines = [`# TYPE ${metric} unknown`];
  for (const s of series) {
    const labels = Object.entries(s.labels)
      .map(([name, value]) => `${name}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
      .join(',');
    for (const [time, value] of s.samples) lines.push(`${metric}{${labels}} ${value} ${(time.getTime() / 1000).toFixed(3)}`);
  }
  lines.push('# EOF');
  writeFileSync(join(dir, 'samples.om'), `${lines.join('\n')}\n`);
  // Day-long blocks: a few files instead of one per 2 h (promtool aligns them itself).
  await run(PROMTOOL_BINARY, ['tsdb', 'create-blocks-from', 'openmetrics', '--max-block-duration=24h', join(dir, 'samples.om'), data]);
  writeFileSync(join(dir, 'prometheus.yml'), 'global:\n  scrape_interval: 1h\n');

  const port = await freePort();
  const child = spawn(
    PROMETHEUS_BINARY,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${data}`,
      // Longer than any backfilled sample: older blocks would be deleted at start.
      '--storage.tsdb.retention.time=60d',
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (log.length < 64 * 1024) log += chunk.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, child, () => log);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, startMs: performance.now() - started, stop };
}

async function waitReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}) before it was ready:\n${log()}`);
    const res = await fetch(`${url}/-/ready`).catch(() => undefined);
    if (res?.ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`prometheus at ${url} was not ready within 30 s:\n${log()}`);
}

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(file, args, { maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) =>
      error ? reject(new Error(`${file} ${args.join(' ')} failed: ${stderr || error.message}`)) : resolve(),
    ),
  );
}
