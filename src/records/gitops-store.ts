import { createHash } from 'node:crypto';
import { X1Error } from '../errors/index.js';

// The gitops repo as x1deploy sees it (the port its adapters in gitops/ implement): read files at a commit, and write a set of changes as ONE
// commit that moves the branch ref only if it still points where the plan was made.

/** New content for a path, or null to delete the path (a folder path deletes the whole folder). */
export type FileChanges = ReadonlyMap<string, string | null>;

export interface CommitAuthor {
  readonly name: string;
  readonly email: string;
  /** Seconds since the epoch; injected so tests and renders are deterministic. */
  readonly timestamp?: number;
}

export interface CommitRequest {
  /** The commit the changes were planned against. */
  readonly parent: string;
  readonly changes: FileChanges;
  readonly message: string;
  readonly author: CommitAuthor;
}

export interface GitopsStore {
  /** The branch x1deploy commits to (the repo's default branch, e.g. main). */
  readonly branch: string;
  /** The commit the branch points at now. */
  head(): Promise<string>;
  /** A file's text at `commit`, or undefined when there is no such file. */
  readFile(commit: string, path: string): Promise<string | undefined>;
  /**
   * The id of a file's content at `commit` (its git blob id), or undefined when there is no such
   * file. Optional: readers that have it skip reading and parsing content they have seen before.
   */
  fileId?(commit: string, path: string): Promise<string | undefined>;
  /**
   * Every file below a folder at `commit`, recursively, with its blob id when the store can tell
   * (empty when there is no such folder). Optional, like fileId: one walk instead of a lookup per file.
   */
  fileIds?(commit: string, path: string): Promise<ReadonlyMap<string, string | undefined>>;
  /** Names of the entries of a folder at `commit` ([] when there is no such folder). */
  listDir(commit: string, path: string): Promise<string[]>;
  /** Paths of every file below a folder at `commit`, recursively ([] when there is no such folder). */
  listFiles(commit: string, path: string): Promise<string[]>;
  /**
   * Write `changes` on top of `parent` as one commit and move the branch to it. Returns the new
   * commit, or undefined when the changes leave the tree as it is (no commit is made). Throws
   * StaleHeadError when the branch no longer points at `parent`; nothing is changed then.
   */
  commit(request: CommitRequest): Promise<string | undefined>;
  /**
   * Write `changes` on top of `parent` as one commit on the side branch `branch` (created, or
   * moved to it), for review: the default branch and the work tree are untouched. Returns the
   * commit (the existing one when the side branch already proposes exactly this on `parent`), or
   * undefined when the changes change nothing.
   */
  proposeCommit(request: CommitRequest & { readonly branch: string }): Promise<string | undefined>;
  /**
   * Run one read-plan-write attempt so that no other process sharing this store writes meanwhile
   * (optional: a remote's cache clone shared by one machine's processes).
   */
  exclusive?<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Where processes sharing this store hand their writes to whichever of them holds its lock, so
   * that one commit and one push land them all (optional, like exclusive).
   */
  handoff?(): HandoffPort;
  /** The commit a branch points at, or undefined when there is no such branch. */
  branchHead(name: string): Promise<string | undefined>;
  /** The branches whose names start with `prefix`, with their commits (readable through this store). */
  branches(prefix: string): Promise<Map<string, string>>;
}

/** The lock a store's sharing processes take turns on, and a folder private to them. */
export interface HandoffPort {
  /** Where handed-off writes wait and their answers are left (made on first use). */
  readonly dir: string;
  /** Run `work` holding the lock if it is free now; undefined when another process holds it. */
  tryLead<T>(work: () => Promise<T>): Promise<{ readonly value: T } | undefined>;
  /** Whether a live process holds the lock now. */
  isLed(): Promise<boolean>;
}

export class StaleHeadError extends X1Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      'conflict',
      `the gitops branch moved while planning (expected ${expected.slice(0, 12)}, found ${actual.slice(0, 12)}); plan again against the new tip`,
    );
  }
}

/** A git object's id: what `fileId` answers for a file with this content (type 'blob'). */
export function gitObjectId(type: 'blob' | 'tree' | 'commit', content: Buffer | string): string {
  // Text is hashed as it is, without a copy of its bytes (a re-render hashes 60,000 files).
  const size = typeof content === 'string' ? Buffer.byteLength(content, 'utf8') : content.length;
  const hash = createHash('sha1').update(`${type} ${size}\0`);
  return (typeof content === 'string' ? hash.update(content, 'utf8') : hash.update(content)).digest('hex');
}
