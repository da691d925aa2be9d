// GitHub through its REST API: the branch listing the reaper trusts, and the two writes review mode
// makes (the gitops pull request, one status comment on the app's own pull request).
//
// The token is handed in by the caller and goes only into octokit's auth header: every message built
// here from a server answer is passed through `redact`, and octokit redacts the header in its errors.

import { createHash } from 'node:crypto';
import { BranchListingError, type BranchListing, type BranchSource } from './branch-source.js';
import { displayUrl, redact } from '../spec/index.js';
import { MemoryEtagCache, type EtagCache } from './etag-cache.js';
import { X1Error } from '../errors/index.js';
import { DEFAULT_GITHUB_API, gitHubWebHost, parseGitHubRepoUrl, type RepoCoordinates } from './github-urls.js';

/** Where warnings go (rate limits, retries). Lines never carry a token. */
export interface ScmLog {
  warn(message: string): void;
}

export interface RetryPolicy {
  /** Retries of a request that got a server error (5xx) or no answer; default 3. */
  readonly errorRetries?: number;
  /** Retries after a rate limit or secondary rate limit; default 2. */
  readonly rateLimitRetries?: number;
  /** A rate limit that resets later than this is not waited for; default 120 s. The next run retries. */
  readonly maxRateLimitWaitSeconds?: number;
  /**
   * Milliseconds in the plugins' time unit: 1000 in production (GitHub's Retry-After is in seconds,
   * error retries back off 1, 4, 9 units). Tests shrink it so retries take milliseconds.
   */
  readonly timeUnitMs?: number;
}

export interface GitHubOptions {
  /** Read by the caller from its environment; sent only in the Authorization header. */
  readonly token?: string;
  /** REST API root; default https://api.github.com, `https://<host>/api/v3` for GitHub Enterprise. */
  readonly baseUrl?: string;
  readonly userAgent: string;
  /**
   * Host of the repo URLs this API serves. Default: github.com for the public API, else the host of
   * `baseUrl` (a GitHub Enterprise server serves its web UI and its API on the same host).
   */
  readonly webHost?: string;
  readonly log?: ScmLog;
  readonly retry?: RetryPolicy;
}

export interface GitHubBranchSourceOptions extends GitHubOptions {
  /** Where ETags are kept between listings; default a fresh in-memory cache. */
  readonly etagCache?: EtagCache;
}

/** A GitHub API call failed; nothing more was written by the call that threw. */
export class GitHubRequestError extends X1Error {
  constructor(
    readonly operation: string,
    /** The HTTP status, or undefined when GitHub could not be reached. */
    readonly status: number | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('unavailable', `GitHub ${operation} failed: ${detail}`, options);
  }
}

/** A caller mistake in the arguments; fix the call. */
export class InvalidCommentMarkerError extends X1Error {
  constructor(marker: string) {
    super(
      'internal',
      `the comment marker ${JSON.stringify(marker)} is not a hidden HTML comment; pass one like "<!-- x1deploy:preview -->"`,
    );
  }
}

type GitHubOctokit = Awaited<ReturnType<typeof createOctokit>>;

const consoleLog: ScmLog = { warn: (message) => console.warn(`x1deploy: ${message}`) };

/**
 * octokit is loaded on the first GitHub call, not with this module: a deploy to a plain git repo
 * (or one that never reaches GitHub) does not pay for it at start-up.
 */
