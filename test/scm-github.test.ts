import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BranchListingError,
  EtagCacheFileError,
  GitHubBranchSource,
  GitHubPullRequests,
  GitHubRequestError,
  GitLsRemoteBranchSource,
  InvalidCommentMarkerError,
  JsonFileEtagCache,
  MemoryEtagCache,
  branchSourceFor,
  parseGitHubRepoUrl,
  type EtagCache,
  type GitHubBranchSourceOptions,
} from '../src/scm/index.js';
import { FAKE_TOKEN_LOGIN, startFakeGitHub, type FakeGitHub } from './support/fake-github.js';

// Random per run, so a match in any output can only be a leak.
const TOKEN = `ghp_${randomBytes(18).toString('hex')}`;
const OTHER_TOKEN = `ghp_${randomBytes(18).toString('hex')}`;
const BRANCHES = 'GET /repos/{owner}/{repo}/branches';

let fake: FakeGitHub;
const logs: string[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  fake = await startFakeGitHub({ tokens: [TOKEN, OTHER_TOKEN] });
});
afterAll(async () => {
  await fake?.close();
  console.info(
    `GitHub OpenAPI description ${fake.openApi.version}: loaded in ${fake.openApi.loadMs.toFixed(0)} ms, ` +
      `schemas compiled in ${fake.openApi.compileMs.toFixed(0)} ms`,
  );
});
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  const seen = [...fake.violations];
  fake.violations.length = 0;
  expect(seen).toEqual([]);
  for (const line of logs.splice(0)) expect(line).not.toContain(TOKEN);
});

function source(overrides: Partial<GitHubBranchSourceOptions> = {}): GitHubBranchSource {
  return new GitHubBranchSource({
    token: TOKEN,
    baseUrl: fake.baseUrl,
    webHost: 'github.com',
    userAgent: 'x1deploy-test',
    log: { warn: (line) => logs.push(line) },
    retry: { timeUnitMs: 1 },
    ...overrides,
  });
}

function pullRequests(): GitHubPullRequests {
  return new GitHubPullRequests({
    token: TOKEN,
    baseUrl: fake.baseUrl,
    userAgent: 'x1deploy-test',
    log: { warn: (line) => logs.push(line) },
    retry: { timeUnitMs: 1 },
  });
}

/** `count` branch names: main plus feature branches, several with slashes. */
function branchNames(count: number): string[] {
  return ['main', ...Array.from({ length: count - 1 }, (_, i) => (i % 3 === 0 ? `feat/b-${i}` : `b-${String(i).padStart(3, '0')}`))];
}

/** Requests the fake saw for one repo's branch list, in order. */
function branchRequests(repo: string) {
  return fake.requests.entries.filter((r) => r.route === BRANCHES && r.path === `/repos/${repo}/branches`);
}

async function listingError(promise: Promise<unknown>): Promise<BranchListingError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BranchListingError);
  const text = `${String(error)}\n${inspect(error, { depth: 20 })}`;
  expect(text).not.toContain(TOKEN);
  return error as BranchListingError;
}

