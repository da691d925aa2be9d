// What a command loads is part of what it costs (a cold deploy compiles and runs every module it
// loads): these run the CLI from source and watch what Node's module loader resolves.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI from source with a loader hook that writes each isomorphic-git file it resolves to `log`. */
function cliWatching(log: string, cacheDir: string) {
  const hook = `import { appendFileSync } from 'node:fs';
    export async function resolve(specifier, context, next) {
      const resolved = await next(specifier, context);
      if (/[\\\\/]node_modules[\\\\/]isomorphic-git[\\\\/]/.test(resolved.url)) appendFileSync(${JSON.stringify(log)}, resolved.url + '\\n');
      return resolved;
    }`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  return (args: string[], input = '') => {
    writeFileSync(log, '');
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--import', `data:text/javascript,${encodeURIComponent(register)}`, MAIN, ...args],
      {
        cwd: ROOT,
        input,
        encoding: 'utf8',
        env: { ...process.env, X1DEPLOY_DEBUG: '', X1DEPLOY_CACHE_DIR: cacheDir },
      },
    );
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, loaded: readFileSync(log, 'utf8') };
  };
}

describe('what a command loads', () => {
  it('a local deploy never loads isomorphic-git, which init (the control) does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'x1-lazy-'));
    dirs.push(dir);
    const x1 = cliWatching(join(dir, 'loaded.log'), join(dir, 'cache'));
    const repo = join(dir, 'gitops');
    const init = x1(['init', repo]);
    expect(init.code, init.stderr).toBe(0);
    // The hook sees isomorphic-git where it is loaded: otherwise the check below could not fail.
    expect(init.loaded).toMatch(/isomorphic-git/);
    expect(x1(['grant', '--repo', repo, '--agent', 'a1', '--app', 'api', '--branches', '*', '--mode', 'auto', '--by', 'owner']).code).toBe(
      0,
    );
    const request = JSON.stringify({ app: 'api', branch: 'feat/x', commit_sha: 'a'.repeat(40), ports: [8080] });
    const deploy = x1(['deploy', '-', '--repo', repo, '--agent', 'a1', '--json'], request);
    expect(deploy.code, deploy.stderr).toBe(0);
    expect(JSON.parse(deploy.stdout)).toMatchObject({ version: 1, status: 'pending-build' });
    expect(deploy.loaded).toBe('');
  });
});
