// The gitops repo as a local, non-bare git repository.
//
// Reads go through isomorphic-git. Writes are done here, at the level of git's own files, because
// isomorphic-git's write paths cost far more than the change: each object goes through
// CompressionStream (~1 ms) and a gitdir probe, and every index update re-serialises the whole
// index with three sorts (~35 ms at 7,000 entries). So a commit here hashes and deflates its few
// objects in memory, writes only the trees on changed paths, moves the ref by compare-and-swap,
// then patches the work tree and the index for the changed paths only.
//
// Locking follows git's protocol (`<file>.lock` created exclusively, renamed over the file), so a
// concurrent git CLI is kept out of the ref and the index, and a crash leaves either the old or the
// new version of each file, never a torn one.

import * as fs from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { StaleHeadError, gitObjectId, type CommitAuthor, type CommitRequest, type GitopsStore } from '../records/index.js';
import { X1Error } from '../errors/index.js';
import { isomorphicGit } from '../isomorphic-git/index.js';
import { readGitConfig, type ConfigValue } from './git-config.js';
import { ObjectWriter, packInMemory } from './object-writer.js';
import { inflatedToAbout, PackedObjects, type GitObject, type ObjectType } from './packed-objects.js';
import { encodeIndexEntry, fileIdentity, indexSettings, readIndex, updateIndex, type GitIndex, type IndexSettings } from './git-index.js';

export class NotAGitopsRepoError extends X1Error {
  constructor(
    readonly dir: string,
    reason = 'is not a git repository',
  ) {
    super('invalid', `${dir} ${reason}; run "x1deploy init" to create the gitops repo, or point at an existing one`);
  }
}

export class RepoNotEmptyError extends X1Error {
  constructor(readonly dir: string) {
    super('invalid', `${dir} exists and is not empty; init needs a new or empty folder (to use an existing gitops repo, open it instead)`);
  }
}

export class RepoLockedError extends X1Error {
  constructor(readonly lockFile: string) {
    super('conflict', `${lockFile} is held by another x1deploy or git process; retry, or delete that file if no such process is running`);
  }
}

/** The repo's checked-out branch is no longer the one this store commits to. Nothing was written. */
export class CheckedOutBranchChangedError extends X1Error {
  constructor(dir: string, branch: string, checkedOut: string | undefined) {
    super(
      'conflict',
      `${dir} has ${checkedOut ? `branch ${checkedOut}` : 'a detached HEAD'} checked out, but x1deploy commits to ${branch}; check out ${branch} again (git -C ${dir} checkout ${branch}) and retry`,
    );
  }
}

/** The work tree holds edits the commit would overwrite. Nothing was written. */
export class UncommittedChangesError extends X1Error {
  constructor(
    readonly dir: string,
    readonly paths: readonly string[],
  ) {
    super(
      'conflict',
      `${paths.slice(0, 5).join(', ')}${paths.length > 5 ? ` and ${paths.length - 5} more` : ''} in ${dir} ${paths.length === 1 ? 'has' : 'have'} uncommitted changes that this command would overwrite; commit or discard them (git -C ${dir} status) and run it again`,
    );
  }
}

export class InvalidChangePathError extends X1Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super('invalid', `invalid change path ${JSON.stringify(path)}: ${reason}`);
  }
}

export interface InitOptions {
  /** The branch HEAD points at; default 'main'. */
  readonly branch?: string;
  readonly message: string;
  readonly author: CommitAuthor;
}

/**
 * Create a new non-bare repo at `dir` holding exactly `files` in one commit, with the work tree
 * and index matching it. Refuses (RepoNotEmptyError) a `dir` that exists and is not empty.
 * Returns the commit oid.
 */
export async function initGitopsRepo(dir: string, files: ReadonlyMap<string, string>, options: InitOptions): Promise<string> {
  const existing = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw e;
  });
  if (existing.length > 0) throw new RepoNotEmptyError(dir);
  const branch = options.branch ?? 'main';
  const changes = normalizeChanges(files);
  await (await isomorphicGit()).init({ fs, dir, defaultBranch: branch });
  const store = new LocalStore(dir, branch);
  return store.writeCommit(undefined, changes, options.message, options.author) as Promise<string>;
}

/**
 * A bare repo's store (the cache of a remote gitops repo): the same reads and commits, with no
 * work tree or index. `branch` is the branch commits go to.
 */
export function openBareStore(gitdir: string, branch: string): BareStore {
  return new LocalStore(gitdir, branch, { bare: true });
}

/** A store on a bare repo that can hand over the objects its own commits wrote (what a push sends). */
export interface BareStore extends GitopsStore {
  /** The objects `commit` wrote, as one pack; undefined for a commit this store did not write. */
  packOfWrittenBy(commit: string): Buffer | undefined;
}

