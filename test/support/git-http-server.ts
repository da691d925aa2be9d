// A real smart-HTTP git server for tests: a Node HTTP server on 127.0.0.1 in front of git's own CGI
// program, `git http-backend`, so clients (git CLI, isomorphic-git) talk to the same server code as
// on a production git host. Fetch and push both work: `http.receivepack` is switched on through the
// environment, so the served repos' config is left alone.
//
// Request bodies are streamed to the CGI, never buffered here (a push can be large). A gzip request
// body (the git CLI gzips upload-pack requests over 1 KiB) is handed on with its Content-Encoding,
// which http-backend inflates itself. The CGI's `Status:` header becomes the HTTP status; a CGI that
// dies after its headers makes the connection drop rather than end, so a client sees a broken answer
// as broken.

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitHttpRequestRecord {
  readonly method: string;
  /** The path below the server root, e.g. `/app.git/info/refs`. */
  readonly path: string;
  readonly query: string;
  readonly status: number;
  readonly contentEncoding?: string;
  /** The body came with Transfer-Encoding: chunked (no Content-Length). */
  readonly chunked: boolean;
  /** Request body bytes as received (compressed when the client gzipped it). */
  readonly bodyBytes: number;
  /** For an uncompressed push (git-receive-pack): the object count its packfile's header gives. */
  readonly packObjects?: number;
}

export interface GitHttpServer {
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  /** URL of a repo below rootDir, e.g. url('app.git'). */
  url(repoName: string): string;
  /** Every finished request, in order. */
  readonly requests: readonly GitHttpRequestRecord[];
  /** Stops the server, its connections and any running CGI. */
  close(): Promise<void>;
}

export interface GitHttpServerOptions {
  /** Accept pushes; default true. */
  readonly receivePack?: boolean;
}

const MAX_CGI_HEADER_BYTES = 64 * 1024;

/** Serves the git repos under `rootDir` (bare or not) over smart HTTP on a random port. */
export async function startGitHttpServer(rootDir: string, options: GitHttpServerOptions = {}): Promise<GitHttpServer> {
  const receivePack = options.receivePack ?? true;
  const children = new Set<ChildProcess>();
  const requests: GitHttpRequestRecord[] = [];
  const server = createServer((req, res) => serve(req, res, { rootDir, receivePack, children, requests }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    url: (repoName) => `${baseUrl}/${repoName.replace(/^\/+/, '')}`,
    requests,
    close: async () => {
      for (const child of children) child.kill('SIGKILL');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

interface ServeContext {
  readonly rootDir: string;
  readonly receivePack: boolean;
  readonly children: Set<ChildProcess>;
  readonly requests: GitHttpRequestRecord[];
}

function serve(req: IncomingMessage, res: ServerResponse, context: ServeContext): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const method = req.method ?? 'GET';
  const contentEncoding = req.headers['content-encoding']?.toLowerCase();
  let bodyBytes = 0;
  // The first bytes of the body, enough to find a packfile's header after the ref commands.
  let start = Buffer.alloc(0);
  req.on('data', (chunk: Buffer) => {
    bodyBytes += chunk.length;
    if (start.length < 64 * 1024) start = Buffer.concat([start, chunk.subarray(0, 64 * 1024)]);
  });
  const packObjects = () => {
    if (!url.pathname.endsWith('/git-receive-pack') || contentEncoding !== undefined) return undefined;
    const at = start.indexOf('PACK');
    return at >= 0 && at + 12 <= start.length ? start.readUInt32BE(at + 8) : undefined;
  };
  res.on('finish', () =>
    context.requests.push({
      method,
      path: safeDecode(url.pathname) ?? url.pathname,
      query: url.search.replace(/^\?/, ''),
      status: res.statusCode,
      ...(contentEncoding === undefined ? {} : { contentEncoding }),
      chunked: /\bchunked\b/i.test(req.headers['transfer-encoding'] ?? ''),
      bodyBytes,
      ...(packObjects() === undefined ? {} : { packObjects: packObjects() }),
    }),
  );

  const pathInfo = safeDecode(url.pathname);
  if (pathInfo === undefined || pathInfo.includes('\0')) return plain(res, 400, 'bad path');
  // http-backend inflates gzip itself; it knows no other encoding.
  if (contentEncoding !== undefined && contentEncoding !== 'gzip' && contentEncoding !== 'x-gzip') {
    return plain(res, 415, `unsupported Content-Encoding ${contentEncoding}`);
  }

  const child = spawn('git', ['http-backend'], { env: cgiEnvironment(req, url, pathInfo, context), stdio: ['pipe', 'pipe', 'pipe'] });
  context.children.add(child);
  // The CGI may answer (a 404, say) without reading the body: the broken pipe is expected then, and
  // the rest of the body is drained so the connection stays usable.
  child.stdin.on('error', () => {
    req.unpipe(child.stdin);
    req.resume();
  });
  req.pipe(child.stdin);

  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 16 * 1024) stderr += chunk.toString('utf8');
  });

  let head: Buffer = Buffer.alloc(0);
  let headersSent = false;
  const onHeadData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const end = headerEnd(head);
    if (end === undefined) {
      if (head.length > MAX_CGI_HEADER_BYTES) {
        child.kill('SIGKILL');
        plain(res, 502, 'git http-backend sent no end of headers');
      }
      return;
    }
    const { status, message, headers } = parseCgiHeaders(head.subarray(0, end.at).toString('latin1'));
    res.writeHead(status, message, headers);
    headersSent = true;
    child.stdout.off('data', onHeadData);
    const rest = head.subarray(end.at + end.length);
    if (rest.length > 0) res.write(rest);
    child.stdout.pipe(res, { end: false });
  };
  child.stdout.on('data', onHeadData);

  child.on('error', (error) => {
    context.children.delete(child);
    if (!res.headersSent) plain(res, 500, `cannot run git http-backend: ${error.message}`);
    else res.destroy();
  });
  child.on('close', (code, signal) => {
    context.children.delete(child);
    if (!headersSent) {
      if (!res.headersSent) plain(res, 502, `git http-backend exited (${code ?? signal}) before answering: ${stderr.trim()}`);
    } else if (code === 0) res.end();
    else res.destroy();
  });
  // A client that goes away mid-answer leaves nobody to read the CGI's output.
  res.on('close', () => {
    if (!res.writableFinished && child.exitCode === null) child.kill('SIGKILL');
  });
}

