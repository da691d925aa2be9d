// Recording a build's outcome in the gitops repo: the digest makes the version live and pins the
// preview to it; a failure is recorded and the branch keeps serving what it served (build gating).
import { deployRecordPath } from '../layout/index.js';
import { stringifyRecord, UnknownBranchDeployError, type GitopsStore } from '../records/index.js';
import { renderBranchDeploy } from '../render/index.js';
import { publishForReview, type ReviewPort } from '../review/index.js';
import { scrubSecrets } from '../spec/index.js';
import { systemCommitter, systemName, withFreshTip } from '../transaction/index.js';
import { recordBuild, recordBuildFailure } from '../versions/index.js';

export type BuildOutcome = { readonly ok: true; readonly digest: string } | { readonly ok: false; readonly reason: string };

export interface BuiltVersionRef {
  readonly app: string;
  readonly slug: string;
  readonly version: number;
}

export async function recordBuildOutcome(
  store: GitopsStore,
  ref: BuiltVersionRef,
  outcome: BuildOutcome,
  now = new Date(),
  review?: ReviewPort,
): Promise<string | undefined> {
  const landed = await withFreshTip(store, async (snapshot) => {
    const workspace = await snapshot.workspace();
    const record = await snapshot.deployRecord(ref.app, ref.slug);
    const version = record?.versions[ref.version - 1];
    if (!record || !version) throw new UnknownBranchDeployError(ref.app, `${ref.slug} (version ${ref.version})`);
    // Only a version still waiting for its image takes a build outcome; a rolled-back or
    // superseded one stays as it is.
    if (version.status !== 'pending-build') return undefined;
    const iso = now.toISOString();
    const updated = outcome.ok
      ? recordBuild(record, ref.version, { digest: outcome.digest, built_at: iso, now: iso })
      : // deploy.yaml is read by everyone with access to the repo: no credential-shaped text in it.
        recordBuildFailure(record, ref.version, scrubSecrets(outcome.reason));
    const changes = new Map([[deployRecordPath(ref.app, ref.slug), stringifyRecord(updated)], ...renderBranchDeploy(workspace, updated)]);
    const what = outcome.ok
      ? `built ${outcome.digest.slice(0, 19)}, live now`
      : `build failed, still serving ${updated.current_version ? `version ${updated.current_version}` : 'nothing'}`;
    const title = `Build ${ref.app} ${record.branch} version ${ref.version}: ${what}`;
    const commit = await store.commit({
      parent: snapshot.commit,
      changes,
      message: `${title}\n\nX1-App: ${ref.app}\nX1-Branch: ${record.branch}\nX1-Version: ${ref.version}\nX1-Commit: ${version.commit_sha}`,
      author: systemCommitter('build', now),
    });
    return { commit, title, record: updated, sourceRepo: (await snapshot.app(ref.app))?.repo };
  });
  if (landed === undefined) return undefined;
  // The app's pull request shows the preview going live (or the build failing) without a redeploy.
  if (review && landed.commit && landed.sourceRepo) {
    const version = landed.record.versions[ref.version - 1]!;
    await publishForReview(review, {
      title: landed.title,
      record: landed.record,
      version,
      agent: systemName('build'),
      changes: [],
      sourceRepo: landed.sourceRepo,
    });
  }
  return landed.commit;
}
