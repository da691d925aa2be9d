import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BranchListingError, GitLsRemoteBranchSource } from '../src/scm/index.js';
import { startGitHttpServer, type GitHttpServer } from './support/git-http-server.js';

// The server runs in this process: git clients talking to it must not block the event loop.
const run = promisify(execFile);
const AUTHOR = {
  GIT_AUTHOR_NAME: 'x1 test',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 'x1 test',
  GIT_COMMITTER_EMAIL: 't@example.com',
};

function gitSync(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8', env: { ...process.env, ...AUTHOR } }).trim();
}

const BRANCHES = [
  'main',
  'feat/login',
  'release/1.2',
  'fix/ünïcode-naïve',
  ...Array.from({ length: 150 }, (_, i) => `agent/task-${String(i).padStart(3, '0')}`),
];

let root: string;
let server: GitHttpServer;
const scratch: string[] = [];

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

/** A bare repo `<root>/<name>.git` whose branches all point at one commit. */
function bareRepo(name: string, branches: readonly string[]): string {
  const dir = join(root, `${name}.git`);
  gitSync(root, 'init', '-q', '--bare', '-b', 'main', dir);
  if (branches.length === 0) return dir;
  const tree = gitSync(dir, 'mktree');
  const commit = gitSync(dir, 'commit-tree', tree, '-m', 'initial');
  execFileSync('git', ['update-ref', '--stdin'], { cwd: dir, input: branches.map((b) => `create refs/heads/${b} ${commit}\n`).join('') });
  return dir;
}

async function listingError(promise: Promise<unknown>): Promise<BranchListingError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BranchListingError);
  return error as BranchListingError;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'x1-scm-git-'));
  server = await startGitHttpServer(root);
  bareRepo('app', BRANCHES);
  bareRepo('empty', []);
});
afterAll(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});
afterEach(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('GitLsRemoteBranchSource', () => {
  const source = new GitLsRemoteBranchSource({ timeoutMs: 20_000 });

  it('lists a local repo with the git CLI, by file:// URL and by path', async () => {
    for (const url of [`file://${join(root, 'app.git')}`, join(root, 'app.git')]) {
      const listing = await source.listBranches(url);
      expect(listing).toMatchObject({ complete: true, notModified: false, requests: 1 });
      expect(listing.branches).toEqual(new Set(BRANCHES));
    }
  });

  it('lists over smart HTTP (git http-backend) with isomorphic-git', async () => {
    const before = server.requests.length;
    const listing = await source.listBranches(server.url('app.git'));
    expect(listing.branches).toEqual(new Set(BRANCHES));
    // Protocol v2: the capability advertisement, then ls-refs filtered to refs/heads/ by the server.
    expect(listing.requests).toBe(2);
    expect(server.requests.slice(before).map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'GET /app.git/info/refs 200',
      'POST /app.git/git-upload-pack 200',
    ]);
  });

  it('an empty repo throws "empty", by CLI and over HTTP', async () => {
    expect((await listingError(source.listBranches(`file://${join(root, 'empty.git')}`))).reason).toBe('empty');
    expect((await listingError(source.listBranches(server.url('empty.git')))).reason).toBe('empty');
  });

  it('a missing repo throws: HTTP 404 from the CGI Status header, a CLI failure for file://', async () => {
    const overHttp = await listingError(source.listBranches(server.url('missing.git')));
    expect(overHttp).toMatchObject({ reason: 'http-status', status: 404 });
    expect(server.requests.at(-1)).toMatchObject({ path: '/missing.git/info/refs', status: 404 });
    const byCli = await listingError(source.listBranches(`file://${join(root, 'missing.git')}`));
    expect(byCli.reason).toBe('unreachable');
    expect(byCli.message).toContain('does not appear to be a git repository');
  });

  it('a refused connection throws "unreachable"', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const error = await listingError(source.listBranches(`http://127.0.0.1:${port}/app.git`));
    expect(error.reason).toBe('unreachable');
  });

  describe('an answer cut short', () => {
    let proxy: Server;
    let proxyUrl: string;
    let tamper: (body: Buffer) => Buffer;

    beforeAll(async () => {
      // Passes requests to the git server and lets the test alter the ls-refs answer.
      proxy = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', async () => {
          const headers = Object.fromEntries(
            Object.entries(req.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name)),
          );
          const upstream = await fetch(`${server.baseUrl}${req.url}`, {
            method: req.method,
            headers: headers as Record<string, string>,
            ...(req.method === 'POST' ? { body: Buffer.concat(chunks) } : {}),
          });
          let body: Buffer = Buffer.from(await upstream.arrayBuffer());
          if (req.url?.endsWith('/git-upload-pack')) body = tamper(body);
          res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream' });
          res.end(body);
        });
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/app.git`;
    });
    afterAll(async () => {
      await new Promise((resolve) => proxy.close(resolve));
    });

    it('untouched, the proxy passes a whole listing', async () => {
      tamper = (body) => body;
      expect((await source.listBranches(proxyUrl)).branches.size).toBe(BRANCHES.length);
    });

    it('without its closing flush-pkt the listing throws "truncated", though every ref line is whole', async () => {
      tamper = (body) => {
        expect(body.subarray(-4).toString()).toBe('0000');
        return body.subarray(0, -4);
      };
      const error = await listingError(source.listBranches(proxyUrl));
      expect(error.reason).toBe('truncated');
      expect(error.message).toContain('without the closing flush-pkt');
    });

    it('cut inside a pkt-line the listing throws "truncated"', async () => {
      tamper = (body) => body.subarray(0, Math.floor(body.length / 2));
      expect((await listingError(source.listBranches(proxyUrl))).reason).toBe('truncated');
    });
  });

  it('refuses URLs git would read as options or as command transports, running nothing', async () => {
    const dir = tempDir('x1-scm-inject-');
    const marker = join(dir, 'pwned');
    for (const url of [`--upload-pack=touch ${marker}`, `ext::sh -c touch% ${marker}`, 'fd::3', 'ftp://example.com/x.git']) {
      expect((await listingError(source.listBranches(url))).reason).toBe('invalid-url');
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('never prints credentials from the URL or the headers', async () => {
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const token = `tok-${randomBytes(8).toString('hex')}`;
    const withHeaders = new GitLsRemoteBranchSource({ headers: { Authorization: `Bearer ${token}` } });
    const url = server.url('missing.git').replace('http://', `http://user:${password}@`);
    const error = await listingError(withHeaders.listBranches(url));
    expect(error.status).toBe(404);
    expect(error.repo).toBe(server.url('missing.git'));
    const text = `${String(error)} ${JSON.stringify(error)}`;
    expect(text).not.toContain(password);
    expect(text).not.toContain(token);
  });
});

