// The status model, one scenario per state and reason: what git, the build, the engine, the
// cluster and the URL showed, and what an agent is told.
import { describe, expect, it } from 'vitest';
import type { DeployRecord } from '../src/records/index.js';
import {
  previewStatus,
  PREVIEW_STATES,
  STATUS_REASONS,
  type ContainerObservation,
  type PreviewObservation,
  type PreviewStatus,
} from '../src/status/index.js';
import { addVersion, firstVersion, recordBuild, recordBuildFailure } from '../src/versions/index.js';
import { at, base, digest, next } from './support/version-fixtures.js';

const NOW = at(30);
const pending = firstVersion(base, next('a')).record;
const live = recordBuild(pending, 1, { digest: digest('a'), built_at: at(2), now: at(3) });

const cluster = (extra: Partial<PreviewObservation> = {}): PreviewObservation => ({
  cluster: { observed: true },
  engine: { engine: 'argocd', synced: true, health: 'Healthy', revision: 'c'.repeat(40) },
  deployment: { name: 'api-feat-x-aaaaaaaa', version: 1, replicas: 1, readyReplicas: 1, updatedReplicas: 1 },
  pods: [pod({ ready: true, runningSince: at(5) })],
  events: [],
  probe: { url: live.url, up: true, status: 200, at: NOW },
  ...extra,
});

function pod(container: Partial<ContainerObservation>, ready = container.ready ?? false) {
  return {
    name: 'api-feat-x-aaaaaaaa-5d8f7c9b6-x2x4z',
    version: 1,
    phase: 'Running',
    ready,
    createdAt: at(4),
    containers: [{ name: 'app', ready: false, restartCount: 0, ...container }],
  };
}

const status = (record: DeployRecord, observation: PreviewObservation, extra: object = {}): PreviewStatus =>
  previewStatus({ record, observation, memoryLimit: '512Mi', now: NOW, ...extra });