async function createOctokit(options: GitHubOptions) {
  const [{ retry }, { throttling }, { Octokit }] = await Promise.all([
    import('@octokit/plugin-retry'),
    import('@octokit/plugin-throttling'),
    import('@octokit/rest'),
  ]);
  const PluggedOctokit = Octokit.plugin(retry, throttling);
  const log = options.log ?? consoleLog;
  const warn = (message: unknown) => log.warn(redact(String(message), [options.token]));
  const errorRetries = options.retry?.errorRetries ?? 3;
  const rateLimitRetries = options.retry?.rateLimitRetries ?? 2;
  const maxWait = options.retry?.maxRateLimitWaitSeconds ?? 120;
  const unit = options.retry?.timeUnitMs ?? 1000;
  // Returning true makes the throttling plugin wait `retryAfter` units and send the request again.
  const onLimit =
    (kind: string) =>
    (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number): boolean => {
      const retrying = retryCount < rateLimitRetries && retryAfter <= maxWait;
      warn(
        `GitHub ${kind} on ${request.method} ${request.url}: ` +
          (retrying
            ? `retry ${retryCount + 1} of ${rateLimitRetries} in ${retryAfter}s`
            : `giving up (${retryCount} retries made, reset in ${retryAfter}s)`),
      );
      return retrying;
    };
  return new PluggedOctokit({
    auth: options.token,
    baseUrl: (options.baseUrl ?? DEFAULT_GITHUB_API).replace(/\/+$/, ''),
    userAgent: options.userAgent,
    // octokit logs every failed attempt at "error", 304s included; the error thrown says it once.
    log: { debug: () => {}, info: () => {}, warn, error: () => {} },
    retry: { retries: errorRetries, retryAfterBaseValue: unit },
    throttle: {
      retryAfterBaseValue: unit,
      onRateLimit: onLimit('rate limit'),
      onSecondaryRateLimit: onLimit('secondary rate limit'),
    },
  });
}

/** The parts of octokit's RequestError used here (the class itself is not a dependency of ours). */
interface OctokitRequestError extends Error {
  readonly status: number;
  readonly response?: { readonly headers: Record<string, string | number | undefined>; readonly data?: unknown };
}

function isRequestError(error: unknown): error is OctokitRequestError {
  return error instanceof Error && error.name === 'HttpError' && typeof (error as { status?: unknown }).status === 'number';
}

function isRateLimited(error: OctokitRequestError): boolean {
  if (error.status !== 403 && error.status !== 429) return false;
  return error.response?.headers['x-ratelimit-remaining'] === '0' || /rate limit/i.test(error.message);
}

// ---------------------------------------------------------------------------------------------------
// Branch listing

const PER_PAGE = 100;
/** 100,000 branches; past that the pagination is taken to be looping. */
const MAX_PAGES = 1000;

interface Page {
  readonly names: readonly string[];
  readonly link: string | undefined;
  readonly notModified: boolean;
}

/**
 * Lists branches with conditional requests page by page (`If-None-Match`); a 304 reuses the cached
 * page. Completeness is checked, not assumed: the pages must end where the server said they would,
 * a full last page is followed by a probe of the next one (which must be empty), every page must be a
 * branch array, and the whole must not be empty.
 */
export class GitHubBranchSource implements BranchSource {
  readonly #octokit: Promise<GitHubOctokit>;
  private readonly webHost: string;
  private readonly cache: EtagCache;
  private readonly apiOrigin: string;
  /** Who is asking, in cache keys: GitHub's ETags are per token. A hash, never the token. */
  private readonly cacheScope: string;
  private readonly secrets: readonly (string | undefined)[];
  private readonly log: ScmLog;

  constructor(options: GitHubBranchSourceOptions) {
    this.#octokit = createOctokit(options);
    this.#octokit.catch(() => undefined);
    this.log = options.log ?? consoleLog;
    this.webHost = gitHubWebHost(options);
    this.cache = options.etagCache ?? new MemoryEtagCache();
    this.apiOrigin = new URL(options.baseUrl ?? DEFAULT_GITHUB_API).origin;
    this.cacheScope =
      options.token === undefined ? 'anonymous' : `token-sha256:${createHash('sha256').update(options.token).digest('hex').slice(0, 16)}`;
    this.secrets = [options.token];
  }

