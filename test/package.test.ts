// The package as a stranger gets it: `npm pack`, installed into an empty folder, and the installed
// bin run: --version, init, grant, deploy, status, and serve answering /healthz and stopping on SIGTERM.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { tokenHash } from '../src/serve/index.js';
import { freePort } from './support/free-port.js';
import { tempDir } from './support/workspace-repo.js';

// npm pack builds dist/ (prepare) and the install resolves the dependencies from npm's cache: slow.
vi.setConfig({ testTimeout: 600_000 });
const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('the npm package', () => {
  it('installs in an empty folder and runs', async () => {
    const packs = tempDir();
    const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', packs], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()!;
    const app = tempDir();
    writeFileSync(join(app, 'package.json'), '{"name":"stranger","version":"1.0.0","private":true}\n');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(packs, packed)], { cwd: app, stdio: 'pipe' });
    const bin = join(app, 'node_modules', '.bin', 'x1deploy');
    const x1 = (...args: string[]) => execFileSync(bin, args, { cwd: app, encoding: 'utf8', env: { ...process.env, KUBECONFIG: '', HOME: app } });

    const own = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; engines: { node: string } };
    expect(x1('--version').trim()).toBe(own.version);
    expect(own.engines.node).toBe('>=20');
    x1('init', 'gitops');
    x1('grant', '--repo', 'gitops', '--agent', 'a1', '--app', 'api', '--branches', '*', '--mode', 'auto', '--by', 'owner');
    writeFileSync(join(app, 'request.yaml'), `app: api\nbranch: feat/x\ncommit_sha: ${'a'.repeat(40)}\nports: [8080]\n`);
    expect(JSON.parse(x1('deploy', 'request.yaml', '--repo', 'gitops', '--agent', 'a1', '--json'))).toMatchObject({ version: 1, status: 'pending-build' });
    let status: { status: number; stdout: string } | undefined;
    try {
      x1('status', '--repo', 'gitops', '--app', 'api', '--branch', 'feat/x', '--json');
    } catch (err) {
      status = err as { status: number; stdout: string };
    }
    expect(status?.status).toBe(6);
    expect(JSON.parse(status!.stdout)).toMatchObject({ state: 'pending-build' });

    writeFileSync(join(app, 'tokens.yaml'), `- sha256: ${tokenHash('tok-package-test-0123456789')}\n  agent: a1\n`);
    const port = await freePort();
    const server = spawn(bin, ['serve', '--repo', 'gitops', '--tokens', 'tokens.yaml', '--listen', `127.0.0.1:${port}`], { cwd: app, stdio: 'pipe' });
    try {
      let healthy = false;
      for (let i = 0; i < 100 && !healthy; i++) {
        healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
        if (!healthy) await new Promise((r) => setTimeout(r, 100));
      }
      expect(healthy).toBe(true);
      const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (server.exitCode === null) server.kill('SIGKILL');
    }
  });
});