describe('GitHubBranchSource: conditional, paginated listing', () => {
  it('lists 250 branches in 3 requests, then answers from 304s, then sees a new branch', async () => {
    const names = branchNames(250);
    const repo = fake.state.addRepo('acme/big', { branches: names });
    const cache = new MemoryEtagCache();
    const github = source({ etagCache: cache });

    const first = await github.listBranches('https://github.com/acme/big');
    expect(first).toMatchObject({ complete: true, notModified: false, requests: 3 });
    expect(first.branches).toEqual(new Set(names));
    expect(branchRequests('acme/big').map((r) => [r.status, r.ifNoneMatch])).toEqual([
      [200, undefined],
      [200, undefined],
      [200, undefined],
    ]);

    const second = await github.listBranches('https://github.com/acme/big.git');
    expect(second).toMatchObject({ complete: true, notModified: true, requests: 3 });
    expect(second.branches).toEqual(new Set(names));
    const unchanged = branchRequests('acme/big').slice(3);
    expect(unchanged.map((r) => r.status)).toEqual([304, 304, 304]);
    for (const r of unchanged) expect(r.ifNoneMatch).toMatch(/^W\/"/);

    // Sorted last, so only the last page changes: two 304s and one fresh page.
    repo.addBranch('zz-new');
    const third = await github.listBranches('https://github.com/acme/big');
    expect(third).toMatchObject({ notModified: false, requests: 3 });
    expect(third.branches.has('zz-new')).toBe(true);
    expect(third.branches.size).toBe(251);
    expect(
      branchRequests('acme/big')
        .slice(6)
        .map((r) => r.status),
    ).toEqual([304, 304, 200]);
  });

  it('probes past a full last page: exactly 200 branches cost one extra request', async () => {
    fake.state.addRepo('acme/two-hundred', { branches: branchNames(200) });
    const listing = await source().listBranches('https://github.com/acme/two-hundred');
    expect(listing.branches.size).toBe(200);
    expect(listing.requests).toBe(3);
    expect(branchRequests('acme/two-hundred').map((r) => r.query)).toEqual(['per_page=100', 'per_page=100&page=2', 'per_page=100&page=3']);
  });

  it('keys ETags by token: another token sends no If-None-Match', async () => {
    fake.state.addRepo('acme/shared', { branches: branchNames(20) });
    const cache = new MemoryEtagCache();
    await source({ etagCache: cache }).listBranches('https://github.com/acme/shared');
    const other = await source({ etagCache: cache, token: OTHER_TOKEN }).listBranches('https://github.com/acme/shared');
    expect(other.notModified).toBe(false);
    const [mine, theirs] = branchRequests('acme/shared');
    expect(mine!.auth).not.toBe(theirs!.auth);
    expect(theirs!.ifNoneMatch).toBeUndefined();
    expect(theirs!.status).toBe(200);
  });

  it('keeps ETags in a JSON file between runs, without the token in it', async () => {
    fake.state.addRepo('acme/cron', { branches: branchNames(130) });
    const dir = mkdtempSync(join(tmpdir(), 'x1-etag-'));
    dirs.push(dir);
    const file = join(dir, 'state', 'etags.json');
    const firstRun = await source({ etagCache: new JsonFileEtagCache(file) }).listBranches('https://github.com/acme/cron');
    expect(firstRun.notModified).toBe(false);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(TOKEN);
    expect(text).toContain('feat/b-0');

    const nextRun = await source({ etagCache: new JsonFileEtagCache(file) }).listBranches('https://github.com/acme/cron');
    expect(nextRun).toMatchObject({ notModified: true, requests: 2 });
    expect(nextRun.branches).toEqual(firstRun.branches);
  });

  it('a corrupt cache file is an error naming the file; an unwritable one costs only a warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'x1-etag-'));
    dirs.push(dir);
    const corrupt = join(dir, 'corrupt.json');
    writeFileSync(corrupt, '{"version":1,"entries":');
    expect(() => new JsonFileEtagCache(corrupt)).toThrow(EtagCacheFileError);
    expect(() => new JsonFileEtagCache(corrupt)).toThrow(/corrupt\.json is not valid JSON; delete it/);

    fake.state.addRepo('acme/unsaved', { branches: branchNames(3) });
    const blocked = join(dir, 'blocked.json');
    const cache = new JsonFileEtagCache(blocked);
    // A folder appears where the file goes: the rename over it fails.
    mkdirSync(blocked);
    const listing = await source({ etagCache: cache }).listBranches('https://github.com/acme/unsaved');
    expect(listing.branches.size).toBe(3);
    expect(logs.some((line) => line.includes('cannot be written') && line.includes('full requests'))).toBe(true);
  });

  it('ignores a cache entry that is not a branch list instead of trusting it', async () => {
    fake.state.addRepo('acme/poisoned', { branches: branchNames(5) });
    const cache = new MemoryEtagCache();
    const github = source({ etagCache: cache });
    await github.listBranches('https://github.com/acme/poisoned');
    const poisoned: EtagCache = {
      get: (key) => {
        const hit = cache.get(key);
        return hit === undefined ? undefined : { ...hit, body: { not: 'a list' } };
      },
      set: (key, value) => cache.set(key, value),
    };
    const listing = await source({ etagCache: poisoned }).listBranches('https://github.com/acme/poisoned');
    expect(listing).toMatchObject({ notModified: false, requests: 1 });
    expect(listing.branches.size).toBe(5);
  });
});

