// The live state of one preview: git says what was asked, the build, the engine and the cluster say
// what happened, the URL says whether it answers. Without cluster access the answer says so and
// rests on git alone.
import { z } from 'zod';
import { workspaceScope, type PreviewCluster, type WorkspaceObservation } from '../cluster/index.js';
import { InvalidRequestError, X1Error } from '../errors/index.js';
import { probePreview } from '../probe/index.js';
import { publishForReview, type Published, type ReviewPort } from '../review/index.js';
import { proposalOf, RepoSnapshot, UnknownBranchDeployError, type DeployRecord, type GitopsStore } from '../records/index.js';
import { AppNameSchema, branchSlug, scrubSecrets, toFieldIssues } from '../spec/index.js';
import { previewStatus, SETTLED_STATES, type PreviewObservation, type PreviewStatus } from '../status/index.js';
import { currentVersion } from '../versions/index.js';
import type { WorkspaceConfig } from '../workspace/index.js';
import { previewObservation } from './scope.js';

export const PreviewRefSchema = z.strictObject({
  app: AppNameSchema,
  branch: z.string().min(1).max(255).describe('The branch of the app repo.'),
});
export type PreviewRef = z.output<typeof PreviewRefSchema>;

/** How x1deploy reaches the cluster and the previews; both optional. */
export interface ObservePorts {
  /** The cluster, or why there is none (the embedded default has none). */
  readonly cluster: PreviewCluster | { readonly unavailable: string };
  /** How to reach preview URLs; false: do not probe. */
  readonly probe: { readonly timeoutMs: number; readonly resolve?: ReadonlyMap<string, string>; readonly ca?: string } | false;
  readonly clock?: () => Date;
}

/** The status answer: the model's fields plus, for a crashing app, the last lines of its log. */
export type LiveStatus = PreviewStatus & { readonly log_tail?: string };

const STATUS_LOG_LINES = 20;
const STATUS_LOG_BYTES = 4096;

export function parsePreviewRef(input: unknown): PreviewRef {
  const parsed = PreviewRefSchema.safeParse(input);
  if (!parsed.success) throw new InvalidRequestError(toFieldIssues(parsed.error));
  return parsed.data;
}

export async function liveStatus(store: GitopsStore, input: unknown, ports: ObservePorts): Promise<LiveStatus> {
  const ref = parsePreviewRef(input);
  const now = (ports.clock ?? (() => new Date()))().toISOString();
  const { ws, record, proposal } = await readPreview(store, ref);
  let seen: Omit<PreviewObservation, 'probe'>;
  if ('unavailable' in ports.cluster) {
    seen = { cluster: { observed: false, why: ports.cluster.unavailable }, pods: [], events: [] };
  } else {
    try {
      seen = previewObservation(await ports.cluster.observe(workspaceScope(ws)), record);
    } catch (err) {
      if (!(err instanceof X1Error) || err.kind === 'internal') throw err;
      seen = { cluster: { observed: false, why: err.message }, pods: [], events: [] };
    }
  }
  const memoryLimit = currentVersion(record)?.spec.resources?.memory ?? ws.defaults.limits.memory;
  const compute = (observation: PreviewObservation) =>
    previewStatus({ record, ...(proposal ? { proposal } : {}), observation, memoryLimit, now });
  let status = compute(seen);
  // The URL is asked last, and only when everything else says ready: a probe of a pod that is
  // not up would only cost its timeout.
  if (status.state === 'ready' && ports.probe && seen.cluster.observed) {
    status = compute({ ...seen, probe: await probePreview(record.url, ports.probe, ports.clock) });
  }
  const scrubbed = { ...status, ...(status.message ? { message: scrubSecrets(status.message) } : {}) };
  if (!status.log_source || 'unavailable' in ports.cluster) return scrubbed;
  const { pod, container, previous } = status.log_source;
  try {
    const log = await ports.cluster.podLog(workspaceScope(ws).namespace, pod, container, {
      tailLines: STATUS_LOG_LINES,
      limitBytes: STATUS_LOG_BYTES,
      previous,
    });
    return { ...scrubbed, log_tail: scrubSecrets(log).slice(-STATUS_LOG_BYTES) };
  } catch {
    return scrubbed; // the state stands without its log
  }
}

