// A gitops repo on a git host (GitHub or any smart-HTTP server). Work happens in a bare cache
// clone: head() fetches the tip, commits are made in the cache and pushed. A push the server
// rejects as not-fast-forward surfaces as StaleHeadError, so the caller plans again against the
// new tip (never a blind replay). The token is sent as a header: never on a command line, never
// logged, and without the extra 401 round trip an onAuth callback costs.
import * as fs from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { cacheCloneDir, cacheHandoffPort, isRemoteRepo, withCacheLock } from '../cache-clone/index.js';
import { X1Error } from '../errors/index.js';
import { CheckedHttpClient, gitAuthHeaders } from '../git-http/index.js';
import { isomorphicGit } from '../isomorphic-git/index.js';
import { StaleHeadError, type CommitRequest, type GitopsStore, type HandoffPort } from '../records/index.js';
import { displayUrl } from '../spec/index.js';
import { openBareStore, type BareStore } from './local-store.js';
import { pushObjects } from './receive-pack.js';

export interface RemoteOptions {
  /** Where cache clones live (default: $X1DEPLOY_CACHE_DIR, else ~/.cache/x1deploy). */
  readonly cacheDir?: string;
  /** The branch x1deploy commits to (default: the remote's HEAD branch). */
  readonly branch?: string;
  /** HTTP auth token (read by the caller from an environment variable). */
  readonly token?: string;
  /** Deadline of one fetch, listing or push; default 120 s. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 120_000;

export class RemoteUnavailableError extends X1Error {
  constructor(url: string, cause: string) {
    super('unavailable', `cannot reach the gitops repo ${displayUrl(url)}: ${cause}; check the URL and the token in X1DEPLOY_GIT_TOKEN`);
  }
}

export async function openRemoteStore(url: string, options: RemoteOptions = {}): Promise<GitopsStore> {
  if (new URL(url).username || new URL(url).password) {
    throw new RemoteUnavailableError(url, 'credentials in the URL are refused; put the token in X1DEPLOY_GIT_TOKEN');
  }
  const gitdir = cacheCloneDir(url, options.cacheDir);
  // isomorphic-git adds headers (Git-Protocol) to the object it is given: every call gets a copy,
  // or a protocol v2 listing would turn the next fetch into a v2 request it cannot read.
  const headers = gitAuthHeaders(options.token);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  await mkdir(dirname(gitdir), { recursive: true });
  await withCacheLock(gitdir, async () => {
    if (fs.existsSync(join(gitdir, 'config'))) return;
    await mkdir(gitdir, { recursive: true });
    const git = await isomorphicGit();
    await git.init({ fs, gitdir, bare: true });
    // isomorphic-git's fetch needs a configured remote to know where fetched refs go.
    await git.addRemote({ fs, gitdir, remote: 'origin', url, force: true });
  });
  const branch = options.branch ?? (await remoteDefaultBranch(url, headers, timeoutMs));
  return new RemoteStore(url, gitdir, branch, headers, timeoutMs);
}

async function remoteDefaultBranch(url: string, headers: Record<string, string>, timeoutMs: number): Promise<string> {
  const http = CheckedHttpClient.withTimeout(timeoutMs);
  const git = await isomorphicGit();
  const refs = await git.listServerRefs({ http, url, headers: { ...headers }, symrefs: true, prefix: 'HEAD', protocolVersion: 1 }).catch((e: Error) => {
    throw new RemoteUnavailableError(url, e.message);
  });
  const target = refs.find((r) => r.ref === 'HEAD')?.target;
  return target?.replace(/^refs\/heads\//, '') ?? 'main';
}

class RemoteStore implements GitopsStore {
  readonly #local: BareStore;

  constructor(
    readonly url: string,
    readonly gitdir: string,
    readonly branch: string,
    readonly headers: Record<string, string>,
    readonly timeoutMs: number,
  ) {
    this.#local = openBareStore(gitdir, branch);
  }

  /** A client per call: its deadline starts with the call. */
  get #http(): CheckedHttpClient {
    return CheckedHttpClient.withTimeout(this.timeoutMs);
  }

  /**
   * Run `work` holding the cache lock, which calls inside it do not take again: a whole
   * read-plan-write attempt, so that processes sharing this cache clone (one machine's agents) take
   * turns instead of colliding at the server, or a single fetch, commit or push.
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    return withCacheLock(this.gitdir, work);
  }

  /** Processes of this machine hand their deploys to whichever holds the cache lock. */
  handoff(): HandoffPort {
    return cacheHandoffPort(this.gitdir);
  }

  /** Fetch the remote tip and point the cache's branch at it. */
  head(): Promise<string> {
    return this.exclusive(() => this.#fetchTip());
  }

  async #fetchTip(): Promise<string> {
    // One listing first (a single GET with protocol v1): when the cache already has the remote's
    // tip, as it does whenever the last writer was a process on this machine, pointing the branch
    // there is all a fetch would do, without the upload-pack round trip and the pack it writes.
    const git = await isomorphicGit();
    const refs = await git
      .listServerRefs({ http: this.#http, url: this.url, headers: { ...this.headers }, protocolVersion: 1, prefix: `refs/heads/${this.branch}` })
      .catch((e: Error) => {
        throw new RemoteUnavailableError(this.url, e.message);
      });
    const tip = refs.find((r) => r.ref === `refs/heads/${this.branch}`)?.oid;
    if (tip === undefined) throw new RemoteUnavailableError(this.url, `it has no branch ${this.branch}`);
    const fetched = (await this.#hasCommit(tip)) ? tip : await this.#fetch();
    // The cache's branch is ours alone: it follows the remote wherever it went.
    await git.writeRef({ fs, gitdir: this.gitdir, ref: `refs/heads/${this.branch}`, value: fetched, force: true });
    return fetched;
  }

  async #hasCommit(oid: string): Promise<boolean> {
    return (await isomorphicGit()).readCommit({ fs, gitdir: this.gitdir, oid }).then(
      () => true,
      () => false,
    );
  }

  /** The remote branch's tip, with every object the cache lacks below it. */
  async #fetch(): Promise<string> {
    const git = await isomorphicGit();
    const result = await git
      .fetch({
        fs,
        http: this.#http,
        gitdir: this.gitdir,
        remote: 'origin',
        url: this.url,
        ref: this.branch,
        singleBranch: true,
        tags: false,
        headers: { ...this.headers },
      })
      .catch((e: Error) => {
        throw new RemoteUnavailableError(this.url, e.message);
      });
    if (!result.fetchHead) throw new RemoteUnavailableError(this.url, `it has no branch ${this.branch}`);
    return result.fetchHead;
  }

  readFile(commit: string, path: string) {
    return this.#local.readFile(commit, path);
  }

  fileId(commit: string, path: string) {
    return this.#local.fileId!(commit, path);
  }

  listDir(commit: string, path: string) {
    return this.#local.listDir(commit, path);
  }

  listFiles(commit: string, path: string) {
    return this.#local.listFiles(commit, path);
  }

  fileIds(commit: string, path: string) {
    return this.#local.fileIds!(commit, path);
  }

  /** Success means the server accepted exactly this commit as the new tip of the branch. */
  commit(request: CommitRequest): Promise<string | undefined> {
    return this.exclusive(async () => {
      const oid = await this.#local.commit(request);
      if (oid === undefined) return undefined;
      await this.#push(oid, this.branch, false, request.parent);
      return oid;
    });
  }

  proposeCommit(request: CommitRequest & { readonly branch: string }): Promise<string | undefined> {
    return this.exclusive(async () => {
      const oid = await this.#local.proposeCommit(request);
      if (oid === undefined) return undefined;
      // A proposal branch holds one proposal: a newer one replaces it.
      await this.#push(oid, request.branch, true, request.parent);
      return oid;
    });
  }

  branchHead(name: string): Promise<string | undefined> {
    return this.exclusive(() => this.#branchHead(name));
  }

  async #branchHead(name: string): Promise<string | undefined> {
    const git = await isomorphicGit();
    const refs = await git
      .listServerRefs({ http: this.#http, url: this.url, headers: { ...this.headers }, prefix: `refs/heads/${name}` })
      .catch((e: Error) => {
        throw new RemoteUnavailableError(this.url, e.message);
      });
    const oid = refs.find((r) => r.ref === `refs/heads/${name}`)?.oid;
    if (oid) {
      // Reads of the proposal need its objects in the cache.
      await git
        .fetch({
          fs,
          http: this.#http,
          gitdir: this.gitdir,
          url: this.url,
          ref: name,
          singleBranch: true,
          tags: false,
          headers: { ...this.headers },
        })
        .catch((e: Error) => {
          throw new RemoteUnavailableError(this.url, e.message);
        });
    }
    return oid;
  }

  async branches(prefix: string): Promise<Map<string, string>> {
    const git = await isomorphicGit();
    const refs = await git
      .listServerRefs({ http: this.#http, url: this.url, headers: { ...this.headers }, prefix: `refs/heads/${prefix}` })
      .catch((e: Error) => {
        throw new RemoteUnavailableError(this.url, e.message);
      });
    const found = new Map<string, string>();
    // branchHead fetches each one, so its records can be read from the cache.
    await this.exclusive(async () => {
      for (const ref of refs.map((r) => r.ref.replace(/^refs\/heads\//, '')).sort()) {
        const oid = await this.#branchHead(ref);
        if (oid) found.set(ref, oid);
      }
    });
    return found;
  }

  /**
   * Push exactly `oid` to `branch`, through a ref of its own: the cache's branch ref is never what
   * is pushed, so nothing that moved it since (another process, a fetch) can be pushed instead.
   */
  async #push(oid: string, branch: string, force: boolean, parent: string): Promise<void> {
    const pack = this.#local.packOfWrittenBy(oid);
    if (pack !== undefined) {
      const outcome = await pushObjects(
        this.#http,
        { url: this.url, headers: this.headers },
        { ref: `refs/heads/${branch}`, expected: force ? undefined : parent, oid },
        pack,
      ).catch((e: Error) => {
        throw new RemoteUnavailableError(this.url, e.message);
      });
      if (outcome.ok) return;
      if (outcome.moved) throw await this.#moved(parent);
      // The server lacks objects below the parent: fall back to a push that works them out.
    }
    const ref = `refs/x1deploy-push/${oid}`;
    const git = await isomorphicGit();
    await git.writeRef({ fs, gitdir: this.gitdir, ref, value: oid, force: true });
    let result;
    try {
      result = await git.push({
        fs,
        http: this.#http,
        gitdir: this.gitdir,
        url: this.url,
        ref,
        remoteRef: `refs/heads/${branch}`,
        force,
        headers: { ...this.headers },
      });
    } catch (e) {
      if (e instanceof git.Errors.PushRejectedError || e instanceof git.Errors.GitPushError) throw await this.#moved(parent);
      throw new RemoteUnavailableError(this.url, (e as Error).message);
    } finally {
      await git.deleteRef({ fs, gitdir: this.gitdir, ref }).catch(() => undefined);
    }
    const status = result.refs[`refs/heads/${branch}`];
    if (!result.ok || !status?.ok) throw await this.#moved(parent);
  }

  // The push lost a race: put the cache's branch back where the remote is and say so.
  async #moved(parent: string): Promise<StaleHeadError> {
    const tip = await this.#fetchTip().catch(() => parent);
    return new StaleHeadError(parent, tip);
  }
}

/** A local path or an http(s) URL, as every command's --repo takes it. */
export async function openGitopsStore(repo: string, options: RemoteOptions = {}): Promise<GitopsStore> {
  if (!isRemoteRepo(repo)) {
    const { openLocalStore } = await import('./local-store.js');
    return openLocalStore(repo);
  }
  return openRemoteStore(repo, { token: process.env.X1DEPLOY_GIT_TOKEN, ...options });
}
