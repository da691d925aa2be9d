// The version state machine, kept in one place:
//
//   pending-build ──build ok──► built ──made current──► live ──newer version live──► superseded
//        │                                               ▲
//        └──build failed──► failed                       └── rollback makes a built/superseded version live again
//
// The preview serves `current_version` (always a version with an image digest). Until one exists,
// the branch renders its newest version with replicas 0: nothing runs an image that was never built.
import type { BranchStatus, DeployRecord, Version, VersionSpec } from '../records/index.js';
import { pinnedImageRef } from '../spec/index.js';

export interface NewVersion {
  readonly commit_sha: string;
  readonly spec: VersionSpec;
  readonly image_ref: string;
  readonly requested_by: string;
  readonly now: string;
}

export interface AddVersionResult {
  readonly record: DeployRecord;
  readonly version: Version;
  /** False when the request is what the branch already has: nothing to commit. */
  readonly changed: boolean;
}

/** Whether two versions ask for the same thing (commit and spec), whenever they were asked. */
export function sameRequest(a: Version, b: Version): boolean {
  return a.commit_sha === b.commit_sha && sameSpec(a.spec, b.spec);
}

function sameSpec(a: VersionSpec, b: VersionSpec): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

export function latestVersion(record: DeployRecord): Version {
  return record.versions[record.versions.length - 1]!;
}

export function currentVersion(record: DeployRecord): Version | undefined {
  return record.current_version === undefined ? undefined : record.versions[record.current_version - 1];
}

export function branchStatus(record: Pick<DeployRecord, 'versions' | 'current_version'>): BranchStatus {
  if (record.current_version !== undefined) return 'live';
  return record.versions[record.versions.length - 1]?.status === 'failed' ? 'failed' : 'pending';
}

/**
 * Add a version for a request. The same commit and spec as the newest version changes nothing.
 * A commit that was already built (an env-only change, say) reuses its digest and goes live at once.
 */
export function addVersion(record: DeployRecord, next: NewVersion): AddVersionResult {
  const latest = latestVersion(record);
  if (latest.commit_sha === next.commit_sha && latest.status !== 'failed' && sameSpec(latest.spec, next.spec)) {
    return { record, version: latest, changed: false };
  }
  const built = [...record.versions].reverse().find((v) => v.commit_sha === next.commit_sha && v.digest);
  const version = pendingVersion(record.versions.length + 1, next);
  let updated: DeployRecord = { ...record, versions: [...record.versions, version] };
  if (built?.digest) {
    updated = makeLive(updated, version.number, { digest: built.digest, built_at: built.built_at ?? next.now, now: next.now });
  }
  return { record: updated, version: updated.versions[version.number - 1]!, changed: true };
}

function pendingVersion(number: number, next: NewVersion): Version {
  const { commit_sha, image_ref, requested_by, now, spec } = next;
  return { number, commit_sha, image_ref, status: 'pending-build', requested_by, created_at: now, spec };
}

/** The first version of a new branch deploy. */
export function firstVersion(base: Omit<DeployRecord, 'versions' | 'current_version' | 'status'>, next: NewVersion): AddVersionResult {
  const version = pendingVersion(1, next);
  const record: DeployRecord = { ...base, status: 'pending', versions: [version] };
  return { record, version, changed: true };
}

interface BuildOutcome {
  readonly digest: string;
  readonly built_at: string;
  readonly now: string;
}

/** A build finished: the version gets its digest and becomes the one the preview serves. */
export function recordBuild(record: DeployRecord, number: number, outcome: BuildOutcome): DeployRecord {
  return makeLive(record, number, outcome);
}

/** A build failed: the version is marked failed; the branch keeps serving what it served. */
export function recordBuildFailure(record: DeployRecord, number: number, reason: string): DeployRecord {
  const versions = record.versions.map((v) => (v.number === number ? { ...v, status: 'failed' as const, failure: reason } : v));
  return withStatus({ ...record, versions });
}

/**
 * Serve an earlier built version again: no rebuild, its image is still in the registry. The
 * caller checks that the version exists, was built and is not current.
 */
export function rollbackTo(record: DeployRecord, number: number, now: string): DeployRecord {
  const target = record.versions[number - 1];
  if (!target?.digest) throw new Error(`version ${number} has no image digest`);
  // A build still pending would roll the branch forward again when it lands: the rollback wins.
  return makeLive(record, number, { digest: target.digest, built_at: target.built_at ?? now, now }, { supersedePending: true });
}

/** The version a rollback goes to by default: the newest built version below the current one. */
export function previousBuiltVersion(record: DeployRecord): Version | undefined {
  const below = record.current_version ?? record.versions.length + 1;
  return [...record.versions].reverse().find((v) => v.number < below && v.digest !== undefined);
}

function makeLive(record: DeployRecord, number: number, outcome: BuildOutcome, options: { supersedePending?: boolean } = {}): DeployRecord {
  const versions = record.versions.map((v): Version => {
    if (v.number === number) {
      return {
        ...v,
        status: 'live',
        digest: outcome.digest,
        built_at: v.built_at ?? outcome.built_at,
        deployed_at: outcome.now,
        failure: undefined,
      };
    }
    if (v.status === 'live') return { ...v, status: 'superseded' };
    // An older request that never got its image will never be served now.
    if (v.status === 'pending-build' && (v.number < number || options.supersedePending)) return { ...v, status: 'superseded' };
    return v;
  });
  return withStatus({ ...record, versions: versions.map(dropUndefined), current_version: number });
}

function withStatus(record: DeployRecord): DeployRecord {
  return { ...record, status: branchStatus(record) };
}

function dropUndefined<T extends object>(v: T): T {
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as T;
}

/** What the preview runs now: the current version with its digest, or the newest version scaled to zero. */
export interface ServedVersion {
  readonly version: Version;
  readonly image: string;
  readonly replicas: number;
}

export function servedVersion(record: DeployRecord, defaultReplicas: number): ServedVersion {
  const current = currentVersion(record);
  if (current?.digest) {
    return {
      version: current,
      image: pinnedImageRef(current.image_ref, current.digest),
      replicas: current.spec.replicas ?? defaultReplicas,
    };
  }
  const latest = latestVersion(record);
  return { version: latest, image: latest.image_ref, replicas: 0 };
}
