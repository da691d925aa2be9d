// One pass of the build loop. It keeps no state of its own: the repo says which versions wait for
// an image, the cluster says which Jobs exist, so a builder that was killed resumes where it was.
//
// For each pending version, newest request of a branch first:
//   Job finished  → record its digest (exit 0 only) or its failure, in one commit
//   Job running   → wait for it
//   no Job        → the tag already in the registry? record its digest, no build;
//                   else create the Job, unless `concurrency` Jobs are already running.
// Only a branch's newest pending version gets a new Job: when it goes live the older ones are
// superseded, so building them would be wasted; when it fails, the next older one is newest.
import { UnknownBranchDeployError } from '../deploy/errors.js';
import type { GitopsStore } from '../gitops/store.js';
import { RepoSnapshot } from '../records/snapshot.js';
import type { DeployRecord } from '../records/deploy-record.js';
import { buildJobName, buildJobObject, buildNamespace, NotBuildableError, type BuildTarget } from './build-job.js';
import type { BuildCluster } from './cluster.js';
import { failureReason, reportedDigest } from './outcome.js';
import type { ReviewPort } from '../review/review-port.js';
import { recordBuildOutcome, type BuildOutcome } from './record-outcome.js';
import type { ImageRegistry } from './registry.js';

export interface BuildPassOptions {
  readonly cluster: BuildCluster;
  readonly registry: ImageRegistry;
  /** Most build Jobs running at once. */
  readonly concurrency: number;
  /** Log lines kept in a failure. */
  readonly logTailLines?: number;
  readonly clock?: () => Date;
  /** Keeps the preview comment on the app's pull request up to date as versions go live or fail. */
  readonly review?: ReviewPort;
}

export interface BuildRef {
  readonly app: string;
  readonly branch: string;
  readonly slug: string;
  readonly version: number;
  readonly image_ref: string;
  readonly job: string;
}

export type BuildEvent =
  /** The tag was in the registry already: recorded without a build. */
  | (BuildRef & { readonly kind: 'found'; readonly digest: string; readonly commit: string | null })
  | (BuildRef & { readonly kind: 'built'; readonly digest: string; readonly commit: string | null })
  | (BuildRef & { readonly kind: 'failed'; readonly reason: string; readonly commit: string | null })
  | (BuildRef & { readonly kind: 'started' })
  | (BuildRef & { readonly kind: 'running' })
  /** Not started yet: the concurrency limit, another version's Job pushes the same tag, or a newer version of the branch is pending. */
  | (BuildRef & { readonly kind: 'waiting'; readonly why: 'concurrency' | 'same-image' | 'newer-version' });

export type RecordedEvent = Extract<BuildEvent, { kind: 'found' | 'built' | 'failed' }>;

export function isRecorded(event: BuildEvent): event is RecordedEvent {
  return event.kind === 'found' || event.kind === 'built' || event.kind === 'failed';
}

/** Nothing started, running or waiting: a `--once` run may stop. */
export function isSettled(events: readonly BuildEvent[]): boolean {
  return events.every(isRecorded);
}

/** Pending versions: each branch's newest first (oldest request first across branches), then the older ones. */
export function pendingTargets(records: readonly DeployRecord[], repos: ReadonlyMap<string, string | undefined>): BuildTarget[] {
  const newest: BuildTarget[] = [];
  const older: BuildTarget[] = [];
  for (const record of records) {
    const pending = record.versions.filter((v) => v.status === 'pending-build').reverse();
    pending.forEach((version, i) =>
      (i === 0 ? newest : older).push({ app: record.app, branch: record.branch, slug: record.slug, version, repo: repos.get(record.app) }),
    );
  }
  const byAge = (a: BuildTarget, b: BuildTarget) => a.version.created_at.localeCompare(b.version.created_at);
  return [...newest.sort(byAge), ...older.sort(byAge)];
}

