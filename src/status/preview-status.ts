// One status model for a preview, computed from git (the record), the build, the engine, the
// cluster and the URL. Pure: the same observation always gives the same answer.
//
//   pending-build ─► building ─┬─► build-failed
//                              └─► syncing ─► rolling-out ─┬─► ready
//                                                          └─► degraded
//   (any) ─► reaped
//
// Every state but ready carries a machine reason, a one-sentence fix an agent can act on, and since.
import type { DeployRecord } from '../records/index.js';
import { currentVersion, latestVersion } from '../versions/index.js';
import type { ContainerObservation, EventObservation, PodObservation, PreviewObservation } from './observation.js';

export const PREVIEW_STATES = ['pending-build', 'building', 'build-failed', 'syncing', 'rolling-out', 'ready', 'degraded', 'reaped'] as const;
export type PreviewState = (typeof PREVIEW_STATES)[number];

/** States a wait stops at: nothing will change them without a new deploy, a fix or a human. */
export const SETTLED_STATES: ReadonlySet<PreviewState> = new Set(['ready', 'degraded', 'build-failed', 'reaped']);

export const STATUS_REASONS = [
  'AwaitingReview',
  'BuildPending',
  'Building',
  'BuildFailed',
  'NoClusterAccess',
  'SyncFailed',
  'NotApplied',
  'RollingOut',
  'ImagePullBackOff',
  'CrashLoopBackOff',
  'OOMKilled',
  'CreateContainerConfigError',
  'ReadinessProbeFailing',
  'QuotaExceeded',
  'Unschedulable',
  'ProgressDeadlineExceeded',
  'UrlUnreachable',
  'Reaped',
] as const;
export type StatusReason = (typeof STATUS_REASONS)[number];

export interface PreviewStatus {
  readonly app: string;
  readonly branch: string;
  readonly slug: string;
  readonly url: string;
  readonly state: PreviewState;
  readonly reason: StatusReason | null;
  /** One sentence: what the agent (or whom it asks) does next. */
  readonly fix: string | null;
  /** What was seen, in the engine's or the cluster's words (scrubbed). */
  readonly message: string | null;
  /** When the preview entered this state, as well as it can be told. */
  readonly since: string;
  /** The version this state is about: the newest one asked for. */
  readonly version: number;
  /** The version the preview serves, if any is built. */
  readonly current_version: number | null;
  /** Which sources the answer rests on. */
  readonly observed: readonly ('git' | 'build' | 'cluster' | 'url')[];
  /** The gitops commit the engine last applied, when it said. */
  readonly engine_revision?: string;
  readonly exit_code?: number;
  readonly restarts?: number;
  /** Where the runtime log that explains the state is: the use case reads its tail. */
  readonly log_source?: { readonly pod: string; readonly container: string; readonly previous: boolean };
}

export interface StatusInput {
  readonly record: DeployRecord;
  /** A review-mode proposal of a newer version waits on this gitops branch. */
  readonly proposal?: { readonly version: number; readonly gitops_branch: string };
  readonly observation: PreviewObservation;
  /** The served version's memory limit, for the OOMKilled hint. */
  readonly memoryLimit?: string;
  readonly now: string;
}

const PROBE_FIX = (port: number) => `make the app answer HTTP on port ${port} (the first of "ports") at the health path, then deploy again`;

