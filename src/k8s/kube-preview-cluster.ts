// The preview port over @kubernetes/client-node: one list call per kind for a whole workspace,
// each with a deadline, and container log tails bounded in lines and bytes.
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1ContainerStatus,
  type V1Deployment,
  type V1Job,
  type V1Pod,
  type CoreV1Event,
} from '@kubernetes/client-node';
import {
  ClusterError,
  type PreviewCluster,
  type PreviewLabels,
  type WorkspaceObservation,
  type WorkspaceScope,
} from '../cluster/index.js';
import type { ContainerObservation, EngineObservation, PodObservation } from '../status/index.js';

/** Every preview object carries x1.app and x1.branch (the branch's slug). */
const PREVIEW_SELECTOR = 'x1.app,x1.branch';
const DEFAULT_DEADLINE_MS = 10_000;

// Custom resources come back untyped; every field read from them is checked where it is used.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

export function kubePreviewCluster(kc: KubeConfig, deadlineMs = DEFAULT_DEADLINE_MS): PreviewCluster {
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const server = kc.getCurrentCluster()?.server ?? 'the Kubernetes API';

  const call = async <T>(what: string, namespace: string, request: () => Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ClusterError(`the Kubernetes API at ${server} did not answer within ${deadlineMs / 1000} s to ${what} in ${namespace}`)),
        deadlineMs,
      );
    });
    try {
      return await Promise.race([request(), deadline]);
    } catch (err) {
      if (err instanceof ClusterError) throw err;
      const code = (err as { code?: number }).code;
      const body = (err as { body?: unknown }).body;
      const detail = typeof body === 'string' ? safeMessage(body) : undefined;
      throw new ClusterError(
        code === 403
          ? `not allowed to ${what} in namespace ${namespace} (403); bind x1deploy's service account to read previews (x1deploy install renders the Role)`
          : `could not ${what} in namespace ${namespace} at ${server}${typeof code === 'number' ? ` (${code})` : ''}${detail ? `: ${detail}` : ''}`,
        typeof code === 'number' ? code : undefined,
      );
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    async observe(scope: WorkspaceScope): Promise<WorkspaceObservation> {
      const ns = scope.namespace;
      const [applications, kustomization, deployments, pods, events, jobs, buildPods] = await Promise.all([
        scope.engine === 'argocd'
          ? call('list Argo CD Applications', scope.argoNamespace, () =>
              custom.listNamespacedCustomObject({
                group: 'argoproj.io',
                version: 'v1alpha1',
                namespace: scope.argoNamespace,
                plural: 'applications',
                labelSelector: `x1deploy.dev/workspace=${scope.workspaceId}`,
              }),
            )
          : undefined,
        scope.engine === 'flux'
          ? call('read the Flux Kustomization', ns, () =>
              custom.getNamespacedCustomObject({
                group: 'kustomize.toolkit.fluxcd.io',
                version: 'v1',
                namespace: ns,
                plural: 'kustomizations',
                name: scope.fluxName,
              }),
            ).catch((err: unknown) => {
              if (err instanceof ClusterError && err.status === 404) return undefined;
              throw err;
            })
          : undefined,
        call('list Deployments', ns, () => apps.listNamespacedDeployment({ namespace: ns, labelSelector: PREVIEW_SELECTOR })),
        call('list Pods', ns, () => core.listNamespacedPod({ namespace: ns, labelSelector: PREVIEW_SELECTOR })),
        call('list Events', ns, () => core.listNamespacedEvent({ namespace: ns })),
        call('list build Jobs', scope.buildNamespace, () =>
          batch.listNamespacedJob({ namespace: scope.buildNamespace, labelSelector: PREVIEW_SELECTOR }),
        ),
        call('list build Pods', scope.buildNamespace, () =>
          core.listNamespacedPod({ namespace: scope.buildNamespace, labelSelector: PREVIEW_SELECTOR }),
        ),
      ]);
      return {
        applications: (((applications as Json | undefined)?.items ?? []) as Json[]).flatMap((a) => {
          const labels = previewLabels(a.metadata?.labels);
          return labels ? [{ ...labels, ...argoApplication(a) }] : [];
        }),
        ...(kustomization ? { kustomization: fluxKustomization(kustomization as Json) } : {}),
        deployments: deployments.items.flatMap((d) => {
          const labels = previewLabels(d.metadata?.labels);
          return labels ? [{ ...labels, ...deployment(d) }] : [];
        }),
        pods: pods.items.flatMap((p) => {
          const labels = previewLabels(p.metadata?.labels);
          return labels ? [{ ...labels, ...pod(p) }] : [];
        }),
        events: events.items.map(event),
        buildJobs: jobs.items.flatMap((j) => {
          const labels = previewLabels(j.metadata?.labels);
          const version = Number(j.metadata?.labels?.['x1.version']);
          return labels && Number.isInteger(version) ? [{ ...labels, version, name: j.metadata?.name ?? '', ...buildJob(j) }] : [];
        }),
        buildPods: buildPods.items.flatMap((p) => {
          const labels = previewLabels(p.metadata?.labels);
          return labels ? [{ ...labels, ...pod(p) }] : [];
        }),
      };
    },

    async podLog(namespace, name, container, options) {
      return call(`read the log of Pod ${name}`, namespace, () =>
        core.readNamespacedPodLog({
          name,
          namespace,
          container,
          tailLines: options.tailLines,
          limitBytes: options.limitBytes,
          ...(options.previous ? { previous: true } : {}),
          ...(options.sinceSeconds !== undefined ? { sinceSeconds: options.sinceSeconds } : {}),
        }),
      );
    },
  };
}