export interface WaitOptions {
  /** Give up after this long; the answer then carries the last state seen. */
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Called with each new state (for progress lines). */
  readonly onChange?: (status: LiveStatus) => void;
}

/** Poll until the preview settles (ready, degraded, build-failed, reaped) or the time is up. */
export async function waitForSettled(
  store: GitopsStore,
  input: unknown,
  ports: ObservePorts,
  options: WaitOptions,
): Promise<{ readonly status: LiveStatus; readonly timed_out: boolean; readonly waited_ms: number }> {
  const started = Date.now();
  const interval = options.intervalMs ?? 1000;
  let last: LiveStatus | undefined;
  for (;;) {
    const status = await liveStatus(store, input, ports);
    if (!last || last.state !== status.state || last.reason !== status.reason) options.onChange?.(status);
    last = status;
    const waited = Date.now() - started;
    if (SETTLED_STATES.has(status.state)) return { status, timed_out: false, waited_ms: waited };
    if (waited + interval > options.timeoutMs) return { status, timed_out: true, waited_ms: waited };
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** The record on the default branch, or the one waiting for review. */
async function readPreview(
  store: GitopsStore,
  ref: PreviewRef,
): Promise<{ ws: WorkspaceConfig; record: DeployRecord; proposal?: { version: number; gitops_branch: string } }> {
  const snapshot = await RepoSnapshot.atHead(store);
  const ws = await snapshot.workspace();
  const slug = branchSlug(ref.app, ref.branch);
  const onMain = await snapshot.deployRecord(ref.app, slug);
  const record = onMain && onMain.branch === ref.branch ? onMain : undefined;
  const proposed = await proposalOf(store, ref.app, slug);
  const waiting =
    proposed && proposed.record.branch === ref.branch && (!record || proposed.record.versions.length > record.versions.length)
      ? { version: proposed.record.versions.length, gitops_branch: proposed.gitops_branch }
      : undefined;
  if (record) return { ws, record, ...(waiting ? { proposal: waiting } : {}) };
  if (proposed && waiting) return { ws, record: proposed.record, proposal: waiting };
  throw new UnknownBranchDeployError(ref.app, ref.branch);
}

/**
 * Tell the reviewers what was observed (the preview comment, the GitHub deployment's status:
 * success with the URL only once ready). A failure to tell them is returned, never thrown.
 */
export async function reportObserved(store: GitopsStore, review: ReviewPort, status: LiveStatus): Promise<Published> {
  const snapshot = await RepoSnapshot.atHead(store);
  const [record, app] = await Promise.all([snapshot.deployRecord(status.app, status.slug), snapshot.app(status.app)]);
  const version = record?.versions[status.version - 1];
  if (!record || !version || !app?.repo) return {};
  return publishForReview(review, { title: '', record, version, agent: 'x1deploy', changes: [], sourceRepo: app.repo, live: status });
}

/**
 * Every preview's state from one look at the cluster (no URL probes: a page of 100 previews must
 * not wait on 100 URLs). For overviews: the status page, the API's list.
 */
export async function workspaceStatuses(store: GitopsStore, ports: ObservePorts): Promise<LiveStatus[]> {
  const snapshot = await RepoSnapshot.atHead(store);
  const [ws, records] = await Promise.all([snapshot.workspace(), snapshot.allDeployRecords()]);
  const now = (ports.clock ?? (() => new Date()))().toISOString();
  let seen: WorkspaceObservation | string;
  if ('unavailable' in ports.cluster) seen = ports.cluster.unavailable;
  else {
    try {
      seen = await ports.cluster.observe(workspaceScope(ws));
    } catch (err) {
      if (!(err instanceof X1Error) || err.kind === 'internal') throw err;
      seen = err.message;
    }
  }
  return records.map((record) => {
    const observation: PreviewObservation =
      typeof seen === 'string' ? { cluster: { observed: false, why: seen }, pods: [], events: [] } : previewObservation(seen, record);
    const status = previewStatus({ record, observation, now });
    return status.message ? { ...status, message: scrubSecrets(status.message) } : status;
  });
}