export function previewStatus(input: StatusInput): PreviewStatus {
  const { record, observation: seen } = input;
  const latest = latestVersion(record);
  const serving = currentVersion(record);
  const port = (serving ?? latest).spec.ports[0]!;
  const observed: ('git' | 'build' | 'cluster' | 'url')[] = ['git'];
  if (seen.build) observed.push('build');
  if (seen.cluster.observed) observed.push('cluster');
  if (seen.probe) observed.push('url');
  const base = {
    app: record.app,
    branch: record.branch,
    slug: record.slug,
    url: record.url,
    version: latest.number,
    current_version: serving?.number ?? null,
    observed,
    ...(seen.engine?.revision ? { engine_revision: seen.engine.revision } : {}),
  };
  const at = (state: PreviewState, reason: StatusReason | null, fix: string | null, since: string, extra: Partial<PreviewStatus> = {}) =>
    ({ ...base, state, reason, fix, message: null, since, ...extra }) as PreviewStatus;

  if (record.reaped_at)
    return at('reaped', 'Reaped', 'deploy the branch again to bring the preview back', record.reaped_at);
  if (input.proposal && input.proposal.version >= latest.number) {
    return at(
      'pending-build',
      'AwaitingReview',
      `a reviewer merges the gitops pull request of branch ${input.proposal.gitops_branch}; the build starts after that`,
      latest.created_at,
      { version: input.proposal.version },
    );
  }

  // The newest request decides while it is not served: its build comes first.
  if (latest.status === 'failed') {
    return at('build-failed', 'BuildFailed', 'read the build log (branch_deploy_logs with build: true), fix the build and deploy a new commit', latest.built_at ?? latest.created_at, {
      message: latest.failure ?? null,
    });
  }
  if (latest.status === 'pending-build') {
    if (seen.build?.running)
      return at('building', 'Building', 'wait: the build job is making the image', seen.build.startedAt ?? latest.created_at);
    return at('pending-build', 'BuildPending', 'wait: the build job picks up pending versions (x1deploy build runs every minute by default)', latest.created_at);
  }
  if (!serving) {
    return at('pending-build', 'BuildPending', 'wait for the build job to record the image', latest.created_at);
  }

  const committedAt = serving.deployed_at ?? serving.built_at ?? serving.created_at;
  if (!seen.cluster.observed) {
    return at(
      'syncing',
      'NoClusterAccess',
      'nothing can tell whether the engine applied it: give x1deploy cluster access (KUBECONFIG or in-cluster) to see the rollout',
      committedAt,
      { message: `committed to git; the cluster was not observed: ${seen.cluster.why}` },
    );
  }

  const engine = seen.engine;
  if (engine?.failure) {
    return at('degraded', 'SyncFailed', 'the engine could not apply the manifests; an owner reads its message (and x1deploy verify) and fixes the repo or the cluster', engine.at ?? committedAt, {
      message: engine.failure,
    });
  }
  const deployment = seen.deployment;
  if (!deployment || deployment.version === undefined || deployment.version < serving.number) {
    const where = engine?.revision ? `the engine last applied ${engine.revision.slice(0, 12)}` : 'the engine has not applied it yet';
    return at('syncing', 'NotApplied', 'wait: the engine applies new commits within its sync interval (about 3 minutes)', committedAt, {
      message: `version ${serving.number} is committed; ${where}${deployment?.version !== undefined ? ` and the cluster runs version ${deployment.version}` : ''}`,
    });
  }

  const pods = seen.pods.filter((p) => p.version === undefined || p.version === serving.number);
  const trouble = podTrouble(pods, input.memoryLimit);
  if (trouble) return at('degraded', trouble.reason, trouble.fix, trouble.since ?? committedAt, trouble.extra);
  // Complaints from before this version was committed are about an older rollout.
  const event = eventTrouble(
    seen.events.filter((e) => e.at === undefined || e.at >= committedAt),
    port,
  );
  if (event) return at('degraded', event.reason, event.fix, event.since ?? committedAt, { message: event.message });
  if (deployment.deadlineExceeded) {
    return at('degraded', 'ProgressDeadlineExceeded', 'the rollout stalled; read the runtime log (branch_deploy_logs) and deploy a fix', deployment.at ?? committedAt, {
      message: deployment.deadlineExceeded,
    });
  }
  const want = deployment.replicas;
  if (deployment.updatedReplicas < want || deployment.readyReplicas < want || pods.some((p) => !p.ready)) {
    const since = pods.map((p) => p.createdAt).filter(Boolean).sort()[0] ?? deployment.at ?? committedAt;
    return at('rolling-out', 'RollingOut', 'wait: the new pods are starting', since!, {
      message: `${deployment.readyReplicas}/${want} pods ready`,
    });
  }
  if (seen.probe && !seen.probe.up && want > 0) {
    const said = seen.probe.status !== undefined ? `answered ${seen.probe.status}` : `did not answer (${seen.probe.error ?? 'no answer'})`;
    return at('degraded', 'UrlUnreachable', `${PROBE_FIX(port)}; if it does, an owner checks the ingress and DNS`, seen.probe.at, {
      message: `${seen.probe.url} ${said}`,
    });
  }
  const readySince = pods.flatMap((p) => p.containers.map((c) => c.runningSince)).filter(Boolean).sort().pop() ?? committedAt;
  return at('ready', null, null, readySince!);
}

