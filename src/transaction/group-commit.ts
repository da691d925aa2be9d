// Group commit, for a service taking many writes at once: one read of the tip, the waiting requests
// planned one after another (each against the tip plus the changes planned before it), one commit,
// one push, and each request answered with its own result. Against a remote, N separate
// compare-and-swap writes cost N fetches and pushes and collide; a group costs one of each.
//
// A request is a read-plan-write attempt (what withFreshTip runs). Its turn ends when it hands its
// changes to commit() or when it ends without writing (denied, invalid, nothing to change); then the
// next waiting request plans. commit() answers once the group's commit has landed. When the tip
// moved under the group (another writer), every request of the group plans again on the new tip.
import { X1Error } from '../errors/index.js';
import { RepoSnapshot, StaleHeadError, type CommitAuthor, type CommitRequest, type GitopsStore } from '../records/index.js';
import { systemCommitter, type SystemRole } from './committers.js';
import { ChangeOverlay } from './overlay.js';

/** A store that runs read-plan-write attempts itself (withFreshTip hands them over). */
export interface TransactingStore extends GitopsStore {
  transact<T>(attempt: (snapshot: RepoSnapshot) => Promise<T>, maxAttempts: number): Promise<T>;
}

export function isTransactingStore(store: GitopsStore): store is TransactingStore {
  return typeof (store as Partial<TransactingStore>).transact === 'function';
}

export interface GroupCommitOptions {
  /** At most this many requests share one commit (default 64). */
  readonly maxGroup?: number;
  /** Told of each group's commit: how many requests it answered. */
  readonly onGroup?: (size: number) => void;
  /**
   * How long one request may plan before the group goes on without it (default 60 s): a request
   * stuck on a slow read must not hold up every other caller. If it stages later, it finds its turn
   * over and plans again in a later group.
   */
  readonly turnMs?: number;
  /** Who signs a commit of several authors' changes (default: the service). */
  readonly signer?: SystemRole;
}

class GroupConflictError extends X1Error {
  constructor(attempts: number) {
    super('conflict', `the gitops branch changed under ${attempts} group commits in a row; nothing was written, try again`);
  }
}

interface Waiting {
  readonly attempt: (snapshot: RepoSnapshot) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  tries: number;
  readonly maxAttempts: number;
}

