// The object writer (gitops/object-writer.ts): a commit of many objects goes on disk as one pack,
// checked against git itself (verify-pack, cat-file, and git's own index of the same pack), and
// the stores that use it leave repos git finds complete, locally and after a push.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deployBranch, renderAll } from '../src/deploy/index.js';
import { openLocalStore, openRemoteStore } from '../src/gitops/index.js';
import { ObjectWriter, PACK_FROM } from '../src/gitops/object-writer.js';
import { PackedObjects } from '../src/gitops/packed-objects.js';
import { gitObjectId } from '../src/records/index.js';
import { gitServerForSuite, servedWorkspace } from './support/served-workspace.js';
import { git, makeWorkspaceRepo, request, tempDir, updateWorkspaceConfig } from './support/workspace-repo.js';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function bareRepo(): string {
  const dir = tempDir('x1-objects-');
  made.push(dir);
  git(dir, 'init', '-q', '--bare');
  return dir;
}

const packDir = (gitdir: string) => join(gitdir, 'objects', 'pack');
const packFiles = (gitdir: string) => (existsSync(packDir(gitdir)) ? readdirSync(packDir(gitdir)).sort() : []);
const looseFolders = (gitdir: string) => readdirSync(join(gitdir, 'objects')).filter((f) => /^[0-9a-f]{2}$/.test(f));

/** Objects as git reads them, in one `git cat-file --batch`. */
function catFiles(gitdir: string, oids: readonly string[]): { type: string; data: Buffer }[] {
  const batch = execFileSync('git', ['--git-dir', gitdir, 'cat-file', '--batch'], { input: `${oids.join('\n')}\n`, maxBuffer: 1 << 26 });
  const out: { type: string; data: Buffer }[] = [];
  for (let at = 0; at < batch.length;) {
    const eol = batch.indexOf(10, at);
    const [, type, size] = batch.toString('latin1', at, eol).split(' ');
    if (size === undefined) throw new Error(`git cannot read ${batch.toString('latin1', at, eol)}`);
    out.push({ type: type!, data: batch.subarray(eol + 1, eol + 1 + Number(size)) });
    at = eol + 1 + Number(size) + 1;
  }
  return out;
}

/** A tree entry for a blob, as git writes it. */
function treeOf(entries: { name: string; oid: string }[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : 1));
  return Buffer.concat(sorted.map((e) => Buffer.concat([Buffer.from(`100644 ${e.name}\0`), Buffer.from(e.oid, 'hex')])));
}

describe('the object writer', () => {
  it(`writes ${PACK_FROM} objects or more as one pack that git verifies and indexes exactly as it would`, () => {
    const gitdir = bareRepo();
    const writer = new ObjectWriter(gitdir);
    const written: { oid: string; type: string; data: Buffer }[] = [];
    const blobs: { name: string; oid: string }[] = [];
    for (let i = 0; i < 600; i++) {
      // Text, text of multi-byte characters, and incompressible bytes as base64 (larger than a pack
      // header's first size bits).
      const text =
        i % 50 === 7
          ? randomBytes(40_000).toString('base64')
          : i % 50 === 3
            ? `note: ünïcödé ✓ 🚀 ${'ß'.repeat(i)}\n`
            : `kind: ConfigMap\nname: cm-${i}\n${'x'.repeat(i)}\n`;
      const oid = writer.writeText(text, gitObjectId('blob', Buffer.from(text)));
      written.push({ oid, type: 'blob', data: Buffer.from(text) });
      blobs.push({ name: `f${i}.yaml`, oid });
    }
    // The same content twice is stored once, and still listed as written.
    const again = writer.writeText('kind: ConfigMap\nname: cm-0\n\n', blobs[0]!.oid);
    expect(again).toBe(blobs[0]!.oid);
    // A tree wide enough to be stored without deflating.
    const tree = treeOf(blobs);
    expect(tree.length).toBeGreaterThan(16 * 1024);
    const treeOid = writer.write('tree', tree);
    written.push({ oid: treeOid, type: 'tree', data: tree });
    const commit = Buffer.from(`tree ${treeOid}\nauthor a <a@a> 1 +0000\ncommitter a <a@a> 1 +0000\n\nmany\n`);
    const commitOid = writer.write('commit', commit);
    written.push({ oid: commitOid, type: 'commit', data: commit });
    expect(writer.oids).toHaveLength(written.length + 1);

    // Before finish the pack is only a temporary file, which git does not read: a crash then leaves
    // the repo as it was.
    expect(packFiles(gitdir)).toEqual([expect.stringMatching(/^tmp_pack_\d+_\d+\.pack$/)]);
    expect(git(gitdir, 'fsck', '--strict', '--no-dangling')).toBe('');
    writer.finish();
    writer.finish();
    const files = packFiles(gitdir);
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^pack-[0-9a-f]{40}\.idx$/);
    expect(files[1]).toBe(files[0]!.replace('.idx', '.pack'));
    expect(looseFolders(gitdir)).toEqual([]);

    const pack = join(packDir(gitdir), files[1]!);
    const verbose = git(gitdir, 'verify-pack', '-v', pack);
    expect(verbose).toMatch(new RegExp(`^non delta: ${written.length} objects$`, 'm'));
    // git's own index of our pack, byte for byte the one we wrote.
    const ours = readFileSync(pack.replace('.pack', '.idx'));
    const theirs = join(gitdir, 'theirs.idx');
    git(gitdir, 'index-pack', '-o', theirs, pack);
    expect(readFileSync(theirs).equals(ours)).toBe(true);
    rmSync(theirs);

    const reader = new PackedObjects(gitdir, () => undefined);
    const viaGit = catFiles(
      gitdir,
      written.map((w) => w.oid),
    );
    for (const [i, { oid, type, data }] of written.entries()) {
      expect(viaGit[i]!.type).toBe(type);
      expect(viaGit[i]!.data.equals(data), oid).toBe(true);
      expect(reader.read(oid)?.data.equals(data), oid).toBe(true);
    }
    git(gitdir, 'update-ref', 'refs/heads/main', commitOid);
    expect(git(gitdir, 'fsck', '--strict', '--no-dangling')).toBe('');
  });

  it('leaves nothing behind when a pack is discarded instead of finished', () => {
    const gitdir = bareRepo();
    const writer = new ObjectWriter(gitdir);
    for (let i = 0; i < PACK_FROM * 2; i++) writer.writeText(`n: ${i}\n`, gitObjectId('blob', Buffer.from(`n: ${i}\n`)));
    expect(packFiles(gitdir)).toHaveLength(1);
    writer.discard();
    writer.finish();
    expect(packFiles(gitdir)).toEqual([]);
    expect(looseFolders(gitdir)).toEqual([]);
  });

  it(`writes fewer than ${PACK_FROM} objects loose, as git does`, () => {
    const gitdir = bareRepo();
    const writer = new ObjectWriter(gitdir);
    const oids = Array.from({ length: PACK_FROM - 1 }, (_, i) =>
      writer.writeText(`n: ${i} ✓ ü\n`, gitObjectId('blob', Buffer.from(`n: ${i} ✓ ü\n`))),
    );
    writer.finish();
    expect(packFiles(gitdir)).toEqual([]);
    const viaGit = catFiles(gitdir, oids);
    for (const [i, oid] of oids.entries()) {
      expect(existsSync(join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2)))).toBe(true);
      expect(viaGit[i]!.data.toString()).toBe(`n: ${i} ✓ ü\n`);
    }
    expect(readdirSync(join(gitdir, 'objects'), { recursive: true }).filter((f) => String(f).includes('tmp_'))).toEqual([]);
  });
});

