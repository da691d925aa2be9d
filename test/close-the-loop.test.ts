// The loop an agent closes through MCP alone: deploy with wait, learn that the pod crash-loops and
// why, read the last lines of its log, deploy a fix, see ready, fetch / from the preview, delete it.
// Real: git, the MCP SDK client and server, an HTTPS server behind the preview URL (reached the way
// curl --resolve does). Stand-ins that speak the real routes and shapes: the Kubernetes API (its
// objects checked against the upstream schemas), and the build job and the engine, played by the
// test: it records builds as the build job does and puts the objects Argo CD would apply.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { recordBuildOutcome } from '../src/build/index.js';
import { kubePreviewCluster, loadKubeConfig } from '../src/k8s/index.js';
import { createMcpServer } from '../src/mcp/index.js';
import type { ObservePorts } from '../src/observe/index.js';
import { RepoSnapshot, type DeployRecord, type GitopsStore } from '../src/records/index.js';
import { argoApplicationName } from '../src/render/index.js';
import { currentVersion } from '../src/versions/index.js';
import { startFakeKube, type FakeKube } from './support/fake-kube.js';
import { loadManifestValidator, type ManifestValidator } from './support/manifest-validator.js';
import { makeWorkspaceRepo, SHA_A, SHA_B } from './support/workspace-repo.js';

vi.setConfig({ testTimeout: 180_000 });

type Json = Record<string, any>;
type Result = { isError?: boolean; structuredContent?: Json; content: { type: string; text: string }[] };

const NS = 'ws-demo';
const BROKEN = SHA_A;
const FIXED = SHA_B;

let kube: FakeKube;
let validator: ManifestValidator;
let store: GitopsStore;
let client: Client;
let web: https.Server;
let stopEngine: () => Promise<void>;
const transcript: string[] = [];

/** Check an object against the upstream schema, then serve it from the fake API server. */
function put(object: Json): void {
  expect(validator.validate(object), `${object.kind}/${object.metadata.name}`).toEqual([]);
  kube.put(object);
}

/**
 * The build job and the engine, once per tick: record an image for each pending version, and apply
 * what the served version renders (the broken commit crash-loops, the fixed one serves).
 */
async function tick(): Promise<void> {
  const snapshot = await RepoSnapshot.atHead(store);
  const records = (await snapshot.allDeployRecords()).filter((r) => r.app === 'api');
  for (const record of records) {
    const latest = record.versions[record.versions.length - 1]!;
    if (latest.status === 'pending-build') {
      await recordBuildOutcome(store, { app: record.app, slug: record.slug, version: latest.number }, {
        ok: true,
        digest: `sha256:${latest.commit_sha.slice(0, 1).repeat(64)}`,
      });
      return; // the next tick sees the new tip
    }
    await apply(snapshot, record);
  }
}

const applied = new Map<string, number>();

