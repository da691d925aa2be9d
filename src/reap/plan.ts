// Which previews a sweep removes: a pure decision from the records and the evidence gathered.
//
// Reaping deletes, so it acts only on positive evidence and treats every doubt as "keep": a listing
// that failed, was cut short or came back empty proves nothing (Argo CD deleted every preview when
// its SCM API erred: argo-cd #11464, #14318); a host with no traffic data yet is not idle; an app
// whose record names no source repo has no listing at all. Each doubt is reported in `skipped`.
import { appRecordPath } from '../layout/index.js';
import { BranchListingError, type BranchListing } from '../scm/index.js';
import type { AppRecord, DeployRecord } from '../records/index.js';
import type { HostTraffic } from '../traffic/index.js';

export type ReapReason = 'branch-gone' | 'idle';

/** Traffic a preview host served in the idle window; no-data: no series for it (yet). */

export interface ReapItem {
  readonly app: string;
  readonly branch: string;
  readonly slug: string;
  readonly url: string;
  readonly reason: ReapReason;
  /** Why, in a sentence: the evidence. */
  readonly detail: string;
}

/** A check that could not be made for an app: none of its previews is reaped for that reason. */
export interface SkippedCheck {
  readonly app: string;
  /** Set when the check was skipped for one branch deploy only (the listing grace window). */
  readonly branch?: string;
  readonly repo?: string;
  readonly check: ReapReason;
  readonly why: string;
}

export interface ReapPlan {
  readonly reap: readonly ReapItem[];
  readonly skipped: readonly SkippedCheck[];
  /** More previews would be reaped than maxDeletions allows: nothing may be changed. */
  readonly stoppedByLimit: boolean;
  readonly maxDeletions: number;
  /** Branch deploys other than the apps' default branches. */
  readonly previews: number;
}

export interface ReapInput {
  readonly records: readonly DeployRecord[];
  /** App records by name; an app without one is left alone (its default branch is unknown). */
  readonly apps: ReadonlyMap<string, AppRecord>;
  /** Listings by source repo URL, as app.yaml spells it. A repo not in the map proves nothing. */
  readonly listings: ReadonlyMap<string, BranchListing | BranchListingError>;
  /** When the listings started; default `now`. A preview deployed after that is not in them. */
  readonly listedAt?: Date;
  /** Host → traffic; an Error when it could not be read; undefined when idle reaping is off. */
  readonly traffic?: ReadonlyMap<string, HostTraffic> | Error;
  readonly idleDays?: number;
  readonly now: Date;
  /** Default: a quarter of the previews, at least 1. */
  readonly maxDeletions?: number;
  /** Ignore maxDeletions. */
  readonly force?: boolean;
}

const DAY_MS = 86_400_000;

/**
 * Deploy timestamps come from whichever machine deployed, listings from this one: a deploy stamped
 * up to this long before the listing began may still be newer than it, so it waits for the next sweep.
 */
export const LISTING_GRACE_MS = 10 * 60_000;

/** A quarter of the previews, at least 1: a sweep that wants more looks like a broken listing. */
export function defaultMaxDeletions(previews: number): number {
  return Math.max(1, Math.floor(previews / 4));
}

export function planReap(input: ReapInput): ReapPlan {
  const reap: ReapItem[] = [];
  const skipped: SkippedCheck[] = [];
  const skippedOnce = new Set<string>();
  const skip = (entry: SkippedCheck) => {
    const key = `${entry.app}\n${entry.check}\n${entry.branch ?? ''}`;
    if (skippedOnce.has(key)) return;
    skippedOnce.add(key);
    skipped.push(entry);
  };
  const listedAt = (input.listedAt ?? input.now).getTime();
  let previews = 0;

  for (const record of input.records) {
    const app = input.apps.get(record.app);
    if (app === undefined) {
      for (const check of ['branch-gone', 'idle'] as const) {
        skip({ app: record.app, check, why: `${appRecordPath(record.app)} is missing, so its default branch is unknown` });
      }
      continue;
    }
    if (record.branch === app.default_branch) continue;
    previews += 1;
    const lastActivity = lastActivityOf(record);
    const item = { app: record.app, branch: record.branch, slug: record.slug, url: record.url };

    const gone = branchGone(record, app, input.listings, lastActivity, listedAt, skip);
    if (gone !== undefined) {
      reap.push({ ...item, reason: 'branch-gone', detail: gone });
      continue;
    }
    const idle = idleFor(record, app, input, lastActivity, skip);
    if (idle !== undefined) reap.push({ ...item, reason: 'idle', detail: idle });
  }

  const maxDeletions = input.maxDeletions ?? defaultMaxDeletions(previews);
  return { reap, skipped, stoppedByLimit: input.force !== true && reap.length > maxDeletions, maxDeletions, previews };
}

/** The detail of a positively gone branch, or undefined. */
function branchGone(
  record: DeployRecord,
  app: AppRecord,
  listings: ReapInput['listings'],
  lastActivity: number,
  listedAt: number,
  skip: (entry: SkippedCheck) => void,
): string | undefined {
  if (app.repo === undefined) {
    skip({ app: app.name, check: 'branch-gone', why: 'app.yaml names no source repo, so no branch listing can show a branch gone' });
    return undefined;
  }
  const listing = listings.get(app.repo);
  if (listing === undefined) {
    skip({ app: app.name, repo: app.repo, check: 'branch-gone', why: 'its source repo was not listed in this sweep' });
    return undefined;
  }
  if (listing instanceof BranchListingError) {
    skip({ app: app.name, repo: listing.repo, check: 'branch-gone', why: listing.message });
    return undefined;
  }
  if (listing.branches.has(record.branch)) return undefined;
  // Deployed after the listing began: the branch may have been pushed after it, too.
  if (lastActivity >= listedAt - LISTING_GRACE_MS) {
    skip({
      app: app.name,
      branch: record.branch,
      check: 'branch-gone',
      why: `branch ${record.branch} is missing from the listing, but it was deployed within ${LISTING_GRACE_MS / 60_000} minutes of it (it may have been pushed after the listing began); the next sweep decides`,
    });
    return undefined;
  }
  return `branch ${record.branch} is not among the ${listing.branches.size} branches of ${app.repo} in a complete listing`;
}

function idleFor(
  record: DeployRecord,
  app: AppRecord,
  input: ReapInput,
  lastActivity: number,
  skip: (entry: SkippedCheck) => void,
): string | undefined {
  const { traffic, idleDays } = input;
  if (traffic === undefined || idleDays === undefined) return undefined;
  if (traffic instanceof Error) {
    skip({ app: app.name, check: 'idle', why: traffic.message });
    return undefined;
  }
  // A deploy is activity too: a preview younger than the window has not had the chance to be idle.
  if (lastActivity > input.now.getTime() - idleDays * DAY_MS) return undefined;
  const host = new URL(record.url).hostname;
  if ((traffic.get(host) ?? 'no-data') !== 'idle') return undefined;
  return `${host} served no HTTP request in the last ${idleDays} days, and the last deploy is older than that`;
}

/** The newest timestamp in the record: its creation, or any version's request, build or deploy. */
export function lastActivityOf(record: DeployRecord): number {
  let last = Date.parse(record.created_at);
  for (const v of record.versions) {
    for (const stamp of [v.created_at, v.built_at, v.deployed_at]) if (stamp !== undefined) last = Math.max(last, Date.parse(stamp));
  }
  return last;
}
