// GET a preview URL the way an agent's browser would, bounded: a deadline, a byte budget, a few
// headers. `resolve` maps host:port to an address without DNS, as `curl --resolve` does (a preview
// whose DNS is not set up yet, a test server on 127.0.0.1), and `ca` adds a trusted CA.
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { X1Error } from '../errors/index.js';
import type { ProbeObservation } from '../status/index.js';

export interface FetchOptions {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** "host:port" → address (curl --resolve), or address:port to connect elsewhere too (curl --connect-to). */
  readonly resolve?: ReadonlyMap<string, string>;
  /** Extra CA certificates (PEM) for https previews behind a private CA. */
  readonly ca?: string;
}

export interface FetchedPage {
  readonly url: string;
  readonly status: number;
  /** content-type, content-length, location, server: enough to tell what answered. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly truncated: boolean;
}

export class PreviewUnreachableError extends X1Error {
  constructor(url: string, why: string) {
    super('unavailable', `${url} did not answer: ${why}; check the preview's status (branch_deploy_status) first`);
  }
}

const KEPT_HEADERS = ['content-type', 'content-length', 'location', 'server', 'cache-control'];

/**
 * Entries from "host:port:address[,…]" (X1DEPLOY_PREVIEW_RESOLVE), as curl --resolve; an address
 * may carry its own port ("127.0.0.1:8443", "[::1]:8443") to connect there instead.
 */
export function parseResolve(text: string | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of (text ?? '').split(',').filter(Boolean)) {
    const m = /^([^:\s]+):([0-9]{1,5}):(.+)$/.exec(entry.trim());
    if (m) map.set(`${m[1]!.toLowerCase()}:${m[2]}`, m[3]!);
  }
  return map;
}

export function fetchPage(url: string, options: FetchOptions): Promise<FetchedPage> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const port = target.port || (secure ? '443' : '80');
  const entry = options.resolve?.get(`${target.hostname.toLowerCase()}:${port}`);
  const split = entry === undefined ? undefined : /^\[?([^\]]+?)\]?(?::([0-9]{1,5}))?$/.exec(entry.includes('.') || entry.startsWith('[') ? entry : `[${entry}]`);
  const pinned = split?.[1];
  const connectPort = split?.[2] ?? port;
  const lookup: LookupFunction | undefined = pinned
    ? (_host, opts, callback) => {
        const family = pinned.includes(':') ? 6 : 4;
        if ((opts as { all?: boolean }).all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: pinned, family }]);
        else callback(null, pinned, family);
      }
    : undefined;
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: connectPort,
        path: `${target.pathname}${target.search}`,
        // The certificate and the virtual host are the preview's, wherever the connection goes.
        servername: target.hostname,
        method: 'GET',
        headers: { host: target.host, 'user-agent': 'x1deploy-probe', accept: '*/*' },
        ...(lookup ? { lookup } : {}),
        ...(secure && options.ca ? { ca: options.ca } : {}),
        timeout: options.timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        response.on('data', (chunk: Buffer) => {
          if (size >= options.maxBytes) {
            truncated = true;
            response.destroy();
            return;
          }
          const room = options.maxBytes - size;
          if (chunk.length > room) truncated = true;
          chunks.push(chunk.subarray(0, room));
          size += Math.min(chunk.length, room);
        });
        const finish = () => {
          clearTimeout(deadline);
          const headers: Record<string, string> = {};
          for (const name of KEPT_HEADERS) {
            const value = response.headers[name];
            if (typeof value === 'string') headers[name] = value.slice(0, 512);
          }
          resolve({ url, status: response.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8'), truncated });
        };
        response.on('end', finish);
        response.on('close', finish);
        response.on('error', () => finish());
      },
    );
    // A whole-answer deadline, not just an idle one: a slow drip must not hold the agent.
    const deadline = setTimeout(() => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    request.on('timeout', () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    request.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(deadline);
      reject(new PreviewUnreachableError(url, err.code ? `${err.code} (${err.message})` : err.message));
    });
    request.end();
  });
}

/** Is the preview up: a non-5xx answer within the deadline. */
export async function probePreview(url: string, options: Omit<FetchOptions, 'maxBytes'>, now: () => Date = () => new Date()): Promise<ProbeObservation> {
  try {
    const page = await fetchPage(url, { ...options, maxBytes: 1024 });
    return { url, up: page.status > 0 && page.status < 500, status: page.status, at: now().toISOString() };
  } catch (err) {
    return { url, up: false, error: err instanceof X1Error ? err.message.replace(/^.*did not answer: /, '').replace(/; check .*$/, '') : String(err), at: now().toISOString() };
  }
}
