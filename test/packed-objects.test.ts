// The packfile reader (gitops/packed-objects.ts) against git's own packs: every object of a repo
// whose history git packed with deltas (by offset, and by base id), read back byte for byte as
// `git cat-file` gives it.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deployBranch, listBranchDeploys } from '../src/deploy/index.js';
import { openLocalStore } from '../src/gitops/index.js';
import { PackedObjects } from '../src/gitops/packed-objects.js';
import { git, makeWorkspaceRepo, request, tempDir } from './support/workspace-repo.js';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A repo whose files change a little in each of many commits: git packs them as delta chains. */
function repoWithHistory(): string {
  const dir = tempDir('x1-packed-');
  made.push(dir);
  git(dir, 'init', '-q', '-b', 'main');
  const lines = Array.from({ length: 400 }, (_, i) => `line ${i}: ${'x'.repeat(i % 37)}`);
  for (let c = 0; c < 30; c++) {
    lines[(c * 13) % lines.length] = `changed in commit ${c}`;
    writeFileSync(join(dir, 'big.txt'), `${lines.join('\n')}\n`);
    writeFileSync(join(dir, `small-${c % 5}.yaml`), `commit: ${c}\nname: small\n`);
    // Incompressible, and larger than the reader's first read of an object.
    if (c % 10 === 0) writeFileSync(join(dir, 'random.bin'), randomBytes(20_000 + c));
    git(dir, 'add', '-A');
    git(dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', `commit ${c}`);
  }
  return dir;
}

/** Every object of the repo as git reads it: id, type and content. */
function allObjects(dir: string): { oid: string; type: string; data: Buffer }[] {
  const oids = [...new Set(git(dir, 'rev-list', '--objects', '--all').split('\n').map((l) => l.split(' ')[0]!))];
  const batch = execFileSync('git', ['-C', dir, 'cat-file', '--batch'], { input: `${oids.join('\n')}\n`, maxBuffer: 1 << 28 });
  const out: { oid: string; type: string; data: Buffer }[] = [];
  let at = 0;
  while (at < batch.length) {
    const eol = batch.indexOf(10, at);
    const [oid, type, size] = batch.toString('latin1', at, eol).split(' ');
    const start = eol + 1;
    out.push({ oid: oid!, type: type!, data: batch.subarray(start, start + Number(size)) });
    at = start + Number(size) + 1;
  }
  return out;
}

/** How many of the pack's objects are deltas on another (`git verify-pack -v` names their base). */
function deltasIn(dir: string): number {
  const [pack] = readdirSync(join(dir, '.git', 'objects', 'pack')).filter((f) => f.endsWith('.idx'));
  const verbose = git(dir, 'verify-pack', '-v', join(dir, '.git', 'objects', 'pack', pack!));
  return verbose.split('\n').filter((l) => /^[0-9a-f]{40} \w+ +\d+ \d+ \d+ \d+ [0-9a-f]{40}$/.test(l)).length;
}

describe('packed objects', () => {
  for (const [what, offsets] of [
    ['by offset', 'true'],
    ['by base id', 'false'],
  ] as const) {
    it(`reads every object of a pack whose deltas name their bases ${what}, as git does`, () => {
      const dir = repoWithHistory();
      git(dir, '-c', `repack.useDeltaBaseOffset=${offsets}`, 'repack', '-q', '-a', '-d', '-f', '--depth=50', '--window=50');
      expect(readdirSync(join(dir, '.git', 'objects')).filter((f) => /^[0-9a-f]{2}$/.test(f))).toEqual([]);
      // The pack holds delta chains, so the reader resolves them (not only whole objects).
      expect(deltasIn(dir)).toBeGreaterThan(20);
      const objects = allObjects(dir);
      expect(objects.length).toBeGreaterThan(100);
      const packed = new PackedObjects(join(dir, '.git'), () => undefined);
      for (const { oid, type, data } of objects) {
        const read = packed.read(oid);
        expect(read?.type, oid).toBe(type);
        expect(read!.data.equals(data), `${type} ${oid}`).toBe(true);
        // Held in a buffer sized to it (or a slice of Node's 8 KiB pool), not in zlib's 16 KiB chunk:
        // a re-render reads every record, and each kept its chunk until V8 collected it.
        expect(read!.data.buffer.byteLength, `${type} ${oid}`).toBeLessThanOrEqual(Math.max(8192, data.length + 1024));
      }
      expect(packed.read('0'.repeat(40))).toBeUndefined();
    });
  }

  it('finds a pack made after it first looked, and names a damaged index', () => {
    const dir = repoWithHistory();
    git(dir, 'repack', '-q', '-a', '-d');
    const packed = new PackedObjects(join(dir, '.git'), () => undefined);
    const head = git(dir, 'rev-parse', 'HEAD');
    expect(packed.read(head)?.type).toBe('commit');
    writeFileSync(join(dir, 'new.txt'), 'a new file\n');
    git(dir, 'add', '-A');
    git(dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'new');
    git(dir, 'repack', '-q', '-d');
    const blob = git(dir, 'rev-parse', 'HEAD:new.txt');
    expect(packed.read(blob)?.data.toString()).toBe('a new file\n');

    const [idx] = readdirSync(join(dir, '.git', 'objects', 'pack')).filter((f) => f.endsWith('.idx'));
    rmSync(join(dir, '.git', 'objects', 'pack', idx!), { force: true });
    writeFileSync(join(dir, '.git', 'objects', 'pack', idx!), 'not an index');
    expect(() => new PackedObjects(join(dir, '.git'), () => undefined).read(head)).toThrow(/not a version 2 pack index.*git fsck/);
  });

  it('serves a gitops repo that git has packed: deploys read and write it, and git agrees', async () => {
    const { dir } = await makeWorkspaceRepo();
    made.push(join(dir, '..'));
    git(dir, 'gc', '-q', '--aggressive');
    expect(git(dir, 'count-objects', '-v')).toMatch(/^count: 0$/m);
    const store = await openLocalStore(dir);
    const { commit } = await deployBranch(store, request(), { agent: 'agent-7' });
    git(dir, 'repack', '-q', '-a', '-d');
    const again = await openLocalStore(dir);
    const { commit: second } = await deployBranch(again, request({ branch: 'feat/y' }), { agent: 'agent-7' });
    expect(git(dir, 'rev-parse', 'HEAD~1')).toBe(commit);
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(second);
    expect((await listBranchDeploys(await openLocalStore(dir))).map((d) => d.branch).sort()).toEqual(['feat/x', 'feat/y']);
    expect(git(dir, 'status', '--porcelain')).toBe('');
    git(dir, 'fsck', '--strict');
  });
});
