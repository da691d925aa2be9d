// Where a remote gitops repo's cache clone lives on this machine, and the lock its processes share.
// Kept apart from the store itself (gitops/remote-store.ts) and free of heavy imports: a deploy
// that hands its request to another process (handoff/) needs the lock and the folder, not git.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { X1Error } from '../errors/index.js';
import type { HandoffPort } from '../records/index.js';

/** Whether --repo names a remote (a cache clone stands for it here) rather than a local checkout. */
export function isRemoteRepo(repo: string): boolean {
  return /^https?:\/\//.test(repo);
}

/** x1deploy's cache folder for this user: $X1DEPLOY_CACHE_DIR, else ~/.cache/x1deploy. */
export function userCacheDir(): string {
  return process.env.X1DEPLOY_CACHE_DIR ?? join(homedir(), '.cache', 'x1deploy');
}

/** The cache clone of `url`: one per remote, shared by every process of the user (X1DEPLOY_CACHE_DIR). */
export function cacheCloneDir(url: string, cacheDir?: string): string {
  return join(cacheDir ?? userCacheDir(), createHash('sha256').update(url, 'utf8').digest('hex').slice(0, 24));
}

/** Another process kept the cache clone locked for longer than any fetch, commit and push take. */
export class CacheCloneLockedError extends X1Error {
  constructor(gitdir: string, cause: string) {
    super('unavailable', `the cache clone ${gitdir} stayed locked by another x1deploy process (${cause}); run the command again, or remove ${gitdir}.lock if no x1deploy runs`);
  }
}

/** A holder that stopped refreshing its lock (it died) loses it after this long. */
const STALE_MS = 30_000;

// Loaded on first use, not at the top: proper-lockfile hooks the process's exit and signals as it
// loads, which a command that never takes this lock (every local one) should not carry.
const lockLibrary = async () => (await import('proper-lockfile')).default;

/**
 * The cache clone whose lock the current async call chain holds. One per process, not one per copy
 * of this module: a deploy's leader runs from a bundle of its own (cli/code-cache.ts), inside the
 * lock the main bundle's handoff took.
 */
const HOLDING = Symbol.for('x1deploy.cache-clone.holding');
const holding: AsyncLocalStorage<string> = ((globalThis as { [HOLDING]?: AsyncLocalStorage<string> })[HOLDING] ??= new AsyncLocalStorage<string>());

const lockOptions = (gitdir: string) => ({ realpath: false, lockfilePath: `${gitdir}.lock`, stale: STALE_MS });

/**
 * Run `work` holding the cache clone's lock, waiting for it if another process holds it; inside
 * `work` (its whole async call chain) the lock counts as held, so nested calls do not take it again.
 * One process's fetch then never moves the branch another is about to push, and two never write
 * the same ref or pack at once.
 */
export async function withCacheLock<T>(gitdir: string, work: () => Promise<T>): Promise<T> {
  return (await holdCacheLock(gitdir, work, true))!.value;
}

/**
 * Run `work` holding the lock (at once when this call chain holds it already): waiting for it, or
 * undefined at once when another process holds it.
 */
async function holdCacheLock<T>(gitdir: string, work: () => Promise<T>, wait: boolean): Promise<{ value: T } | undefined> {
  if (holding.getStore() === gitdir) return { value: await work() };
  const lockfile = await lockLibrary();
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(gitdir, {
      ...lockOptions(gitdir),
      // Polled often: a waiter that sleeps long after the holder let go idles the whole queue.
      retries: wait ? { retries: 3000, factor: 1.2, minTimeout: 10, maxTimeout: 50, randomize: true } : 0,
    });
  } catch (e) {
    if (!wait && (e as NodeJS.ErrnoException).code === 'ELOCKED') return undefined;
    throw new CacheCloneLockedError(gitdir, (e as Error).message);
  }
  try {
    return { value: await holding.run(gitdir, work) };
  } finally {
    await release().catch(() => undefined);
  }
}

/** The processes of this machine hand their deploys to whichever of them holds the lock. */
export function cacheHandoffPort(gitdir: string): HandoffPort {
  return {
    dir: join(gitdir, 'x1deploy-handoff'),
    tryLead: (work) => holdCacheLock(gitdir, work, false),
    isLed: async () => (await lockLibrary()).check(gitdir, lockOptions(gitdir)),
  };
}
