// x1deploy install: render bootstrap/jobs/ from x1deploy.yaml (and point the pull request check at
// the same x1deploy image) and commit it in one commit.
import { X1Error } from '../errors/index.js';
import { JOBS_DIR, VERIFY_WORKFLOW_FILE } from '../layout/index.js';
import { renderVerifyWorkflow } from '../templates/index.js';
import type { GitopsStore, RepoSnapshot } from '../records/index.js';
import { renderJobsBootstrap } from '../render/index.js';
import { systemCommitter, withFreshTip } from '../transaction/index.js';

/** jobs.enabled is false: nothing to install. */
export class JobsNotEnabledError extends X1Error {
  constructor() {
    super(
      'invalid',
      'the in-cluster jobs are opt-in and jobs.enabled is false in x1deploy.yaml; set jobs.enabled: true and jobs.image (the x1deploy image, pinned by digest), commit, and run install again',
    );
  }
}

export interface InstallResult {
  /** The commit made; undefined when bootstrap/jobs/ was already up to date. */
  readonly commit: string | undefined;
  readonly written: string[];
  readonly removed: string[];
}

/** Render bootstrap/jobs/ and commit it (removing files no longer rendered) in one commit. */
export async function installJobs(store: GitopsStore, options: { readonly now?: Date } = {}): Promise<InstallResult> {
  return withFreshTip(store, (snapshot) => installAt(store, snapshot, options.now ?? new Date()));
}

async function installAt(store: GitopsStore, snapshot: RepoSnapshot, now: Date): Promise<InstallResult> {
  const ws = await snapshot.workspace();
  const desired = renderJobsBootstrap(ws);
  const existing = await store.listFiles(snapshot.commit, JOBS_DIR);
  if (!ws.jobs.enabled && existing.length === 0) throw new JobsNotEnabledError();

  const changes = new Map<string, string | null>();
  const removed = existing.filter((path) => !desired.has(path)).sort();
  for (const path of removed) changes.set(path, null);
  for (const [path, text] of desired) changes.set(path, text);
  // The pull request check runs the same pinned x1deploy image as the jobs.
  const workflow = ws.jobs.image === undefined ? undefined : await renderVerifyWorkflow(ws.jobs.image);
  if (workflow !== undefined && (await snapshot.store.readFile(snapshot.commit, VERIFY_WORKFLOW_FILE)) !== workflow) {
    changes.set(VERIFY_WORKFLOW_FILE, workflow);
  }

  const what = ws.jobs.enabled
    ? `Install the in-cluster jobs (build ${ws.jobs.buildMode === 'cron' ? `every "${ws.jobs.buildSchedule}"` : 'watching'}, reap "${ws.jobs.reapSchedule}")`
    : 'Remove the in-cluster jobs (jobs.enabled is false)';
  const commit = await store.commit({
    parent: snapshot.commit,
    changes,
    message: `${what}\n\nx1deploy install rendered ${JOBS_DIR}/ for workspace ${ws.workspace.id}; a cluster admin applies it with "kubectl apply -k ${JOBS_DIR}".`,
    author: systemCommitter('install', now),
  });
  return { commit, written: [...desired.keys(), ...(changes.has(VERIFY_WORKFLOW_FILE) ? [VERIFY_WORKFLOW_FILE] : [])].sort(), removed };
}
