// Reading a finished build Job: the digest Kaniko reported, or why it failed, in words a reader of
// deploy.yaml can act on. Everything that came from the pod is scrubbed of credential-shaped text.
import { KANIKO_CONTAINER } from '../../charts-src/build-job-chart.js';
import type { BuildCluster, BuildJobState, BuildPodState } from '../cluster/index.js';
import { scrubSecrets } from '../spec/index.js';

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const MAX_LINE = 400;
const MAX_REASON = 6_000;

/** Newest first: the last attempt of a Job that retried is the one that tells. */
function newestFirst(pods: readonly BuildPodState[]): BuildPodState[] {
  return [...pods].sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
}

/**
 * The digest from a pod whose build container exited 0. Kaniko writes its digest file before the
 * push, so a container that failed may still have left one: it is never trusted.
 */
export function reportedDigest(pods: readonly BuildPodState[]): string | undefined {
  for (const pod of newestFirst(pods)) {
    const t = pod.terminated;
    const message = t?.message?.trim();
    if (t?.exitCode === 0 && message && DIGEST.test(message)) return message;
  }
  return undefined;
}

/** Why a failed Job failed: the Job's condition, the last pod's container state and its log tail. */
export async function failureReason(
  cluster: BuildCluster,
  namespace: string,
  job: BuildJobState,
  pods: readonly BuildPodState[],
  tailLines: number,
): Promise<string> {
  const parts = [`build Job ${job.name} failed${job.reason ? `: ${job.reason}` : ''}${job.message ? ` (${job.message})` : ''}`];
  const pod = newestFirst(pods)[0];
  if (!pod) {
    parts.push('no pod of the Job is left to read a log from');
    return finish(parts);
  }
  if (pod.terminated) {
    const t = pod.terminated;
    parts.push(`pod ${pod.name}: ${KANIKO_CONTAINER} exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}`);
  } else if (pod.waiting) {
    parts.push(
      `pod ${pod.name}: ${KANIKO_CONTAINER} never ran: ${pod.waiting.reason ?? 'waiting'}${pod.waiting.message ? ` (${pod.waiting.message})` : ''}`,
    );
  }
  let log: string;
  try {
    log = await cluster.podLogTail(namespace, pod.name, KANIKO_CONTAINER, tailLines);
  } catch (err) {
    parts.push(`its log could not be read: ${(err as Error).message}`);
    return finish(parts);
  }
  const lines = log
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '')
    .slice(-tailLines)
    .map((l) => (l.length > MAX_LINE ? `${l.slice(0, MAX_LINE)}…` : l));
  // Within the size budget, keep the newest lines: they say what broke.
  let budget = MAX_REASON - parts.join('\n').length;
  const kept: string[] = [];
  for (const line of [...lines].reverse()) {
    budget -= line.length + 1;
    if (budget < 0) break;
    kept.unshift(line);
  }
  parts.push(kept.length ? `last ${kept.length} log lines:\n${kept.join('\n')}` : 'its log is empty');
  return finish(parts);
}

function finish(parts: readonly string[]): string {
  return scrubSecrets(parts.join('\n'));
}
