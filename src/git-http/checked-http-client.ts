// The one HTTP stack x1deploy speaks git over (branch listings, gitops fetch and push): isomorphic-
// git's client interface on node:http, with a deadline, a request count, redirects followed only
// within one origin (requests carry credentials), and a check that each answer was whole pkt-line
// framing. Not on fetch: Node 20 loads fetch's undici and compiles its WASM parser on first use,
// ~45 ms of every deploy to a remote (a first request costs ~60 ms against ~16 ms on node:http).
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';

/**
 * isomorphic-git's HTTP client interface on node:http, with three additions: one deadline for the whole
 * listing, a request count, and a check that each 200 answer was whole pkt-line framing ending in a
 * flush-pkt and read to its end.
 */
export class CheckedHttpClient implements HttpClient {
  requests = 0;
  private readonly answers: { url: string; framing: PktLineFraming; consumed: boolean }[] = [];

  constructor(private readonly signal: AbortSignal) {}

  /** A client whose requests all end by `timeoutMs` from now. */
  static withTimeout(timeoutMs: number): CheckedHttpClient {
    return new CheckedHttpClient(AbortSignal.timeout(timeoutMs));
  }

  request = async (request: GitHttpRequest): Promise<GitHttpResponse> => {
    this.requests += 1;
    const method = request.method ?? 'GET';
    const body = request.body === undefined ? undefined : Buffer.concat(await collect(request.body));
    let url = request.url;
    let response: IncomingMessage;
    // Redirects are followed by hand, and only within one origin and for GET: the request may carry
    // credentials, which must not be handed to another host.
    for (let hops = 0; ; hops += 1) {
      response = await this.send(new URL(url), method, request.headers ?? {}, body);
      const location = response.headers.location;
      const status = response.statusCode ?? 0;
      if (status < 300 || status >= 400 || location === undefined) break;
      const next = new URL(location, url);
      response.destroy();
      if (method !== 'GET' || next.origin !== new URL(url).origin || hops >= 5) throw new RedirectRefusedError(next.origin);
      this.requests += 1;
      url = next.toString();
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(response.headers))
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const answer = { url: new URL(url).pathname, framing: new PktLineFraming(), consumed: false };
    if (response.statusCode === 200) this.answers.push(answer);
    const stream = response;
    const signal = this.signal;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      try {
        for await (const chunk of stream) {
          answer.framing.push(chunk as Buffer);
          yield chunk as Buffer;
        }
      } catch (err) {
        // Cut off by the deadline: say so, as the request itself would.
        throw signal.aborted ? signal.reason : err;
      }
      answer.consumed = true;
    }
    return {
      url,
      method,
      statusCode: response.statusCode ?? 0,
      statusMessage: response.statusMessage ?? '',
      headers,
      body: chunks(),
    };
  };

  /** One request, answered with its response head (the body is still to be read). */
  private async send(url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined): Promise<IncomingMessage> {
    // https (and the TLS it loads) only for hosts that speak it.
    const send = url.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
    const sent: OutgoingHttpHeaders = { ...headers };
    // A whole body with its length, as fetch sent it: not every git server takes a chunked push.
    if (body !== undefined) sent['content-length'] = body.length;
    return new Promise((resolve, reject) => {
      const req = send(url, { method, headers: sent, signal: this.signal }, resolve);
      req.once('error', (err) => reject(this.signal.aborted ? this.signal.reason : err));
      req.end(body);
    });
  }

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
export class RedirectRefusedError extends Error {
  constructor(readonly target: string) {
    super(`the server redirects to ${target}, which is not followed`);
    this.name = 'RedirectRefusedError';
  }
}

/** A request's or an answer's body, read whole. */
export async function collect(body: AsyncIterable<Uint8Array> | undefined): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = [];
  if (body) for await (const part of body) parts.push(part);
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

/** Git hosts take a token as the password of any user over basic auth (GitHub: x-access-token). */
export function gitAuthHeaders(token: string | undefined): Record<string, string> {
  if (!token) return {};
  return { Authorization: `Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}` };
}