interface Trouble {
  readonly reason: StatusReason;
  readonly fix: string;
  readonly since?: string;
  readonly extra: Partial<PreviewStatus>;
}

function podTrouble(pods: readonly PodObservation[], memoryLimit: string | undefined): Trouble | undefined {
  for (const pod of pods) {
    for (const c of pod.containers) {
      const waiting = c.waiting?.reason;
      const log = { log_source: { pod: pod.name, container: c.name, previous: c.restartCount > 0 } };
      if (waiting === 'ImagePullBackOff' || waiting === 'ErrImagePull') {
        return {
          reason: 'ImagePullBackOff',
          fix: 'the cluster cannot pull the image: an owner checks that the registry serves it and that the cluster may pull from it',
          since: pod.createdAt,
          extra: { message: c.waiting?.message ?? null },
        };
      }
      if (waiting === 'CreateContainerConfigError') return configError(pod, c);
      if (c.lastTerminated?.reason === 'OOMKilled' || (waiting === 'CrashLoopBackOff' && c.lastTerminated?.exitCode === 137)) {
        return {
          reason: 'OOMKilled',
          fix: `the app used more than its memory limit${memoryLimit ? ` of ${memoryLimit}` : ''}: raise resources.memory in the deploy request or use less memory, then deploy again`,
          since: c.lastTerminated?.finishedAt,
          extra: { exit_code: c.lastTerminated?.exitCode ?? 137, restarts: c.restartCount, message: c.waiting?.message ?? null, ...log },
        };
      }
      if (waiting === 'CrashLoopBackOff' || (c.restartCount > 0 && !c.ready && c.lastTerminated)) {
        return {
          reason: 'CrashLoopBackOff',
          fix: `the app exits soon after it starts${c.lastTerminated ? ` (exit code ${c.lastTerminated.exitCode})` : ''}: read the last lines of its log, fix the app and deploy the fix`,
          since: c.lastTerminated?.finishedAt ?? pod.createdAt,
          extra: {
            ...(c.lastTerminated ? { exit_code: c.lastTerminated.exitCode } : {}),
            restarts: c.restartCount,
            message: c.waiting?.message ?? null,
            ...log,
          },
        };
      }
    }
  }
  return undefined;
}

function configError(pod: PodObservation, c: ContainerObservation): Trouble {
  const message = c.waiting?.message ?? '';
  const key = /couldn't find key ([A-Za-z0-9_.-]{1,253}) in Secret [a-z0-9.-]{1,253}\/([a-z0-9.-]{1,253})/.exec(message);
  const secret = /secret "([a-z0-9.-]{1,253})" not found/.exec(message);
  const fix = key
    ? `ask a workspace owner to add key ${key[1]} to the Secret ${key[2]}, or remove the \${${key[1]}} reference from env and deploy again`
    : secret
      ? `ask a workspace owner to create the Secret ${secret[1]} in the preview namespace`
      : 'a referenced Secret or ConfigMap is missing: ask a workspace owner to create it, or remove the reference from env and deploy again';
  return { reason: 'CreateContainerConfigError', fix, since: pod.createdAt, extra: { message: message || null } };
}

function eventTrouble(events: readonly EventObservation[], port: number): (Trouble & { message: string }) | undefined {
  // Newest first: an old, resolved complaint must not outvote a fresh one.
  const newest = [...events].sort((a, b) => (b.at ?? '').localeCompare(a.at ?? ''));
  for (const e of newest) {
    const message = e.message ?? '';
    if (e.reason === 'FailedCreate' && /exceeded quota/i.test(message))
      return {
        reason: 'QuotaExceeded',
        fix: 'the workspace quota is used up: lower replicas or resources, or have a preview deleted, then deploy again',
        since: e.at,
        extra: {},
        message,
      };
    if (e.reason === 'FailedScheduling')
      return {
        reason: 'Unschedulable',
        fix: 'no node can take the pod: lower resources in the deploy request, or ask an owner to add capacity',
        since: e.at,
        extra: {},
        message,
      };
    if (e.reason === 'Unhealthy' && /^Readiness probe failed/i.test(message))
      return { reason: 'ReadinessProbeFailing', fix: PROBE_FIX(port), since: e.at, extra: {}, message };
  }
  return undefined;
}
