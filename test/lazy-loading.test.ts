// What a command loads is part of what it costs (a cold deploy compiles and runs every module it
// loads): these run the CLI from source and watch what Node's module loader resolves.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startGitHttpServer } from './support/git-http-server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs the CLI from source with a loader hook that writes each isomorphic-git file it resolves to
 * `log`, and the Node modules it loaded (process.moduleLoadList) to `builtins`.
 */
function cliWatching(log: string, cacheDir: string) {
  const builtins = `${log}.builtins`;
  const recorder = `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(builtins)}, process.moduleLoadList.join('\\n')));`;
  const hook = `import { appendFileSync } from 'node:fs';
    export async function resolve(specifier, context, next) {
      const resolved = await next(specifier, context);
      if (/[\\\\/]node_modules[\\\\/]isomorphic-git[\\\\/]/.test(resolved.url)) appendFileSync(${JSON.stringify(log)}, resolved.url + '\\n');
      return resolved;
    }`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  const recorderFile = `${log}.recorder.cjs`;
  writeFileSync(recorderFile, recorder);
  return async (args: string[], input = '') => {
    writeFileSync(log, '');
    const child = spawn(
      process.execPath,
      ['--require', recorderFile, '--import', 'tsx', '--import', `data:text/javascript,${encodeURIComponent(register)}`, MAIN, ...args],
      { cwd: ROOT, env: { ...process.env, X1DEPLOY_DEBUG: '', X1DEPLOY_CACHE_DIR: cacheDir } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(input);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { code, stdout, stderr, loaded: readFileSync(log, 'utf8'), builtins: readFileSync(builtins, 'utf8').split('\n') };
  };
}

describe('what a command loads', () => {
  it('a local deploy never loads isomorphic-git, which init (the control) does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'x1-lazy-'));
    dirs.push(dir);
    const x1 = cliWatching(join(dir, 'loaded.log'), join(dir, 'cache'));
    const repo = join(dir, 'gitops');
    const init = await x1(['init', repo]);
    expect(init.code, init.stderr).toBe(0);
    // The hook sees isomorphic-git where it is loaded: otherwise the check below could not fail.
    expect(init.loaded).toMatch(/isomorphic-git/);
    expect(
      (await x1(['grant', '--repo', repo, '--agent', 'a1', '--app', 'api', '--branches', '*', '--mode', 'auto', '--by', 'owner'])).code,
    ).toBe(0);
    const request = JSON.stringify({ app: 'api', branch: 'feat/x', commit_sha: 'a'.repeat(40), ports: [8080] });
    const deploy = await x1(['deploy', '-', '--repo', repo, '--agent', 'a1', '--json'], request);
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(JSON.parse(deploy.stdout)).toMatchObject({ version: 1, status: 'pending-build' });
    expect(deploy.loaded).toBe('');
  });

  it('a deploy to a remote speaks HTTP through node:http, never loading fetch (undici)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'x1-lazy-'));
    dirs.push(dir);
    const x1 = cliWatching(join(dir, 'loaded.log'), join(dir, 'cache'));
    const repo = join(dir, 'gitops');
    expect((await x1(['init', repo])).code).toBe(0);
    expect(
      (await x1(['grant', '--repo', repo, '--agent', 'a1', '--app', 'api', '--branches', '*', '--mode', 'auto', '--by', 'owner'])).code,
    ).toBe(0);
    const served = join(dir, 'served');
    execFileSync('git', ['clone', '-q', '--bare', repo, join(served, 'gitops.git')]);
    const server = await startGitHttpServer(served);
    try {
      const request = JSON.stringify({ app: 'api', branch: 'feat/r', commit_sha: 'b'.repeat(40), ports: [8080] });
      const deploy = await x1(['deploy', '-', '--repo', server.url('gitops.git'), '--agent', 'a1', '--json'], request);
      expect(deploy.code, deploy.stderr).toBe(0);
      expect(JSON.parse(deploy.stdout)).toMatchObject({ version: 1, status: 'pending-build' });
      // It did speak HTTP (the control), and sent its push whole, as fetch did.
      expect(deploy.builtins).toContain('NativeModule _http_client');
      expect(server.requests.find((r) => r.path.endsWith('/git-receive-pack'))).toMatchObject({ status: 200, chunked: false });
      expect(deploy.builtins.filter((m) => /undici/.test(m))).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
