// `x1deploy list`: one entry per branch deploy, as an agent or a reviewer wants to see it, with
// the review-mode proposals waiting for a merge (a first deploy in review mode exists only there).
import { allProposals, RepoSnapshot, type DeployRecord, type GitopsStore, type Proposal } from '../records/index.js';
import { pinnedImageRef } from '../spec/index.js';
import { currentVersion, latestVersion } from '../versions/index.js';

export interface BranchDeployListing {
  readonly app: string;
  readonly branch: string;
  readonly slug: string;
  readonly url: string;
  /** The newest version requested (on the default branch; the proposed one when that is all there is). */
  readonly version: number;
  /** That version's status: pending-build, live, failed, …; `proposed` when it waits for review only. */
  readonly status: string;
  readonly image_ref: string;
  /** The version the preview serves now, if any was built. */
  readonly current_version: number | null;
  /** A newer version proposed for review, waiting on its gitops branch. */
  readonly proposal: { readonly version: number; readonly gitops_branch: string } | null;
  /** When the branch deploy's first version was requested (the preview's age). */
  readonly created_at: string;
  /** The newest version's request: when, and by which agent. */
  readonly deployed_at: string;
  readonly requested_by: string;
}

export async function listBranchDeploys(store: GitopsStore, filter: { readonly app?: string } = {}): Promise<BranchDeployListing[]> {
  const snapshot = await RepoSnapshot.atHead(store);
  await snapshot.workspace();
  const wanted = (r: DeployRecord) => filter.app === undefined || r.app === filter.app;
  const records = (await snapshot.allDeployRecords()).filter(wanted);
  const proposals = new Map((await allProposals(store)).filter((p) => wanted(p.record)).map((p) => [key(p.record), p]));
  const rows = records.map((r) => listing(r, proposals.get(key(r))));
  const listed = new Set(records.map(key));
  for (const [k, p] of proposals) if (!listed.has(k)) rows.push(proposedOnly(p));
  return rows.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

const key = (r: { readonly app: string; readonly slug: string }) => `${r.app}/${r.slug}`;

function listing(r: DeployRecord, proposal: Proposal | undefined): BranchDeployListing {
  const latest = latestVersion(r);
  const proposed = proposal ? latestVersion(proposal.record) : undefined;
  return {
    app: r.app,
    branch: r.branch,
    slug: r.slug,
    url: r.url,
    version: latest.number,
    status: latest.status,
    image_ref: pinnedImageRef(latest.image_ref, latest.digest),
    current_version: currentVersion(r)?.number ?? null,
    // A proposal that asks for nothing newer than the default branch has is already merged.
    proposal:
      proposal && proposed && proposed.number > latest.number ? { version: proposed.number, gitops_branch: proposal.gitops_branch } : null,
    ...requestTimes(r),
  };
}

function proposedOnly(p: Proposal): BranchDeployListing {
  const v = latestVersion(p.record);
  return {
    app: p.record.app,
    branch: p.record.branch,
    slug: p.record.slug,
    url: p.record.url,
    version: v.number,
    status: 'proposed',
    image_ref: v.image_ref,
    current_version: null,
    proposal: { version: v.number, gitops_branch: p.gitops_branch },
    ...requestTimes(p.record),
  };
}

function requestTimes(r: DeployRecord) {
  const latest = latestVersion(r);
  return { created_at: r.versions[0]!.created_at, deployed_at: latest.created_at, requested_by: latest.requested_by };
}