/** Open the gitops repo at `dir` (its root); the store's branch is the one HEAD points at. */
export async function openLocalStore(dir: string): Promise<GitopsStore> {
  const isRepo = await stat(join(dir, '.git', 'HEAD')).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!isRepo) throw new NotAGitopsRepoError(dir);
  const format = readGitConfig(join(dir, '.git')).get('extensions.objectformat');
  if (typeof format === 'string' && format.toLowerCase() !== 'sha1') {
    throw new NotAGitopsRepoError(dir, `uses ${format} object ids, which x1deploy does not support; use a sha1 repository`);
  }
  const branch = checkedOutBranch(join(dir, '.git'));
  if (branch === undefined) throw new NotAGitopsRepoError(dir, 'has a detached HEAD (check out the gitops branch first)');
  const store = new LocalStore(dir, branch);
  await store.head().catch(() => {
    throw new NotAGitopsRepoError(dir, `has no commit on its branch ${branch}`);
  });
  return store;
}

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const LOCK_TIMEOUT_MS = 5000;
const REPO_LOCK = 'x1deploy.lock';
/** Who this process is, as recorded in x1deploy.lock. */
const HOLDER = { pid: process.pid, host: hostname(), started: Math.round(Date.now() - process.uptime() * 1000) };
/** A lock whose holder cannot be asked (another host, no record) counts as dead after this long. */
const UNVERIFIABLE_LOCK_MS = 10 * 60_000;

interface DeadHolder {
  readonly at: number;
  readonly from?: string;
  readonly to?: string;
}

