// The status page, as a person sees it: real headless Chromium (Debian's chromium, driven by
// playwright-core) against `x1deploy serve` on 127.0.0.1. Skipped with a notice where Chromium is
// missing; in CI (CI=true) it runs, and a missing browser fails it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordBuildOutcome } from '../src/build/index.js';
import { deployBranch } from '../src/deploy/index.js';
import { startService, tokenHash, tokenTable, type RunningServer } from '../src/serve/index.js';
import { DEFAULT_TRAFFIC_QUERY } from '../src/workspace/index.js';
import { skipWithoutPrometheus, startPrometheus, type Series, type TestPrometheus } from './support/prometheus.js';
import { findOnPath } from './support/system-tool.js';
import { FIXED_NOW, makeWorkspaceRepo, request, updateWorkspaceConfig } from './support/workspace-repo.js';

vi.setConfig({ testTimeout: 120_000 });

const CHROMIUM = findOnPath('chromium');
const skip = CHROMIUM === undefined && process.env.CI !== 'true';
if (skip) console.warn('NOTICE: chromium is not installed; skipping the status page tests (apt-get install chromium)');

const READER = 'tok-reader-status-page-0123456789';
let service: RunningServer;
let browser: Browser;
let profile: string;
let prometheus: TestPrometheus | undefined;
const noPrometheus = skipWithoutPrometheus();

/** An ingress-nginx request counter of `host`, a sample every 10 minutes over the last two days. */
function requestCounter(host: string, perHour: number): Series {
  const now = Date.now();
  const samples: [Date, number][] = [];
  for (let t = now - 2 * 86_400_000; t < now - 60_000; t += 600_000) samples.push([new Date(t), Math.floor(((t - (now - 2 * 86_400_000)) / 3_600_000) * perHour)]);
  return { labels: { host, status: '200', ingress: 'preview' }, samples };
}