  async listBranches(repoUrl: string): Promise<BranchListing> {
    const shown = displayUrl(repoUrl);
    const coordinates = parseGitHubRepoUrl(repoUrl, this.webHost);
    if (coordinates === undefined) {
      throw new BranchListingError(shown, 'invalid-url', `it is not an https://${this.webHost}/<owner>/<repo> URL`);
    }
    const counter = { requests: 0 };
    try {
      return await this.walkPages(shown, coordinates, counter);
    } finally {
      await this.saveCache();
    }
  }

  /** The cache only saves requests: failing to save it must not cost a good listing. */
  private async saveCache(): Promise<void> {
    try {
      await this.cache.flush?.();
    } catch (error) {
      this.log.warn(`${error instanceof Error ? error.message : String(error)}; the next listing makes full requests`);
    }
  }

  private async walkPages(shown: string, { owner, repo }: RepoCoordinates, counter: { requests: number }): Promise<BranchListing> {
    const truncated = (detail: string) => new BranchListingError(shown, 'truncated', detail);
    let url: string = (await this.#octokit).request.endpoint('GET /repos/{owner}/{repo}/branches', { owner, repo, per_page: PER_PAGE }).url;
    const branches = new Set<string>();
    const visited = new Set<string>();
    let notModified = true;
    // Only a fresh answer's Link counts: a 304 says the body is unchanged, not the page count.
    let announcedLast = 0;
    for (;;) {
      if (visited.has(url)) throw truncated('the pagination links loop back to a page already read');
      if (visited.size >= MAX_PAGES) throw truncated(`the pagination goes past ${MAX_PAGES} pages`);
      visited.add(url);
      const page = await this.fetchPage(shown, url, counter);
      notModified &&= page.notModified;
      for (const name of page.names) branches.add(name);
      const links = parseLinkHeader(page.link);
      if (!page.notModified && links.last !== undefined) announcedLast = Math.max(announcedLast, pageNumber(links.last));
      if (links.next !== undefined) {
        if (new URL(links.next).origin !== this.apiOrigin) {
          // Following it would send the token to another host.
          throw new BranchListingError(shown, 'invalid-response', `a pagination link leaves ${this.apiOrigin}`);
        }
        url = links.next;
        continue;
      }
      const current = pageNumber(url);
      if (current < announcedLast) throw truncated(`the pages stopped at ${current} of the ${announcedLast} GitHub announced`);
      if (page.names.length >= PER_PAGE) {
        // A full page with no next link: either exactly N*100 branches, or a dropped link. Ask.
        const probe = await this.fetchPage(shown, withPage(url, current + 1), counter);
        notModified &&= probe.notModified;
        if (probe.names.length > 0) throw truncated(`page ${current} had no next link, but page ${current + 1} still lists branches`);
      }
      break;
    }
    if (branches.size === 0) {
      throw new BranchListingError(shown, 'empty', 'GitHub listed no branches, though a repo always has its default branch');
    }
    return { complete: true, branches, notModified, requests: counter.requests };
  }

  private async fetchPage(shown: string, url: string, counter: { requests: number }): Promise<Page> {
    const key = `${this.cacheScope} GET ${url}`;
    const hit = this.cache.get(key);
    const cached = hit !== undefined && isStringArray(hit.body) ? { ...hit, body: hit.body } : undefined;
    try {
      const response = await (await this.#octokit).request({
        method: 'GET',
        url,
        headers: cached === undefined ? {} : { 'if-none-match': cached.etag },
        request: { fetch: countingFetch(counter) },
      });
      const names = branchNames(response.data);
      if (names === undefined)
        throw new BranchListingError(shown, 'invalid-response', `${redactedPath(url)} did not answer with a branch array`);
      const link = response.headers.link;
      const etag = response.headers.etag;
      if (etag !== undefined) this.cache.set(key, { etag, body: names, ...(link === undefined ? {} : { link }) });
      return { names, link, notModified: false };
    } catch (error) {
      if (error instanceof BranchListingError) throw error;
      if (isRequestError(error) && error.status === 304) {
        if (cached === undefined)
          throw new BranchListingError(shown, 'invalid-response', 'GitHub answered 304 to a request without an ETag');
        return { names: cached.body, link: cached.link, notModified: true };
      }
      throw this.listingError(shown, error);
    }
  }

