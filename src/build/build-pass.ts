// One pass of the build loop. It keeps no state of its own: the repo says which versions wait for
// an image, the cluster says which Jobs exist, so a builder that was killed resumes where it was.
//
// A pass observes (the repo, each pending version's Job, the registry), then plans purely
// (planBuildPass), then acts (create Jobs, record outcomes, one commit each). For each pending
// version, newest request of a branch first:
//   Job finished  → record its digest (exit 0 only) or its failure
//   Job running   → wait for it
//   no Job        → the tag already in the registry? record its digest, no build;
//                   else create the Job, unless `concurrency` Jobs are already running.
// Only a branch's newest pending version gets a new Job: when it goes live the older ones are
// superseded, so building them would be wasted; when it fails, the next older one is newest.
import type { BuildCluster, KubeObject } from '../cluster/index.js';
import { allProposals, RepoSnapshot, UnknownBranchDeployError, type DeployRecord, type GitopsStore } from '../records/index.js';
import type { ImageRegistry } from '../registry/index.js';
import type { ReviewPort } from '../review/index.js';
import { buildNamespace, type WorkspaceConfig } from '../workspace/index.js';
import { buildJobName, buildJobObject, NotBuildableError, type BuildTarget } from './build-job.js';
import { failureReason, reportedDigest } from './outcome.js';
import { recordBuildOutcome, type BuildOutcome } from './record-outcome.js';

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
  | (BuildRef & { readonly kind: 'waiting'; readonly why: 'concurrency' | 'same-image' | 'newer-version' })
  /**
   * A version proposed for review was built ahead of the merge (or its build failed): nothing is
   * recorded, since the proposal is not on the default branch; once merged, the next pass finds
   * the image (or the Job's failure) and records it at once.
   */
  | (BuildRef & { readonly kind: 'prebuilt'; readonly gitops_branch: string; readonly digest?: string; readonly reason?: string });

export type RecordedEvent = Extract<BuildEvent, { kind: 'found' | 'built' | 'failed' }>;

export function isRecorded(event: BuildEvent): event is RecordedEvent {
  return event.kind === 'found' || event.kind === 'built' || event.kind === 'failed';
}

/** Nothing started, running or waiting: a `--once` run may stop. */
export function isSettled(events: readonly BuildEvent[]): boolean {
  return events.every((e) => isRecorded(e) || e.kind === 'prebuilt');
}

/** A review-mode proposal whose pending versions the build may build ahead of the merge. */
export interface ProposedBuild {
  readonly record: DeployRecord;
  readonly gitops_branch: string;
  readonly repo: string | undefined;
}

/** Pending versions: each branch's newest first (oldest request first across branches), then the older ones. */
export function pendingTargets(
  records: readonly DeployRecord[],
  repos: ReadonlyMap<string, string | undefined>,
  proposals: readonly ProposedBuild[] = [],
): BuildTarget[] {
  const newest: BuildTarget[] = [];
  const older: BuildTarget[] = [];
  for (const record of records) {
    const pending = record.versions.filter((v) => v.status === 'pending-build').reverse();
    pending.forEach((version, i) =>
      (i === 0 ? newest : older).push({ app: record.app, branch: record.branch, slug: record.slug, version, repo: repos.get(record.app) }),
    );
  }
  const byAge = (a: BuildTarget, b: BuildTarget) => a.version.created_at.localeCompare(b.version.created_at);
  // Proposals come after the default branch's work: only their newest version, and only one newer
  // than what the default branch has.
  const known = new Map(records.map((r) => [`${r.app}/${r.slug}`, r.versions.length]));
  const proposed: BuildTarget[] = [];
  for (const p of proposals) {
    const latest = p.record.versions[p.record.versions.length - 1]!;
    if (latest.status !== 'pending-build' || latest.number <= (known.get(`${p.record.app}/${p.record.slug}`) ?? 0)) continue;
    const { app, branch, slug } = p.record;
    proposed.push({ app, branch, slug, version: latest, repo: p.repo, proposal: p.gitops_branch });
  }
  return [...newest.sort(byAge), ...older.sort(byAge), ...proposed.sort(byAge)];
}

