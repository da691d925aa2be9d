import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from './support/cli.js';
import { git, repoFingerprint, SHA_A, tempDir } from './support/workspace-repo.js';

const requestYaml = `app: api\nbranch: feat/login\ncommit_sha: ${SHA_A}\nports: [3000]\nenv:\n  MODE: preview\n  API_KEY: \${API_KEY}\n`;

describe('x1deploy CLI', () => {
  const dir = join(tempDir(), 'gitops');

  it('init creates a workspace repo with demo defaults', () => {
    const r = runCli(['init', dir, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ workspace: 'demo', namespace: 'ws-demo', engine: 'argocd' });
    expect(git(dir, 'log', '--format=%s')).toBe('Create workspace demo');
    expect(git(dir, 'status', '--porcelain')).toBe('');
  });

  it('grant lets agent-7 deploy api and web on every branch', () => {
    for (const app of ['api', 'web']) {
      const r = runCli([
        'grant',
        '--repo',
        dir,
        '--agent',
        'agent-7',
        '--app',
        app,
        '--branches',
        '*',
        '--mode',
        'auto',
        '--by',
        'owner',
        '--json',
      ]);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout).summary).toBe(`owner granted agent-7 auto deploys of ${app} on *`);
    }
    expect(git(dir, 'log', '-1', '--format=%an %s')).toBe('owner Grants: owner granted agent-7 auto deploys of web on *');
  });

  it('init refuses bad flags by name and writes nothing', () => {
    const other = join(tempDir(), 'bad');
    const r = runCli(['init', other, '--workspace', 'Bad_Id', '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.issues[0].path).toBe('workspace.id');
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('deploy from a file prints {url, version, image_ref} with --json', () => {
    const file = join(tempDir(), 'req.yaml');
    writeFileSync(file, requestYaml);
    const r = runCli(['deploy', file, '--repo', dir, '--agent', 'agent-7', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ version: 1, image_ref: `registry.localhost:5000/ws/demo/app-api:${SHA_A}`, status: 'pending-build' });
    expect(out.url).toMatch(/^https:\/\/feat-login-[a-z2-7]{8}\.api\.demo\.preview\.localhost$/);
    expect(git(dir, 'status', '--porcelain')).toBe('');
  });

  it('deploy from stdin of the same request is a no-op', () => {
    const head = git(dir, 'rev-parse', 'HEAD');
    const r = runCli(['deploy', '-', '--repo', dir, '--agent', 'agent-7'], { input: requestYaml });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/nothing to commit/);
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(head);
  });

  it('an invalid request exits 1 with every issue and changes nothing', () => {
    const fp = repoFingerprint(dir);
    const secret = 'xoxb-123456789012-abcdefghijkl';
    const r = runCli(['deploy', '-', '--repo', dir, '--agent', 'agent-7', '--json'], {
      input: JSON.stringify({ app: 'api', branch: 'feat x', commit_sha: SHA_A, ports: [3000], replica: 2, env: { SLACK: secret } }),
    });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.error).toBe('invalid request');
    expect(out.issues.map((i: { path: string }) => i.path).sort()).toEqual(['(request)', 'branch', 'env.SLACK']);
    expect(r.stdout + r.stderr).not.toContain(secret);
    expect(repoFingerprint(dir)).toBe(fp);
  });

  it('malformed YAML is refused without echoing the text', () => {
    const r = runCli(['deploy', '-', '--repo', dir, '--agent', 'a'], { input: 'app: [unclosed\n  token: ghp_secretsecret' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not valid YAML or JSON/);
    expect(r.stderr).not.toContain('ghp_secretsecret');
  });

  it('a folder that is not a gitops repo gives a hint, not a stack trace', () => {
    const r = runCli(['list', '--repo', tempDir()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/x1deploy init/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('list shows the branch deploy; render finds nothing to change', () => {
    const list = runCli(['list', '--repo', dir, '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ app: 'api', branch: 'feat/login', version: 1, status: 'pending-build' }),
    ]);
    expect(JSON.parse(runCli(['list', '--repo', dir, '--app', 'nope', '--json']).stdout)).toEqual([]);
    const render = runCli(['render', '--repo', dir, '--json']);
    expect(render.code).toBe(0);
    expect(JSON.parse(render.stdout)).toEqual({ commit: null, branch_deploys: 1 });
  });

  it('reads digit-only commit ids and numeric env values exactly as written', () => {
    const sha = '0' + '1'.repeat(39);
    const r = runCli(['deploy', '-', '--repo', dir, '--agent', 'agent-7', '--json'], {
      input: `app: web\nbranch: 1.10\ncommit_sha: ${sha}\nports: [8080]\nenv:\n  PORT: 8080\n  RATIO: 1.50\n`,
    });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.image_ref).toBe(`registry.localhost:5000/ws/demo/app-web:${sha}`);
    expect(out.branch).toBe('1.10');
    const deployment = git(dir, 'show', `HEAD:rendered/web/${out.slug}/deployment.yaml`);
    expect(deployment).toContain('value: "8080"');
    expect(deployment).toContain('value: "1.50"');
  });

  it('deploy --help lists the request fields from the schema', () => {
    const r = runCli(['deploy', '--help']);
    expect(r.code).toBe(0);
    for (const field of ['app', 'branch', 'commit_sha', 'dockerfile', 'ports', 'env', 'replicas', 'resources'])
      expect(r.stdout).toMatch(new RegExp(`^  ${field} `, 'm'));
  });
});

describe('output into a pipe its reader closed early (x1deploy … | head)', () => {
  it('ends quietly with its own exit code, not a stack trace', async () => {
    const running = startCli(['--help']);
    // The reader goes away before anything is written: every write then fails with EPIPE.
    running.child.stdout!.destroy();
    const code = await running.exited;
    expect(running.stderr).not.toMatch(/EPIPE|Unhandled|at /);
    expect(code).toBe(0);
  });
});
