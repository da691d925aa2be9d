// A real image registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1, with
// its storage in a temp folder, and a way to push a tiny OCI image over plain HTTP (no docker).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { findOnPath } from './system-tool.js';

/** A test account. Its bcrypt hash (cost 4: cost 12 makes every request ≈ 250 ms) is below. */
export const REGISTRY_TEST_USER = { username: 'x1-test', password: 'registry-test-password' } as const;
const REGISTRY_TEST_HTPASSWD = 'x1-test:$2b$04$cNiPZ/2MaGbbFHdMdli.keQbTyIK2jPXJpJ8Sswng1EoMn8CbAwUi\n';

export const REGISTRY_BINARY = findOnPath('docker-registry');

/**
 * Whether tests that need the registry must be skipped: only when it is missing outside CI (with a
 * notice). In CI (CI=true) they run and fail, so a missing registry is never a silent pass.
 */
export function skipWithoutRegistry(): boolean {
  if (REGISTRY_BINARY) return false;
  if (process.env.CI === 'true') return false;
  console.warn(
    'NOTICE: docker-registry is not installed; skipping the tests that need a real image registry (apt-get install docker-registry)',
  );
  return true;
}

export interface TestRegistry {
  /** host:port, as it appears in image references. */
  readonly host: string;
  /** http://host:port */
  readonly url: string;
  /** How long the registry took to accept requests. */
  readonly startMs: number;
  /** Push a one-layer OCI image as repository:tag; returns its manifest digest. */
  pushImage(repository: string, tag: string): Promise<string>;
  /** The tag's digest as the registry reports it, or undefined. */
  tagDigest(repository: string, tag: string): Promise<string | undefined>;
  stop(): Promise<void>;
}

export async function startRegistry(options: { readonly auth?: boolean } = {}): Promise<TestRegistry> {
  if (!REGISTRY_BINARY) {
    throw new Error('docker-registry is not on PATH: install it (apt-get install docker-registry); .ci/run does so in CI');
  }
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'x1deploy-registry-'));
  const config = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  formatter: text',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    '  addr: 127.0.0.1:0',
    // A fixed secret keeps the "no HTTP secret" warning out of the logs.
    '  secret: x1deploy-tests-not-a-secret',
  ];
  if (options.auth) {
    writeFileSync(join(dir, 'htpasswd'), REGISTRY_TEST_HTPASSWD);
    config.push('auth:', '  htpasswd:', '    realm: x1deploy-tests', `    path: ${join(dir, 'htpasswd')}`);
  }
  writeFileSync(join(dir, 'config.yml'), `${config.join('\n')}\n`);

  const child = spawn(REGISTRY_BINARY, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const host = await listeningAddress(child);
  const url = `http://${host}`;
  const authHeader: Record<string, string> = options.auth
    ? { authorization: `Basic ${Buffer.from(`${REGISTRY_TEST_USER.username}:${REGISTRY_TEST_USER.password}`).toString('base64')}` }
    : {};
  // Listening is not yet serving: wait for the API root to answer.
  for (let i = 0; ; i++) {
    const res = await fetch(`${url}/v2/`, { headers: authHeader }).catch(() => undefined);
    if (res?.ok) break;
    if (i > 200) throw new Error(`docker-registry at ${url} did not answer /v2/`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const startMs = performance.now() - started;

  async function uploadBlob(repository: string, data: Buffer): Promise<string> {
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const start = await fetch(`${url}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers: authHeader });
    if (start.status !== 202) throw new Error(`blob upload start: ${start.status} ${await start.text()}`);
    const location = new URL(start.headers.get('location')!, url);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      headers: { ...authHeader, 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
      body: new Uint8Array(data),
    });
    if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${await put.text()}`);
    return digest;
  }

  return {
    host,
    url,
    startMs,
    async pushImage(repository, tag) {
      // An empty tar is two zero blocks; the registry does not look inside layers.
      const tar = Buffer.alloc(1024);
      const layer = gzipSync(tar);
      const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
      // A distinct config per tag, so two tags never share a digest by accident.
      const configBlob = Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          config: { Labels: { 'x1deploy.test/tag': tag } },
          rootfs: { type: 'layers', diff_ids: [diffId] },
        }),
      );
      const configDigest = await uploadBlob(repository, configBlob);
      const layerDigest = await uploadBlob(repository, layer);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: configBlob.length },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
        }),
      );
      const res = await fetch(`${url}/v2/${repository}/manifests/${tag}`, {
        method: 'PUT',
        headers: { ...authHeader, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
        body: new Uint8Array(manifest),
      });
      if (res.status !== 201) throw new Error(`manifest put: ${res.status} ${await res.text()}`);
      const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
      if (res.headers.get('docker-content-digest') !== digest) throw new Error('the registry computed another manifest digest');
      return digest;
    },
    async tagDigest(repository, tag) {
      const res = await fetch(`${url}/v2/${repository}/manifests/${tag}`, {
        method: 'HEAD',
        headers: { ...authHeader, accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      return res.ok ? (res.headers.get('docker-content-digest') ?? undefined) : undefined;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The registry logs `listening on 127.0.0.1:<port>` once it has bound port 0. */
function listeningAddress(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`docker-registry did not start within 10 s:\n${output}`));
    }, 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`docker-registry exited (${code}) before listening:\n${output}`));
    });
  });
}
