import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { deployRequestSchema, toFieldIssues, branchNameProblem } from '../src/spec/index.js';

const limits = { maxReplicas: 3, maxCpu: '1', maxMemory: '1Gi' };
const SHA = 'A'.repeat(40);
const base = { app: 'api', branch: 'feat/x', commit_sha: SHA, dockerfile: 'Dockerfile', ports: [8080] };

function issuesOf(input: unknown) {
  const r = deployRequestSchema(limits).safeParse(input);
  return r.success ? [] : toFieldIssues(r.error);
}

describe('deploy request', () => {
  it('accepts a minimal request, lowercases the sha and defaults the dockerfile', () => {
    const r = deployRequestSchema(limits).parse({ ...base, dockerfile: undefined });
    expect(r.commit_sha).toBe('a'.repeat(40));
    expect(r.dockerfile).toBe('Dockerfile');
    expect(r.replicas).toBeUndefined();
  });

  it('accepts 64-hex sha256 commits', () => {
    expect(issuesOf({ ...base, commit_sha: 'b'.repeat(64) })).toEqual([]);
  });

  it('reports every problem at once, by field', () => {
    const issues = issuesOf({
      app: '1api',
      branch: 'a..b',
      commit_sha: 'abc',
      dockerfile: '../Dockerfile',
      ports: [0, 8080, 8080],
      replicas: 9,
      resources: { cpu: 'lots', memory: '2Gi' },
    });
    const paths = issues.map((i) => i.path);
    for (const p of ['app', 'branch', 'commit_sha', 'dockerfile', 'ports.0', 'ports', 'replicas', 'resources.cpu', 'resources.memory'])
      expect(paths).toContain(p);
    expect(issues.find((i) => i.path === 'replicas')!.message).toMatch(/limit of 3/);
    expect(issues.find((i) => i.path === 'resources.memory')!.message).toMatch(/over the workspace limit of 1Gi/);
  });

  it('refuses unknown fields such as a typo', () => {
    const issues = issuesOf({ ...base, replica: 2 });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toMatch(/unknown field "replica"/);
  });

  it('requires at least one port and absolute-free dockerfile paths', () => {
    expect(issuesOf({ ...base, ports: [] }).map((i) => i.path)).toEqual(['ports']);
    expect(issuesOf({ ...base, dockerfile: '/etc/Dockerfile' })[0]!.message).toMatch(/relative/);
    expect(issuesOf({ ...base, dockerfile: 'docker/web/Dockerfile' })).toEqual([]);
  });

  it('keeps plain env values and accepts exact ${NAME} references', () => {
    expect(issuesOf({ ...base, env: { MODE: 'preview', MULTI: 'a\nb', KEY: '${STRIPE_KEY}' } })).toEqual([]);
  });

  it('refuses partial interpolation, bad names and DATABASE_URL', () => {
    const issues = issuesOf({ ...base, env: { URL: 'https://${HOST}/x', '1BAD': 'x', DATABASE_URL: 'postgres://db' } });
    expect(issues.map((i) => i.path).sort()).toEqual(['env.1BAD', 'env.DATABASE_URL', 'env.URL']);
  });

  const credentials: Record<string, string> = {
    GITHUB: 'ghp_' + 'a1B2'.repeat(9),
    GITLAB: 'glpat-' + 'x'.repeat(20),
    SLACK: 'xoxb-123456789012-abcdefghij',
    AWS: 'AKIA' + 'ABCDEFGHIJKLMNOP',
    STRIPE: 'sk_live_' + '4eC39HqLyjWDarjtT1zdp7dc',
    PEM: '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----',
    DSN: 'postgres://admin:hunter2@db:5432/app',
  };

  it.each(Object.entries(credentials))('refuses a plain %s credential without echoing it', (name, value) => {
    const issues = issuesOf({ ...base, env: { [name]: value } });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe(`env.${name}`);
    expect(issues[0]!.message).toMatch(/\$\{SECRET_NAME\}/);
    expect(JSON.stringify(issues)).not.toContain(value.slice(4, 16));
  });

  it('does not flag ordinary config', () => {
    expect(issuesOf({ ...base, env: { TOKEN_TTL: '3600', URL: 'https://example.com/path', LOG: 'debug' } })).toEqual([]);
  });

  it('converts to a JSON schema for the CLI help and the MCP tool', () => {
    const json = z.toJSONSchema(deployRequestSchema(), { io: 'input' }) as {
      properties: Record<string, unknown>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(Object.keys(json.properties)).toEqual([
      'app',
      'branch',
      'commit_sha',
      'dockerfile',
      'ports',
      'env',
      'replicas',
      'repo',
      'follow',
      'resources',
    ]);
    expect(json.required.sort()).toEqual(['app', 'branch', 'commit_sha', 'ports']);
    expect(json.additionalProperties).toBe(false);
  });
});

describe('branch names (git check-ref-format)', () => {
  it.each([
    ['main', undefined],
    ['feat/x', undefined],
    ['功能/分支', undefined],
    ['release/1.2', undefined],
    ['', /empty/],
    ['-x', /starts with "-"/],
    ['a b', /space/],
    ['a..b', /\.\./],
    ['a~1', /~/],
    ['a^', /\^/],
    ['a:b', /:/],
    ['a?', /\?/],
    ['a*', /\*/],
    ['a[b', /\[/],
    ['a\\b', /\\/],
    ['x.lock', /\.lock/],
    ['a/b.lock/c', /\.lock/],
    ['a@{1}', /@\{/],
    ['/a', /"\/"/],
    ['a/', /"\/"/],
    ['a//b', /\/\//],
    ['a.', /ends with "."/],
    ['.a', /starting with "."/],
    ['a/.b', /starting with "."/],
    ['@', /"@"/],
    ['a\tb', /control/],
    ['a\x7fb', /control/],
  ])('%j', (name, problem) => {
    const found = branchNameProblem(name);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });
});

describe('branch names agree with git itself', () => {
  // "@" is left out: --branch reads it as a shorthand for HEAD, while git refuses it as a ref name.
  const names = [
    'main',
    'feat/x',
    '功能/分支',
    'a..b',
    'a~1',
    'x.lock',
    'a@{1}',
    'a//b',
    'a.',
    '.a',
    'a/.b',
    '-x',
    'a b',
    'a[b',
    'HEAD',
    'a@b',
    'ü/ß.1',
    'a/b.lock/c',
    'a:b',
  ];
  it.each(names)('%j', async (name) => {
    const { spawnSync } = await import('node:child_process');
    const git = spawnSync('git', ['check-ref-format', '--branch', name], { encoding: 'utf8' });
    expect(branchNameProblem(name) === undefined).toBe(git.status === 0);
  });
});
