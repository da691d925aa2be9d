// x1deploy serve: the MCP tools over Streamable HTTP (the SDK's client and transport, real HTTP on
// 127.0.0.1), one identity per bearer token, many agents at once, and a graceful stop.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadTokens, startService, tokenHash, type RunningServer } from '../src/serve/index.js';
import type { GitopsStore } from '../src/records/index.js';
import { cliInProcess } from './support/cli-in-process.js';
import { PROMTOOL_BINARY } from './support/prometheus.js';
import { git, makeWorkspaceRepo, SHA_A, storeWith, tempDir } from './support/workspace-repo.js';

vi.setConfig({ testTimeout: 60_000 });
type Result = { isError?: boolean; structuredContent?: Record<string, any>; content: { type: string; text: string }[] };

const AGENT_7 = 'tok-agent7-0123456789abcdef';
const AGENT_9 = 'tok-agent9-0123456789abcdef';
const READER = 'tok-reader-0123456789abcdef';
const OWNER = 'tok-owner-alice-0123456789';

let dir: string;
let store: GitopsStore;
let service: RunningServer;
let tokensFile: string;

beforeAll(async () => {
  ({ dir, store } = await makeWorkspaceRepo());
  tokensFile = join(tempDir(), 'tokens.yaml');
  writeFileSync(
    tokensFile,
    [
      `- sha256: ${tokenHash(AGENT_7)}`,
      '  agent: agent-7',
      `- sha256: ${tokenHash(AGENT_9)}`,
      '  agent: agent-9',
      `- sha256: ${tokenHash(READER)}`,
      '  read: true',
      `- sha256: ${tokenHash(OWNER)}`,
      '  owner: alice',
      '',
    ].join('\n'),
  );
  service = await startService(
    {
      store,
      tokens: await loadTokens(tokensFile),
      observe: { cluster: { unavailable: 'no cluster in this test' }, probe: false },
      version: 'test',
    },
    { host: '127.0.0.1', port: 0 },
  );
});

afterAll(async () => {
  await service?.close();
});

async function connect(token: string | undefined): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(`${service.url}/mcp`), {
    requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {},
  });
  const client = new Client({ name: 'agent', version: '1' });
  await client.connect(transport);
  return client;
}

const deploy = (branch: string) => ({ app: 'api', branch, commit_sha: SHA_A, ports: [8080] });

