// The deploy leader's shelf of parsed records (cli/parsed-record-shelf.ts): what one deploy parsed,
// the next deploy (a new process) reads back instead of parsing and validating the file again.
// Each deploy runs in a process of its own, as the bin's do, so nothing comes from memory.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { lazySchema } from '../src/spec/index.js';
import { git, makeWorkspaceRepo, request, tempDir } from './support/workspace-repo.js';

const ROOT = join(import.meta.dirname, '..');
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A deploy through the leader, in a new process, keeping parsed records in `shelf`. */
function deployIn(repo: string, shelf: string, overrides: Record<string, unknown>): { result?: { answer: { url: string } }; error?: unknown } {
  const script = `
    import { leadDeploys } from ${JSON.stringify(join(ROOT, 'src/cli/deploy-leader.ts'))};
    const lead = await leadDeploys(${JSON.stringify(repo)}, { together: false, parsedRecords: ${JSON.stringify(shelf)} });
    console.log(JSON.stringify(await lead.deploy({ request: ${JSON.stringify(JSON.stringify(request(overrides)))}, agent: 'agent-7' })));`;
  return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' })) as never;
}

async function repoAndShelf() {
  const { dir } = await makeWorkspaceRepo();
  const cache = tempDir('x1-shelf-');
  made.push(dirname(dir), cache);
  return { dir, records: join(cache, 'records'), shelf: join(cache, 'records', 'build-a') };
}

describe('the parsed-record shelf', () => {
  it('keeps what a deploy parsed, by kind and blob id, and the next deploy reads it instead of the file', async () => {
    const { dir, shelf } = await repoAndShelf();
    const first = deployIn(dir, shelf, { branch: 'feat/one' });
    expect(first.result?.answer.url).toMatch(/\.api\.demo\.preview\.localhost$/);
    expect(statSync(shelf).mode & 0o777).toBe(0o700);
    const workspaceId = git(dir, 'rev-parse', 'HEAD:x1deploy.yaml');
    const grantsId = git(dir, 'rev-parse', 'HEAD:grants.yaml');
    const kept = readdirSync(shelf).sort();
    expect(kept).toEqual(expect.arrayContaining([`grants.${grantsId}.json`, `workspace.${workspaceId}.json`]));
    for (const file of kept) expect(statSync(join(shelf, file)).mode & 0o777).toBe(0o600);
    // What is kept is the record as validated: the file's data with the schema's defaults filled in.
    const workspace = JSON.parse(readFileSync(join(shelf, `workspace.${workspaceId}.json`), 'utf8')) as { workspace: { domain: string } };
    expect(workspace).toMatchObject(parse(readFileSync(join(dir, 'x1deploy.yaml'), 'utf8')) as object);

    // The next deploy (a new process) takes the workspace from the shelf, not from the repo: an
    // entry changed behind its back shows in the URL it answers with.
    writeFileSync(join(shelf, `workspace.${workspaceId}.json`), JSON.stringify({ ...workspace, workspace: { ...workspace.workspace, domain: 'shelf.example.com' } }));
    expect(deployIn(dir, shelf, { branch: 'feat/two' }).result?.answer.url).toMatch(/\.api\.demo\.shelf\.example\.com$/);
    // A changed x1deploy.yaml is a new blob: the shelf's old entry no longer answers for it.
    const edited = readFileSync(join(dir, 'x1deploy.yaml'), 'utf8').replace(/domain: .*/, 'domain: edited.example.com');
    writeFileSync(join(dir, 'x1deploy.yaml'), edited);
    git(dir, 'commit', '-qam', 'domain');
    expect(deployIn(dir, shelf, { branch: 'feat/three' }).result?.answer.url).toMatch(/\.api\.demo\.edited\.example\.com$/);
  });

  it('ignores an entry that is not JSON (the file is parsed again), and drops the shelves of other builds', async () => {
    const { dir, records, shelf } = await repoAndShelf();
    const workspaceId = git(dir, 'rev-parse', 'HEAD:x1deploy.yaml');
    mkdirSync(join(records, 'build-old'), { recursive: true });
    writeFileSync(join(records, 'build-old', `workspace.${workspaceId}.json`), '{}');
    mkdirSync(shelf, { recursive: true });
    writeFileSync(join(shelf, `workspace.${workspaceId}.json`), '{"truncated');
    expect(deployIn(dir, shelf, { branch: 'feat/one' }).result?.answer.url).toMatch(/\.api\.demo\.preview\.localhost$/);
    // The shelf folder already existed, so the old build's stays until a build makes its own.
    expect(readdirSync(records).sort()).toEqual(['build-a', 'build-old']);
    const next = join(records, 'build-b');
    expect(deployIn(dir, next, { branch: 'feat/two' }).result).toBeDefined();
    expect(readdirSync(records)).toEqual(['build-b']);
  });

  it('is emptied when it passes 2,000 entries, and a shelf that cannot be written costs only the parsing', async () => {
    const { dir, records, shelf } = await repoAndShelf();
    mkdirSync(shelf, { recursive: true });
    for (let i = 0; i < 2000; i++) writeFileSync(join(shelf, `deploy.${i.toString(16).padStart(40, '0')}.json`), '{}');
    expect(deployIn(dir, shelf, { branch: 'feat/one' }).result).toBeDefined();
    // Emptied at the put that passed the limit; what the deploy put after that is all it holds.
    const left = readdirSync(shelf);
    expect(left.length).toBeLessThan(5);
    expect(left.filter((f) => f.startsWith('deploy.00000'))).toEqual([]);

    const blocked = join(records, 'a-file');
    writeFileSync(blocked, '');
    // A folder under a file can never be made.
    expect(deployIn(dir, join(blocked, 'build-a'), { branch: 'feat/two' }).result?.answer.url).toMatch(/\.api\.demo\.preview\.localhost$/);
  });
});

describe('a lazily built schema', () => {
  const build = () =>
    z.strictObject({
      name: z.string().min(1),
      ports: z.array(z.number().int()).default([]),
    });

  it('is built on first use only, once, and parses, composes and describes itself as the schema does', () => {
    let builds = 0;
    const lazy = lazySchema(() => (builds++, build()));
    const eager = build();
    expect(builds).toBe(0);
    expect(lazy.parse({ name: 'a' })).toEqual(eager.parse({ name: 'a' }));
    expect(builds).toBe(1);
    expect(lazy.safeParse({ name: '' }).error?.issues).toEqual(eager.safeParse({ name: '' }).error?.issues);
    expect(lazy instanceof z.ZodObject).toBe(true);
    expect(Object.keys(lazy.pick({ name: true }).shape)).toEqual(['name']);
    expect(z.strictObject({ inner: lazy }).parse({ inner: { name: 'b', ports: [1] } })).toEqual({ inner: { name: 'b', ports: [1] } });
    expect(z.toJSONSchema(lazy)).toEqual(z.toJSONSchema(eager));
    expect(builds).toBe(1);
  });
});
