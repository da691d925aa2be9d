// Branch listing for any git host, by git's own protocols: smart HTTP through isomorphic-git for
// http(s) URLs, the git CLI (`git ls-remote --heads`) for file://, ssh:// and scp-like URLs.
//
// isomorphic-git reads a ref advertisement until the stream ends, so a connection cut between two
// refs would look like a shorter, valid list. The HTTP client here therefore checks that every answer
// is whole pkt-line framing ending in a flush-pkt, which git servers always send last.

import { execFile } from 'node:child_process';
import { CheckedHttpClient, RedirectRefusedError } from '../git-http/index.js';
import { isomorphicGit } from '../isomorphic-git/index.js';
import { BranchListingError, type BranchListing, type BranchSource } from './branch-source.js';
import { displayUrl, redact } from '../spec/index.js';

export interface GitRemoteOptions {
  /** Sent with every HTTP request, e.g. `{ Authorization: 'Basic …' }`; never logged. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Limit for one listing; default 60 s. */
  readonly timeoutMs?: number;
}

const HEADS = 'refs/heads/';

export class GitLsRemoteBranchSource implements BranchSource {
  private readonly headers: Readonly<Record<string, string>>;
  private readonly timeoutMs: number;

  constructor(options: GitRemoteOptions = {}) {
    this.headers = options.headers ?? {};
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  async listBranches(repoUrl: string): Promise<BranchListing> {
    const shown = displayUrl(repoUrl);
    const secrets = secretsOf(repoUrl, this.headers);
    const listing = /^https?:\/\//i.test(repoUrl)
      ? await this.listOverHttp(repoUrl, shown, secrets)
      : await this.listWithCli(repoUrl, shown, secrets);
    if (listing.branches.size === 0) {
      throw new BranchListingError(shown, 'empty', 'the server advertised no branches, though a repo always has its default branch');
    }
    return listing;
  }

  private async listOverHttp(repoUrl: string, shown: string, secrets: readonly string[]): Promise<BranchListing> {
    const client = new CheckedHttpClient(AbortSignal.timeout(this.timeoutMs));
    let refs: { ref: string }[];
    try {
      refs = await (await isomorphicGit()).listServerRefs({ http: client, url: repoUrl, headers: { ...this.headers }, prefix: HEADS });
    } catch (error) {
      throw httpListingError(shown, error, secrets);
    }
    const broken = client.brokenAnswer();
    if (broken !== undefined) throw new BranchListingError(shown, 'truncated', broken);
    return { complete: true, branches: headNames(refs.map((r) => r.ref)), notModified: false, requests: client.requests };
  }

  private async listWithCli(repoUrl: string, shown: string, secrets: readonly string[]): Promise<BranchListing> {
    if (!isCliRemote(repoUrl)) {
      throw new BranchListingError(
        shown,
        'invalid-url',
        'only http(s)://, file://, ssh://, git:// URLs, host:path and absolute paths are listed',
      );
    }
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        'git',
        ['ls-remote', '--heads', repoUrl],
        // No prompt can be answered here: fail instead of waiting for one.
        { timeout: this.timeoutMs, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } },
        (error, stdout, stderr) => {
          if (error === null) return resolve(stdout);
          const firstLine = redact(String(stderr).trim().split('\n')[0] ?? '', secrets) || redact(error.message, secrets);
          const timedOut = error.killed === true || error.signal === 'SIGTERM';
          reject(
            new BranchListingError(
              shown,
              'unreachable',
              timedOut ? `git ls-remote took longer than ${this.timeoutMs} ms` : `git ls-remote failed: ${firstLine}`,
            ),
          );
        },
      );
    });
    const refs: string[] = [];
    for (const line of output.split('\n')) {
      if (line === '') continue;
      const match = /^[0-9a-f]{40}(?:[0-9a-f]{24})?\t(refs\/heads\/.+)$/.exec(line);
      if (match === null) {
        throw new BranchListingError(shown, 'invalid-response', `git ls-remote printed an unexpected line: ${redact(line, secrets)}`);
      }
      refs.push(match[1]!);
    }
    return { complete: true, branches: headNames(refs), notModified: false, requests: 1 };
  }
}

function headNames(refs: readonly string[]): Set<string> {
  return new Set(refs.filter((ref) => ref.startsWith(HEADS)).map((ref) => ref.slice(HEADS.length)));
}

/** What must not be printed: header values (and their credential part), the URL's password. */
function secretsOf(url: string, headers: Readonly<Record<string, string>>): string[] {
  const secrets = Object.values(headers).flatMap((value) => [value, value.split(' ').at(-1) ?? '']);
  try {
    const { username, password } = new URL(url);
    secrets.push(password, decodeURIComponent(password));
    // A token is often passed as the user name (https://<token>@host/...). A short name like "git"
    // is not a secret, and blanking it would blank every "git" in git's messages.
    if (username.length >= 16) secrets.push(username, decodeURIComponent(username));
  } catch {
    // Not a WHATWG URL (scp-like or a path): it has no password.
  }
  return secrets.filter((secret) => secret.length > 0);
}

/**
 * Remotes the CLI may be given. Anything else is refused before git sees it: a "URL" starting with
 * "-" would be read as an option (`--upload-pack=…` runs a command), and transports like `ext::`
 * run commands by design.
 */
function isCliRemote(url: string): boolean {
  if (url.startsWith('-')) return false;
  if (/^(?:file|ssh|git|git\+ssh|ssh\+git):\/\//i.test(url)) return true;
  if (url.startsWith('/')) return true;
  // scp-like user@host:path or host:path; "::" is the transport-helper syntax.
  return /^(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:(?!:)[^\s]/.test(url) && !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url);
}

function httpListingError(shown: string, error: unknown, secrets: readonly string[]): BranchListingError {
  const message = redact(error instanceof Error ? error.message : String(error), secrets);
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'HttpError') {
    const status = (error as { data?: { statusCode?: number } }).data?.statusCode;
    const meaning =
      status === 401 || status === 403
        ? 'the credentials were refused or lack read access'
        : status === 404
          ? 'no such repo at this URL'
          : status !== undefined && status >= 500
            ? 'a server error'
            : 'unexpected';
    return new BranchListingError(shown, 'http-status', `the server answered HTTP ${status ?? '?'} (${meaning})`, status);
  }
  if (code === 'SmartHttpError' || code === 'ParseError' || code === 'EmptyServerResponseError') {
    return new BranchListingError(shown, 'invalid-response', `not a smart-HTTP git answer (${code})`);
  }
  if (error instanceof RedirectRefusedError) return new BranchListingError(shown, 'invalid-response', message);
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new BranchListingError(shown, 'unreachable', 'the server did not answer in time');
  }
  return new BranchListingError(shown, 'unreachable', `the request failed: ${message}`);
}