  private listingError(shown: string, error: unknown): BranchListingError {
    const message = redact(error instanceof Error ? error.message : String(error), this.secrets);
    if (!isRequestError(error))
      return new BranchListingError(shown, 'unreachable', `the request failed: ${message}`, undefined, { cause: error });
    if (error.response === undefined) {
      return new BranchListingError(shown, 'unreachable', `no answer from ${this.apiOrigin} (${message})`, undefined, { cause: error });
    }
    if (isRateLimited(error)) {
      return new BranchListingError(shown, 'rate-limited', `GitHub rate limit (HTTP ${error.status})`, error.status, { cause: error });
    }
    return new BranchListingError(
      shown,
      'http-status',
      `GitHub answered HTTP ${error.status} (${statusMeaning(error.status)})`,
      error.status,
      {
        cause: error,
      },
    );
  }
}

function countingFetch(counter: { requests: number }): typeof fetch {
  return (input, init) => {
    counter.requests += 1;
    return fetch(input, init);
  };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function branchNames(data: unknown): string[] | undefined {
  if (!Array.isArray(data)) return undefined;
  const names: string[] = [];
  for (const item of data) {
    const name = (item as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || name === '') return undefined;
    names.push(name);
  }
  return names;
}

/** rel → URL of an RFC 8288 Link header, as GitHub writes it. */
function parseLinkHeader(header: string | undefined): { next?: string; last?: string } {
  const links: Record<string, string> = {};
  for (const match of (header ?? '').matchAll(/<([^>]*)>\s*;\s*rel="([^"]*)"/g)) {
    for (const rel of match[2]!.split(/\s+/)) links[rel] = match[1]!;
  }
  return { next: links.next, last: links.last };
}

function pageNumber(url: string): number {
  const page = Number(new URL(url).searchParams.get('page') ?? '1');
  return Number.isInteger(page) && page > 0 ? page : 1;
}

function withPage(url: string, page: number): string {
  const next = new URL(url);
  next.searchParams.set('page', String(page));
  return next.toString();
}

function redactedPath(url: string): string {
  return new URL(url).pathname;
}

function statusMeaning(status: number): string {
  if (status === 401) return 'the token was refused: it is wrong, expired or revoked';
  if (status === 403) return 'the token may not read this repo';
  if (status === 404) return 'no such repo, or the token cannot see it';
  if (status >= 500) return 'a GitHub server error';
  return 'unexpected for a branch listing';
}

// ---------------------------------------------------------------------------------------------------
// Pull requests and their comments

export interface PullRequestArgs {
  readonly owner: string;
  readonly repo: string;
  /** Branch in owner/repo with the changes. */
  readonly head: string;
  readonly base: string;
  readonly title: string;
  readonly body: string;
}

export interface PullRequestRef {
  readonly number: number;
  /** The pull request's page on GitHub. */
  readonly url: string;
  readonly created: boolean;
}

export interface CommentArgs {
  /** The app's source repo. */
  readonly owner: string;
  readonly repo: string;
  /** The branch whose open pull request gets the comment. */
  readonly headBranch: string;
  /** A hidden HTML comment that identifies our comment, like `<!-- x1deploy:preview -->`. */
  readonly marker: string;
  /** Markdown; the marker is put on its first line when the body does not contain it. */
  readonly body: string;
}

export interface CommentRef {
  readonly pullNumber: number;
  readonly commentId: number;
  readonly url: string;
  readonly created: boolean;
  /** False when the comment already said exactly this, so nothing was written. */
  readonly changed: boolean;
}

