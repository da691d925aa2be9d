import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NotAGitopsRepoError, RepoNotEmptyError, initGitopsRepo, openLocalStore } from '../src/gitops/index.js';
import { StaleHeadError, type FileChanges } from '../src/records/index.js';
import { uncommittedChanges } from '../src/verify/refs.js';

const author = { name: 'x1deploy test', email: 'test@example.com', timestamp: 1_700_000_000 };
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'x1-gitops-store-'));
  dirs.push(dir);
  return dir;
}

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
}

/** path -> content of every tracked file at HEAD, read by the git CLI. */
function headFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of git(dir, 'ls-tree', '-r', '-z', 'HEAD').split('\0').filter(Boolean)) {
    const [meta, path] = line.split('\t') as [string, string];
    out.set(path, execFileSync('git', ['cat-file', 'blob', meta.split(' ')[2]!], { cwd: dir, encoding: 'utf8' }));
  }
  return out;
}

/** path -> content of every file in the work tree (outside .git), and every folder. */
function workTree(dir: string): { files: Map<string, string>; folders: string[] } {
  const files = new Map<string, string>();
  const folders: string[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const abs = join(at, name);
      if (name === '.git' && at === dir) continue;
      if (statSync(abs).isDirectory()) {
        folders.push(relative(dir, abs));
        walk(abs);
      } else files.set(relative(dir, abs), readFileSync(abs, 'utf8'));
    }
  };
  walk(dir);
  return { files, folders: folders.sort() };
}

function expectClean(dir: string): void {
  expect(git(dir, 'status', '--porcelain', '--untracked-files=all')).toBe('');
  // --strict also checks tree entry order and modes written by hand.
  execFileSync('git', ['fsck', '--strict', '--no-progress'], { cwd: dir, stdio: 'pipe' });
}

const sorted = (m: Map<string, string>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));

/**
 * Random commits (files and folders added, changed, removed, swapped) checked after each one
 * against a plain model and the git CLI. `configure` runs on the repo before the first commit;
 * `check` after each.
 */
async function agreesWithModel(configure: (dir: string) => void = () => undefined, check: (dir: string) => void = () => undefined, steps = 30): Promise<string> {
  const dir = tempDir();
  let model = new Map([['x', '1\n']]);
  let head = await initGitopsRepo(dir, model, { message: 'init', author });
  configure(dir);
  const store = await openLocalStore(dir);
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  // 'a-b' and 'a.b' sort between 'a' and 'a/' in the index, which is where mistakes hide.
  const names = ['a', 'b', 'a-b', 'a.b', 'é'];
  for (let step = 0; step < steps; step++) {
    const changes = new Map<string, string | null>();
    for (let k = 1 + rnd(4); k > 0; k--) {
      const path = Array.from({ length: 1 + rnd(3) }, () => names[rnd(names.length)]).join('/');
      changes.set(path, rnd(3) === 0 ? null : `v${rnd(3)}\n`);
    }
    const paths = [...changes.keys()];
    if (paths.some((p) => typeof changes.get(p) === 'string' && paths.some((q) => q.startsWith(`${p}/`)))) continue;
    const next = new Map(model);
    const under = (k: string, p: string) => k === p || k.startsWith(`${p}/`);
    for (const [p, v] of changes) if (v === null) for (const k of [...next.keys()]) if (under(k, p)) next.delete(k);
    for (const [p, v] of changes) {
      if (v === null) continue;
      for (const k of [...next.keys()]) if (under(k, p) || p.startsWith(`${k}/`)) next.delete(k);
      next.set(p, v);
    }
    const oid = await store.commit({ parent: head, changes, message: `step ${step}`, author });
    expect(oid === undefined, JSON.stringify([...changes])).toBe(sorted(next).join() === sorted(model).join());
    head = oid ?? head;
    model = next;
    expect(sorted(headFiles(dir)), JSON.stringify([...changes])).toEqual(sorted(model));
    expect(git(dir, 'status', '--porcelain', '--untracked-files=all'), JSON.stringify([...changes])).toBe('');
    check(dir);
  }
  expect(sorted(workTree(dir).files)).toEqual(sorted(model));
  expect(workTree(dir).folders.filter((f) => readdirSync(join(dir, f)).length === 0)).toEqual([]);
  expectClean(dir);
  return dir;
}