describe('preview status', () => {
  it('ready: served, rolled out, answering', () => {
    const s = status(live, cluster());
    expect(s).toMatchObject({ state: 'ready', reason: null, fix: null, version: 1, current_version: 1, since: at(5) });
    expect(s.observed).toEqual(['git', 'cluster', 'url']);
    expect(s.engine_revision).toBe('c'.repeat(40));
  });

  it('pending-build, building, build-failed, and awaiting review come from git and the build', () => {
    const none = { cluster: { observed: false as const, why: 'no kubeconfig' }, pods: [], events: [] };
    expect(status(pending, none)).toMatchObject({ state: 'pending-build', reason: 'BuildPending', since: at(0) });
    expect(status(pending, { ...cluster(), build: { running: true, startedAt: at(1) } })).toMatchObject({
      state: 'building',
      reason: 'Building',
      since: at(1),
    });
    const failed = recordBuildFailure(pending, 1, 'exit 1\nnpm ERR! missing script: build');
    const s = status(failed, cluster());
    expect(s).toMatchObject({ state: 'build-failed', reason: 'BuildFailed' });
    expect(s.message).toContain('missing script');
    expect(s.fix).toMatch(/build log/);
    expect(status(live, cluster(), { proposal: { version: 2, gitops_branch: 'x1deploy/api/feat-x-aaaaaaaa' } })).toMatchObject({
      state: 'pending-build',
      reason: 'AwaitingReview',
      version: 2,
    });
    // A newer request waits for its build while the old version keeps serving.
    const second = addVersion(live, next('b', undefined, 10)).record;
    expect(status(second, cluster())).toMatchObject({ state: 'pending-build', version: 2, current_version: 1 });
  });

  it('syncing: without cluster access it says so; NotApplied names the revision the engine serves', () => {
    const s = status(live, { cluster: { observed: false, why: 'no Kubernetes cluster configured' }, pods: [], events: [] });
    expect(s).toMatchObject({ state: 'syncing', reason: 'NoClusterAccess', observed: ['git'] });
    expect(s.message).toMatch(/not observed: no Kubernetes cluster configured/);
    const old = status(live, cluster({ deployment: undefined, engine: { engine: 'flux', synced: true, revision: 'd'.repeat(40) } }));
    expect(old).toMatchObject({ state: 'syncing', reason: 'NotApplied' });
    expect(old.message).toContain('d'.repeat(12));
  });

  it('degraded: SyncFailed with the engine message', () => {
    const s = status(live, cluster({ engine: { engine: 'argocd', synced: false, failure: 'one or more objects failed to apply: admission webhook denied' } }));
    expect(s).toMatchObject({ state: 'degraded', reason: 'SyncFailed', message: expect.stringMatching(/admission webhook/) });
  });

  it('rolling-out while pods start', () => {
    const s = status(live, cluster({ deployment: { name: 'd', version: 1, replicas: 2, readyReplicas: 1, updatedReplicas: 2 } }));
    expect(s).toMatchObject({ state: 'rolling-out', reason: 'RollingOut', message: '1/2 pods ready' });
  });

  it.each([
    [{ waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } }, 'ImagePullBackOff', /registry/],
    [
      { waiting: { reason: 'CrashLoopBackOff' }, restartCount: 4, lastTerminated: { exitCode: 3, reason: 'Error', finishedAt: at(9) } },
      'CrashLoopBackOff',
      /exit code 3.*log/,
    ],
    [
      { waiting: { reason: 'CrashLoopBackOff' }, restartCount: 2, lastTerminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: at(9) } },
      'OOMKilled',
      /memory limit of 512Mi: raise resources\.memory/,
    ],
    [
      { waiting: { reason: 'CreateContainerConfigError', message: "couldn't find key STRIPE_KEY in Secret ws-demo/workspace-secrets" } },
      'CreateContainerConfigError',
      /add key STRIPE_KEY to the Secret workspace-secrets/,
    ],
  ] as const)('degraded by the pod: %j is %s', (container, reason, fix) => {
    const s = status(live, cluster({ pods: [pod(container)], deployment: { name: 'd', version: 1, replicas: 1, readyReplicas: 0, updatedReplicas: 1 } }));
    expect(s.state).toBe('degraded');
    expect(s.reason).toBe(reason);
    expect(s.fix).toMatch(fix);
    if (reason === 'CrashLoopBackOff' || reason === 'OOMKilled') {
      expect(s.log_source).toEqual({ pod: 'api-feat-x-aaaaaaaa-5d8f7c9b6-x2x4z', container: 'app', previous: true });
    }
  });

  it.each([
    ['FailedCreate', 'pods "x" is forbidden: exceeded quota: previews, requested: limits.memory=8Gi', 'QuotaExceeded'],
    ['FailedScheduling', '0/3 nodes are available: 3 Insufficient cpu.', 'Unschedulable'],
    ['Unhealthy', 'Readiness probe failed: dial tcp 10.0.0.5:8080: connect: connection refused', 'ReadinessProbeFailing'],
  ])('degraded by an event: %s is %s', (eventReason, message, reason) => {
    const s = status(
      live,
      cluster({
        pods: [pod({ runningSince: at(5) })],
        deployment: { name: 'd', version: 1, replicas: 1, readyReplicas: 0, updatedReplicas: 1 },
        events: [{ type: 'Warning', reason: eventReason, message, object: { kind: 'Pod', name: 'p' }, at: at(6) }],
      }),
    );
    expect(s).toMatchObject({ state: 'degraded', reason, message });
    if (reason === 'ReadinessProbeFailing') expect(s.fix).toMatch(/port 8080 \(the first of "ports"\)/);
  });

  it('ignores events from before the served version was committed', () => {
    const s = status(live, cluster({ events: [{ reason: 'FailedScheduling', message: 'old', object: { kind: 'Pod', name: 'p' }, at: at(1) }] }));
    expect(s.state).toBe('ready');
  });

  it('degraded: UrlUnreachable when the pods are ready but the URL does not answer', () => {
    const s = status(live, cluster({ probe: { url: live.url, up: false, status: 503, at: NOW } }));
    expect(s).toMatchObject({ state: 'degraded', reason: 'UrlUnreachable', since: NOW });
    expect(s.message).toMatch(/answered 503/);
  });

  it('reaped', () => {
    expect(status({ ...live, reaped_at: at(20) }, cluster())).toMatchObject({ state: 'reaped', reason: 'Reaped', since: at(20) });
  });

  it('every state but ready has a reason, a one-sentence fix and since', () => {
    expect(PREVIEW_STATES).toContain('rolling-out');
    expect(STATUS_REASONS.length).toBeGreaterThan(15);
    const samples = [
      status(pending, cluster()),
      status(live, cluster({ probe: { url: live.url, up: false, error: 'ECONNREFUSED', at: NOW } })),
      status(live, cluster({ deployment: undefined })),
    ];
    for (const s of samples) {
      expect(s.state).not.toBe('ready');
      expect(s.reason).not.toBeNull();
      expect(s.fix).toMatch(/^[a-z].*[^.]$/);
      expect(s.fix!.split('. ')).toHaveLength(1);
      expect(s.since).toMatch(/^\d{4}-/);
    }
  });
});
