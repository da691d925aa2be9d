// One reap sweep: gather the evidence (branch listings, traffic), plan, remove the reaped previews'
// folders in one commit, then delete their images. Evidence is gathered once; if the gitops branch
// moves before the commit lands, the plan is made again from the new tip's records.
import { branchDeployDir, renderedDir } from '../layout/index.js';
import { RepoSnapshot, type AppRecord, type DeployRecord, type GitopsStore } from '../records/index.js';
import { systemCommitter, withFreshTip } from '../transaction/index.js';
import { removeReapedImages, type ImageOutcome } from './images.js';
import { listSourceRepos, type ListingReport } from './listings.js';
import { reapMessage } from './message.js';
import { publishForReview, type ReviewPort } from '../review/index.js';
import { planReap, type ReapPlan } from './plan.js';
import type { ReapSources } from './sources.js';
import { previewHostRegex, type HostTraffic } from '../traffic/index.js';

export interface ReapOptions {
  readonly sources: ReapSources;
  readonly clock?: () => Date;
  /** Plan and report; change nothing. */
  readonly dryRun?: boolean;
  /** Default: a quarter of the previews, at least 1. */
  readonly maxDeletions?: number;
  /** Reap past maxDeletions. */
  readonly force?: boolean;
  /** Source repos listed at once; default 8. */
  readonly concurrency?: number;
  readonly maxAttempts?: number;
  /** Tell the reviewers: the preview comment says reaped and the GitHub deployment goes inactive. */
  readonly review?: ReviewPort;
}

export interface ReapResult {
  readonly plan: ReapPlan;
  readonly dryRun: boolean;
  /** The reap commit; undefined when nothing was (or could be) reaped. */
  readonly commit?: string;
  readonly listings: readonly ListingReport[];
  readonly images: readonly ImageOutcome[];
  /** Problems that did not stop the sweep (the ETag cache could not be saved, …). */
  readonly warnings: readonly string[];
}

interface RepoState {
  readonly records: DeployRecord[];
  readonly apps: Map<string, AppRecord>;
}

export async function reapPreviews(store: GitopsStore, options: ReapOptions): Promise<ReapResult> {
  const clock = options.clock ?? (() => new Date());
  const { sources } = options;
  const warnings: string[] = [];
  const first = await RepoSnapshot.atHead(store);
  const ws = await first.workspace();
  const initial = await readState(first);

  const listedAt = clock();
  const { listings, reports } = await listSourceRepos(previewedBranches(initial), sources.branchSource, options.concurrency ?? 8);
  try {
    await sources.finish?.();
  } catch (error) {
    warnings.push(error instanceof Error ? error.message : String(error));
  }

  const idleDays = ws.reap.idleDays;
  let traffic: Map<string, HostTraffic> | Error | undefined;
  if (idleDays !== undefined && sources.traffic !== undefined) {
    const hosts = previewHosts(initial);
    traffic = await sources.traffic
      .classify(hosts, { idleDays, hostRegex: previewHostRegex(ws.workspace) })
      .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  }

  const now = clock();
  const planned = await withFreshTip(
    store,
    async (snapshot) => {
      const state = snapshot.commit === first.commit ? initial : await readState(snapshot);
      const plan = planReap({
        records: state.records,
        apps: state.apps,
        listings,
        listedAt,
        traffic,
        idleDays,
        now,
        maxDeletions: options.maxDeletions,
        force: options.force,
      });
      if (options.dryRun || plan.stoppedByLimit || plan.reap.length === 0) return { plan, state, commit: undefined };
      const changes = new Map<string, null>();
      for (const item of plan.reap) {
        changes.set(branchDeployDir(item.app, item.slug), null);
        changes.set(renderedDir(item.app, item.slug), null);
      }
      const commit = await store.commit({
        parent: snapshot.commit,
        changes,
        message: reapMessage(plan.reap),
        author: systemCommitter('reap', now),
      });
      return { plan, state, commit };
    },
    options.maxAttempts,
  );

  const base = { plan: planned.plan, dryRun: options.dryRun === true, listings: reports, warnings };
  if (planned.commit === undefined) return { ...base, images: [] };
  if (options.review) warnings.push(...(await tellReviewers(options.review, planned.plan, planned.state, now)));
  return { ...base, commit: planned.commit, images: await removeImages(store, sources, planned.plan, planned.state) };
}

/** Each reaped preview's comment and GitHub deployment say so; a failure is a warning, the reap stands. */
async function tellReviewers(review: ReviewPort, plan: ReapPlan, state: RepoState, now: Date): Promise<string[]> {
  const warnings: string[] = [];
  for (const item of plan.reap) {
    const record = state.records.find((r) => r.app === item.app && r.slug === item.slug);
    const sourceRepo = state.apps.get(item.app)?.repo;
    if (!record || !sourceRepo) continue;
    const reaped = { ...record, reaped_at: now.toISOString() };
    const told = await publishForReview(review, {
      title: `Reap ${item.app} ${item.branch}`,
      record: reaped,
      version: reaped.versions[reaped.versions.length - 1]!,
      agent: 'x1deploy-reap',
      changes: [],
      sourceRepo,
    });
    if (told.review_error) warnings.push(`${item.app} ${item.branch}: ${told.review_error}`);
  }
  return warnings;
}

/** After the commit: the survivors are read at the tip again, to see deploys made meanwhile. */
async function removeImages(store: GitopsStore, sources: ReapSources, plan: ReapPlan, state: RepoState): Promise<ImageOutcome[]> {
  const key = (app: string, slug: string) => `${app}/${slug}`;
  const reapedKeys = new Set(plan.reap.map((i) => key(i.app, i.slug)));
  const reaped = state.records.filter((r) => reapedKeys.has(key(r.app, r.slug)));
  let survivors: DeployRecord[];
  try {
    survivors = await (await RepoSnapshot.atHead(store)).allDeployRecords();
  } catch (error) {
    const detail = `the gitops repo could not be read again to find the images still in use (${(error as Error).message}); no image was deleted`;
    return [{ repository: '*', tags: [], outcome: 'failed', detail }];
  }
  return removeReapedImages(
    sources.registry,
    reaped,
    survivors.filter((r) => !reapedKeys.has(key(r.app, r.slug))),
  );
}

async function readState(snapshot: RepoSnapshot): Promise<RepoState> {
  const records = await snapshot.allDeployRecords();
  const apps = new Map<string, AppRecord>();
  for (const name of await snapshot.apps()) {
    const app = await snapshot.app(name);
    if (app !== undefined) apps.set(name, app);
  }
  return { records, apps };
}

/** Source repo → the branches its previews were deployed from (default branches aside). */
function previewedBranches(state: RepoState): Map<string, Set<string>> {
  const wanted = new Map<string, Set<string>>();
  for (const record of state.records) {
    const app = state.apps.get(record.app);
    if (app?.repo === undefined || record.branch === app.default_branch) continue;
    wanted.set(app.repo, (wanted.get(app.repo) ?? new Set()).add(record.branch));
  }
  return wanted;
}

function previewHosts(state: RepoState): string[] {
  return state.records.filter((r) => state.apps.get(r.app)?.default_branch !== r.branch).map((r) => new URL(r.url).hostname);
}