describe('large commits through the stores', () => {
  const suite = gitServerForSuite();

  it('a re-render of many previews lands as one pack in a local repo git finds complete, and the next deploy reads it', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    made.push(join(dir, '..'));
    await updateWorkspaceConfig(store, (ws) => ({ ...ws, limits: { ...ws.limits, maxBranchDeploys: 40 } }));
    for (let i = 0; i < 30; i++) await deployBranch(store, request({ branch: `feat/p${i}` }), { agent: 'agent-7' });
    const gitdir = join(dir, '.git');
    expect(packFiles(gitdir)).toEqual([]);
    await updateWorkspaceConfig(store, (ws) => ({ ...ws, defaults: { ...ws.defaults, limits: { cpu: '750m', memory: '768Mi' } } }));
    const result = await renderAll(store);
    expect(result.commit).toBeDefined();
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(result.commit);
    const written = git(dir, 'diff-tree', '-r', '-t', '--no-commit-id', 'HEAD~1', 'HEAD').split('\n').filter(Boolean).length + 2;
    expect(written).toBeGreaterThanOrEqual(PACK_FROM);
    const packs = packFiles(gitdir).filter((f) => f.endsWith('.pack'));
    expect(packs).toHaveLength(1);
    expect(git(dir, 'verify-pack', '-v', join(packDir(gitdir), packs[0]!))).toMatch(new RegExp(`^non delta: ${written} objects$`, 'm'));
    expect(git(dir, 'status', '--porcelain')).toBe('');
    expect(git(dir, 'fsck', '--strict', '--no-dangling')).toBe('');

    // A fresh process's store reads the packed tip and commits on it.
    const next = await deployBranch(await openLocalStore(dir), request({ branch: 'feat/p3', commit_sha: 'c'.repeat(40) }), {
      agent: 'agent-7',
    });
    expect(git(dir, 'rev-parse', 'HEAD~1')).toBe(result.commit);
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(next.commit);
    expect(git(dir, 'status', '--porcelain')).toBe('');
  }, 240_000);

  it('a re-render pushed from a cache clone sends the packed objects, and the server has them all', async () => {
    const { url, bare } = await servedWorkspace(suite, 'rerendered', 40);
    const cacheDir = tempDir();
    made.push(cacheDir);
    const store = await openRemoteStore(url, { cacheDir });
    for (let i = 0; i < 30; i++) await deployBranch(store, request({ branch: `feat/p${i}` }), { agent: 'agent-7' });
    await updateWorkspaceConfig(store, (ws) => ({ ...ws, defaults: { ...ws.defaults, limits: { cpu: '750m', memory: '768Mi' } } }));
    const pushes = () => suite.server.requests.filter((r) => r.method === 'POST' && r.path === '/rerendered.git/git-receive-pack');
    const before = pushes().length;
    const result = await renderAll(store);
    expect(git(bare, 'rev-parse', 'main')).toBe(result.commit);
    const sent = pushes().slice(before);
    expect(sent).toHaveLength(1);
    const written = git(bare, 'diff-tree', '-r', '-t', '--no-commit-id', 'main~1', 'main').split('\n').filter(Boolean).length + 2;
    expect(written).toBeGreaterThanOrEqual(PACK_FROM);
    expect(sent[0]!.packObjects).toBe(written);
    expect(git(bare, 'fsck', '--strict', '--no-dangling')).toBe('');
  }, 240_000);
});