const seed = new Map([
  ['README.md', '# gitops\n'],
  ['apps/web/branches/feat-a/deploy.yaml', 'slug: feat-a\n'],
  ['apps/web/branches/feat-b/deploy.yaml', 'slug: feat-b\n'],
  ['rendered/web/feat-a/deployment.yaml', 'kind: Deployment\n'],
  ['rendered/web/feat-a/service.yaml', 'kind: Service\n'],
  ['rendered/web/feat-b/deployment.yaml', 'kind: Deployment\n'],
]);

async function seeded() {
  const dir = tempDir();
  const first = await initGitopsRepo(dir, seed, { message: 'init gitops', author });
  return { dir, first, store: await openLocalStore(dir) };
}

describe('initGitopsRepo', () => {
  it('writes exactly the files in one commit, with a clean work tree and index', async () => {
    const { dir, first, store } = await seeded();
    expect(git(dir, 'rev-parse', 'HEAD').trim()).toBe(first);
    expect(git(dir, 'log', '--format=%H %an <%ae> %at %s')).toBe(`${first} x1deploy test <test@example.com> 1700000000 init gitops\n`);
    expect(git(dir, 'symbolic-ref', 'HEAD').trim()).toBe('refs/heads/main');
    expect(sorted(headFiles(dir))).toEqual(sorted(seed));
    expect(sorted(workTree(dir).files)).toEqual(sorted(seed));
    expectClean(dir);
    expect(store.branch).toBe('main');
    expect(await store.head()).toBe(first);
  });

  it('honours the branch option', async () => {
    const dir = tempDir();
    await initGitopsRepo(dir, new Map([['a.txt', 'a\n']]), { branch: 'gitops', message: 'init', author });
    expect(git(dir, 'symbolic-ref', 'HEAD').trim()).toBe('refs/heads/gitops');
    expect((await openLocalStore(dir)).branch).toBe('gitops');
    expectClean(dir);
  });

  it('refuses a non-empty folder and writes nothing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'keep.txt'), 'mine\n');
    await expect(initGitopsRepo(dir, seed, { message: 'init', author })).rejects.toBeInstanceOf(RepoNotEmptyError);
    expect(readdirSync(dir)).toEqual(['keep.txt']);
    expect(readFileSync(join(dir, 'keep.txt'), 'utf8')).toBe('mine\n');
  });

  it('creates a folder that does not exist yet', async () => {
    const dir = join(tempDir(), 'nested', 'gitops');
    await initGitopsRepo(dir, new Map([['a.txt', 'a\n']]), { message: 'init', author });
    expectClean(dir);
  });
});

describe('openLocalStore', () => {
  it('gives NotAGitopsRepoError with an init hint on a folder that is not a repo', async () => {
    const dir = tempDir();
    const error = await openLocalStore(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotAGitopsRepoError);
    expect((error as Error).name).toBe('NotAGitopsRepoError');
    expect((error as Error).message).toMatch(/x1deploy init/);
    await expect(openLocalStore(join(dir, 'missing'))).rejects.toBeInstanceOf(NotAGitopsRepoError);
  });
});

describe('reading', () => {
  it('reads files and lists folders at a commit', async () => {
    const { first, store } = await seeded();
    expect(await store.readFile(first, 'apps/web/branches/feat-a/deploy.yaml')).toBe('slug: feat-a\n');
    expect(await store.readFile(first, 'apps/web/branches/nope.yaml')).toBeUndefined();
    expect(await store.readFile(first, 'apps/web')).toBeUndefined();
    expect(await store.readFile(first, 'README.md/x')).toBeUndefined();
    expect((await store.listDir(first, '')).sort()).toEqual(['README.md', 'apps', 'rendered']);
    expect((await store.listDir(first, '.')).sort()).toEqual(['README.md', 'apps', 'rendered']);
    expect((await store.listDir(first, 'rendered/web/feat-a')).sort()).toEqual(['deployment.yaml', 'service.yaml']);
    expect(await store.listDir(first, 'rendered/api')).toEqual([]);
    expect(await store.listDir(first, 'README.md')).toEqual([]);
    // A commit that does not exist is a mistake, not an empty repo.
    await expect(store.readFile('0'.repeat(40), 'README.md')).rejects.toThrow();
  });
});

