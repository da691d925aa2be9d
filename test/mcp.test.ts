import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordBuildOutcome } from '../src/build/index.js';
import type { GitopsStore } from '../src/records/index.js';
import { git, makeWorkspaceRepo, repoFingerprint, SHA_A, SHA_B } from './support/workspace-repo.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

async function connect(dir: string, agent: string): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', MAIN, 'mcp', '--repo', dir, '--agent', agent],
    stderr: 'pipe',
  });
  const client = new Client({ name: 'x1deploy-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

type Result = { isError?: boolean; structuredContent?: any; content: { type: string; text: string }[] };

describe('MCP server over stdio', () => {
  let dir: string;
  let store: GitopsStore;
  let client: Client;
  // On an error the answer's JSON is the second text block (no structured content: it would have to
  // match the success output schema); on success the second block is the structured content as text.
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = (await client.callTool({ name, arguments: args })) as Result;
    const json = JSON.parse(r.content[1]!.text);
    if (!r.isError) expect(json).toEqual(r.structuredContent);
    return { ...r, structuredContent: r.structuredContent ?? json } as Result;
  };
  const deployArgs = { app: 'api', branch: 'feat/mcp', commit_sha: SHA_A, ports: [8080], env: { MODE: 'preview', KEY: '${API_KEY}' } };

  beforeAll(async () => {
    ({ dir, store } = await makeWorkspaceRepo());
    client = await connect(dir, 'agent-7');
  }, 30_000);
  afterAll(async () => {
    await client?.close();
  });

  it('lists the tools with input schemas from the zod schemas, output schemas and annotations', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'branch_deploy_logs',
      'branch_deploy_status',
      'delete_branch_deploy',
      'deploy_branch',
      'fetch_preview',
      'list_branch_deploys',
      'rollback_branch',
    ]);
    for (const tool of tools) {
      expect(tool.outputSchema, tool.name).toMatchObject({ type: 'object' });
      expect(tool.annotations, tool.name).toMatchObject({ readOnlyHint: expect.any(Boolean), destructiveHint: expect.any(Boolean) });
    }
    expect(tools.find((t) => t.name === 'delete_branch_deploy')!.annotations).toMatchObject({ destructiveHint: true, readOnlyHint: false });
    expect(tools.find((t) => t.name === 'branch_deploy_logs')!.annotations).toMatchObject({ readOnlyHint: true });
    const deploy = tools.find((t) => t.name === 'deploy_branch')!;
    expect(deploy.inputSchema).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: expect.arrayContaining(['app', 'branch', 'commit_sha', 'ports']),
    });
    expect(Object.keys(deploy.inputSchema.properties!)).toContain('resources');
    // The workspace's real limits, not 2^53-1.
    expect((deploy.inputSchema.properties as any).replicas.maximum).toBe(3);
    expect((deploy.inputSchema.properties as any).wait.maximum).toBe(600);
    expect(deploy.inputSchema.properties).not.toHaveProperty('agent');
  });

  it('deploy_branch deploys and answers {url, version, image_ref} with a sentence', async () => {
    const r = await call('deploy_branch', deployArgs);
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({
      version: 1,
      status: 'pending-build',
      image_ref: `registry.localhost:5000/ws/demo/app-api:${SHA_A}`,
      mode: 'auto',
    });
    expect(r.structuredContent.url).toMatch(/^https:\/\/feat-mcp-[a-z2-7]{8}\.api\.demo\.preview\.localhost$/);
    expect(r.content[0]!.text).toMatch(/^api feat\/mcp version 1 \(pending-build\): committed to the gitops repo\. Preview: https:/);
    expect(git(dir, 'log', '-1', '--format=%an|%(trailers:key=X1-Agent,valueonly)')).toBe('agent-7|agent-7');
    expect(git(dir, 'status', '--porcelain')).toBe('');
  });

  it('invalid input is a tool error listing every field problem, and changes nothing', async () => {
    const fp = repoFingerprint(dir);
    const secret = 'ghp_' + 'Zq9'.repeat(12);
    const r = await call('deploy_branch', {
      app: '9api',
      branch: 'x..y',
      commit_sha: 'nope',
      ports: [],
      env: { TOKEN: secret },
      agent: 'agent-1',
    });
    expect(r.isError).toBe(true);
    expect(r.structuredContent.error).toBe('invalid request');
    expect(r.structuredContent.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      '(request)',
      'app',
      'branch',
      'commit_sha',
      'env.TOKEN',
      'ports',
    ]);
    expect(JSON.stringify(r)).not.toContain(secret);
    expect(JSON.stringify(r)).not.toMatch(/\n\s+at /);
    expect(repoFingerprint(dir)).toBe(fp);
  });

  it('an agent cannot act as another: identity comes from the server, and a denied deploy changes nothing', async () => {
    const other = await connect(dir, 'agent-9');
    try {
      const fp = repoFingerprint(dir);
      const r = (await other.callTool({ name: 'deploy_branch', arguments: { ...deployArgs, branch: 'feat/other' } })) as Result;
      expect(r.isError).toBe(true);
      expect(JSON.parse(r.content[1]!.text)).toEqual({
        denied: true,
        kind: 'denied',
        reason: expect.stringContaining('agent agent-9 has no deploy grant for app api'),
      });
      expect(repoFingerprint(dir)).toBe(fp);
    } finally {
      await other.close();
    }
  });

  it('branch_deploy_status reports versions, the served one, and a failed build with its log tail', async () => {
    const first = await call('branch_deploy_status', { app: 'api', branch: 'feat/mcp' });
    const slug = first.structuredContent.slug;
    await recordBuildOutcome(store, { app: 'api', slug, version: 1 }, { ok: true, digest: `sha256:${'a'.repeat(64)}` });
    await call('deploy_branch', { ...deployArgs, commit_sha: SHA_B });
    await recordBuildOutcome(
      store,
      { app: 'api', slug, version: 2 },
      { ok: false, reason: 'kaniko exited 1\nstep 3/7: RUN npm ci\nnpm ERR! missing script' },
    );
    const r = await call('branch_deploy_status', { app: 'api', branch: 'feat/mcp' });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({
      state: 'build-failed',
      reason: 'BuildFailed',
      current_version: 1,
      latest_version: 2,
      versions: [
        { number: 2, status: 'failed', failure: expect.stringContaining('npm ERR! missing script') },
        { number: 1, status: 'live', image_ref: expect.stringContaining(`@sha256:${'a'.repeat(64)}`) },
      ],
    });
    expect(r.content[0]!.text).toMatch(/version 2 is build-failed \(BuildFailed: kaniko exited 1\)\. Fix: read the build log/);
    const unknown = await call('branch_deploy_status', { app: 'api', branch: 'nope' });
    expect(unknown.isError).toBe(true);
    expect(unknown.structuredContent.error).toMatch(/has no branch deploy for branch nope/);
  });

  it('list_branch_deploys lists, rollback_branch rolls back and refuses clearly', async () => {
    const list = await call('list_branch_deploys', {});
    expect(list.structuredContent.deploys).toEqual([
      expect.objectContaining({ app: 'api', branch: 'feat/mcp', version: 2, status: 'failed', current_version: 1 }),
    ]);
    expect((await call('list_branch_deploys', { app: 'web' })).structuredContent.deploys).toEqual([]);

    const refused = await call('rollback_branch', { app: 'api', branch: 'feat/mcp', to: 2 });
    expect(refused.isError).toBe(true);
    expect(refused.structuredContent.error).toMatch(/version 2 of api feat\/mcp was never built \(failed\)/);

    const head = git(dir, 'rev-parse', 'HEAD');
    const none = await call('rollback_branch', { app: 'api', branch: 'feat/mcp' });
    expect(none.isError).toBe(true);
    expect(none.structuredContent.error).toMatch(/no built version before version 1/);
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(head);

    // An env change of the built commit goes live at once (same digest), then rolls back without a build.
    const v3 = await call('deploy_branch', { ...deployArgs, env: { MODE: 'debug', KEY: '${API_KEY}' } });
    expect(v3.structuredContent).toMatchObject({ version: 3, status: 'live' });
    const back = await call('rollback_branch', { app: 'api', branch: 'feat/mcp' });
    expect(back.isError).toBeFalsy();
    expect(back.structuredContent).toMatchObject({ version: 1, previous_version: 3 });
    expect(back.content[0]!.text).toMatch(/serves version 1 again \(was 3\)/);
    expect(git(dir, 'log', '-1', '--format=%s')).toBe('Roll back api feat/mcp to version 1 (from 3)');
  });
});

describe('mcp process', () => {
  it('exits 0 when its client closes stdin', async () => {
    const { spawn } = await import('node:child_process');
    const { dir } = await makeWorkspaceRepo();
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'mcp', '--repo', dir, '--agent', 'agent-7'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => {
      child.on('close', resolve);
      setTimeout(() => child.stdin.end(), 500);
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