function previewLabels(labels: Record<string, string> | undefined): PreviewLabels | undefined {
  const app = labels?.['x1.app'];
  const slug = labels?.['x1.branch'];
  return app && slug ? { app, slug } : undefined;
}

function iso(value: unknown): string | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function argoApplication(a: Json): EngineObservation {
  const status = (a.status ?? {}) as Json;
  const op = (status.operationState ?? {}) as Json;
  const failed = op.phase === 'Failed' || op.phase === 'Error';
  const conditions = ((status.conditions ?? []) as Json[]).filter((c) => /Error$/.test(String(c.type)));
  const failure = failed ? String(op.message ?? 'the sync failed') : conditions.length ? String(conditions[0]!.message ?? conditions[0]!.type) : undefined;
  return {
    engine: 'argocd',
    synced: status.sync?.status === undefined ? undefined : status.sync.status === 'Synced',
    ...(status.health?.status ? { health: String(status.health.status) } : {}),
    ...(status.sync?.revision ? { revision: String(status.sync.revision) } : {}),
    ...(failure ? { failure } : {}),
    ...(iso(op.finishedAt ?? status.reconciledAt) ? { at: iso(op.finishedAt ?? status.reconciledAt) } : {}),
  };
}

function fluxKustomization(k: Json): EngineObservation {
  const status = (k.status ?? {}) as Json;
  const ready = ((status.conditions ?? []) as Json[]).find((c) => c.type === 'Ready');
  const progressing = ready?.reason === 'Progressing' || ready?.status === 'Unknown';
  const applied = typeof status.lastAppliedRevision === 'string' ? status.lastAppliedRevision : undefined;
  return {
    engine: 'flux',
    synced: ready === undefined ? undefined : ready.status === 'True',
    // "main@sha1:<commit>": the commit is what a person compares.
    ...(applied ? { revision: applied.replace(/^.*[@:]/, '') } : {}),
    ...(ready && ready.status === 'False' && !progressing ? { failure: String(ready.message ?? ready.reason) } : {}),
    ...(iso(ready?.lastTransitionTime) ? { at: iso(ready?.lastTransitionTime) } : {}),
  };
}

function deployment(d: V1Deployment) {
  const progressing = d.status?.conditions?.find((c) => c.type === 'Progressing');
  const version = Number(d.spec?.template?.metadata?.labels?.['x1.version']);
  return {
    name: d.metadata?.name ?? '',
    ...(Number.isInteger(version) ? { version } : {}),
    replicas: d.spec?.replicas ?? 1,
    readyReplicas: d.status?.readyReplicas ?? 0,
    updatedReplicas: d.status?.updatedReplicas ?? 0,
    ...(progressing?.reason === 'ProgressDeadlineExceeded' ? { deadlineExceeded: progressing.message ?? 'ProgressDeadlineExceeded' } : {}),
    ...(iso(progressing?.lastUpdateTime) ? { at: iso(progressing?.lastUpdateTime) } : {}),
  };
}

function pod(p: V1Pod): PodObservation {
  const version = Number(p.metadata?.labels?.['x1.version']);
  return {
    name: p.metadata?.name ?? '',
    ...(Number.isInteger(version) ? { version } : {}),
    ...(p.status?.phase ? { phase: p.status.phase } : {}),
    ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    ...(iso(p.metadata?.creationTimestamp) ? { createdAt: iso(p.metadata?.creationTimestamp) } : {}),
    containers: (p.status?.containerStatuses ?? []).map(container),
  };
}

function container(c: V1ContainerStatus): ContainerObservation {
  const last = c.lastState?.terminated ?? c.state?.terminated;
  return {
    name: c.name,
    ready: c.ready,
    restartCount: c.restartCount,
    ...(c.state?.waiting ? { waiting: { reason: c.state.waiting.reason, message: c.state.waiting.message } } : {}),
    ...(iso(c.state?.running?.startedAt) ? { runningSince: iso(c.state?.running?.startedAt) } : {}),
    ...(last ? { lastTerminated: { exitCode: last.exitCode, reason: last.reason, finishedAt: iso(last.finishedAt) } } : {}),
  };
}

function event(e: CoreV1Event) {
  return {
    ...(e.type ? { type: e.type } : {}),
    ...(e.reason ? { reason: e.reason } : {}),
    ...(e.message ? { message: e.message } : {}),
    object: { kind: e.involvedObject?.kind, name: e.involvedObject?.name },
    ...(iso(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp) ? { at: iso(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp) } : {}),
  };
}

function buildJob(j: V1Job) {
  const done = j.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') ?? false;
  return { running: !done, ...(iso(j.status?.startTime) ? { startedAt: iso(j.status?.startTime) } : {}) };
}

function safeMessage(body: string): string | undefined {
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    return typeof m === 'string' ? m.slice(0, 300) : undefined;
  } catch {
    return undefined;
  }
}