export async function buildPass(store: GitopsStore, options: BuildPassOptions): Promise<BuildEvent[]> {
  const snapshot = await RepoSnapshot.atHead(store);
  const ws = await snapshot.workspace();
  const records = await snapshot.allDeployRecords();
  const apps = [...new Set(records.map((r) => r.app))];
  const repos = new Map(await Promise.all(apps.map(async (a) => [a, (await snapshot.app(a))?.repo] as const)));
  const namespace = buildNamespace(ws);
  const tailLines = options.logTailLines ?? 20;
  const clock = options.clock ?? (() => new Date());

  const events: BuildEvent[] = [];
  let active = 0;
  // Tags a running or new Job is pushing: a second version of the same image waits for it.
  const claimed = new Set<string>();
  // Branches whose newest pending version came already (targets come newest first), and those
  // it went live in: their older pending versions are superseded now.
  const branchesSeen = new Set<string>();
  const wentLive = new Set<string>();

  const record = async (target: BuildTarget, outcome: BuildOutcome) => {
    const ref = { app: target.app, slug: target.slug, version: target.version.number };
    try {
      return (await recordBuildOutcome(store, ref, outcome, clock(), options.review)) ?? null;
    } catch (err) {
      // Reaped while it built: there is nothing left to record the outcome in.
      if (err instanceof UnknownBranchDeployError) return null;
      throw err;
    }
  };

  for (const target of pendingTargets(records, repos)) {
    const branchKey = `${target.app}/${target.slug}`;
    const newest = !branchesSeen.has(branchKey);
    branchesSeen.add(branchKey);
    if (wentLive.has(branchKey)) continue;
    const job = buildJobName(target);
    const ref: BuildRef = {
      app: target.app,
      branch: target.branch,
      slug: target.slug,
      version: target.version.number,
      image_ref: target.version.image_ref,
      job,
    };
    const state = await options.cluster.readJob(namespace, job);

    if (state?.phase === 'running') {
      active++;
      claimed.add(ref.image_ref);
      events.push({ ...ref, kind: 'running' });
      continue;
    }
    if (state) {
      const pods = await options.cluster.podsOfJob(namespace, job);
      // A Job that failed after another build pushed the tag still leaves an image to serve.
      const digest =
        (state.phase === 'succeeded' ? reportedDigest(pods) : undefined) ?? (await options.registry.manifestDigest(ref.image_ref));
      if (digest) {
        events.push({ ...ref, kind: 'built', digest, commit: await record(target, { ok: true, digest }) });
        wentLive.add(branchKey);
      } else {
        const reason =
          state.phase === 'succeeded'
            ? `build Job ${job} completed, but its pod reported no image digest and the registry has no ${ref.image_ref}`
            : await failureReason(options.cluster, namespace, state, pods, tailLines);
        events.push({ ...ref, kind: 'failed', reason, commit: await record(target, { ok: false, reason }) });
      }
      continue;
    }

    if (!newest) {
      events.push({ ...ref, kind: 'waiting', why: 'newer-version' });
      continue;
    }
    const digest = await options.registry.manifestDigest(ref.image_ref);
    if (digest) {
      events.push({ ...ref, kind: 'found', digest, commit: await record(target, { ok: true, digest }) });
      wentLive.add(branchKey);
      continue;
    }
    if (claimed.has(ref.image_ref)) {
      events.push({ ...ref, kind: 'waiting', why: 'same-image' });
      continue;
    }
    if (active >= options.concurrency) {
      events.push({ ...ref, kind: 'waiting', why: 'concurrency' });
      continue;
    }
    let object;
    try {
      object = buildJobObject(ws, target);
    } catch (err) {
      if (!(err instanceof NotBuildableError)) throw err;
      events.push({ ...ref, kind: 'failed', reason: err.message, commit: await record(target, { ok: false, reason: err.message }) });
      continue;
    }
    await options.cluster.createJob(namespace, object);
    active++;
    claimed.add(ref.image_ref);
    events.push({ ...ref, kind: 'started' });
  }
  return events;
}
