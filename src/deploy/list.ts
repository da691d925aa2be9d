// `x1deploy list`: one line per branch deploy, as an agent or a reviewer wants to see it.
import type { GitopsStore } from '../records/index.js';
import { RepoSnapshot } from '../records/index.js';
import { currentVersion, latestVersion } from '../versions/index.js';

export interface BranchDeployListing {
  readonly app: string;
  readonly branch: string;
  readonly slug: string;
  readonly url: string;
  /** The newest version requested. */
  readonly version: number;
  /** That version's status: pending-build, live, failed, … */
  readonly status: string;
  readonly image_ref: string;
  /** The version the preview serves now, if any was built. */
  readonly serving_version: number | null;
}

export async function listBranchDeploys(store: GitopsStore, filter: { readonly app?: string } = {}): Promise<BranchDeployListing[]> {
  const snapshot = await RepoSnapshot.atHead(store);
  await snapshot.workspace();
  const records = await snapshot.allDeployRecords();
  return records
    .filter((r) => filter.app === undefined || r.app === filter.app)
    .map((r) => {
      const latest = latestVersion(r);
      return {
        app: r.app,
        branch: r.branch,
        slug: r.slug,
        url: r.url,
        version: latest.number,
        status: latest.status,
        image_ref: latest.digest ? `${latest.image_ref}@${latest.digest}` : latest.image_ref,
        serving_version: currentVersion(r)?.number ?? null,
      };
    });
}
