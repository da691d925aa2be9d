// The shells in-process (the CLI's runCli and the MCP server over an in-memory transport), so the
// error mapping and the answers are measured by coverage, not only through child processes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cliInProcess as cli } from './support/cli-in-process.js';
import { INTERNAL_ERROR_MESSAGE } from '../src/errors/index.js';
import { createMcpServer } from '../src/mcp/index.js';
import type { GitopsStore } from '../src/records/index.js';
import { makeWorkspaceRepo, repoFingerprint, request, SHA_B, storeWith, tempDir } from './support/workspace-repo.js';

describe('CLI in process', () => {
  let dir: string;
  beforeEach(async () => {
    ({ dir } = await makeWorkspaceRepo());
  });

  it('deploys with --json, then answers the same request with no commit', async () => {
    const file = join(tempDir(), 'req.json');
    writeFileSync(file, JSON.stringify(request()));
    const first = await cli(['deploy', file, '--repo', dir, '--agent', 'agent-7', '--json']);
    expect(first.code).toBe(0);
    const answer = JSON.parse(first.stdout);
    expect(answer).toMatchObject({ app: 'api', branch: 'feat/x', version: 1, status: 'pending-build', mode: 'auto' });
    expect(answer.commit).toMatch(/^[0-9a-f]{40}$/);
    const again = await cli(['deploy', file, '--repo', dir, '--agent', 'agent-7', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ version: 1, commit: null });
  });

  it('maps each kind of error to its exit code and answer, changing nothing', async () => {
    const fp = repoFingerprint(dir);
    const file = join(tempDir(), 'req.json');
    writeFileSync(file, JSON.stringify(request({ ports: [0] })));
    const invalid = await cli(['deploy', file, '--repo', dir, '--agent', 'agent-7', '--json']);
    expect(invalid.code).toBe(1);
    expect(JSON.parse(invalid.stdout)).toMatchObject({ error: 'invalid request', kind: 'invalid', issues: [{ path: 'ports.0' }] });

    writeFileSync(file, JSON.stringify(request()));
    const denied = await cli(['deploy', file, '--repo', dir, '--agent', 'agent-9']);
    expect(denied.code).toBe(3);
    expect(denied.stderr).toMatch(/^x1deploy: denied: agent agent-9 has no deploy grant for app api/);

    const unknown = await cli(['history', '--repo', dir, '--app', 'api', '--branch', 'nope', '--json']);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout)).toEqual({ error: expect.stringMatching(/has no branch deploy for branch nope/), kind: 'invalid' });

    const noRepo = await cli(['list', '--repo', join(tempDir(), 'missing')]);
    expect(noRepo.code).toBe(1);
    expect(noRepo.stderr).toMatch(/is not a git repository; run "x1deploy init"/);
    expect(repoFingerprint(dir)).toBe(fp);
  });

  it('answers a missing option in JSON when --json is given', async () => {
    const r = await cli(['deploy', 'x.yaml', '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ error: "required option '--repo <dir>' not specified", kind: 'invalid' });
  });

  it('keeps commander its own exit codes for --version and a missing option', async () => {
    expect((await cli(['--version'])).code).toBe(0);
    const missing = await cli(['deploy', 'x.yaml']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/required option '--repo <dir>' not specified/);
  });
});

describe('MCP server in process', () => {
  let clients: Client[] = [];
  afterEach(async () => {
    for (const c of clients) await c.close();
    clients = [];
  });

  async function connect(store: GitopsStore, agent: string): Promise<Client> {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await createMcpServer({ store, agent, observe: { cluster: { unavailable: 'no cluster in this test' }, probe: false } }, 'test').connect(serverSide);
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(clientSide);
    clients.push(client);
    return client;
  }

  type Result = { isError?: boolean; structuredContent?: Record<string, unknown>; content: { text: string }[] };
  /** The answer's JSON: structured content on success; on an error, the JSON text block (the same fields). */
  const answer = (r: Result) => {
    const json = JSON.parse(r.content[1]!.text) as Record<string, unknown>;
    if (!r.isError) expect(json).toEqual(r.structuredContent);
    else expect(r.structuredContent).toBeUndefined();
    return json;
  };

  it('answers with structured content and the same fields on every kind of answer', async () => {
    const { store } = await makeWorkspaceRepo();
    const client = await connect(store, 'agent-7');
    const ok = (await client.callTool({ name: 'deploy_branch', arguments: request({ commit_sha: SHA_B }) })) as Result;
    expect(ok.isError).toBeFalsy();
    expect(answer(ok)).toMatchObject({ app: 'api', version: 1, status: 'pending-build' });

    const invalid = (await client.callTool({ name: 'rollback_branch', arguments: { app: 'api', branch: 'feat/x', to: 'abc' } })) as Result;
    expect(invalid.isError).toBe(true);
    expect(answer(invalid)).toMatchObject({ error: 'invalid request', kind: 'invalid', issues: [{ path: 'to' }] });

    const refused = (await client.callTool({ name: 'rollback_branch', arguments: { app: 'api', branch: 'feat/x' } })) as Result;
    expect(answer(refused)).toEqual({ error: expect.stringMatching(/no built version/), kind: 'invalid' });

    const unknownTool = (await client.callTool({ name: 'nope', arguments: {} })) as Result;
    expect(answer(unknownTool)).toMatchObject({ kind: 'invalid', error: expect.stringMatching(/^unknown tool nope/) });
  });

  it('an unexpected failure late in a write is internal, and does not claim nothing was written', async () => {
    const { store } = await makeWorkspaceRepo();
    const failing = storeWith(store, {
      commit: async () => {
        throw new TypeError('socket hang up after the pack was sent');
      },
    });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const client = await connect(failing, 'agent-7');
      const r = (await client.callTool({ name: 'deploy_branch', arguments: request() })) as Result;
      expect(r.isError).toBe(true);
      expect(answer(r)).toEqual({ error: INTERNAL_ERROR_MESSAGE, kind: 'internal' });
      expect(r.content[0]!.text).not.toMatch(/nothing was written|socket hang up/);
    } finally {
      stderr.mockRestore();
    }
  });
});

describe('CLI start-up', () => {
  it('loads no command module for --version, one for a command, all for help', async () => {
    const { modulesFor } = await import('../src/cli/program.js');
    expect(modulesFor(['--version'])).toHaveLength(0);
    expect(modulesFor(['-V'])).toHaveLength(0);
    expect(modulesFor(['grant', '--repo', 'x', '--version'])).toHaveLength(1);
    const [logs] = modulesFor(['logs', '--version', '2']);
    const [status] = modulesFor(['status']);
    expect(logs).toBe(status);
    expect(modulesFor(['--help']).length).toBeGreaterThan(5);
    expect(modulesFor([])).toEqual(modulesFor(['--help']));
    // An unknown command loads them all, so commander can suggest the right one.
    expect(modulesFor(['deplyo'])).toEqual(modulesFor(['--help']));
    expect(modulesFor(['constructor'])).toEqual(modulesFor(['--help']));
    const { runCli } = await import('../src/cli/index.js');
    expect(typeof runCli).toBe('function');
  });
});
