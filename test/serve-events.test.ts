// /events: Server-Sent Events of CloudEvents as a preview is requested, built, synced, becomes
// ready and is deleted, resumable with Last-Event-ID. The cluster side is the Kubernetes API test
// server; the build job's outcome is recorded as the build job records it.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { recordBuildOutcome } from '../src/build/index.js';
import { kubePreviewCluster, loadKubeConfig } from '../src/k8s/index.js';
import type { GitopsStore } from '../src/records/index.js';
import { startService, tokenHash, tokenTable, type CloudEvent, type RunningServer } from '../src/serve/index.js';
import { startFakeKube, type FakeKube } from './support/fake-kube.js';
import { makeWorkspaceRepo, SHA_A } from './support/workspace-repo.js';

vi.setConfig({ testTimeout: 90_000 });
const AGENT = 'tok-events-agent-0123456789';
const READER = 'tok-events-reader-0123456789';

let store: GitopsStore;
let kube: FakeKube;
let service: RunningServer;

beforeAll(async () => {
  ({ store } = await makeWorkspaceRepo());
  kube = await startFakeKube();
  service = await startService(
    {
      store,
      tokens: tokenTable([
        { sha256: tokenHash(AGENT), agent: 'agent-7' },
        { sha256: tokenHash(READER), read: true },
      ]),
      observe: { cluster: kubePreviewCluster(loadKubeConfig({ KUBECONFIG: kube.kubeconfig })), probe: false },
      version: 'test',
      watchIntervalMs: 150,
    },
    { host: '127.0.0.1', port: 0 },
  );
});

afterAll(async () => {
  await service?.close();
  await kube?.close();
});

/** Read events from /events until `until` says stop (or the time is up). */
async function readEvents(headers: Record<string, string>, until: (seen: CloudEvent[]) => boolean, timeoutMs = 30_000): Promise<CloudEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const r = await fetch(`${service.url}/events`, { headers: { authorization: `Bearer ${READER}`, ...headers }, signal: controller.signal });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const seen: CloudEvent[] = [];
  const ids: string[] = [];
  let buffer = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^data: (.*)$/m.exec(block)?.[1];
        const id = /^id: (.*)$/m.exec(block)?.[1];
        if (data && id) {
          const event = JSON.parse(data) as CloudEvent;
          expect(event.id).toBe(id);
          expect(/^event: (.*)$/m.exec(block)?.[1]).toBe(event.type);
          ids.push(id);
          seen.push(event);
        }
      }
      if (until(seen)) break;
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return seen;
}

const types = (events: CloudEvent[]) => events.map((e) => e.type);