describe('startGitHttpServer (git http-backend behind Node)', () => {
  function workRepo(): string {
    const dir = tempDir('x1-scm-work-');
    gitSync(dir, 'init', '-q', '-b', 'main');
    writeFileSync(join(dir, 'README.md'), 'hello\n');
    gitSync(dir, 'add', '.');
    gitSync(dir, 'commit', '-q', '-m', 'first');
    return dir;
  }

  it('accepts a large push from the git CLI, streamed in chunks', async () => {
    const bare = bareRepo('push-cli', []);
    const dir = workRepo();
    gitSync(dir, 'checkout', '-q', '-b', 'big');
    // Incompressible, and over git's 1 MiB http.postBuffer, so the CLI sends it chunked.
    writeFileSync(join(dir, 'blob.bin'), randomBytes(3 * 1024 * 1024));
    gitSync(dir, 'add', '.');
    gitSync(dir, 'commit', '-q', '-m', 'big');
    await run('git', ['push', '-q', server.url('push-cli.git'), 'main', 'big'], { cwd: dir });
    expect(gitSync(bare, 'rev-parse', 'big')).toBe(gitSync(dir, 'rev-parse', 'big'));
    expect(gitSync(bare, 'fsck', '--strict')).toBe('');
    // Before a body over http.postBuffer the CLI sends a 4-byte probe ("0000"), then the pack.
    const pushes = server.requests.filter((r) => r.path === '/push-cli.git/git-receive-pack');
    expect(pushes.map((r) => r.status)).toEqual([200, 200]);
    expect(pushes[0]!.bodyBytes).toBe(4);
    expect(pushes[1]).toMatchObject({ chunked: true });
    expect(pushes[1]!.bodyBytes).toBeGreaterThan(3 * 1024 * 1024);
    const listing = await new GitLsRemoteBranchSource().listBranches(server.url('push-cli.git'));
    expect(listing.branches).toEqual(new Set(['main', 'big']));
  });

  it('accepts a push from isomorphic-git', async () => {
    const bare = bareRepo('push-iso', []);
    const dir = workRepo();
    await git.push({ fs, http, dir, url: server.url('push-iso.git'), ref: 'main', remoteRef: 'main' });
    expect(gitSync(bare, 'rev-parse', 'main')).toBe(gitSync(dir, 'rev-parse', 'main'));
  });

  it('inflates a gzip request body: a CLI clone of 154 branches sends one', async () => {
    const target = join(tempDir('x1-scm-clone-'), 'app');
    const before = server.requests.length;
    await run('git', ['clone', '-q', '--bare', server.url('app.git'), target]);
    const gzipped = server.requests.slice(before).filter((r) => r.contentEncoding === 'gzip');
    expect(gzipped.length).toBeGreaterThan(0);
    expect(gzipped.every((r) => r.status === 200)).toBe(true);
    expect(gitSync(target, 'for-each-ref', '--format=%(refname)', 'refs/heads/').split('\n')).toHaveLength(BRANCHES.length);
  });

  it('with receivePack off, a push is refused with 403 and nothing changes', async () => {
    const readOnlyRoot = tempDir('x1-scm-ro-');
    const readOnly = await startGitHttpServer(readOnlyRoot, { receivePack: false });
    try {
      mkdirSync(join(readOnlyRoot, 'x.git'));
      gitSync(join(readOnlyRoot, 'x.git'), 'init', '-q', '--bare');
      const dir = workRepo();
      const pushed = await run('git', ['push', '-q', readOnly.url('x.git'), 'main'], { cwd: dir }).then(
        () => 'pushed',
        (e: { stderr: string }) => e.stderr,
      );
      expect(pushed).toMatch(/403/);
      expect(readOnly.requests.some((r) => r.status === 403 && r.query === 'service=git-receive-pack')).toBe(true);
      expect(gitSync(join(readOnlyRoot, 'x.git'), 'for-each-ref')).toBe('');
    } finally {
      await readOnly.close();
    }
  });
});