/** What a pass saw of one pending version's build before deciding anything. */
export type BuildObservation =
  | { readonly job: 'running' }
  /** The Job finished: the digest to serve (the pod's on exit 0, else the registry's), or why it failed. */
  | { readonly job: 'finished'; readonly digest: string; readonly reason?: undefined }
  | { readonly job: 'finished'; readonly digest?: undefined; readonly reason: string }
  /** No Job: the registry's digest for the tag, when it was asked (only for a branch's newest version). */
  | { readonly job: 'none'; readonly registryDigest?: string };

/** One step of a pass, decided before any is taken. */
export type BuildAction =
  | { readonly kind: 'record'; readonly target: BuildTarget; readonly event: 'found' | 'built' | 'failed'; readonly outcome: BuildOutcome }
  | { readonly kind: 'start'; readonly target: BuildTarget; readonly job: KubeObject }
  | { readonly kind: 'running'; readonly target: BuildTarget }
  | { readonly kind: 'waiting'; readonly target: BuildTarget; readonly why: 'concurrency' | 'same-image' | 'newer-version' }
  | { readonly kind: 'prebuilt'; readonly target: BuildTarget; readonly outcome: BuildOutcome };

// A proposal's versions are their own line: they never make the default branch's pending wait.
const branchKey = (t: BuildTarget) => `${t.app}/${t.slug}${t.proposal ? '@proposal' : ''}`;

/** The outcome of a target: recorded on the default branch, or only reported for a proposal. */
function outcomeAction(target: BuildTarget, event: 'found' | 'built' | 'failed', outcome: BuildOutcome): BuildAction {
  return target.proposal ? { kind: 'prebuilt', target, outcome } : { kind: 'record', target, event, outcome };
}

/** Targets (in pendingTargets order) that are their branch's newest pending version. */
export function newestOfBranch(targets: readonly BuildTarget[]): Set<BuildTarget> {
  const seen = new Set<string>();
  const newest = new Set<BuildTarget>();
  for (const t of targets) {
    if (!seen.has(branchKey(t))) newest.add(t);
    seen.add(branchKey(t));
  }
  return newest;
}

/**
 * The pass's decisions, pure: from the pending targets (in pendingTargets order) and what was
 * observed of each (by Job name), which outcomes to record, which Jobs to start, and what waits.
 */
export function planBuildPass(
  ws: WorkspaceConfig,
  targets: readonly BuildTarget[],
  observed: ReadonlyMap<string, BuildObservation>,
  concurrency: number,
): BuildAction[] {
  const newest = newestOfBranch(targets);
  const actions: BuildAction[] = [];
  // Running Jobs count against the limit wherever they stand in the order.
  let active = [...observed.values()].filter((o) => o.job === 'running').length;
  // Tags a running or new Job is pushing: a second version of the same image waits for it.
  const claimed = new Set(targets.filter((t) => observed.get(buildJobName(t))?.job === 'running').map((t) => t.version.image_ref));
  // Branches a version went live in during this pass: their older pending versions are superseded.
  const wentLive = new Set<string>();
  for (const target of targets) {
    if (wentLive.has(branchKey(target))) continue;
    const seen = observed.get(buildJobName(target)) ?? { job: 'none' };
    if (seen.job === 'running') {
      actions.push({ kind: 'running', target });
      continue;
    }
    if (seen.job === 'finished') {
      if (seen.digest !== undefined) {
        actions.push(outcomeAction(target, 'built', { ok: true, digest: seen.digest }));
        wentLive.add(branchKey(target));
      } else actions.push(outcomeAction(target, 'failed', { ok: false, reason: seen.reason }));
      continue;
    }
    if (!newest.has(target)) {
      actions.push({ kind: 'waiting', target, why: 'newer-version' });
      continue;
    }
    if (seen.registryDigest !== undefined) {
      actions.push(outcomeAction(target, 'found', { ok: true, digest: seen.registryDigest }));
      wentLive.add(branchKey(target));
      continue;
    }
    if (claimed.has(target.version.image_ref)) {
      actions.push({ kind: 'waiting', target, why: 'same-image' });
      continue;
    }
    if (active >= concurrency) {
      actions.push({ kind: 'waiting', target, why: 'concurrency' });
      continue;
    }
    let job: KubeObject;
    try {
      job = buildJobObject(ws, target);
    } catch (err) {
      if (!(err instanceof NotBuildableError)) throw err;
      actions.push(outcomeAction(target, 'failed', { ok: false, reason: err.message }));
      continue;
    }
    actions.push({ kind: 'start', target, job });
    active++;
    claimed.add(target.version.image_ref);
  }
  return actions;
}