/** The record of a lock whose holder is gone, or undefined while it may still be alive. */
async function deadHolder(file: string): Promise<DeadHolder | undefined> {
  const info = fs.statSync(file, { throwIfNoEntry: false });
  if (info === undefined) return undefined;
  const text = readSmallFile(file);
  let record: { pid?: unknown; host?: unknown; from?: unknown; to?: unknown; at?: unknown } = {};
  try {
    record = JSON.parse(text) as typeof record;
  } catch {
    // Killed between creating the lock and writing its record, or written by something else.
  }
  const at = typeof record.at === 'number' ? record.at : info.mtimeMs;
  const oid = (v: unknown) => (typeof v === 'string' && /^[0-9a-f]{40}$/.test(v) ? v : undefined);
  const sameHost = record.host === hostname() && typeof record.pid === 'number';
  const gone = sameHost ? !processAlive(record.pid as number) : Date.now() - info.mtimeMs > UNVERIFIABLE_LOCK_MS;
  return gone ? { at, from: oid(record.from), to: oid(record.to) } : undefined;
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
const CACHE_LIMIT = 20_000;

interface Entry {
  readonly mode: string;
  readonly path: string;
  readonly oid: string;
  readonly type: 'blob' | 'tree' | 'commit';
}

/** The changes as a tree of path segments; `value` is set where a change names the path itself. */
interface ChangeNode {
  value?: string | null;
  readonly children: Map<string, ChangeNode>;
}

/** What a new tree means for the work tree and index, relative to the old one. */
interface Effects {
  /** Paths whose old entry (file, or whole folder) is gone or changed kind. */
  readonly removed: string[];
  /** Files with new content, with the blob they replace (undefined: a new path). */
  readonly written: { path: string; text: string; oid: string; mode: string; before?: string }[];
}

class LocalStore implements BareStore {
  readonly #dir: string;
  readonly #gitdir: string;
  // A bare repo (a remote's cache) has no work tree or index to keep in step.
  readonly #bare: boolean;
  readonly #git: { dir: string } | { gitdir: string };
  // isomorphic-git keeps packfile indexes here.
  readonly #cache: object = {};
  // Packed objects are read here (isomorphic-git loads a whole pack to read one object).
  readonly #packed: PackedObjects;
  // Trees by oid, and commits' root trees: what one commit writes, the next one reads.
  readonly #trees = new Map<string, readonly Entry[]>();
  readonly #commitTrees = new Map<string, string>();
  readonly #writtenBy = new Map<string, readonly string[]>();
  // The index as this store last wrote it, and the file's identity then: a commit that finds the
  // file unchanged (same inode, size and mtime: git replaces the index by rename) splices the
  // parsed copy instead of reading and parsing 50,000 entries again.
  #index: { readonly index: GitIndex; readonly id: string } | undefined;
  #gitConfig: { readonly settings: ReadonlyMap<string, ConfigValue>; readonly id: string } | undefined;
  #spareIndex: Buffer | undefined;

  constructor(
    dir: string,
    readonly branch: string,
    options: { readonly bare?: boolean } = {},
  ) {
    this.#dir = dir;
    this.#bare = options.bare ?? false;
    this.#gitdir = this.#bare ? dir : join(dir, '.git');
    this.#git = this.#bare ? { gitdir: dir } : { dir };
    // A delta's base outside its pack: loose (a thin pack completed by hand), or in another pack.
    this.#packed = new PackedObjects(this.#gitdir, (oid) => this.#object(oid));
  }

  get #refFile(): string {
    return join(this.#gitdir, 'refs', 'heads', ...this.branch.split('/'));
  }

  async head(): Promise<string> {
    // The loose ref file is what commit() writes; isomorphic-git also looks in packed-refs.
    const loose = readSmallFile(this.#refFile);
    if (/^[0-9a-f]{40}\n?$/.test(loose)) return loose.trim();
    return (await isomorphicGit()).resolveRef({ fs, ...this.#git, ref: `refs/heads/${this.branch}` });
  }

  // Reads walk the cached parsed trees: each commit shares almost every tree with the one before,
  // so a path lookup costs a few map hits and, at most, the objects the last commit wrote.
  async readFile(commit: string, path: string): Promise<string | undefined> {
    const entry = await this.#entryAt(commit, path);
    if (entry?.type !== 'blob') return undefined;
    const blob = await this.#readObject(entry.oid, 'blob');
    return blob.toString('utf8');
  }

  async fileId(commit: string, path: string): Promise<string | undefined> {
    const entry = await this.#entryAt(commit, path);
    return entry?.type === 'blob' ? entry.oid : undefined;
  }

  async listDir(commit: string, path: string): Promise<string[]> {
    const tree = await this.#treeAt(commit, path);
    return tree ? tree.map((e) => e.path) : [];
  }

  async listFiles(commit: string, path: string): Promise<string[]> {
    return [...(await this.fileIds(commit, path)).keys()];
  }

  async fileIds(commit: string, path: string): Promise<Map<string, string>> {
    const top = await this.#treeAt(commit, path);
    const prefix = rootOr(path);
    const out = new Map<string, string>();
    const walk = async (entries: readonly Entry[], at: string | undefined): Promise<void> => {
      for (const e of entries) {
        const full = at === undefined ? e.path : `${at}/${e.path}`;
        if (e.type === 'tree') await walk(await this.#readTree(e.oid), full);
        else if (e.type === 'blob') out.set(full, e.oid);
      }
    };
    if (top) await walk(top, prefix);
    return out;
  }

  async #entryAt(commit: string, path: string): Promise<Entry | undefined> {
    const parts = (rootOr(path) ?? '').split('/').filter(Boolean);
    const name = parts.pop();
    if (name === undefined) return undefined;
    const parent = await this.#treeAt(commit, parts.join('/'));
    return parent ? byName(parent).get(name) : undefined;
  }

  async #treeAt(commit: string, path: string): Promise<readonly Entry[] | undefined> {
    let entries = await this.#readTree(await this.#treeOf(commit));
    for (const part of (rootOr(path) ?? '').split('/').filter(Boolean)) {
      const entry = byName(entries).get(part);
      if (entry?.type !== 'tree') return undefined;
      entries = await this.#readTree(entry.oid);
    }
    return entries;
  }

  async #readObject(oid: string, type: ObjectType): Promise<Buffer> {
    const found = this.#object(oid);
    if (found) {
      if (found.type !== type) throw new Error(`git object ${oid} is a ${found.type}, expected a ${type}`);
      return found.data;
    }
    // Neither loose nor in a pack this reader knows: isomorphic-git has the last word (and the error).
    const { object } = await (await isomorphicGit()).readObject({ fs, ...this.#git, oid, format: 'content', cache: this.#cache });
    return Buffer.from(object as Uint8Array);
  }

  /** A loose object, or one in a pack; undefined when neither holds it. */
  #object(oid: string): GitObject | undefined {
    const loose = readLoose(this.#gitdir, oid);
    if (loose === undefined) return this.#packed.read(oid);
    // Its size is inside the stream: text inflates to about four times its deflated length.
    const raw = inflatedToAbout(loose, loose.length * 4);
    const header = raw.indexOf(0);
    return { type: raw.toString('latin1', 0, raw.indexOf(0x20)) as ObjectType, data: raw.subarray(header + 1) };
  }

  /** The commit's root tree and first parent, from its header lines. */
  async #commitHeader(commit: string): Promise<{ readonly tree: string; readonly parent?: string }> {
    const text = (await this.#readObject(commit, 'commit')).toString('latin1', 0, 200);
    const tree = /^tree ([0-9a-f]{40})\n/.exec(text)?.[1];
    if (tree === undefined) throw new Error(`git commit ${commit} names no tree`);
    const parent = /\nparent ([0-9a-f]{40})\n/.exec(text)?.[1];
    return parent === undefined ? { tree } : { tree, parent };
  }

  commit({ parent, changes, message, author }: CommitRequest): Promise<string | undefined> {
    return this.writeCommit(parent, normalizeChanges(changes), message, author);
  }

  async branchHead(name: string): Promise<string | undefined> {
    const file = join(this.#gitdir, 'refs', 'heads', ...name.split('/'));
    const loose = await readFile(file, 'utf8').catch(() => '');
    if (/^[0-9a-f]{40}\n?$/.test(loose)) return loose.trim();
    return (await isomorphicGit()).resolveRef({ fs, ...this.#git, ref: `refs/heads/${name}` }).catch(() => undefined);
  }

  async branches(prefix: string): Promise<Map<string, string>> {
    const names = await (await isomorphicGit()).listBranches({ fs, ...this.#git });
    const found = new Map<string, string>();
    for (const name of names.filter((n) => n.startsWith(prefix)).sort()) {
      const oid = await this.branchHead(name);
      if (oid) found.set(name, oid);
    }
    return found;
  }

  async proposeCommit({
    parent,
    changes,
    message,
    author,
    branch,
  }: CommitRequest & { readonly branch: string }): Promise<string | undefined> {
    if (branch === this.branch) throw new InvalidChangePathError(branch, 'a proposal cannot target the default branch');
    const base = await this.#treeOf(parent);
    const made = await this.#writeCommitObjects({ parent, base, changes: normalizeChanges(changes), message, author }, async (root) => {
      const existing = await this.branchHead(branch);
      const same = existing !== undefined && (await this.#treeOf(existing)) === root && (await this.#parentOf(existing)) === parent;
      return same ? existing : undefined;
    });
    if (made === undefined || !made.new) return made?.oid;
    const { oid } = made;
    // A proposal branch belongs to one (app, branch, version): a newer proposal replaces it.
    const refFile = join(this.#gitdir, 'refs', 'heads', ...branch.split('/'));
    await mkdir(dirname(refFile), { recursive: true });
    const lock = await acquireLock(`${refFile}.lock`);
    try {
      await lock.commitTo(refFile, `${oid}\n`);
    } finally {
      await lock.release();
    }
    return oid;
  }

  /**
   * The commit of `changes` on `base` (the parent's tree), with every object it needs on disk before
   * anything can point at it; undefined when the changes change nothing, and nothing of it on disk
   * then or when it fails. `reuse` may name a commit already holding the same tree, taken instead.
   */
  async #writeCommitObjects(
    commit: {
      readonly parent: string | undefined;
      readonly base: string | undefined;
      readonly changes: ReadonlyMap<string, string | null>;
      readonly message: string;
      readonly author: CommitAuthor;
      readonly effects?: Effects;
    },
    reuse?: (root: string) => Promise<string | undefined>,
  ): Promise<{ readonly oid: string; readonly new: boolean } | undefined> {
    const { parent, base, message, author } = commit;
    const objects = new ObjectWriter(this.#gitdir);
    try {
      const effects = commit.effects ?? { removed: [], written: [] };
      const root = (await this.#rewrite(base, changeTree(commit.changes), '', objects, effects)) ?? EMPTY_TREE;
      if (root === base) return undefined;
      const reused = await reuse?.(root);
      if (reused !== undefined) return { oid: reused, new: false };
      if (root === EMPTY_TREE) objects.write('tree', Buffer.alloc(0));
      const oid = objects.write('commit', encodeCommit(root, parent, message, author));
      objects.finish();
      this.#commitTrees.set(oid, root);
      this.#rememberWritten(oid, objects.oids);
      return { oid, new: true };
    } finally {
      objects.discard();
    }
  }

  /** The objects `commit` wrote on top of its parent, as one pack, when this store made it (recent commits only). */
  packOfWrittenBy(commit: string): Buffer | undefined {
    const oids = this.#writtenBy.get(commit);
    if (oids === undefined) return undefined;
    return packInMemory(
      [...new Set(oids)].map((oid) => {
        const object = this.#object(oid);
        if (object === undefined) throw new Error(`git object ${oid}, which commit ${commit} wrote, is gone from ${this.#gitdir}`);
        return object;
      }),
    );
  }

  #rememberWritten(commit: string, oids: readonly string[]): void {
    this.#writtenBy.set(commit, oids);
    if (this.#writtenBy.size > 64) this.#writtenBy.delete(this.#writtenBy.keys().next().value!);
  }

  async #parentOf(commit: string): Promise<string | undefined> {
    return (await this.#commitHeader(commit)).parent;
  }

  /** commit(), and init's first commit when `parent` is undefined. */
  async writeCommit(
    parent: string | undefined,
    changes: ReadonlyMap<string, string | null>,
    message: string,
    author: CommitAuthor,
  ): Promise<string | undefined> {
    const base = parent === undefined ? undefined : await this.#treeOf(parent);
    const effects: Effects = { removed: [], written: [] };
    const made = await this.#writeCommitObjects({ parent, base, changes, message, author, effects });
    if (made === undefined) return undefined;
    const { oid } = made;
    const repoLock = parent === undefined ? undefined : await this.#acquireRepoLock({ from: parent, to: oid });
    try {
      if (this.#bare) {
        await this.#moveRef(parent, oid);
        return oid;
      }
      // Taken before the ref moves, so a busy index cannot leave HEAD moved but the index behind.
      const indexLock = await acquireLock(join(this.#gitdir, 'index.lock'));
      try {
        // Everything that could stop the work tree and index from following is checked first.
        await this.#checkCheckedOutBranch();
        const index = await this.#loadIndex();
        await this.#refuseOverwritingUserChanges(effects);
        await this.#moveRef(parent, oid, { author, message });
        await this.#syncWorkTree(effects, indexLock, index);
      } finally {
        await indexLock.release();
      }
    } finally {
      await repoLock?.release();
    }
    return oid;
  }

  /**
   * x1deploy's own lock on the repo, recording who holds it and which commit it is landing. A
   * holder that died (same host, its process gone) is taken over: if its commit had moved the ref,
   * the work tree and the index are brought to it, as the holder would have done; git's own locks
   * it left (index.lock, the branch's ref lock) are removed. The next command works.
   */
  async #acquireRepoLock(landing: { readonly from: string; readonly to: string }): Promise<Lock> {
    const file = join(this.#gitdir, REPO_LOCK);
    let dead: DeadHolder | undefined;
    const found = await deadHolder(file);
    if (found !== undefined) {
      // Moved aside first: of several processes finding the same dead lock, one takes it over.
      const aside = `${file}.dead-${process.pid}-${Date.now()}`;
      if (
        await rename(file, aside).then(
          () => true,
          () => false,
        )
      ) {
        dead = found;
        await unlink(aside).catch(() => undefined);
      }
    }
    const lock = await acquireLock(file, JSON.stringify({ ...HOLDER, ...landing, at: Date.now() }));
    if (dead !== undefined) {
      try {
        await this.#recover(dead);
      } catch (e) {
        await lock.release();
        throw e;
      }
    }
    return lock;
  }

  /**
   * A file the commit writes must hold, in the work tree, what the last commit had there (or not
   * exist): uncommitted edits of the user's are never overwritten without a word.
   */
  async #refuseOverwritingUserChanges({ written }: Effects): Promise<void> {
    const paths: string[] = [];
    for (const file of written) {
      // Read at once, as objects are (readLoose): a re-render checks thousands of small files.
      let current: Buffer;
      try {
        current = fs.readFileSync(join(this.#dir, file.path));
      } catch {
        continue;
      }
      const oid = gitObjectId('blob', current);
      if (oid !== file.before && oid !== file.oid) paths.push(file.path);
    }
    if (paths.length > 0) throw new UncommittedChangesError(this.#dir, paths);
  }

  /** Finish, or clear up after, the commit a dead holder was landing. */
  async #recover(dead: DeadHolder): Promise<void> {
    for (const stale of [join(this.#gitdir, 'index.lock'), `${this.#refFile}.lock`]) {
      const info = await stat(stale).catch(() => undefined);
      // Only a lock the dead holder could have made; a live git may hold a newer one.
      if (info && info.mtimeMs >= dead.at - 1000) await unlink(stale).catch(() => undefined);
    }
    if (this.#bare || dead.from === undefined || dead.to === undefined) return;
    const head = await this.head().catch(() => undefined);
    if (head !== dead.to) return;
    const effects: Effects = { removed: [], written: [] };
    await this.#diff(await this.#treeOf(dead.from), await this.#treeOf(dead.to), '', effects);
    const indexLock = await acquireLock(join(this.#gitdir, 'index.lock'));
    try {
      await this.#syncWorkTree(effects, indexLock, await this.#loadIndex());
    } finally {
      await indexLock.release();
    }
  }

  /** What changed from tree `a` to tree `b`, as the effects a commit has on the work tree. */
  async #diff(a: string | undefined, b: string | undefined, prefix: string, effects: Effects): Promise<void> {
    if (a === b) return;
    const before = new Map((a === undefined ? [] : await this.#readTree(a)).map((e) => [e.path, e]));
    const after = new Map((b === undefined ? [] : await this.#readTree(b)).map((e) => [e.path, e]));
    for (const [name, old] of before) {
      const now = after.get(name);
      if (now === undefined || now.type !== old.type) effects.removed.push(prefix + name);
    }
    for (const [name, now] of after) {
      const old = before.get(name);
      if (old?.oid === now.oid && old.mode === now.mode) continue;
      if (now.type === 'tree') {
        await this.#diff(old?.type === 'tree' ? old.oid : undefined, now.oid, `${prefix}${name}/`, effects);
      } else {
        const blob = await this.#readObject(now.oid, 'blob');
        effects.written.push({ path: prefix + name, text: blob.toString('utf8'), oid: now.oid, mode: now.mode });
      }
    }
  }

  async #treeOf(commit: string): Promise<string> {
    let tree = this.#commitTrees.get(commit);
    if (tree === undefined) {
      tree = (await this.#commitHeader(commit)).tree;
      if (this.#commitTrees.size >= CACHE_LIMIT) this.#commitTrees.clear();
      this.#commitTrees.set(commit, tree);
    }
    return tree;
  }

  async #readTree(oid: string): Promise<readonly Entry[]> {
    let entries = this.#trees.get(oid);
    if (entries === undefined) {
      // Parsed here, loose or packed: 4x faster than git.readTree's DecompressionStream.
      entries = decodeTree(await this.#readObject(oid, 'tree'));
      this.#remember(oid, entries);
    }
    return entries;
  }

  #remember(oid: string, entries: readonly Entry[]): void {
    if (this.#trees.size >= CACHE_LIMIT) this.#trees.clear();
    this.#trees.set(oid, entries);
  }

  /** The tree `base` with `node`'s changes applied (undefined when it ends up empty). */
  async #rewrite(
    base: string | undefined,
    node: ChangeNode,
    prefix: string,
    objects: ObjectWriter,
    effects: Effects,
  ): Promise<string | undefined> {
    const entries = new Map((base === undefined ? [] : await this.#readTree(base)).map((e) => [e.path, e]));
    const updates = await Promise.all(
      [...node.children].map(async ([name, child]): Promise<[string, Entry | undefined] | undefined> => {
        const path = prefix + name;
        const before = entries.get(name);
        let after: Entry | undefined;
        if (typeof child.value === 'string') {
          const oid = gitObjectId('blob', child.value);
          if (before?.type === 'blob' && before.oid === oid) return undefined;
          objects.writeText(child.value, oid);
          // An executable bit the file already had is kept.
          const mode = before?.mode === '100755' ? '100755' : '100644';
          after = { mode, path: name, oid, type: 'blob' };
          effects.written.push({ path, text: child.value, oid, mode, ...(before?.type === 'blob' ? { before: before.oid } : {}) });
        } else {
          // A null with changes below it replaces the folder, so it starts from empty.
          const keep = child.value === undefined && before?.type === 'tree' ? before.oid : undefined;
          const sub = child.children.size > 0 ? await this.#rewrite(keep, child, path + '/', objects, effects) : undefined;
          if (sub === before?.oid) return undefined;
          // Only deletions below a path that holds a file (or nothing): the file stays.
          if (sub === undefined && child.value === undefined && before?.type !== 'tree') return undefined;
          if (sub !== undefined) after = { mode: '040000', path: name, oid: sub, type: 'tree' };
        }
        if (before !== undefined && (after?.type !== before.type || child.value === null)) effects.removed.push(path);
        return [name, after];
      }),
    );
    let changed = false;
    for (const update of updates) {
      if (update === undefined) continue;
      changed = true;
      const [name, after] = update;
      if (after === undefined) entries.delete(name);
      else entries.set(name, after);
    }
    if (!changed) return base;
    if (entries.size === 0) return undefined;
    // Kept in tree order, so the next commit's sort of this tree finds it (nearly) sorted.
    const tree = inTreeOrder([...entries.values()]);
    const oid = objects.write('tree', encodeTree(tree));
    this.#remember(oid, tree);
    return oid;
  }

  /** Point the branch at `oid` if it still points at `expected` (undefined: not born yet). */
  async #moveRef(
    expected: string | undefined,
    oid: string,
    reflog?: { readonly author: CommitAuthor; readonly message: string },
  ): Promise<void> {
    const refFile = this.#refFile;
    fs.mkdirSync(dirname(refFile), { recursive: true });
    const lock = await acquireLock(`${refFile}.lock`);
    try {
      const actual = await this.head().catch(async (e: unknown) => {
        if (e instanceof (await isomorphicGit()).Errors.NotFoundError) return undefined;
        throw e;
      });
      if (actual !== expected) throw new StaleHeadError(expected ?? '(none)', actual ?? '(none)');
      await lock.commitTo(refFile, `${oid}\n`);
      if (reflog && !this.#bare) await this.#appendReflog(expected, oid, reflog.author, reflog.message);
    } finally {
      await lock.release();
    }
  }

  /**
   * The reflog entries git writes for a commit on the checked-out branch (core.logAllRefUpdates is
   * on in a non-bare repo): the branch's log and HEAD's, so `git reflog` shows x1deploy's commits.
   */
  async #appendReflog(from: string | undefined, to: string, author: CommitAuthor, message: string): Promise<void> {
    const setting = this.#config().get('core.logallrefupdates');
    if (typeof setting === 'string' && ['false', 'no', 'off', '0'].includes(setting.toLowerCase())) return;
    const seconds = author.timestamp ?? Math.floor(Date.now() / 1000);
    const subject = message.split('\n')[0]!;
    const line = `${from ?? '0'.repeat(40)} ${to} ${author.name} <${author.email}> ${seconds} +0000\tcommit${from === undefined ? ' (initial)' : ''}: ${subject}\n`;
    const logs = join(this.#gitdir, 'logs');
    for (const file of [join(logs, 'refs', 'heads', ...this.branch.split('/')), join(logs, 'HEAD')]) {
      fs.mkdirSync(dirname(file), { recursive: true });
      fs.appendFileSync(file, line);
    }
  }

  /** A long-lived store (mcp, build --watch) must not commit to its branch after the user checked out another. */
  async #checkCheckedOutBranch(): Promise<void> {
    const checkedOut = checkedOutBranch(this.#gitdir);
    if (checkedOut !== this.branch) {
      throw new CheckedOutBranchChangedError(this.#dir, this.branch, checkedOut);
    }
  }

  /** Make the work tree and the index match the new HEAD at the changed paths (and only there). */
  async #syncWorkTree({ removed: all, written }: Effects, indexLock: Lock, index: GitIndex): Promise<void> {
    const dir = this.#dir;
    // A folder that loses its last file is itself in `removed`, so no empty folder is left
    // behind; its files are dropped so no two removals race on the same subtree. A removed folder
    // goes whole, untracked files in it too: x1deploy owns these paths.
    const removed = all.filter((p) => !all.some((q) => p.startsWith(`${q}/`)));
    await Promise.all(removed.map((path) => rm(join(dir, path), { recursive: true, force: true })));
    // Each folder once, up front: letting every file discover its missing folder costs 3x at init.
    // A file standing where a folder goes fails here and is replaced by writeWorkFile.
    for (const folder of new Set(written.map((file) => dirname(file.path)))) {
      try {
        fs.mkdirSync(join(dir, folder), { recursive: true });
      } catch {
        // A file where the folder goes: writeWorkFile replaces it.
      }
    }
    // One blocking call each, as objects are written: a file of a few kilobytes costs less that way
    // than trips through libuv's threads. Each file's index entry is made as soon as it is written:
    // 60,000 stats held for the end were the largest thing a re-render of 10,000 previews kept.
    const entries = written.map((file) => {
      const abs = join(dir, file.path);
      writeWorkFile(dir, file.path, file.text);
      if (file.mode === '100755') fs.chmodSync(abs, 0o755);
      return encodeIndexEntry(file.path, file.oid, file.mode, fs.lstatSync(abs, { bigint: true }));
    });
    const settings = this.#loadIndexSettings();
    // A failed update may leave the parsed copy ahead of the file: the next commit reads it again.
    this.#index = undefined;
    this.#index = await updateIndex(this.#gitdir, index, indexLock, removed, entries, settings, this.#spareIndex);
    // Nothing reads the superseded index once the new one is written: its room is the next spare.
    this.#spareIndex = index.room;
  }

  /** The index, parsed and checked to be one x1deploy can update (from memory when unchanged). */
  async #loadIndex(): Promise<GitIndex> {
    const id = fileIdentity(join(this.#gitdir, 'index'));
    if (this.#index?.id === id) return this.#index.index;
    const index = await readIndex(this.#gitdir);
    this.#index = { index, id };
    return index;
  }

  /** How the repo's config wants its index kept (split or whole). */
  #loadIndexSettings(): IndexSettings {
    const config = this.#config();
    return indexSettings({ splitIndex: config.get('core.splitindex'), maxPercentChange: config.get('splitindex.maxpercentchange') });
  }

  /** The repo's .git/config, read again when it changes (git replaces it by rename). */
  #config(): ReadonlyMap<string, ConfigValue> {
    const id = fileIdentity(join(this.#gitdir, 'config'));
    if (this.#gitConfig?.id !== id) this.#gitConfig = { settings: readGitConfig(this.#gitdir), id };
    return this.#gitConfig.settings;
  }
}

// ---- objects -----------------------------------------------------------------------------------

/**
 * A loose object's deflated bytes, or undefined when it is not loose (packed, or missing). Read in
 * one blocking call: for a file of a few kilobytes that costs less than the four trips through
 * libuv's threads an async read takes (open, stat, read, close), and a re-render reads thousands.
 */
function readLoose(gitdir: string, oid: string): Buffer | undefined {
  try {
    return fs.readFileSync(join(gitdir, 'objects', oid.slice(0, 2), oid.slice(2)));
  } catch {
    return undefined;
  }
}

/** A tree's entries by name, made once per parsed tree (wide trees are looked up often). */
const treeNames = new WeakMap<readonly Entry[], ReadonlyMap<string, Entry>>();
function byName(entries: readonly Entry[]): ReadonlyMap<string, Entry> {
  let names = treeNames.get(entries);
  if (!names) treeNames.set(entries, (names = new Map(entries.map((e) => [e.path, e]))));
  return names;
}

/**
 * Entries in git's tree order: by name bytes, a folder compared as if its name ended in '/'.
 * Strings compare by UTF-16 unit, which is byte order except where a surrogate meets a character
 * above it, so names holding either are compared as bytes (a wide tree is sorted every commit).
 */
function inTreeOrder(entries: readonly Entry[]): Entry[] {
  const keyed = entries.map((e) => ({ e, key: e.type === 'tree' ? `${e.path}/` : e.path }));
  if (keyed.some(({ key }) => /[\ud800-\uffff]/.test(key))) {
    const bytes = new Map(keyed.map((k) => [k, Buffer.from(k.key)]));
    keyed.sort((a, b) => Buffer.compare(bytes.get(a)!, bytes.get(b)!));
  } else keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map(({ e }) => e);
}

/** A tree object's content, from entries already in tree order, laid out in one buffer. */
function encodeTree(sorted: readonly Entry[]): Buffer {
  const modeOf = (e: Entry) => (e.mode === '040000' ? '40000' : e.mode.replace(/^0+/, ''));
  let size = 0;
  for (const e of sorted) size += modeOf(e).length + Buffer.byteLength(e.path) + 22;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const e of sorted) {
    at += out.write(modeOf(e), at, 'latin1');
    out[at++] = 0x20;
    at += out.write(e.path, at, 'utf8');
    out[at++] = 0;
    at += out.write(e.oid, at, 'hex');
  }
  return out;
}

/** A tree object's content as entries. */
function decodeTree(raw: Buffer): Entry[] {
  const entries: Entry[] = [];
  for (let at = 0; at < raw.length;) {
    const space = raw.indexOf(0x20, at);
    const nul = raw.indexOf(0, space);
    const mode = raw.toString('latin1', at, space).padStart(6, '0');
    const type = mode === '040000' ? 'tree' : mode === '160000' ? 'commit' : 'blob';
    entries.push({ mode, path: raw.toString('utf8', space + 1, nul), oid: raw.toString('hex', nul + 1, nul + 21), type });
    at = nul + 21;
  }
  return entries;
}

function encodeCommit(tree: string, parent: string | undefined, message: string, author: CommitAuthor): Buffer {
  // git would reject (or misparse) a name or email holding <, > or a newline.
  const clean = (s: string) => s.replace(/[<>\n\r]/g, '').trim();
  const when = author.timestamp ?? Math.floor(Date.now() / 1000);
  const who = `${clean(author.name)} <${clean(author.email)}> ${when} +0000`;
  const body = message.replace(/\r/g, '').replace(/^\n+/, '').replace(/\n+$/, '');
  return Buffer.from(`tree ${tree}\n${parent ? `parent ${parent}\n` : ''}author ${who}\ncommitter ${who}\n\n${body}\n`);
}

// ---- files and locks -----------------------------------------------------------------------------

interface Lock {
  /**
   * Write `content` and rename the lock file over `target` (which releases the lock). Answers the
   * written file's stat, taken before the rename, so it is this write's (rename keeps the inode).
   */
  commitTo(target: string, content: string | Buffer | readonly Buffer[]): Promise<fs.BigIntStats>;
  release(): Promise<void>;
}

let lockSeq = 0;

/**
 * Create `file` holding `content`, failing with EEXIST as an exclusive create does. The content is
 * written aside and linked into place, so the file never exists empty: a holder killed between
 * creating its lock and writing its record would leave a lock no one can tell is dead.
 */
function createWithContent(file: string, content: string): number {
  const aside = `${file}.${process.pid}-${lockSeq++}.tmp`;
  const fd = fs.openSync(aside, 'wx');
  try {
    fs.writeSync(fd, content);
    fs.linkSync(aside, file);
    return fd;
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

/**
 * Create `file` exclusively (git's `.lock` protocol), retrying with backoff for a few seconds. The
 * file operations are blocking calls: each is a few microseconds, where a trip through libuv's
 * threads (and back through the event loop) is a fraction of a millisecond, and a commit takes
 * three locks.
 */
async function acquireLock(file: string, holder?: string): Promise<Lock> {
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  let delay = 2;
  let fd: number;
  for (;;) {
    try {
      fd = holder === undefined ? fs.openSync(file, 'wx') : createWithContent(file, holder);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (Date.now() >= deadline) throw new RepoLockedError(file);
      await new Promise((r) => setTimeout(r, delay * (1 + Math.random())));
      delay = Math.min(delay * 2, 100);
    }
  }
  let open_ = true;
  let held = true;
  const close = () => {
    if (open_) fs.closeSync(fd);
    open_ = false;
  };
  return {
    async commitTo(target, content) {
      if (Array.isArray(content)) {
        const parts = content as Buffer[];
        const total = parts.reduce((n, b) => n + b.length, 0);
        const written = fs.writevSync(fd, parts);
        // A short write (rare for a regular file) is redone whole.
        if (written !== total) fs.writeSync(fd, Buffer.concat(parts).subarray(written), 0, total - written, written);
      } else fs.writeFileSync(fd, content as string | Buffer);
      const stats = fs.fstatSync(fd, { bigint: true });
      close();
      fs.renameSync(file, target);
      held = false;
      return stats;
    },
    async release() {
      close();
      // Once renamed, the lock file may already be someone else's.
      if (held) fs.unlinkSync(file);
      held = false;
    },
  };
}

/** The branch HEAD points at, or undefined when HEAD is detached (or missing). */
function checkedOutBranch(gitdir: string): string | undefined {
  return /^ref: refs\/heads\/(.+?)\s*$/.exec(readSmallFile(join(gitdir, 'HEAD')))?.[1];
}

/** A small file's text, or '' when it cannot be read (a missing ref, HEAD, or lock record). */
function readSmallFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function writeWorkFile(dir: string, path: string, text: string): void {
  const file = join(dir, path);
  try {
    fs.writeFileSync(file, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
    makeDirs(dir, dirname(path));
    fs.writeFileSync(file, text);
  }
}

/** mkdir -p, replacing a file that stands where a folder now goes. */
function makeDirs(dir: string, path: string): void {
  let at = dir;
  for (const name of path.split('/')) {
    at = join(at, name);
    const s = fs.lstatSync(at, { throwIfNoEntry: false });
    if (s?.isDirectory()) continue;
    if (s !== undefined) fs.unlinkSync(at);
    try {
      fs.mkdirSync(at);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

// ---- paths ---------------------------------------------------------------------------------------

function normalizeChanges<T extends string | null>(changes: ReadonlyMap<string, T>): Map<string, T> {
  const out = new Map<string, T>();
  for (const [path, value] of changes) out.set(normalizePath(path), value);
  return out;
}

/** A change path as a clean repo-relative posix path; refuses anything that could leave the repo. */
function normalizePath(path: string): string {
  if (path.startsWith('/')) throw new InvalidChangePathError(path, 'it must be relative to the repo root');
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0) throw new InvalidChangePathError(path, 'it names the repo root');
  if (parts.some((p) => p === '..' || p.toLowerCase() === '.git' || p.includes('\\') || p.includes('\0'))) {
    throw new InvalidChangePathError(path, 'it contains "..", ".git", a backslash or a NUL');
  }
  return parts.join('/');
}

function changeTree(changes: ReadonlyMap<string, string | null>): ChangeNode {
  const root: ChangeNode = { children: new Map() };
  for (const [path, value] of changes) {
    let node = root;
    for (const name of path.split('/')) {
      if (typeof node.value === 'string') throw new InvalidChangePathError(path, 'a folder above it is written as a file');
      let child = node.children.get(name);
      if (child === undefined) node.children.set(name, (child = { children: new Map() }));
      node = child;
    }
    if (typeof value === 'string' && node.children.size > 0)
      throw new InvalidChangePathError(path, 'it is written as a file and also has changes inside it');
    node.value = value;
  }
  return root;
}

/** `path` as isomorphic-git's `filepath`: undefined for the root. */
function rootOr(path: string): string | undefined {
  const p = path
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
  return p === '' ? undefined : p;
}