describe.skipIf(skip)('the status page in headless Chromium', () => {
  beforeAll(async () => {
    const { store } = await makeWorkspaceRepo();
    const by = { agent: 'agent-7', clock: () => FIXED_NOW };
    const live = await deployBranch(store, request({ branch: 'feat/live' }), by);
    await recordBuildOutcome(store, { app: 'api', slug: live.answer.slug, version: 1 }, { ok: true, digest: `sha256:${'a'.repeat(64)}` });
    const broken = await deployBranch(store, request({ branch: 'feat/broken', commit_sha: 'b'.repeat(40) }), by);
    await recordBuildOutcome(
      store,
      { app: 'api', slug: broken.answer.slug, version: 1 },
      { ok: false, reason: 'kaniko exited 1\nstep 3/7: RUN npm run build\n<b>npm ERR!</b> missing script: build' },
    );
    await deployBranch(store, request({ app: 'web', branch: 'main' }), by);
    if (!noPrometheus) {
      // feat/live served about 60 requests an hour; web's main had none; feat/broken has no series.
      prometheus = await startPrometheus('nginx_ingress_controller_requests', [
        requestCounter(new URL(live.answer.url).hostname, 60),
        requestCounter(new URL(live.answer.url).hostname.replace(/^[^.]+[.]api/, 'main.web'), 0),
      ]);
      await updateWorkspaceConfig(store, (ws) => ({ ...ws, reap: { ...ws.reap, prometheusUrl: prometheus!.url, trafficQuery: DEFAULT_TRAFFIC_QUERY } }));
    }
    service = await startService(
      {
        store,
        tokens: tokenTable([{ sha256: tokenHash(READER), read: true }]),
        observe: { cluster: { unavailable: 'no Kubernetes cluster configured' }, probe: false },
        version: 'test',
      },
      { host: '127.0.0.1', port: 0 },
    );
    profile = mkdtempSync(join(tmpdir(), 'x1deploy-chromium-'));
    browser = await chromium.launch({
      executablePath: CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await service?.close();
    await prometheus?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('asks for the token, then lists every preview with its state, and the budget', async () => {
    // Without a token the page asks for one (a browser shows its sign-in prompt).
    const refused = await fetch(service.url);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic realm="x1deploy"/);

    const context = await browser.newContext({ httpCredentials: { username: 'reviewer', password: READER } });
    const page = await context.newPage();
    const response = await page.goto(service.url);
    expect(response!.status()).toBe(200);
    expect(await page.title()).toBe('x1deploy: demo');
    await expect(page.locator('h1').innerText()).resolves.toBe('Previews of workspace demo');
    // Two previews count against the budget; web's default branch does not.
    await expect(page.locator('body').innerText()).resolves.toContain('2 of 10 preview slots used');
    await expect(page.locator('body').innerText()).resolves.toContain('The cluster was not observed');
    const rows = await page.locator('tbody tr').allInnerTexts();
    expect(rows).toHaveLength(3);
    const row = (branch: string) => rows.find((r) => r.includes(branch))!;
    expect(row('feat/broken')).toMatch(/build-failed\s+BuildFailed/);
    expect(row('feat/live')).toMatch(/syncing\s+NoClusterAccess/);
    expect(row('main')).toMatch(/pending-build\s+BuildPending/);
    // Age and the last deploy, by whom.
    expect(row('feat/live')).toMatch(/\d+ d ago\s+\d+ d ago by agent-7/);
    if (prometheus) {
      // Traffic over the last day, from the real Prometheus x1deploy.yaml names (increase() extrapolates: about 1,440).
      const served = /([\d,]+) requests/.exec(row('feat/live'));
      expect(served, row('feat/live')).not.toBeNull();
      expect(Number(served![1]!.replace(/,/g, ''))).toBeGreaterThan(1300);
      expect(Number(served![1]!.replace(/,/g, ''))).toBeLessThan(1600);
      expect(row('main')).toMatch(/\b0 requests/);
      expect(row('feat/broken')).toMatch(/no data/);
    } else {
      await expect(page.locator('body').innerText()).resolves.toContain('Traffic: set reap.prometheusUrl in x1deploy.yaml');
    }
    // No outside assets: the page is one document with its style inline.
    const external = await page.evaluate(() => [...document.querySelectorAll('link[href], script[src], img[src]')].length);
    expect(external).toBe(0);

    // Into one preview: state, reason, fix, history and the build log, escaped.
    await page.getByRole('link', { name: 'feat/broken' }).click();
    await page.waitForURL(/\/preview\?app=api&branch=feat%2Fbroken$/);
    const text = await page.locator('body').innerText();
    expect(text).toMatch(/State\s+build-failed BuildFailed/);
    expect(text).toContain('read the build log (branch_deploy_logs with build: true), fix the build and deploy a new commit');
    expect(text).toMatch(/v1\s+failed\s+bbbbbbbbbbbb\s+agent-7/);
    expect(await page.locator('pre').innerText()).toContain('<b>npm ERR!</b> missing script: build');
    expect(await page.locator('pre b').count()).toBe(0);
    const shot = join(profile, 'preview.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');

    await page.getByRole('link', { name: 'Grants' }).click();
    const grants = await page.locator('tbody tr').allInnerTexts();
    expect(grants.filter((g) => g.startsWith('agent-7'))).toHaveLength(2);
    await context.close();
  });

  it('works without JavaScript', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, httpCredentials: { username: 'x', password: READER } });
    const page = await context.newPage();
    await page.goto(`${service.url}/preview?app=api&branch=feat%2Flive`);
    await expect(page.locator('body').innerText()).resolves.toMatch(/State\s+syncing NoClusterAccess/);
    const missing = await page.goto(`${service.url}/preview?app=api&branch=nope`);
    expect(missing!.status()).toBe(404);
    await expect(page.locator('body').innerText()).resolves.toContain('has no branch deploy for branch nope');
    await context.close();
  });
});