/** What the cluster and the registry say about each target's build (the pass's only reads there). */
async function observe(
  targets: readonly BuildTarget[],
  namespace: string,
  options: BuildPassOptions,
): Promise<Map<string, BuildObservation>> {
  const newest = newestOfBranch(targets);
  const tailLines = options.logTailLines ?? 20;
  const observed = new Map<string, BuildObservation>();
  for (const target of targets) {
    const job = buildJobName(target);
    const state = await options.cluster.readJob(namespace, job);
    if (state?.phase === 'running') {
      observed.set(job, { job: 'running' });
    } else if (state) {
      const pods = await options.cluster.podsOfJob(namespace, job);
      // A Job that failed after another build pushed the tag still leaves an image to serve.
      const digest =
        (state.phase === 'succeeded' ? reportedDigest(pods) : undefined) ??
        (await options.registry.manifestDigest(target.version.image_ref));
      if (digest) observed.set(job, { job: 'finished', digest });
      else {
        const reason =
          state.phase === 'succeeded'
            ? `build Job ${job} completed, but its pod reported no image digest and the registry has no ${target.version.image_ref}`
            : await failureReason(options.cluster, namespace, state, pods, tailLines);
        observed.set(job, { job: 'finished', reason });
      }
    } else if (newest.has(target)) {
      const registryDigest = await options.registry.manifestDigest(target.version.image_ref);
      observed.set(job, registryDigest ? { job: 'none', registryDigest } : { job: 'none' });
    }
  }
  return observed;
}

export async function buildPass(store: GitopsStore, options: BuildPassOptions): Promise<BuildEvent[]> {
  const snapshot = await RepoSnapshot.atHead(store);
  const ws = await snapshot.workspace();
  const records = await snapshot.allDeployRecords();
  const apps = [...new Set(records.map((r) => r.app))];
  const repos = new Map(await Promise.all(apps.map(async (a) => [a, (await snapshot.app(a))?.repo] as const)));
  const namespace = buildNamespace(ws);
  const clock = options.clock ?? (() => new Date());
  const proposals = await Promise.all(
    (await allProposals(store)).map(async (p) => ({
      record: p.record,
      gitops_branch: p.gitops_branch,
      // A new app's repo is on its proposal branch only.
      repo: repos.get(p.record.app) ?? (await new RepoSnapshot(store, p.commit).app(p.record.app))?.repo,
    })),
  );
  const targets = pendingTargets(records, repos, proposals);
  const actions = planBuildPass(ws, targets, await observe(targets, namespace, options), options.concurrency);

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
  const events: BuildEvent[] = [];
  for (const action of actions) {
    const t = action.target;
    const ref: BuildRef = {
      app: t.app,
      branch: t.branch,
      slug: t.slug,
      version: t.version.number,
      image_ref: t.version.image_ref,
      job: buildJobName(t),
    };
    switch (action.kind) {
      case 'running':
        events.push({ ...ref, kind: 'running' });
        break;
      case 'waiting':
        events.push({ ...ref, kind: 'waiting', why: action.why });
        break;
      case 'start':
        await options.cluster.createJob(namespace, action.job);
        events.push({ ...ref, kind: 'started' });
        break;
      case 'prebuilt':
        events.push({
          ...ref,
          kind: 'prebuilt',
          gitops_branch: t.proposal!,
          ...(action.outcome.ok ? { digest: action.outcome.digest } : { reason: action.outcome.reason }),
        });
        break;
      case 'record': {
        const commit = await record(t, action.outcome);
        events.push(
          action.outcome.ok
            ? { ...ref, kind: action.event as 'found' | 'built', digest: action.outcome.digest, commit }
            : { ...ref, kind: 'failed', reason: action.outcome.reason, commit },
        );
        break;
      }
    }
  }
  return events;
}
