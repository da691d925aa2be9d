// The HTTP client git is spoken over, against real HTTP servers on loopback: redirects, deadlines,
// and what a request carries.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckedHttpClient, RedirectRefusedError, collect } from '../src/git-http/index.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

async function serve(handle: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<{ base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      handle(req, res, body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const text = async (body: AsyncIterable<Uint8Array> | undefined) => Buffer.concat(await collect(body)).toString();

describe('CheckedHttpClient', () => {
  it('sends the method, headers and whole body (with its length), and answers status, headers and body', async () => {
    const { base, seen } = await serve((_req, res, body) => {
      res.writeHead(200, { 'content-type': 'application/x-git-receive-pack-result', 'x-two': ['a', 'b'] });
      res.end(`got ${body.length}`);
    });
    const client = CheckedHttpClient.withTimeout(10_000);
    const answer = await client.request({
      url: `${base}/g.git/git-receive-pack`,
      method: 'POST',
      headers: { authorization: 'Basic c2VjcmV0', 'content-type': 'application/x-git-receive-pack-request' },
      body: (async function* () {
        yield Buffer.from('0000');
        yield Buffer.from('PACK');
      })(),
    });
    expect(answer).toMatchObject({ statusCode: 200, method: 'POST', url: `${base}/g.git/git-receive-pack` });
    expect(answer.headers).toMatchObject({ 'content-type': 'application/x-git-receive-pack-result', 'x-two': 'a, b' });
    expect(await text(answer.body)).toBe('got 8');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/g.git/git-receive-pack' });
    expect(seen[0]!.headers).toMatchObject({ authorization: 'Basic c2VjcmV0', 'content-length': '8' });
    expect(seen[0]!.headers['transfer-encoding']).toBeUndefined();
    expect(seen[0]!.body.toString()).toBe('0000PACK');
    expect(client.requests).toBe(1);
  });

  it('follows a GET redirect within its origin, and counts both requests', async () => {
    const { base, seen } = await serve((req, res) => {
      if (req.url === '/old.git/info/refs') res.writeHead(301, { location: '/new.git/info/refs' }).end('moved');
      else res.writeHead(200).end('0000');
    });
    const client = CheckedHttpClient.withTimeout(10_000);
    const answer = await client.request({ url: `${base}/old.git/info/refs`, headers: { authorization: 'Basic c2VjcmV0' } });
    expect(answer.statusCode).toBe(200);
    expect(answer.url).toBe(`${base}/new.git/info/refs`);
    expect(await text(answer.body)).toBe('0000');
    expect(seen.map((s) => s.url)).toEqual(['/old.git/info/refs', '/new.git/info/refs']);
    expect(client.requests).toBe(2);
    expect(client.brokenAnswer()).toBeUndefined();
  });

  it('refuses a redirect to another origin, never sending it the credentials, and a redirected POST', async () => {
    const elsewhere = await serve((_req, res) => res.writeHead(200).end('0000'));
    const { base } = await serve((req, res) => {
      if (req.url === '/post') res.writeHead(307, { location: '/other' }).end();
      else res.writeHead(302, { location: `${elsewhere.base}/steal` }).end();
    });
    const client = CheckedHttpClient.withTimeout(10_000);
    await expect(client.request({ url: `${base}/g.git/info/refs`, headers: { authorization: 'Basic c2VjcmV0' } })).rejects.toThrow(
      RedirectRefusedError,
    );
    await expect(
      client.request({
        url: `${base}/post`,
        method: 'POST',
        headers: {},
        body: (async function* () {
          yield Buffer.from('x');
        })(),
      }),
    ).rejects.toThrow(RedirectRefusedError);
    expect(elsewhere.seen).toHaveLength(0);
  });

  it('ends at its deadline: a server that never answers, and one that stops inside its answer', async () => {
    const silent = await serve(() => undefined);
    let started = Date.now();
    const none = CheckedHttpClient.withTimeout(300).request({ url: `${silent.base}/g.git/info/refs`, headers: {} });
    await expect(none).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(10_000);

    const stalling = await serve((_req, res) => {
      res.writeHead(200);
      res.write('001e# service=git-upload-pack\n');
    });
    started = Date.now();
    const answer = await CheckedHttpClient.withTimeout(300).request({ url: `${stalling.base}/g.git/info/refs`, headers: {} });
    expect(answer.statusCode).toBe(200);
    await expect(text(answer.body)).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('speaks HTTPS to an https URL, trusting what Node trusts (NODE_EXTRA_CA_CERTS here)', async () => {
    const selfsigned = await import('selfsigned');
    const pems = await selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keySize: 2048,
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    const server = createHttpsServer({ key: pems.private, cert: pems.cert }, (req, res) =>
      res.writeHead(200).end(`0000 ${req.method} ${req.url}`),
    );
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/g.git/info/refs`;
    const dir = mkdtempSync(join(tmpdir(), 'x1-https-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), pems.cert);
      // Node reads NODE_EXTRA_CA_CERTS as it starts: a process of its own, and an async server here.
      const script = `
        import { CheckedHttpClient, collect } from ${JSON.stringify(join(import.meta.dirname, '..', 'src', 'git-http', 'index.ts'))};
        const answer = await CheckedHttpClient.withTimeout(10_000).request({ url: ${JSON.stringify(url)}, headers: {} });
        console.log(answer.statusCode, Buffer.concat(await collect(answer.body)).toString());`;
      const run = () =>
        new Promise<string>((resolve, reject) =>
          execFile(
            process.execPath,
            ['--import', 'tsx', '--input-type=module', '-e', script],
            { env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') } },
            (err, stdout) => (err ? reject(err) : resolve(stdout.trim())),
          ),
        );
      expect(await run()).toBe('200 0000 GET /g.git/info/refs');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with the connection error when nothing listens', async () => {
    const { base } = await serve(() => undefined);
    const port = new URL(base).port;
    servers[0]!.closeAllConnections();
    await new Promise((resolve) => servers.splice(0)[0]!.close(resolve));
    await expect(
      CheckedHttpClient.withTimeout(10_000).request({ url: `http://127.0.0.1:${port}/g.git/info/refs`, headers: {} }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});