async function apply(snapshot: RepoSnapshot, record: DeployRecord): Promise<void> {
  const served = currentVersion(record);
  if (!served || applied.get(record.slug) === served.number) return;
  applied.set(record.slug, served.number);
  const rendered = parse((await store.readFile(snapshot.commit, `rendered/api/${record.slug}/deployment.yaml`))!) as Json;
  const name = rendered.metadata.name as string;
  const broken = served.commit_sha === BROKEN;
  const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  put({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: argoApplicationName('demo', 'api', record.slug),
      namespace: 'argocd',
      labels: { 'app.kubernetes.io/managed-by': 'x1deploy', 'x1deploy.dev/workspace': 'demo', 'x1.app': 'api', 'x1.branch': record.slug },
    },
    spec: {
      project: 'ws-demo',
      source: { repoURL: 'https://gitops.invalid/ws-demo.git', path: `rendered/api/${record.slug}`, targetRevision: 'main' },
      destination: { server: 'https://kubernetes.default.svc', namespace: NS },
    },
    status: {
      sync: { status: 'Synced', revision: snapshot.commit },
      health: { status: broken ? 'Degraded' : 'Healthy' },
      operationState: { phase: 'Succeeded', message: 'successfully synced (all tasks run)', startedAt: at, finishedAt: at, operation: { sync: {} } },
    },
  });
  put({
    ...rendered,
    metadata: { ...rendered.metadata, generation: served.number, uid: `uid-${name}` },
    status: {
      observedGeneration: served.number,
      replicas: 1,
      updatedReplicas: 1,
      readyReplicas: broken ? 0 : 1,
      availableReplicas: broken ? 0 : 1,
      conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', lastUpdateTime: at, lastTransitionTime: at }],
    },
  });
  const podName = `${name}-7d4b9c${served.number}f5-x${served.number}k2p`;
  for (let v = 1; v < served.number; v++) kube.remove('Pod', NS, `${name}-7d4b9c${v}f5-x${v}k2p`);
  const template = rendered.spec.template as Json;
  put({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: podName, namespace: NS, labels: { ...template.metadata.labels, 'pod-template-hash': `7d4b9c${served.number}f5` } },
    spec: template.spec,
    status: {
      phase: 'Running',
      startTime: at,
      conditions: [{ type: 'Ready', status: broken ? 'False' : 'True', lastTransitionTime: at }],
      containerStatuses: [
        broken
          ? {
              name: 'app',
              image: template.spec.containers[0].image,
              imageID: '',
              ready: false,
              restartCount: 3,
              state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=app' } },
              lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: at, finishedAt: at } },
            }
          : {
              name: 'app',
              image: template.spec.containers[0].image,
              imageID: '',
              ready: true,
              started: true,
              restartCount: 0,
              state: { running: { startedAt: at } },
              lastState: {},
            },
      ],
    },
  });
  if (broken) {
    kube.setLog(
      podName,
      'listening on :3000\nError: listen EACCES: permission denied 0.0.0.0:80\n    at Server.setupListenHandle [as _listen2]\nprocess exited with code 1\n',
      { previous: true },
    );
  } else {
    kube.setLog(podName, 'listening on :8080\nGET / 200\n');
  }
}

async function call(name: string, args: Json): Promise<Result> {
  const r = (await client.callTool({ name, arguments: args })) as Result;
  transcript.push(`→ ${name} ${JSON.stringify(args)}`, `← ${r.isError ? '(error) ' : ''}${r.content[0]!.text}`);
  return r;
}