describe('x1deploy serve', () => {
  it('acts as the agent its token names, never as an argument says', async () => {
    const client = await connect(AGENT_7);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('deploy_branch');
    const r = (await client.callTool({ name: 'deploy_branch', arguments: { ...deploy('feat/http'), agent: 'agent-9' } })) as Result;
    // "agent" is not a request field: refused, and nothing is written.
    expect(r.isError).toBe(true);
    const ok = (await client.callTool({ name: 'deploy_branch', arguments: deploy('feat/http') })) as Result;
    expect(ok.isError).toBeFalsy();
    expect(ok.structuredContent).toMatchObject({ app: 'api', branch: 'feat/http', version: 1 });
    expect(git(dir, 'log', '-1', '--format=%an|%(trailers:key=X1-Agent,valueonly)')).toBe('agent-7|agent-7');
    await client.close();

    const other = await connect(AGENT_9);
    const denied = (await other.callTool({ name: 'deploy_branch', arguments: deploy('feat/other') })) as Result;
    expect(denied.isError).toBe(true);
    expect(JSON.parse(denied.content[1]!.text)).toMatchObject({ denied: true, reason: expect.stringContaining('agent agent-9 has no deploy grant') });
    await other.close();
  });

  it('many agents at once: concurrent deploys over HTTP all land', async () => {
    const clients = await Promise.all(Array.from({ length: 5 }, () => connect(AGENT_7)));
    const answers = (await Promise.all(
      clients.map((c, i) => c.callTool({ name: 'deploy_branch', arguments: deploy(`feat/many-${i}`) })),
    )) as Result[];
    for (const a of answers) expect(a.isError).toBeFalsy();
    const listed = (await clients[0]!.callTool({ name: 'list_branch_deploys', arguments: {} })) as Result;
    const branches = (listed.structuredContent!.deploys as { branch: string }[]).map((d) => d.branch);
    for (let i = 0; i < 5; i++) expect(branches).toContain(`feat/many-${i}`);
    await Promise.all(clients.map((c) => c.close()));
  });

  it('a missing or unknown token is 401; a read token may not use the agent tools', async () => {
    for (const headers of [{}, { authorization: 'Bearer not-a-known-token-at-all' }, { authorization: `Basic ${AGENT_7}` }] as Record<string, string>[]) {
      const r = await fetch(`${service.url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await r.json()).toMatchObject({ kind: 'denied' });
    }
    const reader = await fetch(`${service.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${READER}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(reader.status).toBe(403);
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${service.url}/readyz`)).json()).toEqual({ ok: true });
    expect((await fetch(`${service.url}/nope`)).status).toBe(404);
  });

  it('/metrics counts calls, deploys and denials in the Prometheus text format (checked by promtool)', async () => {
    expect((await fetch(`${service.url}/metrics`)).status).toBe(401);
    const r = await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${READER}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}"=,]/g, (ch) => `\\${ch}`)} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    // Six deploys landed (one, then five at once); agent-9's was denied; one call was invalid.
    expect(value('x1deploy_deploys_total{landed="committed"}')).toBe(6);
    expect(value('x1deploy_tool_calls_total{tool="deploy_branch",outcome="ok"}')).toBe(6);
    expect(value('x1deploy_tool_calls_total{tool="deploy_branch",outcome="denied"}')).toBe(1);
    expect(value('x1deploy_tool_calls_total{tool="deploy_branch",outcome="invalid"}')).toBe(1);
    expect(value('x1deploy_denials_total{tool="deploy_branch"}')).toBe(1);
    expect(value('x1deploy_http_requests_total{route="/mcp",status="401"}')).toBe(3);
    expect(text).toMatch(/^x1deploy_tool_call_seconds_bucket\{le="0\.05",tool="deploy_branch"\} \d+$/m);
    if (PROMTOOL_BINARY) {
      const checked = spawnSync(PROMTOOL_BINARY, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(checked.status, checked.stdout + checked.stderr).toBe(0);
    } else if (process.env.CI === 'true') throw new Error('promtool is missing: .ci/run installs prometheus, which has it');
    else console.warn('NOTICE: promtool is not installed; the exposition format is not checked by it');
  });

  it('refuses a tokens file that holds a token instead of its hash, without echoing it', async () => {
    const bad = join(tempDir(), 'tokens.yaml');
    writeFileSync(bad, `- sha256: ${AGENT_7}\n  agent: agent-7\n`);
    await expect(loadTokens(bad)).rejects.toThrow(/must be the hex SHA-256 of the token/);
    await expect(loadTokens(bad)).rejects.not.toThrow(new RegExp(AGENT_7));
    const r = await cliInProcess(['serve', '--repo', dir, '--tokens', bad, '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain(AGENT_7);
  });

  it('a graceful stop finishes the request in flight and refuses new ones', async () => {
    // A commit that takes a while, so the deploy is surely in flight when the stop begins.
    let committing!: () => void;
    const started = new Promise<void>((r) => (committing = r));
    const slow = storeWith(store, {
      commit: async (r) => {
        committing();
        await new Promise((done) => setTimeout(done, 500));
        return store.commit(r);
      },
    });
    const own = await startService(
      {
        store: slow,
        tokens: await loadTokens(tokensFile),
        observe: { cluster: { unavailable: 'no cluster in this test' }, probe: false },
        version: 'test',
      },
      { host: '127.0.0.1', port: 0 },
    );
    const transport = new StreamableHTTPClientTransport(new URL(`${own.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${AGENT_7}` } },
    });
    const client = new Client({ name: 'agent', version: '1' });
    await client.connect(transport);
    const inFlight = client.callTool({ name: 'deploy_branch', arguments: deploy('feat/stopping') });
    await started;
    const stopping = own.close();
    // While it drains, new requests are refused with 503 and a retry hint.
    const refused = await fetch(`${own.url}/readyz`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    const answer = (await inFlight) as Result;
    expect(answer.isError).toBeFalsy();
    await stopping;
    await expect(fetch(`${own.url}/healthz`)).rejects.toThrow();
    expect(git(dir, 'log', '--format=%s', '-20')).toContain('Deploy api feat/stopping version 1');
  });

  describe('/api/v1', () => {
    const call = async (method: string, path: string, token: string, body?: unknown) => {
      const r = await fetch(`${service.url}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: r.status, json: (await r.json()) as Record<string, any> };
    };

    it('deploys as the agent token, refuses other tokens, and answers errors as every surface does', async () => {
      expect((await call('POST', '/deploy', READER, deploy('feat/api'))).status).toBe(403);
      expect((await call('POST', '/deploy', OWNER, deploy('feat/api'))).json).toMatchObject({ kind: 'denied', error: expect.stringMatching(/needs an agent token; yours is an owner token/) });
      const ok = await call('POST', '/deploy', AGENT_7, deploy('feat/api'));
      expect(ok.status).toBe(200);
      expect(ok.json).toMatchObject({ app: 'api', branch: 'feat/api', version: 1, status: 'pending-build', commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
      const invalid = await call('POST', '/deploy', AGENT_7, { app: 'api', branch: 'feat/api' });
      expect(invalid.status).toBe(400);
      expect(invalid.json).toMatchObject({ kind: 'invalid', error: 'invalid request' });
      expect(invalid.json.issues.map((i: { path: string }) => i.path)).toEqual(expect.arrayContaining(['commit_sha', 'ports']));
      const denied = await call('POST', '/deploy', AGENT_9, deploy('feat/api9'));
      expect(denied.status).toBe(403);
      expect(denied.json).toMatchObject({ denied: true, kind: 'denied', reason: expect.stringContaining('a workspace owner can grant it') });

      const one = await call('GET', '/preview?app=api&branch=feat%2Fapi', READER);
      expect(one.json).toMatchObject({ state: 'pending-build', reason: 'BuildPending', versions: [{ number: 1, status: 'pending-build' }] });
      const all = await call('GET', '/previews', READER);
      expect(all.json.previews.find((p: { branch: string }) => p.branch === 'feat/api')).toMatchObject({ state: 'pending-build', version: 1 });
      const logs = await call('GET', '/logs?app=api&branch=feat%2Fapi&build=true', READER);
      expect(logs.status).toBe(503);
      expect(logs.json).toMatchObject({ kind: 'unavailable', error: expect.stringMatching(/no cluster access/) });
      expect((await call('POST', '/delete', AGENT_7, { app: 'api', branch: 'feat/api' })).json).toMatchObject({ deleted_versions: 1 });
    });

    it('grants and revokes as the owner token; agents and readers may not', async () => {
      const grant = { agent: 'agent-9', app: 'web', branches: 'feat/*', mode: 'auto' };
      expect((await call('POST', '/grants', AGENT_7, grant)).status).toBe(403);
      const made = await call('POST', '/grants', OWNER, grant);
      expect(made.status).toBe(200);
      expect(made.json.summary).toBe('alice granted agent-9 auto deploys of web on feat/*');
      expect(git(dir, 'log', '-1', '--format=%an %s')).toMatch(/^alice Grants: alice granted agent-9/);
      const deployed = await call('POST', '/deploy', AGENT_9, { ...deploy('feat/web'), app: 'web' });
      expect(deployed.json).toMatchObject({ app: 'web', mode: 'auto', version: 1 });
      const grants = await call('GET', '/grants', READER);
      expect(grants.json.grants.filter((g: { agent: string }) => g.agent === 'agent-9')).toHaveLength(1);
      expect((await call('POST', '/revoke', OWNER, { agent: 'agent-9', app: 'web' })).json.summary).toMatch(/revoked/);
      expect((await call('POST', '/grants', OWNER, { ...grant, branches: '' })).status).toBe(400);
    });

    it('describes itself in OpenAPI 3.1, request bodies from the same zod schemas', async () => {
      const doc = (await fetch(`${service.url}/api/v1/openapi.json`)).json() as Promise<Record<string, any>>;
      const spec = await doc;
      expect(spec.openapi).toBe('3.1.0');
      expect(Object.keys(spec.paths).sort()).toEqual(['/delete', '/deploy', '/grants', '/logs', '/preview', '/previews', '/revoke', '/rollback']);
      const body = spec.paths['/deploy'].post.requestBody.content['application/json'].schema;
      expect(body.required).toEqual(expect.arrayContaining(['app', 'branch', 'commit_sha', 'ports']));
      expect(body.additionalProperties).toBe(false);
    });
  });
});
