// Branch listing for any git host, by git's own protocols: smart HTTP through isomorphic-git for
// http(s) URLs, the git CLI (`git ls-remote --heads`) for file://, ssh:// and scp-like URLs.
//
// isomorphic-git reads a ref advertisement until the stream ends, so a connection cut between two
// refs would look like a shorter, valid list. The HTTP client here therefore checks that every answer
// is whole pkt-line framing ending in a flush-pkt, which git servers always send last.

import { execFile } from 'node:child_process';
import git from 'isomorphic-git';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import { BranchListingError, displayUrl, redact, type BranchListing, type BranchSource } from './branch-source.js';

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
      refs = await git.listServerRefs({ http: client, url: repoUrl, headers: { ...this.headers }, prefix: HEADS });
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

/**
 * isomorphic-git's HTTP client interface on fetch, with three additions: one deadline for the whole
 * listing, a request count, and a check that each 200 answer was whole pkt-line framing ending in a
 * flush-pkt and read to its end.
 */
class CheckedHttpClient implements HttpClient {
  requests = 0;
  private readonly answers: { url: string; framing: PktLineFraming; consumed: boolean }[] = [];

  constructor(private readonly signal: AbortSignal) {}

  request = async (request: GitHttpRequest): Promise<GitHttpResponse> => {
    this.requests += 1;
    const method = request.method ?? 'GET';
    const body = request.body === undefined ? undefined : Buffer.concat(await collect(request.body));
    let url = request.url;
    let response: Response;
    // Redirects are followed by hand, and only within one origin and for GET: the request may carry
    // credentials, which must not be handed to another host.
    for (let hops = 0; ; hops += 1) {
      response = await fetch(url, { method, headers: request.headers, body, signal: this.signal, redirect: 'manual' });
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || location === null) break;
      const next = new URL(location, url);
      await response.body?.cancel();
      if (method !== 'GET' || next.origin !== new URL(url).origin || hops >= 5) throw new RedirectRefusedError(next.origin);
      this.requests += 1;
      url = next.toString();
    }
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => (headers[name] = value));
    const answer = { url: new URL(url).pathname, framing: new PktLineFraming(), consumed: false };
    if (response.status === 200) this.answers.push(answer);
    const stream = response.body;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      if (stream !== null) {
        for await (const chunk of stream) {
          answer.framing.push(chunk);
          yield chunk;
        }
      }
      answer.consumed = true;
    }
    return {
      url,
      method,
      statusCode: response.status,
      statusMessage: response.statusText,
      headers,
      body: chunks(),
    };
  };

  /** Why an answer cannot be trusted whole, or undefined when each one was. */
  brokenAnswer(): string | undefined {
    for (const { url, framing, consumed } of this.answers) {
      if (!consumed) return `the answer from ${url} was not read to its end`;
      const problem = framing.problem();
      if (problem !== undefined) return `the answer from ${url} ${problem}`;
    }
    return undefined;
  }
}

/** The server redirected elsewhere than its own origin, or too often. */
class RedirectRefusedError extends Error {
  constructor(readonly target: string) {
    super(`the server redirects to ${target}, which is not followed`);
    this.name = 'RedirectRefusedError';
  }
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = [];
  for await (const part of body) parts.push(part);
  return parts;
}

/** Follows pkt-line framing (4 hex digits of length, then the payload) across chunks. */
class PktLineFraming {
  private header = '';
  private payloadLeft = 0;
  private lastWasFlush = false;
  private malformed: string | undefined;
  private bytes = 0;

  push(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    let at = 0;
    while (at < chunk.length && this.malformed === undefined) {
      if (this.payloadLeft > 0) {
        const take = Math.min(this.payloadLeft, chunk.length - at);
        this.payloadLeft -= take;
        at += take;
        continue;
      }
      const take = Math.min(4 - this.header.length, chunk.length - at);
      this.header += Buffer.from(chunk.subarray(at, at + take)).toString('latin1');
      at += take;
      if (this.header.length < 4) continue;
      if (!/^[0-9a-f]{4}$/i.test(this.header)) {
        this.malformed = `has a bad pkt-line length ${JSON.stringify(this.header)} at byte ${this.bytes - (chunk.length - at) - 4}`;
        return;
      }
      const length = parseInt(this.header, 16);
      this.header = '';
      // 0000 flush, 0001 delimiter, 0002 response end: no payload.
      this.lastWasFlush = length === 0;
      if (length === 3) this.malformed = 'has the invalid pkt-line length 0003';
      else if (length >= 4) this.payloadLeft = length - 4;
    }
  }

  problem(): string | undefined {
    if (this.malformed !== undefined) return this.malformed;
    if (this.bytes === 0) return 'was empty';
    if (this.header !== '' || this.payloadLeft > 0) return `stops inside a pkt-line after ${this.bytes} bytes`;
    if (!this.lastWasFlush) return `stops after ${this.bytes} bytes without the closing flush-pkt`;
    return undefined;
  }
}
