// The build port over @kubernetes/client-node: batch/v1 Jobs, core/v1 Pods and their logs.
import { ApiException, BatchV1Api, CoreV1Api, type KubeConfig, type V1Job, type V1Pod } from '@kubernetes/client-node';
import {
  BUILD_JOB_LABEL,
  ClusterError,
  type BuildCluster,
  type BuildJobState,
  type BuildPodState,
  type KubeObject,
} from '../cluster/index.js';

export function kubeBuildCluster(kc: KubeConfig): BuildCluster {
  const batch = kc.makeApiClient(BatchV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const server = kc.getCurrentCluster()?.server ?? 'the Kubernetes API';

  const fail = (err: unknown, what: string, namespace: string): never => {
    throw clusterError(err, what, namespace, server);
  };

  return {
    async createJob(namespace, job: KubeObject) {
      try {
        await batch.createNamespacedJob({ namespace, body: job as V1Job });
        return 'created';
      } catch (err) {
        if (err instanceof ApiException && err.code === 409) return 'exists';
        return fail(err, 'create Jobs', namespace);
      }
    },

    async readJob(namespace, name) {
      try {
        return jobState(await batch.readNamespacedJob({ name, namespace }));
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        return fail(err, 'read Jobs', namespace);
      }
    },

    async podsOfJob(namespace, jobName) {
      try {
        const list = await core.listNamespacedPod({ namespace, labelSelector: `${BUILD_JOB_LABEL}=${jobName}` });
        return list.items.map(podState).sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));
      } catch (err) {
        return fail(err, 'list Pods', namespace);
      }
    },

    async podLogTail(namespace, pod, container, lines) {
      try {
        return await core.readNamespacedPodLog({ name: pod, namespace, container, tailLines: lines });
      } catch (err) {
        return fail(err, `read the log of Pod ${pod}`, namespace);
      }
    },
  };
}

function jobState(job: V1Job): BuildJobState {
  const conditions = job.status?.conditions ?? [];
  const holds = (type: string) => conditions.find((c) => c.type === type && c.status === 'True');
  const name = job.metadata?.name ?? '';
  const failed = holds('Failed');
  if (failed) return { name, phase: 'failed', reason: failed.reason, message: failed.message };
  if (holds('Complete')) return { name, phase: 'succeeded' };
  return { name, phase: 'running' };
}

function iso(date: Date | undefined): string | undefined {
  return date instanceof Date && !Number.isNaN(date.getTime()) ? date.toISOString() : undefined;
}

function podState(pod: V1Pod): BuildPodState {
  const statuses = pod.status?.containerStatuses ?? [];
  // The build pod has one container; name it anyway so an injected sidecar is never read instead.
  const status = statuses.find((s) => s.name === 'kaniko') ?? statuses[0];
  const terminated = status?.state?.terminated;
  const waiting = status?.state?.waiting;
  return {
    name: pod.metadata?.name ?? '',
    createdAt: iso(pod.metadata?.creationTimestamp),
    phase: pod.status?.phase,
    terminated: terminated
      ? { exitCode: terminated.exitCode, reason: terminated.reason, message: terminated.message, finishedAt: iso(terminated.finishedAt) }
      : undefined,
    waiting: waiting ? { reason: waiting.reason, message: waiting.message } : undefined,
  };
}

/** What went wrong, and what to do about it; never the request or response bodies beyond the API's own message. */
function clusterError(err: unknown, what: string, namespace: string, server: string): ClusterError {
  if (err instanceof ApiException) {
    const detail = statusMessage(err.body);
    const suffix = detail ? `: ${detail}` : '';
    switch (err.code) {
      case 401:
        return new ClusterError(
          `the Kubernetes API at ${server} refused our credentials (401)${suffix}; check KUBECONFIG or the service account token`,
          401,
        );
      case 403:
        return new ClusterError(
          `not allowed to ${what} in namespace ${namespace} (403)${suffix}; bind the build's service account to the Role that "x1deploy install" renders`,
          403,
        );
      case 404:
        return new ClusterError(
          `cannot ${what} in namespace ${namespace} (404)${suffix}; create the namespace (apply bootstrap/jobs/ from "x1deploy install")`,
          404,
        );
      default:
        return new ClusterError(`could not ${what} in namespace ${namespace}: the Kubernetes API answered ${err.code}${suffix}`, err.code);
    }
  }
  const code = (err as { code?: string })?.code ?? (err as { cause?: { code?: string } })?.cause?.code;
  return new ClusterError(
    `cannot reach the Kubernetes API at ${server} to ${what}${code ? ` (${code})` : ''}; check KUBECONFIG, or run inside the cluster`,
  );
}

function statusMessage(body: unknown): string | undefined {
  try {
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: unknown };
    return typeof status?.message === 'string' ? status.message.slice(0, 300) : undefined;
  } catch {
    return undefined;
  }
}
