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

// Fabricated values in each shape (none is a live credential), split so no scanner mistakes this file for a leak.
const SHAPES: [string, string][] = [
  ['a JSON Web Token', 'eyJhbGciOiJIUzI1NiJ9' + '.eyJzdWIiOiIxMjM0NTY3ODkwIn0' + '.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'],
  ['an OpenAI API key', 'sk-' + 'proj-' + 'Ab1'.repeat(16)],
  ['an OpenAI API key', 'sk-' + 'Ab1'.repeat(7) + 'T3Blbk' + 'FJ' + 'Cd2'.repeat(7)],
  ['an Anthropic API key', 'sk-' + 'ant-api03-' + 'Ab1_'.repeat(20)],
  ['a Google API key', 'AI' + 'za' + 'SyD' + 'x'.repeat(32)],
  ['an npm token', 'npm' + '_' + 'Ab1'.repeat(12)],
  ['a SendGrid API key', 'SG' + '.' + 'a'.repeat(22) + '.' + 'b'.repeat(43)],
  ['a Twilio API key', 'SK' + '0123456789abcdef'.repeat(2)],
  ['a Slack token', 'xapp' + '-1-A0123456789-0123456789012-' + 'ab12'.repeat(16)],
  ['a Slack token', 'xox' + 'b-1234567890-abcdefghij'],
  ['an Azure connection string key', 'DefaultEndpointsProtocol=https;AccountName=a;' + 'AccountKey=' + 'Ab1+'.repeat(22) + '==;'],
  ['Docker registry auth', '{"auths":{"registry.example.com":{"' + 'auth":"' + 'dXNlcjpwYXNzd29yZA==' + '"}}}'],
  ['a password or key assignment', 'host=db user=app ' + 'password=' + 'hunter22'],
  ['a password or key assignment', 'https://api.example.com/?' + 'api_key=' + 'abcd1234'],
  ['a GitHub token', 'token' + 'ghp_' + 'Ab1'.repeat(12)],
  ['a GitHub token', 'github_pat_' + 'Ab1_'.repeat(10)],
  ['a Stripe key', 'sk_live_' + 'Ab1'.repeat(8)],
  ['a private key block', '-----BEGIN ' + 'OPENSSH PRIVATE KEY-----\nabc'],
];

describe('credential patterns', () => {
  it.each(SHAPES)('flags %s', (kind, value) => {
    expect(credentialKind('VALUE', value)).toBe(kind);
  });

  // Logs are scrubbed with the same table: what a request may not hold, a build log does not keep.
  it.each(SHAPES)('scrubs %s from a log line', (_kind, value) => {
    const scrubbed = scrubSecrets(`step 3/7: ${value} done`);
    expect(scrubbed).toContain('[redacted]');
    expect(scrubbed).not.toContain(value.slice(-10));
  });

  it.each([
    '123e4567-e89b-12d3-a456-426614174000',
    'a'.repeat(40),
    '0123456789abcdef'.repeat(4),
    'https://example.com/a@b',
    'aGVsbG8gd29ybGQ=',
    'sk-short',
    'SKIP_MIGRATIONS',
    'mode=token',
    'eyJhbGciOiJIUzI1NiJ9',
    'password=${DB_PASSWORD}',
    'Authorization header name',
  ])('leaves %s alone', (value) => {
    expect(credentialKind('VALUE', value)).toBeUndefined();
  });

  // Every prefix repeated to the scanned maximum, then past it: bounded bodies keep each linear.
  it.each(['eyJ', 'eyJa.', 'sk-', 'sk-proj-', 'SK0', 'AccountKey=', '"auth":"', 'password=', 'ghp_', 'xapp-1-', 'AIza', '-----BEGIN '])(
    'answers on 32 KB and on 1 MB of %s in well under a second',
    (prefix) => {
      const started = performance.now();
      for (const size of [32_768, 1 << 20]) credentialKind('VALUE', prefix.repeat(Math.ceil(size / prefix.length)).slice(0, size));
      expect(performance.now() - started).toBeLessThan(5_000);
    },
  );

  it('refuses a credential in a branch, a dockerfile path or an env name without showing it', () => {
    const token = 'ghp_' + 'Zq9'.repeat(12);
    for (const input of [{ branch: `feat/${token}` }, { dockerfile: `${token}/Dockerfile` }, { env: { [token]: 'x' } }]) {
      const parsed = deployRequestSchema(limits).safeParse({ ...request({}), ...input });
      expect(parsed.success).toBe(false);
      const issues = toFieldIssues(parsed.error!);
      expect(issues.map((i) => i.message).join(' ')).toMatch(/looks like a GitHub token \(not shown\)/);
      expect(JSON.stringify(issues)).not.toContain(token.slice(4));
    }
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
