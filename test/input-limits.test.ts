// Inputs are refused exactly and fast: quantities parse as Kubernetes parses them, and the
// credential patterns run in linear time on values of any size.
import { describe, expect, it } from 'vitest';
import { credentialKind, deployRequestSchema, parseQuantity, scrubSecrets, toFieldIssues } from '../src/spec/index.js';

const limits = { maxReplicas: 3, maxCpu: '1', maxMemory: '1Gi' };
const request = (resources: { readonly cpu?: string; readonly memory?: string }) => ({
  app: 'api',
  branch: 'feat/x',
  commit_sha: 'a'.repeat(40),
  ports: [8080],
  resources,
});

describe('quantities', () => {
  it.each([
    ['1E', 1e18],
    ['7Ei', 7 * 2 ** 60],
    ['1E3', 1000],
    ['1e3', 1000],
    ['2e-3', 0.002],
    ['500m', 0.5],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['3k', 3000],
    ['1P', 1e15],
  ])('%s is %d', (text, value) => {
    expect(parseQuantity(text)).toBe(value);
  });

  it('refuses 1E CPUs and 7Ei of memory against a 1-CPU, 1Gi limit', () => {
    for (const resources of [{ cpu: '1E' }, { memory: '7Ei' }]) {
      const parsed = deployRequestSchema(limits).safeParse(request(resources));
      expect(parsed.success).toBe(false);
      expect(toFieldIssues(parsed.error!)[0]!.message).toMatch(/over the workspace limit/);
    }
  });
});

describe('credential shapes', () => {
  it.each([
    ['postgres://app:s3cret@db/x', true],
    ['redis://:pass@cache:6379', true],
    ['https://user:pa/ss@host/x', true],
    ['https://github.com/acme/api.git', false],
    ['https://registry:4873/@scope/pkg', false],
    ['https://host:8080/path', false],
  ])('%s looks like a URL password: %s', (value, flagged) => {
    expect(credentialKind('URL', value) === 'a password inside a URL').toBe(flagged);
  });

  it('scrubs URL passwords holding "/" or "@" from build logs', () => {
    expect(scrubSecrets('fatal: could not read https://bot:p@ss/word@github.com/acme/api')).toBe(
      'fatal: could not read https://[redacted]@github.com/acme/api',
    );
  });

  // Linear time: the old URL pattern took 7.5 s on 40 KB and 85 s on 160 KB, quadratically.
  it.each([
    ['https://', 'https://'.repeat(131_072)],
    ['a', 'a'.repeat(1 << 20)],
    ['x://a:b@', 'x://a:b@'.repeat(131_072)],
    ['password=', 'password='.repeat(116_508)],
  ])('answers on 1 MB of %s in well under a second', (_name, value) => {
    const started = performance.now();
    credentialKind('VALUE', value);
    scrubSecrets(value);
    // Generous for a loaded 2-core machine; a quadratic pattern takes hours here.
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('request files', () => {
  it('refuses invalid UTF-8, prototype keys and a YAML alias bomb with exit 1 and a clear error, writing nothing', async () => {
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { cliInProcess } = await import('./support/cli-in-process.js');
    const { makeWorkspaceRepo, repoFingerprint, tempDir } = await import('./support/workspace-repo.js');
    const { dir } = await makeWorkspaceRepo();
    const fp = repoFingerprint(dir);
    const base = 'app: api\ncommit_sha: ' + 'a'.repeat(40) + '\nports: [8080]\n';
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      ...Array.from(
        { length: 8 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`,
      ),
    ].join('\n');
    const cases: [string, Buffer, RegExp][] = [
      [
        'invalid UTF-8',
        Buffer.concat([Buffer.from(`${base}branch: feat/`), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]),
        /not valid UTF-8/,
      ],
      ['__proto__', Buffer.from(`${base}branch: feat/x\n__proto__: {polluted: true}\n`), /field named "__proto__"/],
      ['constructor in env', Buffer.from(`${base}branch: feat/x\nenv:\n  constructor: x\n`), /field named "constructor"/],
      [
        'alias bomb',
        Buffer.from(
          `${base}branch: feat/x\nenv:\n${bomb
            .split('\n')
            .map((l) => `  ${l}`)
            .join('\n')}\n`,
        ),
        /too many YAML aliases/,
      ],
    ];
    for (const [name, bytes, message] of cases) {
      const file = join(tempDir(), `${name.replace(/\W/g, '-')}.yaml`);
      writeFileSync(file, bytes);
      const r = await cliInProcess(['deploy', file, '--repo', dir, '--agent', 'agent-7', '--json']);
      expect(r.code, name).toBe(1);
      expect(JSON.parse(r.stdout), name).toEqual({ error: expect.stringMatching(message), kind: 'invalid' });
    }
    expect(repoFingerprint(dir)).toBe(fp);
  });

  it('refuses __proto__ as an env name over MCP and the library too, before anything is read', async () => {
    const { validateDeployRequest } = await import('../src/deploy/index.js');
    const { defaultWorkspaceConfig } = await import('../src/workspace/index.js');
    const input = JSON.parse(`{"app":"api","branch":"feat/x","commit_sha":"${'a'.repeat(40)}","ports":[8080],"env":{"__proto__":"x"}}`);
    expect(() => validateDeployRequest(input, defaultWorkspaceConfig())).toThrow(/env.__proto__: "__proto__" is refused/);
  });
});

describe('secret names', () => {
  it.each([
    ['DB_PASSWORD', 'hunter2', true],
    ['PASSWORD', 'x', true],
    ['STRIPE_SECRET', 'abc', true],
    ['GITHUB_TOKEN', 'abc', true],
    ['X_API_KEY', 'abc', true],
    ['SIGNING_PRIVATE_KEY', 'abc', true],
    ['REQUIRE_PASSWORD', 'true', false],
    ['TOKEN_BYTES', '32', false],
    ['CSRF_TOKEN_HEADER', 'x-csrf', false],
    ['DB_PASSWORD', '', false],
    ['NODE_ENV', 'production', false],
  ])('%s=%s is refused as a secret by its name: %s', (name, value, refused) => {
    expect(credentialKind(name, value) === `a secret, by its name (${name})`).toBe(refused);
  });

  it('asks for a ${NAME} reference instead, without echoing the value', () => {
    const parsed = deployRequestSchema(limits).safeParse({ ...request({}), env: { DB_PASSWORD: 'hunter2' } });
    expect(parsed.success).toBe(false);
    const [issue] = toFieldIssues(parsed.error!);
    expect(issue).toEqual({
      path: 'env.DB_PASSWORD',
      message: expect.stringMatching(/store it in the workspace secrets and set DB_PASSWORD to \$\{SECRET_NAME\}/),
    });
    expect(issue!.message).not.toContain('hunter2');
  });
});