describe('GitHubBranchSource: fails safe', () => {
  it('an error status throws after bounded retries; a transient 502 is retried away', async () => {
    const repo = fake.state.addRepo('acme/down', { branches: branchNames(3) });
    repo.failure = { kind: 'status', status: 500 };
    const error = await listingError(source({ retry: { timeUnitMs: 1, errorRetries: 2 } }).listBranches('https://github.com/acme/down'));
    expect(error).toMatchObject({ reason: 'http-status', status: 500 });
    expect(error.message).toMatch(/HTTP 500.*treat no branch as deleted/);
    expect(branchRequests('acme/down')).toHaveLength(3);

    repo.failure = { kind: 'status', status: 502, times: 1 };
    const listing = await source().listBranches('https://github.com/acme/down');
    expect(listing.branches.size).toBe(3);
    expect(listing.requests).toBe(2);
  });

  it('a missing repo (404) and a refused token (401) throw without retrying', async () => {
    const missing = await listingError(source().listBranches('https://github.com/acme/no-such-repo'));
    expect(missing).toMatchObject({ reason: 'http-status', status: 404 });
    expect(fake.requests.count(BRANCHES, (r) => r.path === '/repos/acme/no-such-repo/branches')).toBe(1);

    fake.state.addRepo('acme/locked', { branches: ['main'] });
    const refused = await listingError(source({ token: `ghp_${'x'.repeat(36)}` }).listBranches('https://github.com/acme/locked'));
    expect(refused).toMatchObject({ reason: 'http-status', status: 401 });
    expect(refused.message).toContain('token was refused');
  });

  it('a refused connection (closed port) throws "unreachable"', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const error = await listingError(
      source({ baseUrl: `http://127.0.0.1:${port}`, retry: { timeUnitMs: 1, errorRetries: 1 } }).listBranches(
        'https://github.com/acme/api',
      ),
    );
    expect(error.reason).toBe('unreachable');
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('an empty listing throws: a repo always has its default branch', async () => {
    const repo = fake.state.addRepo('acme/empty', { branches: branchNames(4) });
    repo.failure = { kind: 'empty' };
    const error = await listingError(source().listBranches('https://github.com/acme/empty'));
    expect(error.reason).toBe('empty');
  });

  it('a truncated pagination throws, whether or not the server announced its last page', async () => {
    const repo = fake.state.addRepo('acme/cut-links', { branches: branchNames(250) });
    repo.failure = { kind: 'truncated' };
    const announced = await listingError(source().listBranches('https://github.com/acme/cut-links'));
    expect(announced.reason).toBe('truncated');
    expect(announced.message).toContain('stopped at 2 of the 3');

    // Without rel="last", only the probe past the full page 2 notices.
    repo.failure = { kind: 'truncated', announceLast: false };
    const silent = await listingError(source().listBranches('https://github.com/acme/cut-links'));
    expect(silent.reason).toBe('truncated');
    expect(silent.message).toContain('page 3 still lists branches');
  });

  it('a body cut off mid-answer throws', async () => {
    const repo = fake.state.addRepo('acme/cut-body', { branches: branchNames(3) });
    repo.failure = { kind: 'cut-body' };
    const error = await listingError(
      source({ retry: { timeUnitMs: 1, errorRetries: 1 } }).listBranches('https://github.com/acme/cut-body'),
    );
    expect(['unreachable', 'invalid-response']).toContain(error.reason);
  });

  it('rate limits are waited out a bounded number of times, and logged without the token', async () => {
    const repo = fake.state.addRepo('acme/busy', { branches: branchNames(3) });
    repo.failure = { kind: 'rate-limit', times: 1 };
    expect((await source().listBranches('https://github.com/acme/busy')).branches.size).toBe(3);
    expect(logs.some((line) => /rate limit on GET .*retry 1 of 2/.test(line))).toBe(true);

    repo.failure = { kind: 'secondary-rate-limit', times: 1 };
    expect((await source().listBranches('https://github.com/acme/busy')).requests).toBe(2);
    expect(logs.some((line) => line.includes('secondary rate limit'))).toBe(true);

    repo.failure = { kind: 'rate-limit' };
    const before = branchRequests('acme/busy').length;
    const error = await listingError(
      source({ retry: { timeUnitMs: 1, rateLimitRetries: 2 } }).listBranches('https://github.com/acme/busy'),
    );
    expect(error).toMatchObject({ reason: 'rate-limited', status: 403 });
    expect(branchRequests('acme/busy').length - before).toBe(3);
    expect(logs.some((line) => line.includes('giving up'))).toBe(true);
  });

  it('refuses URLs of other hosts and shapes before any request', async () => {
    const before = fake.requests.count();
    for (const url of [
      'https://gitlab.com/acme/api',
      'https://github.com/acme',
      'https://github.com/acme/api/tree/main',
      'file:///srv/git/api.git',
    ]) {
      expect((await listingError(source().listBranches(url))).reason).toBe('invalid-url');
    }
    expect(fake.requests.count()).toBe(before);
  });
});

describe('GitHubPullRequests', () => {
  it('openOrUpdatePullRequest creates once, then updates the same pull request', async () => {
    const repo = fake.state.addRepo('acme/gitops', { branches: ['x1deploy/api/feat-x/v1'] });
    const github = pullRequests();
    const args = {
      owner: 'acme',
      repo: 'gitops',
      head: 'x1deploy/api/feat-x/v1',
      base: 'main',
      title: 'Deploy api feat/x v1',
      body: 'first',
    };

    const created = await github.openOrUpdatePullRequest(args);
    expect(created).toEqual({ number: 1, url: 'https://github.com/acme/gitops/pull/1', created: true });

    const updated = await github.openOrUpdatePullRequest({ ...args, title: 'Deploy api feat/x v1 (rebuilt)', body: 'second' });
    expect(updated).toEqual({ ...created, created: false });
    expect(repo.pulls).toHaveLength(1);
    expect(repo.pulls[0]).toMatchObject({ title: 'Deploy api feat/x v1 (rebuilt)', body: 'second', author: FAKE_TOKEN_LOGIN });

    // Nothing changed: nothing is written.
    await github.openOrUpdatePullRequest({ ...args, title: 'Deploy api feat/x v1 (rebuilt)', body: 'second' });
    const inRepo = (r: { path: string }) => r.path.startsWith('/repos/acme/gitops/');
    expect(fake.requests.count('POST /repos/{owner}/{repo}/pulls', inRepo)).toBe(1);
    expect(fake.requests.count('PATCH /repos/{owner}/{repo}/pulls/{pull_number}', inRepo)).toBe(1);
  });

  it('a head branch that does not exist is a GitHubRequestError saying so', async () => {
    fake.state.addRepo('acme/gitops-2');
    const error = await pullRequests()
      .openOrUpdatePullRequest({ owner: 'acme', repo: 'gitops-2', head: 'nope', base: 'main', title: 't', body: 'b' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubRequestError);
    expect(error).toMatchObject({ status: 422 });
    expect(String(error)).toContain('check that the head and base branches exist');
    expect(inspect(error, { depth: 20 })).not.toContain(TOKEN);
  });

  it('upsertPullRequestComment keeps one comment per pull request, found among many', async () => {
    const repo = fake.state.addRepo('acme/api');
    const pull = repo.openPull({ head: 'feat/login', title: 'Login' });
    // 130 comments by people first, so ours lands on the second page of the comment list.
    for (let i = 0; i < 130; i++) {
      repo.comments.push({
        id: 900_000 + i,
        issueNumber: pull.number,
        body: `lgtm ${i}`,
        author: 'octocat',
        createdAt: '2024-01-01T00:00:00Z',
        updatedAt: '2024-01-01T00:00:00Z',
      });
    }
    const github = pullRequests();
    const marker = '<!-- x1deploy:preview -->';
    const args = { owner: 'acme', repo: 'api', headBranch: 'feat/login', marker };

    const first = await github.upsertPullRequestComment({ ...args, body: 'Preview: https://a.example (v1)' });
    expect(first).toMatchObject({ pullNumber: pull.number, created: true, changed: true });
    const second = await github.upsertPullRequestComment({ ...args, body: 'Preview: https://a.example (v2)' });
    expect(second).toMatchObject({ pullNumber: pull.number, commentId: first!.commentId, created: false, changed: true });
    const third = await github.upsertPullRequestComment({ ...args, body: 'Preview: https://a.example (v2)' });
    expect(third).toMatchObject({ commentId: first!.commentId, changed: false });

    const ours = repo.commentsOn(pull.number).filter((c) => c.body.includes(marker));
    expect(ours).toHaveLength(1);
    expect(ours[0]!.body).toBe(`${marker}\nPreview: https://a.example (v2)`);
    expect(repo.commentsOn(pull.number)).toHaveLength(131);
    const inRepo = (r: { path: string }) => r.path.startsWith('/repos/acme/api/');
    expect(fake.requests.count('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', inRepo)).toBe(1);
    expect(fake.requests.count('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', inRepo)).toBe(1);
  });

  it('a branch without an open pull request gets nothing written', async () => {
    const repo = fake.state.addRepo('acme/web', { branches: ['feat/quiet'] });
    repo.openPull({ head: 'feat/other', title: 'Other' });
    const writes = () => fake.requests.count(undefined, (r) => r.path.startsWith('/repos/acme/web/') && r.method !== 'GET');
    const result = await pullRequests().upsertPullRequestComment({
      owner: 'acme',
      repo: 'web',
      headBranch: 'feat/quiet',
      marker: '<!-- x1deploy:preview -->',
      body: 'Preview ready',
    });
    expect(result).toBeUndefined();
    // Filtered by "owner:branch": GitHub ignores a head filter without the owner.
    expect(fake.requests.entries.find((r) => r.path === '/repos/acme/web/pulls')?.query).toContain('head=acme%3Afeat%2Fquiet');
    expect(writes()).toBe(0);
    expect(repo.comments).toHaveLength(0);
  });

  it('refuses a marker that is not a hidden HTML comment (an empty one would match every comment)', async () => {
    for (const marker of ['', 'x1deploy', '<!-- -->']) {
      await expect(
        pullRequests().upsertPullRequestComment({ owner: 'acme', repo: 'api', headBranch: 'feat/login', marker, body: 'b' }),
      ).rejects.toBeInstanceOf(InvalidCommentMarkerError);
    }
  });
});

describe("the fake's OpenAPI check", () => {
  async function raw(method: string, path: string, body?: unknown): Promise<{ status: number; message: string }> {
    const response = await fetch(`${fake.baseUrl}${path}`, {
      method,
      headers: { authorization: `token ${TOKEN}`, 'user-agent': 'x1deploy-test', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, message: ((await response.json()) as { message: string }).message };
  }

  /** Runs `act`, returns the violations it caused and forgets them (they were provoked). */
  async function provoked(act: () => Promise<unknown>): Promise<string[]> {
    const before = fake.violations.length;
    await act();
    return fake.violations.splice(before);
  }

  it('reports a route GitHub does not have, a misspelt body field, a wrongly typed one, and a bad query value', async () => {
    fake.state.addRepo('acme/checked', { branches: ['feat/a'] });
    const route = await provoked(async () => expect(await raw('GET', '/repos/acme/checked/branchez')).toMatchObject({ status: 500 }));
    expect(route).toEqual([expect.stringContaining('no operation has this method and path')]);

    const misspelt = await provoked(async () => {
      const answer = await raw('POST', '/repos/acme/checked/pulls', { titel: 'x', head: 'feat/a', base: 'main' });
      expect(answer.status).toBe(500);
      expect(answer.message).toContain('"titel" is not in the operation\'s schema');
    });
    expect(misspelt).toHaveLength(1);

    const typed = await provoked(() => raw('POST', '/repos/acme/checked/pulls', { title: 7, head: 'feat/a', base: 'main' }));
    expect(typed).toEqual([expect.stringContaining('/title must be string')]);

    const query = await provoked(() => raw('GET', '/repos/acme/checked/branches?per_page=lots&colour=blue'));
    expect(query[0]).toContain('query parameter "per_page"="lots" (root) must be integer');
    expect(query[0]).toContain('unknown query parameter "colour"');
    expect(fake.state.repo('acme/checked').pulls).toHaveLength(0);
  });

  it('reports its own answers when they break the response schema', async () => {
    const repo = fake.state.addRepo('acme/self-check');
    const pull = repo.openPull({ head: 'feat/a', title: 'A' });
    (pull as { title: unknown }).title = 42;
    const answer = await provoked(() => raw('GET', '/repos/acme/self-check/pulls?state=open'));
    expect(answer).toEqual([expect.stringMatching(/answer: HTTP 200 body \/0\/title must be string/)]);
  });
});

describe('choosing a branch source', () => {
  it('parses GitHub repo URLs in their usual forms', () => {
    for (const url of [
      'https://github.com/acme/api',
      'https://github.com/acme/api.git',
      'https://github.com/acme/api/',
      'https://x-access-token:abc@github.com/acme/api.git',
      'git@github.com:acme/api.git',
      'ssh://git@github.com/acme/api.git',
    ]) {
      expect(parseGitHubRepoUrl(url)).toEqual({ owner: 'acme', repo: 'api' });
    }
    expect(parseGitHubRepoUrl('https://ghe.example.com/acme/api', 'ghe.example.com')).toEqual({ owner: 'acme', repo: 'api' });
    expect(parseGitHubRepoUrl('https://ghe.example.com/acme/api')).toBeUndefined();
    expect(parseGitHubRepoUrl('https://github.com/acme/api/pulls')).toBeUndefined();
    expect(parseGitHubRepoUrl('http://github.com/acme/api')).toBeUndefined();
  });

  it('picks GitHub for github.com and the configured Enterprise host, git for the rest', () => {
    const enterprise = { github: { baseUrl: 'https://ghe.example.com/api/v3', userAgent: 'x1deploy-test', token: TOKEN } };
    expect(branchSourceFor('https://github.com/acme/api')).toBeInstanceOf(GitHubBranchSource);
    expect(branchSourceFor('https://ghe.example.com/acme/api', enterprise)).toBeInstanceOf(GitHubBranchSource);
    expect(branchSourceFor('https://github.com/acme/api', enterprise)).toBeInstanceOf(GitHubBranchSource);
    expect(branchSourceFor('https://ghe.example.com/acme/api')).toBeInstanceOf(GitLsRemoteBranchSource);
    expect(branchSourceFor('https://gitlab.com/acme/api.git', enterprise)).toBeInstanceOf(GitLsRemoteBranchSource);
    expect(branchSourceFor('file:///srv/git/api.git')).toBeInstanceOf(GitLsRemoteBranchSource);
  });
});