/** GitHub's deployment status states x1deploy reports. */
export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'inactive';

export interface DeploymentArgs {
  /** The app's source repo: the commit is its. */
  readonly owner: string;
  readonly repo: string;
  /** `preview/<app>/<slug>`: one environment per preview. */
  readonly environment: string;
  /** The version's commit. */
  readonly sha: string;
  readonly state: DeploymentState;
  /** At most 140 characters (GitHub's limit). */
  readonly description: string;
  /** Set only once the preview answers. */
  readonly environmentUrl?: string;
}

interface OpenPull {
  readonly number: number;
  readonly html_url: string;
  readonly title: string;
  readonly body: string | null;
  readonly base: { readonly ref: string };
}

export class GitHubPullRequests {
  readonly #octokit: Promise<GitHubOctokit>;
  private readonly secrets: readonly (string | undefined)[];

  constructor(options: GitHubOptions) {
    this.#octokit = createOctokit(options);
    // Observed now, so a failed load is not an unhandled rejection before the first call awaits it.
    this.#octokit.catch(() => undefined);
    this.secrets = [options.token];
  }

  /** One pull request per head branch: updated when open, created otherwise. */
  async openOrUpdatePullRequest(args: PullRequestArgs): Promise<PullRequestRef> {
    const { owner, repo, head, base, title, body } = args;
    const existing = await this.findOpenPull(owner, repo, head);
    if (existing !== undefined) return this.updatePull(owner, repo, existing, args);
    try {
      const created = await (await this.#octokit).rest.pulls.create({ owner, repo, head, base, title, body });
      return { number: created.data.number, url: created.data.html_url, created: true };
    } catch (error) {
      // 422 is also "a pull request already exists": another run opened it since we looked.
      if (isRequestError(error) && error.status === 422) {
        const raced = await this.findOpenPull(owner, repo, head);
        if (raced !== undefined) return this.updatePull(owner, repo, raced, args);
      }
      throw this.requestError(`pull request creation in ${owner}/${repo}`, error);
    }
  }

  /**
   * Keeps exactly one comment, found by its marker, on the open pull request of `headBranch`.
   * Undefined, with nothing written, when the branch has no open pull request.
   */
  async upsertPullRequestComment(args: CommentArgs): Promise<CommentRef | undefined> {
    const { owner, repo, headBranch, marker } = args;
    if (!/^<!--[\s\S]*\S[\s\S]*-->$/.test(marker)) throw new InvalidCommentMarkerError(marker);
    const pull = await this.findOpenPull(owner, repo, headBranch);
    if (pull === undefined) return undefined;
    const body = args.body.includes(marker) ? args.body : `${marker}\n${args.body}`;
    const operation = `comment on ${owner}/${repo}#${pull.number}`;
    try {
      const octokit = await this.#octokit;
      const comments = await octokit.paginate(octokit.rest.issues.listComments, {
        owner,
        repo,
        issue_number: pull.number,
        per_page: 100,
      });
      // The oldest marked comment is the one; comments come oldest first.
      const ours = comments.find((comment) => comment.body?.includes(marker) === true);
      if (ours !== undefined) {
        const refOf = (changed: boolean) => ({ pullNumber: pull.number, commentId: ours.id, url: ours.html_url, created: false, changed });
        if (ours.body === body) return refOf(false);
        await (await this.#octokit).rest.issues.updateComment({ owner, repo, comment_id: ours.id, body });
        return refOf(true);
      }
      const created = await (await this.#octokit).rest.issues.createComment({ owner, repo, issue_number: pull.number, body });
      return { pullNumber: pull.number, commentId: created.data.id, url: created.data.html_url, created: true, changed: true };
    } catch (error) {
      throw this.requestError(operation, error);
    }
  }

  /**
   * One GitHub Deployment per (environment, commit), found or created, and a status on it. A
   * preview environment is transient: GitHub marks it inactive when a newer one succeeds.
   */
  async reportDeployment(args: DeploymentArgs): Promise<{ readonly id: number; readonly created: boolean }> {
    const { owner, repo, environment, sha } = args;
    const operation = `deployment of ${environment} in ${owner}/${repo}`;
    try {
      const { data: found } = await (await this.#octokit).rest.repos.listDeployments({ owner, repo, sha, environment, per_page: 1 });
      let id = found[0]?.id;
      const created = id === undefined;
      if (id === undefined) {
        const made = await (await this.#octokit).rest.repos.createDeployment({
          owner,
          repo,
          ref: sha,
          environment,
          transient_environment: true,
          production_environment: false,
          auto_merge: false,
          // The preview is built from this exact commit whatever its checks say; GitHub must not refuse it.
          required_contexts: [],
          description: args.description.slice(0, 140),
        });
        if (!('id' in made.data)) throw new Error(`GitHub did not create the deployment: ${made.data.message ?? 'no id'}`);
        id = made.data.id;
      }
      await (await this.#octokit).rest.repos.createDeploymentStatus({
        owner,
        repo,
        deployment_id: id,
        state: args.state,
        description: args.description.slice(0, 140),
        ...(args.environmentUrl ? { environment_url: args.environmentUrl } : {}),
        auto_inactive: args.state === 'success',
      });
      return { id, created };
    } catch (error) {
      throw this.requestError(operation, error);
    }
  }

  private async findOpenPull(owner: string, repo: string, head: string): Promise<OpenPull | undefined> {
    try {
      const { data } = await (await this.#octokit).rest.pulls.list({ owner, repo, state: 'open', head: `${owner}:${head}`, per_page: 100 });
      // The filter is GitHub's; checking it again costs nothing and keeps a mis-filtered answer
      // (a head without "owner:" is silently ignored by GitHub) from pointing at someone else's PR.
      return data.find(
        (pull) => pull.head.ref === head && (pull.head.repo?.owner.login ?? pull.head.user?.login)?.toLowerCase() === owner.toLowerCase(),
      );
    } catch (error) {
      throw this.requestError(`pull request lookup in ${owner}/${repo}`, error);
    }
  }

  private async updatePull(owner: string, repo: string, pull: OpenPull, args: PullRequestArgs): Promise<PullRequestRef> {
    const ref = { number: pull.number, url: pull.html_url, created: false };
    if (pull.title === args.title && (pull.body ?? '') === args.body && pull.base.ref === args.base) return ref;
    try {
      await (await this.#octokit).rest.pulls.update({
        owner,
        repo,
        pull_number: pull.number,
        title: args.title,
        body: args.body,
        ...(pull.base.ref === args.base ? {} : { base: args.base }),
      });
      return ref;
    } catch (error) {
      throw this.requestError(`pull request update of ${owner}/${repo}#${pull.number}`, error);
    }
  }

  private requestError(operation: string, error: unknown): GitHubRequestError {
    const message = redact(error instanceof Error ? error.message : String(error), this.secrets);
    if (!isRequestError(error) || error.response === undefined) {
      return new GitHubRequestError(operation, undefined, `GitHub could not be reached (${message}); retry later`, { cause: error });
    }
    const advice =
      error.status === 401
        ? 'the token was refused: it is wrong, expired or revoked'
        : error.status === 403 && isRateLimited(error)
          ? 'rate limited; retry later'
          : error.status === 403 || error.status === 404
            ? 'the token needs "pull requests: write" and "issues: write" on this repo (a 404 can mean it cannot see the repo)'
            : error.status === 422
              ? `GitHub refused the request: ${message}; check that the head and base branches exist`
              : error.status >= 500
                ? 'a GitHub server error; retry later'
                : message;
    return new GitHubRequestError(operation, error.status, `HTTP ${error.status}, ${advice}`, { cause: error });
  }
}