beforeAll(async () => {
  validator = await loadManifestValidator();
  kube = await startFakeKube();
  ({ store } = await makeWorkspaceRepo());
  // The preview's HTTPS server: a certificate for the app's wildcard host, trusted through the probe's CA option.
  const selfsigned = await import('selfsigned');
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'api.demo.preview.localhost' }], {
    keySize: 2048,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: '*.api.demo.preview.localhost' }] }],
  });
  web = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<h1>hello from ${req.headers.host}</h1>`);
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  const port = (web.address() as AddressInfo).port;
  const resolve = new Map<string, string>();
  const observe: ObservePorts = {
    cluster: kubePreviewCluster(loadKubeConfig({ KUBECONFIG: kube.kubeconfig })),
    probe: { timeoutMs: 3000, resolve, ca: pems.cert },
  };
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createMcpServer({ store, agent: 'agent-7', observe }, 'test').connect(serverSide);
  client = new Client({ name: 'agent', version: '1' });
  await client.connect(clientSide);
  // Every preview host of app api reaches the test server, as `curl --resolve host:443:127.0.0.1` would (plus the port).
  const realGet = resolve.get.bind(resolve);
  resolve.get = (key: string) => (key.endsWith('.api.demo.preview.localhost:443') ? `127.0.0.1:${port}` : realGet(key));

  let running = true;
  const loop = (async () => {
    while (running) {
      await tick().catch((err: unknown) => transcript.push(`(engine: ${String(err)})`));
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  stopEngine = async () => {
    running = false;
    await loop;
  };
});

afterAll(async () => {
  await stopEngine?.();
  await client?.close();
  await kube?.close();
  await new Promise<void>((r) => (web ? web.close(() => r()) : r()));
  if (process.env.X1_TRANSCRIPT) writeFileSync(process.env.X1_TRANSCRIPT, `${transcript.join('\n')}\n`);
});

describe('an agent closes the loop through MCP alone', () => {
  const ref = { app: 'api', branch: 'feat/loop' };

  it('deploys with wait, learns the pod crash-loops and why, reads its log, fixes it, sees ready, fetches /, deletes', async () => {
    // 1. Deploy and wait: the build and the sync happen, then the app crash-loops.
    const first = await call('deploy_branch', { ...ref, commit_sha: BROKEN, ports: [8080], wait: 60 });
    expect(first.isError).toBeFalsy();
    const live = first.structuredContent!.live;
    expect(live).toMatchObject({ state: 'degraded', reason: 'CrashLoopBackOff', exit_code: 1, restarts: 3, timed_out: false });
    expect(live.fix).toMatch(/exits soon after it starts \(exit code 1\): read the last lines of its log/);
    expect(live.log_tail).toContain('EACCES: permission denied 0.0.0.0:80');
    expect(first.content[0]!.text).toMatch(/Now: api feat\/loop version 1 is degraded \(CrashLoopBackOff/);

    // 2. The same state, asked again, and the log of the crashed run.
    const status = await call('branch_deploy_status', ref);
    expect(status.structuredContent).toMatchObject({ state: 'degraded', reason: 'CrashLoopBackOff', version: 1, observed: ['git', 'cluster'] });
    const logs = await call('branch_deploy_logs', { ...ref, previous: true, tail: 10 });
    expect(logs.structuredContent).toMatchObject({ source: 'runtime', previous: true, container: 'app', truncated: false });
    expect(logs.structuredContent!.lines).toContain('Error: listen EACCES: permission denied 0.0.0.0:80');
    const grep = await call('branch_deploy_logs', { ...ref, previous: true, grep: 'eacces|exited' });
    expect(grep.structuredContent!.lines).toEqual(['Error: listen EACCES: permission denied 0.0.0.0:80', 'process exited with code 1']);

    // 3. Deploy the fix and wait: ready, with the URL answering over HTTPS.
    const fixed = await call('deploy_branch', { ...ref, commit_sha: FIXED, ports: [8080], wait: 60 });
    expect(fixed.structuredContent!.live).toMatchObject({ state: 'ready', reason: null, fix: null, version: 2, current_version: 2 });
    expect(fixed.structuredContent!.live.observed).toEqual(['git', 'cluster', 'url']);

    // 4. The agent checks its own app.
    const page = await call('fetch_preview', { ...ref, path: '/' });
    expect(page.structuredContent).toMatchObject({ status: 200, truncated: false, headers: { 'content-type': 'text/html; charset=utf-8' } });
    expect(page.structuredContent!.body).toMatch(/^<h1>hello from feat-loop-[a-z2-7]{8}\.api\.demo\.preview\.localhost<\/h1>$/);
    // Only its own preview: a protocol-relative path cannot send the request elsewhere.
    const elsewhere = await call('fetch_preview', { ...ref, path: '//evil.example/' });
    expect(elsewhere.isError).toBe(true);
    expect(JSON.parse(elsewhere.content[1]!.text)).toMatchObject({ kind: 'invalid', issues: [{ path: 'path' }] });

    // 5. Tear it down: one commit; the preview is gone from git.
    const deleted = await call('delete_branch_deploy', ref);
    expect(deleted.structuredContent).toMatchObject({ app: 'api', branch: 'feat/loop', deleted_versions: 2, commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
    const gone = await call('branch_deploy_status', ref);
    expect(gone.isError).toBe(true);
    expect(gone.content[0]!.text).toMatch(/has no branch deploy for branch feat\/loop/);

    // Reads were batched: one list per kind per look, never one call per preview.
    const lists = kube.requests.filter((r) => r.method === 'GET' && /\/(deployments|pods|events|applications|jobs)(\?|$)/.test(r.path));
    expect(lists.length).toBeGreaterThan(0);
    expect(kube.unexpected).toEqual([]);
  });
});