describe('commit', () => {
  it('adds, modifies and deletes files and deletes a folder, keeping work tree and index in step', async () => {
    const { dir, first, store } = await seeded();
    const changes: FileChanges = new Map<string, string | null>([
      ['apps/web/branches/feat-c/deploy.yaml', 'slug: feat-c\n'],
      ['rendered/web/feat-c/deployment.yaml', 'kind: Deployment\nname: c\n'],
      ['README.md', '# gitops\nnow with more\n'],
      ['rendered/web/feat-a/service.yaml', null],
      ['apps/web/branches/feat-b', null],
      ['rendered/web/feat-b', null],
    ]);
    const oid = await store.commit({ parent: first, changes, message: 'deploy feat-c', author });
    expect(oid).toMatch(/^[0-9a-f]{40}$/);
    expect(await store.head()).toBe(oid);
    expect(git(dir, 'rev-parse', 'HEAD').trim()).toBe(oid);
    expect(git(dir, 'rev-parse', 'HEAD^').trim()).toBe(first);
    const expected = new Map([
      ['README.md', '# gitops\nnow with more\n'],
      ['apps/web/branches/feat-a/deploy.yaml', 'slug: feat-a\n'],
      ['apps/web/branches/feat-c/deploy.yaml', 'slug: feat-c\n'],
      ['rendered/web/feat-a/deployment.yaml', 'kind: Deployment\n'],
      ['rendered/web/feat-c/deployment.yaml', 'kind: Deployment\nname: c\n'],
    ]);
    expect(sorted(headFiles(dir))).toEqual(sorted(expected));
    const tree = workTree(dir);
    expect(sorted(tree.files)).toEqual(sorted(expected));
    // The deleted folders are gone from the work tree, not left empty.
    expect(tree.folders).not.toContain('apps/web/branches/feat-b');
    expect(tree.folders).not.toContain('rendered/web/feat-b');
    expectClean(dir);
    expect(await store.readFile(oid!, 'rendered/web/feat-c/deployment.yaml')).toBe('kind: Deployment\nname: c\n');
    expect(await store.readFile(first, 'rendered/web/feat-b/deployment.yaml')).toBe('kind: Deployment\n');
  });

  it('keeps the index right across commits when git rewrites it in between (the parsed copy is reused only while the file is unchanged)', async () => {
    const { dir, first, store } = await seeded();
    const second = await store.commit({ parent: first, changes: new Map([['rendered/web/feat-c/a.yaml', 'a: 1\n']]), message: 'c', author });
    expectClean(dir);
    // git replaces the index: a user's add of an untracked file, then a reset of it.
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');
    git(dir, 'add', 'notes.txt');
    const third = await store.commit({ parent: second!, changes: new Map([['rendered/web/feat-d/a.yaml', 'a: 2\n']]), message: 'd', author });
    // The user's staged file is still staged, and everything x1deploy wrote is in the index as committed.
    expect(git(dir, 'status', '--porcelain')).toBe('A  notes.txt\n');
    expect(git(dir, 'diff', '--cached', '--name-only', third!)).toBe('notes.txt\n');
    git(dir, 'rm', '-q', '--cached', 'notes.txt');
    rmSync(join(dir, 'notes.txt'));
    // Two commits in a row with no one else touching the index: the second splices the first's copy.
    const fourth = await store.commit({ parent: third!, changes: new Map([['rendered/web/feat-a', null]]), message: 'e', author });
    await store.commit({ parent: fourth!, changes: new Map([['rendered/web/feat-e/a.yaml', 'a: 3\n']]), message: 'f', author });
    expectClean(dir);
    expect(git(dir, 'ls-files', 'rendered/web')).toBe('rendered/web/feat-b/deployment.yaml\nrendered/web/feat-c/a.yaml\nrendered/web/feat-d/a.yaml\nrendered/web/feat-e/a.yaml\n');
  });

  it('removes folders left empty by deleting their last file', async () => {
    const { dir, first, store } = await seeded();
    await store.commit({ parent: first, changes: new Map([['rendered/web/feat-b/deployment.yaml', null]]), message: 'rm', author });
    expect(existsSync(join(dir, 'rendered/web/feat-b'))).toBe(false);
    expect(git(dir, 'ls-tree', 'HEAD', 'rendered/web/').trim().split('\n')).toHaveLength(1);
    expectClean(dir);
  });

  it('replaces a file with a folder, a folder with a file, and a folder with new contents', async () => {
    const { dir, first, store } = await seeded();
    const changes = new Map<string, string | null>([
      ['README.md/inner.md', 'now a folder\n'],
      ['apps/web/branches/feat-a', 'now a file\n'],
      ['rendered/web/feat-b', null],
      ['rendered/web/feat-b/all.yaml', 'kind: List\n'],
    ]);
    const oid = await store.commit({ parent: first, changes, message: 'reshape', author });
    const expected = new Map([
      ['README.md/inner.md', 'now a folder\n'],
      ['apps/web/branches/feat-a', 'now a file\n'],
      ['apps/web/branches/feat-b/deploy.yaml', 'slug: feat-b\n'],
      ['rendered/web/feat-a/deployment.yaml', 'kind: Deployment\n'],
      ['rendered/web/feat-a/service.yaml', 'kind: Service\n'],
      ['rendered/web/feat-b/all.yaml', 'kind: List\n'],
    ]);
    expect(sorted(headFiles(dir))).toEqual(sorted(expected));
    expect(sorted(workTree(dir).files)).toEqual(sorted(expected));
    expect(await store.head()).toBe(oid);
    expectClean(dir);
  });

  it('makes no commit when nothing changes', async () => {
    const { dir, first, store } = await seeded();
    const changes = new Map<string, string | null>([
      ['README.md', '# gitops\n'],
      ['apps/api', null],
      ['rendered/web/feat-a/missing.yaml', null],
      // Below a path that holds a file there is nothing to delete; the file stays.
      ['rendered/web/feat-a/service.yaml/inner', null],
    ]);
    expect(await store.commit({ parent: first, changes, message: 'noop', author })).toBeUndefined();
    expect(await store.head()).toBe(first);
    expect(git(dir, 'rev-list', '--count', 'HEAD').trim()).toBe('1');
    expectClean(dir);
  });

  it('throws StaleHeadError on a stale parent and changes nothing', async () => {
    const { dir, first, store } = await seeded();
    const second = await store.commit({ parent: first, changes: new Map([['a.txt', 'a\n']]), message: 'a', author });
    const indexBefore = readFileSync(join(dir, '.git/index'));
    const treeBefore = workTree(dir);
    const changes = new Map<string, string | null>([
      ['b.txt', 'b\n'],
      ['README.md', null],
    ]);
    const error = await store.commit({ parent: first, changes, message: 'b', author }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StaleHeadError);
    expect(error).toMatchObject({ expected: first, actual: second });
    expect(await store.head()).toBe(second);
    expect(git(dir, 'rev-parse', 'HEAD').trim()).toBe(second);
    expect(readFileSync(join(dir, '.git/index')).equals(indexBefore)).toBe(true);
    expect(workTree(dir)).toEqual(treeBefore);
    for (const lock of ['x1deploy.lock', 'index.lock', 'refs/heads/main.lock']) expect(existsSync(join(dir, '.git', lock))).toBe(false);
    expectClean(dir);
  });

  it('lets exactly one of two concurrent commits from the same parent win', async () => {
    const { dir, first } = await seeded();
    // Two stores, as two x1deploy processes would have.
    const [a, b] = await Promise.all([openLocalStore(dir), openLocalStore(dir)]);
    const results = await Promise.allSettled([
      a.commit({ parent: first, changes: new Map([['apps/web/branches/one/deploy.yaml', 'one\n']]), message: 'one', author }),
      b.commit({ parent: first, changes: new Map([['apps/web/branches/two/deploy.yaml', 'two\n']]), message: 'two', author }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(StaleHeadError);
    expect(git(dir, 'rev-parse', 'HEAD').trim()).toBe((won[0] as PromiseFulfilledResult<string>).value);
    expect(git(dir, 'rev-list', '--count', 'HEAD').trim()).toBe('2');
    expectClean(dir);
  });

  it('waits for the x1deploy lock before touching the branch', async () => {
    const { dir, first, store } = await seeded();
    const lockFile = join(dir, '.git/x1deploy.lock');
    writeFileSync(lockFile, '');
    const pending = store.commit({ parent: first, changes: new Map([['a.txt', 'a\n']]), message: 'a', author });
    await new Promise((r) => setTimeout(r, 150));
    expect(git(dir, 'rev-parse', 'HEAD').trim()).toBe(first);
    rmSync(lockFile);
    const oid = await pending;
    expect(git(dir, 'rev-parse', 'HEAD').trim()).toBe(oid);
    expect(existsSync(lockFile)).toBe(false);
    expectClean(dir);
  });

  it('round-trips newlines and unicode byte for byte', async () => {
    const { dir, first, store } = await seeded();
    const texts = new Map([
      ['crlf.txt', 'line one\r\nline two\r\n'],
      ['no-final-newline.txt', 'last line'],
      ['unicode/日本語.yaml', '\uFEFFname: ünïcödé ✓ 🚀\n\tblank lines follow\n\n\n'],
      ['empty.txt', ''],
    ]);
    const oid = await store.commit({ parent: first, changes: texts, message: 'text', author });
    for (const [path, text] of texts) {
      expect(await store.readFile(oid!, path)).toBe(text);
      expect(execFileSync('git', ['cat-file', 'blob', `HEAD:${path}`], { cwd: dir }).equals(Buffer.from(text, 'utf8'))).toBe(true);
      expect(readFileSync(join(dir, path)).equals(Buffer.from(text, 'utf8'))).toBe(true);
    }
    expectClean(dir);
  });

  it('keeps the index valid after the git CLI has rewritten it', async () => {
    const { dir, first, store } = await seeded();
    // write-tree stores a cache-tree extension in the index, which the next commit makes stale.
    git(dir, 'write-tree');
    git(dir, 'status', '--porcelain');
    const oid = await store.commit({
      parent: first,
      changes: new Map([['rendered/web/feat-a/service.yaml', 'kind: Service\nport: 80\n']]),
      message: 'port',
      author,
    });
    expect(git(dir, 'write-tree').trim()).toBe(git(dir, 'rev-parse', `${oid}^{tree}`).trim());
    expectClean(dir);
  });

  it('agrees with a simple model over random changes, including file/folder swaps', async () => {
    await agreesWithModel();
  });

  it('works on a repo whose objects and refs git gc has packed', async () => {
    const { dir, first } = await seeded();
    git(dir, 'gc', '--quiet');
    expect(existsSync(join(dir, '.git/refs/heads/main'))).toBe(false);
    const store = await openLocalStore(dir);
    expect(await store.head()).toBe(first);
    expect(await store.readFile(first, 'rendered/web/feat-a/service.yaml')).toBe('kind: Service\n');
    const changes = new Map<string, string | null>([
      ['rendered/web/feat-a/service.yaml', 'kind: Service\nport: 80\n'],
      ['apps/web/branches/feat-b', null],
    ]);
    const oid = await store.commit({ parent: first, changes, message: 'after gc', author });
    expect(git(dir, 'rev-parse', 'HEAD').trim()).toBe(oid);
    expect(await store.readFile(oid!, 'rendered/web/feat-a/service.yaml')).toBe('kind: Service\nport: 80\n');
    expect(await store.listDir(oid!, 'apps/web/branches')).toEqual(['feat-a']);
    expectClean(dir);
  });

  it('chains commits and reads every version back', async () => {
    const { dir, first, store } = await seeded();
    let head = first;
    for (let i = 0; i < 5; i++) {
      head = (await store.commit({
        parent: head,
        changes: new Map([[`apps/web/branches/b${i}/deploy.yaml`, `rev ${i}\n`]]),
        message: `b${i}`,
        author,
      }))!;
    }
    expect(git(dir, 'rev-list', '--count', 'HEAD').trim()).toBe('6');
    expect((await store.listDir(head, 'apps/web/branches')).sort()).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'feat-a', 'feat-b']);
    expectClean(dir);
  });
});

/** The extensions of .git/index, by signature (the split index's is "link"). */
function indexExtensions(dir: string): string[] {
  const buf = readFileSync(join(dir, '.git/index'));
  let at = 12;
  for (let i = buf.readUInt32BE(8); i > 0; i--) {
    const flags = buf.readUInt16BE(at + 60);
    const start = at + 62 + (flags & 0x4000 ? 2 : 0);
    const end = (flags & 0xfff) < 0xfff ? start + (flags & 0xfff) : buf.indexOf(0, start);
    at += (end - at + 8) & ~7;
  }
  const out: string[] = [];
  for (; at + 8 <= buf.length - 20; at += 8 + buf.readUInt32BE(at + 4)) out.push(buf.toString('latin1', at, at + 4));
  return out;
}

const sharedIndexes = (dir: string) => readdirSync(join(dir, '.git')).filter((f) => f.startsWith('sharedindex.'));

/** What git's index holds, read by git (mode, blob, stage and path of every entry). */
const stagedEntries = (dir: string) => git(dir, 'ls-files', '--stage');

describe('a large index is kept split (git’s split-index), so a commit writes what changed, not the whole index', () => {
  it('keeps work tree, index and commits in step over random changes, through re-shares of the shared index', async () => {
    let reshared = 0;
    let last = '';
    const dir = await agreesWithModel(
      (d) => {
        git(d, 'config', 'core.splitIndex', 'true');
        // A small share, so the random changes re-share the shared index several times.
        git(d, 'config', 'splitIndex.maxPercentChange', '50');
      },
      (d) => {
        expect(indexExtensions(d)).toContain('link');
        // Every entry git sees is the commit's: the index matches HEAD exactly.
        expect(git(d, 'diff-index', '--cached', '--name-only', 'HEAD')).toBe('');
        const shared = sharedIndexes(d);
        expect(shared.length).toBeGreaterThan(0);
        if (shared.join() !== last) reshared++;
        last = shared.join();
      },
      40,
    );
    expect(reshared).toBeGreaterThan(2);
    // git itself can write the split index x1deploy left, and x1deploy reads git's.
    writeFileSync(join(dir, 'x'), 'changed by hand\n');
    git(dir, 'add', 'x');
    expect(git(dir, 'status', '--porcelain')).toBe('M  x\n');
  });

  it('reads the split index git wrote, with a staged change of the user\'s, and keeps that change', async () => {
    const { dir, first, store } = await seeded();
    git(dir, 'update-index', '--split-index');
    // git writes the user's edit as a replaced shared entry, a staged new file as an added one,
    // and an unstaged removal as a deleted one.
    writeFileSync(join(dir, 'README.md'), '# gitops, edited\n');
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');
    git(dir, 'add', 'README.md', 'notes.txt');
    git(dir, 'rm', '-q', '--cached', 'rendered/web/feat-b/deployment.yaml');
    const before = stagedEntries(dir);
    const second = await store.commit({
      parent: first,
      changes: new Map<string, string | null>([
        ['rendered/web/feat-c/deployment.yaml', 'kind: Deployment\nname: c\n'],
        ['rendered/web/feat-a/service.yaml', 'kind: Service\nport: 80\n'],
        ['apps/web/branches/feat-a', null],
      ]),
      message: 'c',
      author,
    });
    expect(indexExtensions(dir)).toContain('link');
    // The user's three staged changes are still staged, against the new commit.
    expect(git(dir, 'status', '--porcelain').split('\n').filter(Boolean).sort()).toEqual(['??' + ' rendered/web/feat-b/', 'A  notes.txt', 'D  rendered/web/feat-b/deployment.yaml', 'M  README.md'].sort());
    const after = stagedEntries(dir);
    expect(after).toContain('notes.txt');
    expect(after).not.toContain('apps/web/branches/feat-a/deploy.yaml');
    expect(after).toMatch(/rendered\/web\/feat-c\/deployment\.yaml/);
    expect(before).not.toBe(after);
    git(dir, 'reset', '-q', '--hard', second!);
    git(dir, 'clean', '-qfd');
    expectClean(dir);
  });

  it('reads every bit of the bitmaps git wrote: each deleted and replaced entry, at word edges too', async () => {
    const dir = tempDir();
    const name = (i: number) => `p/${String(i).padStart(3, '0')}.yaml`;
    const first = await initGitopsRepo(dir, new Map(Array.from({ length: 300 }, (_, i) => [name(i), `${i}\n`] as const)), { message: 'init', author });
    const store = await openLocalStore(dir);
    git(dir, 'update-index', '--split-index');
    // Shared positions are the sorted names: bits 31/32 and 63/64 cross the halves and words of EWAH's 64-bit words.
    for (const i of [0, 31, 32, 63, 64, 65, 127, 128, 191, 255, 299]) git(dir, 'rm', '-q', '--cached', name(i));
    for (const i of [1, 62, 100, 200, 298]) {
      writeFileSync(join(dir, name(i)), 'edited\n');
      git(dir, 'add', name(i));
    }
    const before = stagedEntries(dir);
    await store.commit({ parent: first, changes: new Map([['q.yaml', 'q\n']]), message: 'q', author });
    const added = `100644 ${git(dir, 'rev-parse', 'HEAD:q.yaml').trim()} 0\tq.yaml\n`;
    expect(stagedEntries(dir)).toBe(before + added);
  });

  it('splits an index once it reaches 10,000 entries, and writes it whole again when core.splitIndex is false', async () => {
    const dir = tempDir();
    const files = new Map(Array.from({ length: 10_000 }, (_, i) => [`rendered/app/p${i}.yaml`, `n: ${i}\n`] as const));
    const first = await initGitopsRepo(dir, files, { message: 'init', author });
    const store = await openLocalStore(dir);
    expect(indexExtensions(dir)).toContain('link');
    expect(sharedIndexes(dir)).toHaveLength(1);
    const shared = statSync(join(dir, '.git', sharedIndexes(dir)[0]!)).size;
    const second = await store.commit({ parent: first, changes: new Map([['rendered/app/p5.yaml', 'n: five\n'], ['rendered/app/q/a.yaml', 'a\n']]), message: 'two', author });
    // The commit wrote two entries, not 10,000.
    expect(statSync(join(dir, '.git/index')).size).toBeLessThan(shared / 100);
    expect(sharedIndexes(dir)).toHaveLength(1);
    expectClean(dir);
    git(dir, 'config', 'core.splitIndex', 'false');
    await store.commit({ parent: second!, changes: new Map([['rendered/app/p6.yaml', null]]), message: 'three', author });
    expect(indexExtensions(dir)).not.toContain('link');
    expect(statSync(join(dir, '.git/index')).size).toBeGreaterThan(shared / 2);
    expect(git(dir, 'ls-files').split('\n').filter(Boolean)).toHaveLength(10_000);
    expectClean(dir);
  });

  it('removes shared indexes nothing links to once they are old, and keeps the one just replaced', async () => {
    const { dir, first, store } = await seeded();
    git(dir, 'config', 'core.splitIndex', 'true');
    git(dir, 'config', 'splitIndex.maxPercentChange', '0');
    const stale = join(dir, '.git', `sharedindex.${'0'.repeat(39)}1`);
    writeFileSync(stale, 'left by a crash\n');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(stale, hourAgo, hourAgo);
    const second = await store.commit({ parent: first, changes: new Map([['a.yaml', 'a\n']]), message: 'a', author });
    const firstShared = sharedIndexes(dir);
    expect(firstShared).toHaveLength(1);
    expect(existsSync(stale)).toBe(false);
    // maxPercentChange 0: every commit writes a new shared index; the last one is kept a while.
    await store.commit({ parent: second!, changes: new Map([['b.yaml', 'b\n']]), message: 'b', author });
    expect(sharedIndexes(dir)).toHaveLength(2);
    expect(sharedIndexes(dir)).toEqual(expect.arrayContaining(firstShared));
    expectClean(dir);
  });

  it('is read by verify (isomorphic-git reads only a whole index) as the files it stages', async () => {
    const { dir, first, store } = await seeded();
    git(dir, 'config', 'core.splitIndex', 'true');
    await store.commit({ parent: first, changes: new Map([['rendered/web/feat-c/a.yaml', 'a\n']]), message: 'c', author });
    expect(indexExtensions(dir)).toContain('link');
    expect(await uncommittedChanges(dir)).toEqual([]);
    writeFileSync(join(dir, 'README.md'), 'edited\n');
    expect((await uncommittedChanges(dir)).map((p) => p.path)).toEqual(['README.md']);
    // verify writes nothing, the index included.
    expect(indexExtensions(dir)).toContain('link');
  });
});