function cgiEnvironment(req: IncomingMessage, url: URL, pathInfo: string, context: ServeContext): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    // Only what git needs from ours: an inherited GIT_DIR or GIT_* setting would redirect the CGI.
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GIT_PROJECT_ROOT: context.rootDir,
    GIT_HTTP_EXPORT_ALL: '1',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.receivepack',
    GIT_CONFIG_VALUE_0: context.receivePack ? 'true' : 'false',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_SOFTWARE: 'x1deploy-test-git-http',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    SERVER_NAME: '127.0.0.1',
    SERVER_PORT: String(req.socket.localPort ?? ''),
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: pathInfo,
    QUERY_STRING: url.search.replace(/^\?/, ''),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
  };
  // Absent for a chunked body: http-backend then reads to the end of its input.
  if (req.headers['content-length'] !== undefined) env.CONTENT_LENGTH = req.headers['content-length'];
  for (const [name, value] of Object.entries(req.headers)) {
    // Credentials stay out of the CGI's environment; "Proxy" would become HTTP_PROXY (httpoxy).
    if (value === undefined || ['content-type', 'content-length', 'authorization', 'proxy-authorization', 'proxy'].includes(name)) continue;
    env[`HTTP_${name.toUpperCase().replace(/-/g, '_')}`] = Array.isArray(value) ? value.join(', ') : value;
  }
  return env;
}

function headerEnd(buffer: Buffer): { at: number; length: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return undefined;
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { at: crlf, length: 4 };
  return { at: lf, length: 2 };
}

function parseCgiHeaders(text: string): { status: number; message: string | undefined; headers: Record<string, string[]> } {
  let status = 200;
  let message: string | undefined;
  const headers: Record<string, string[]> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') {
      const match = /^(\d{3})\s*(.*)$/.exec(value);
      if (match !== null) {
        status = Number(match[1]);
        message = match[2] === '' ? undefined : match[2];
      }
      continue;
    }
    (headers[name] ??= []).push(value);
  }
  if (status === 200 && headers.Location !== undefined) status = 302;
  return { status, message, headers };
}

function safeDecode(path: string): string | undefined {
  try {
    return decodeURIComponent(path);
  } catch {
    return undefined;
  }
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${text}\n`);
}