describe('/events', () => {
  it('streams a preview from its request to ready and its deletion, and resumes after Last-Event-ID', async () => {
    const api = (path: string, body: unknown) =>
      fetch(`${service.url}/api/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${AGENT}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<Record<string, any>>);

    const reading = readEvents({}, (seen) => types(seen).includes('dev.x1deploy.preview.deleted'));
    await new Promise((r) => setTimeout(r, 1000)); // the watcher's first look is its baseline
    const deployed = await api('/deploy', { app: 'api', branch: 'feat/events', commit_sha: SHA_A, ports: [8080] });
    expect(deployed.version).toBe(1);
    await new Promise((r) => setTimeout(r, 1000));
    await recordBuildOutcome(store, { app: 'api', slug: deployed.slug, version: 1 }, { ok: true, digest: `sha256:${'a'.repeat(64)}` });
    await new Promise((r) => setTimeout(r, 1000));
    // Argo CD applies it and the pod comes up.
    const rendered = parse((await store.readFile(await store.head(), `rendered/api/${deployed.slug}/deployment.yaml`))!) as Record<string, any>;
    kube.put({ ...rendered, status: { replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 } });
    kube.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `${rendered.metadata.name}-5c7d9-abcde`, namespace: 'ws-demo', labels: rendered.spec.template.metadata.labels },
      spec: rendered.spec.template.spec,
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'app', image: 'x', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: '2026-11-30T10:00:00Z' } } }] },
    });
    await new Promise((r) => setTimeout(r, 1000));
    await api('/delete', { app: 'api', branch: 'feat/events' });

    const events = await reading;
    expect(types(events)).toEqual([
      'dev.x1deploy.deploy.requested',
      'dev.x1deploy.build.finished',
      'dev.x1deploy.preview.synced',
      'dev.x1deploy.preview.ready',
      'dev.x1deploy.preview.deleted',
    ]);
    for (const e of events) {
      expect(e).toMatchObject({ specversion: '1.0', source: 'x1deploy/demo', subject: 'api/feat/events', datacontenttype: 'application/json' });
      expect(Date.parse(e.time)).not.toBeNaN();
    }
    expect(events[3]!.data).toMatchObject({ state: 'ready', version: 1, url: deployed.url });

    // A client that saw the first two picks up where it left off.
    const resumed = await readEvents({ 'last-event-id': events[1]!.id }, (seen) => seen.length >= 3, 5_000);
    expect(types(resumed)).toEqual(types(events).slice(2));
    // The deletion was the service's own: the watcher does not report it again as a reap.
    await new Promise((r) => setTimeout(r, 400));
    const all = await readEvents({ 'last-event-id': '0' }, (seen) => seen.length >= 6, 2_000);
    expect(types(all).filter((t) => t === 'dev.x1deploy.preview.reaped')).toEqual([]);
    // "0" is no id this replica gave (another replica's, or from before a restart): the stream says
    // it cannot resume, and what to do, before the events it keeps.
    expect(all[0]).toMatchObject({ type: 'dev.x1deploy.stream.reset', data: { reason: 'CannotResume', fix: expect.stringContaining('GET /api/v1/previews') } });
    expect(all[0]!.subject).toBeUndefined();
    expect(types(all.slice(1))).toEqual(types(events));
  });

  it('needs a token', async () => {
    expect((await fetch(`${service.url}/events`)).status).toBe(401);
  });
});

describe('the event log', () => {
  it('resumes after its own ids, and says so when it cannot: another epoch, or older than it keeps', async () => {
    const { EventLog } = await import('../src/serve/index.js');
    const log = new EventLog('x1deploy/demo', 'aaaaaaaa');
    for (let i = 0; i < 1005; i++) log.append('dev.x1deploy.deploy.requested', { app: 'api', branch: `b${i}` }, { version: 1 });
    expect(log.after('aaaaaaaa-1004').map((e) => e.id)).toEqual(['aaaaaaaa-1005']);
    // The first five fell out of the log: resuming after the fifth still misses nothing, after the fourth it would.
    expect(log.after('aaaaaaaa-5')[0]!.id).toBe('aaaaaaaa-6');
    expect(log.after('aaaaaaaa-4')[0]!.type).toBe('dev.x1deploy.stream.reset');
    expect(log.after('aaaaaaaa-4')[0]!.data.message).toContain('older than the 1000 events this replica keeps');
    expect(log.after('bbbbbbbb-1004')[0]!.data.message).toContain('was not given by this replica');
    expect(log.after('bbbbbbbb-1004')).toHaveLength(1001);
    // An id from this log's future is not trusted either.
    expect(log.after('aaaaaaaa-2000')[0]!.type).toBe('dev.x1deploy.stream.reset');
  });
});

describe('which events a change of state means', () => {
  it('names builds, syncs, readiness, trouble and reaps, and nothing for no change', async () => {
    const { transitionEvents } = await import('../src/serve/index.js');
    const at = (state: string, version = 1) => ({ state, version }) as never;
    expect(transitionEvents(at('pending-build'), at('building'))).toEqual(['dev.x1deploy.build.started']);
    expect(transitionEvents(at('building'), at('build-failed'))).toEqual(['dev.x1deploy.build.finished']);
    expect(transitionEvents(at('building'), at('syncing'))).toEqual(['dev.x1deploy.build.finished']);
    expect(transitionEvents(at('syncing'), at('rolling-out'))).toEqual(['dev.x1deploy.preview.synced']);
    expect(transitionEvents(at('rolling-out'), at('ready'))).toEqual(['dev.x1deploy.preview.ready']);
    expect(transitionEvents(at('ready'), at('degraded'))).toEqual(['dev.x1deploy.preview.degraded']);
    expect(transitionEvents(at('ready'), at('ready'))).toEqual([]);
    // A new version that goes straight back to ready still says so.
    expect(transitionEvents(at('ready', 1), at('ready', 2))).toEqual(['dev.x1deploy.preview.ready']);
    expect(transitionEvents(undefined, at('reaped'))).toEqual(['dev.x1deploy.preview.reaped']);
  });
});