interface Staged {
  readonly request: CommitRequest;
  readonly resolve: (commit: string | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/** The group being planned: its base commit, the overlay of its staged changes, and whose turn it is. */
interface Group {
  readonly overlay: ChangeOverlay;
  readonly staged: Staged[];
  /** The id the current turn's snapshot reads at; its commit() must name it as the parent. */
  turn: string | undefined;
  /** Ends the current turn: the attempt staged its changes. */
  endTurn?: () => void;
}

const OVERLAY_ID = /^group:([0-9a-f]{40}):(\d+)$/;

export class GroupCommitStore implements TransactingStore {
  readonly #queue: Waiting[] = [];
  /** Requests to plan again, first in the next group (the tip moved, or a proposal met staged changes). */
  readonly #again: Waiting[] = [];
  #group: Group | undefined;
  #running = false;

  constructor(
    private readonly inner: GitopsStore,
    private readonly options: GroupCommitOptions = {},
  ) {}

  get branch(): string {
    return this.inner.branch;
  }

  head(): Promise<string> {
    return this.inner.head();
  }

  transact<T>(attempt: (snapshot: RepoSnapshot) => Promise<T>, maxAttempts: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ attempt, resolve: resolve as (v: unknown) => void, reject, tries: 0, maxAttempts });
      void this.#run();
    });
  }

  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      while (this.#queue.length + this.#again.length > 0) await this.#oneGroup();
    } finally {
      this.#running = false;
    }
    // A request sent back after the loop's last look must not wait for a newcomer to start it.
    if (this.#queue.length + this.#again.length > 0) void this.#run();
  }

  async #oneGroup(): Promise<void> {
    this.#queue.unshift(...this.#again.splice(0));
    let base: string;
    try {
      base = await this.inner.head();
    } catch (err) {
      for (const waiting of this.#queue.splice(0)) waiting.reject(err);
      return;
    }
    const group: Group = { overlay: new ChangeOverlay(this.inner, base), staged: [], turn: undefined };
    this.#group = group;
    const maxGroup = this.options.maxGroup ?? 64;
    let answered = 0;
    try {
      while (this.#queue.length > 0 && answered < maxGroup) {
        await this.#takeTurn(group, this.#queue.shift()!);
        answered++;
      }
    } finally {
      this.#group = undefined;
    }
    if (group.staged.length > 0) await this.#land(group);
  }

  /** Run one attempt against the group's overlay until it stages its changes or ends. */
  async #takeTurn(group: Group, waiting: Waiting): Promise<void> {
    waiting.tries++;
    const id = `group:${group.overlay.base}:${group.staged.length}`;
    group.turn = id;
    const staged = new Promise<void>((resolve) => (group.endTurn = resolve));
    const settled = waiting.attempt(new RepoSnapshot(this, id)).then(
      (value) => waiting.resolve(value),
      (err: unknown) => {
        if (!(err instanceof StaleHeadError)) return waiting.reject(err);
        if (waiting.tries >= waiting.maxAttempts) return waiting.reject(new GroupConflictError(waiting.tries));
        this.#again.push(waiting);
        void this.#run();
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.turnMs ?? 60_000)));
    await Promise.race([staged, settled, overdue]);
    clearTimeout(timer);
    group.turn = undefined;
    group.endTurn = undefined;
  }

  async #land(group: Group): Promise<void> {
    const { staged, overlay } = group;
    try {
      const commit = await this.inner.commit({
        parent: overlay.base,
        changes: overlay.changes,
        message: groupMessage(staged.map((s) => s.request.message)),
        author: groupAuthor(staged.map((s) => s.request.author), this.options.signer ?? 'serve'),
      });
      this.options.onGroup?.(staged.length);
      for (const s of staged) s.resolve(commit);
    } catch (err) {
      for (const s of staged) s.reject(err);
    }
  }

  /** The overlay a read at `commit` means, or undefined for a real commit. */
  #overlayAt(commit: string): ChangeOverlay | undefined {
    const id = OVERLAY_ID.exec(commit);
    if (!id) return undefined;
    const group = this.#group;
    if (!group || group.overlay.base !== id[1] || Number(id[2]) !== group.staged.length) {
      throw new StaleHeadError(commit, group ? `group:${group.overlay.base}:${group.staged.length}` : 'no group');
    }
    return group.overlay;
  }

  readFile(commit: string, path: string): Promise<string | undefined> {
    const overlay = this.#overlayAt(commit);
    return overlay ? overlay.readFile(path) : this.inner.readFile(commit, path);
  }

  fileId(commit: string, path: string): Promise<string | undefined> {
    // A file the group left alone keeps its blob id (its parsed record is reused); a staged one has none.
    const overlay = this.#overlayAt(commit);
    return overlay ? overlay.fileId(path) : Promise.resolve(this.inner.fileId?.(commit, path));
  }

  async fileIds(commit: string, path: string): Promise<ReadonlyMap<string, string | undefined>> {
    const overlay = this.#overlayAt(commit);
    if (overlay) return overlay.fileIds(path);
    if (this.inner.fileIds) return this.inner.fileIds(commit, path);
    return new Map((await this.inner.listFiles(commit, path)).map((file) => [file, undefined]));
  }

  listDir(commit: string, path: string): Promise<string[]> {
    const overlay = this.#overlayAt(commit);
    return overlay ? overlay.listDir(path) : this.inner.listDir(commit, path);
  }

  listFiles(commit: string, path: string): Promise<string[]> {
    const overlay = this.#overlayAt(commit);
    return overlay ? overlay.listFiles(path) : this.inner.listFiles(commit, path);
  }

  async commit(request: CommitRequest): Promise<string | undefined> {
    const group = this.#group;
    if (!OVERLAY_ID.test(request.parent)) return this.inner.commit(request);
    if (!group || request.parent !== group.turn) throw new StaleHeadError(request.parent, group?.turn ?? 'no group');
    if (request.changes.size === 0) return undefined;
    group.overlay.apply(request.changes);
    const landed = new Promise<string | undefined>((resolve, reject) => group.staged.push({ request, resolve, reject }));
    group.turn = undefined;
    group.endTurn?.();
    return landed;
  }

  async proposeCommit(request: CommitRequest & { readonly branch: string }): Promise<string | undefined> {
    const overlay = this.#overlayAt(request.parent);
    if (!overlay) return this.inner.proposeCommit(request);
    // A proposal is a commit on the real tip: it can be made only before the group has staged
    // anything (else it plans again, first in the next group).
    if (overlay.size > 0) throw new StaleHeadError(request.parent, 'a group with staged changes');
    return this.inner.proposeCommit({ ...request, parent: overlay.base });
  }

  branchHead(name: string): Promise<string | undefined> {
    return this.inner.branchHead(name);
  }

  branches(prefix: string): Promise<Map<string, string>> {
    return this.inner.branches(prefix);
  }
}

/** Wrap a store so that concurrent writes through withFreshTip are group-committed. */
export function groupCommits(store: GitopsStore, options: GroupCommitOptions = {}): GroupCommitStore {
  return new GroupCommitStore(store, options);
}

function groupMessage(messages: readonly string[]): string {
  if (messages.length === 1) return messages[0]!;
  const subjects = messages.map((m) => `- ${m.split('\n')[0]}`);
  return [`${messages.length} changes in one group commit`, '', ...subjects, '', ...messages.map((m) => `${m}\n`)].join('\n').trimEnd();
}

/** One author signs a group of their own; a group of several is signed by x1deploy (`signer`). */
function groupAuthor(authors: readonly CommitAuthor[], signer: SystemRole): CommitAuthor {
  const first = authors[0]!;
  const timestamps = authors.flatMap((a) => (a.timestamp === undefined ? [] : [a.timestamp]));
  const when = timestamps.length > 0 ? new Date(Math.max(...timestamps) * 1000) : new Date();
  if (authors.every((a) => a.name === first.name && a.email === first.email))
    return { ...first, timestamp: Math.floor(when.getTime() / 1000) };
  return systemCommitter(signer, when);
}
