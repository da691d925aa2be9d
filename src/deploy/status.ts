// What an agent asks after deploying: is my preview up, which version serves, why did a build fail.
import { z } from 'zod';
import { type GitopsStore, RepoSnapshot, proposalOf, UnknownBranchDeployError } from '../records/index.js';
import { branchSlug, AppNameSchema, pinnedImageRef, toFieldIssues } from '../spec/index.js';
import { InvalidRequestError } from '../errors/index.js';

export const BranchRefSchema = z.strictObject({
  app: AppNameSchema,
  branch: z.string().min(1).describe('The branch of the app repo.'),
});
export type BranchRef = z.output<typeof BranchRefSchema>;

export interface VersionStatus {
  readonly number: number;
  readonly status: string;
  readonly commit_sha: string;
  readonly image_ref: string;
  readonly requested_by: string;
  readonly created_at: string;
  readonly built_at?: string;
  /** The build's failure reason and the last lines of its log. */
  readonly failure?: string;
}

export interface BranchDeployStatus {
  readonly app: string;
  readonly branch: string;
  readonly slug: string;
  readonly url: string;
  /** pending (nothing built yet), live, or failed (nothing ever built, newest build failed). */
  readonly status: string;
  readonly current_version: number | null;
  readonly latest_version: number;
  /** Newest first. */
  readonly versions: readonly VersionStatus[];
  /** A review-mode proposal of the next version waiting on its gitops branch, if any. */
  readonly proposal?: { readonly version: number; readonly gitops_branch: string };
}

export function parseBranchRef(input: unknown): BranchRef {
  const parsed = BranchRefSchema.safeParse(input);
  if (!parsed.success) throw new InvalidRequestError(toFieldIssues(parsed.error));
  return parsed.data;
}

export async function branchDeployStatus(store: GitopsStore, ref: BranchRef): Promise<BranchDeployStatus> {
  const { app, branch } = parseBranchRef(ref);
  const snapshot = await RepoSnapshot.atHead(store);
  await snapshot.workspace();
  const slug = branchSlug(app, branch);
  const record = await snapshot.deployRecord(app, slug);
  if (!record || record.branch !== branch) {
    // A review-mode first deploy exists only on its proposal branch until it is merged.
    const proposed = await proposal(store, app, slug);
    if (!proposed) throw new UnknownBranchDeployError(app, branch);
    return { ...describe(proposed.record), proposal: proposed.summary };
  }
  const proposed = await proposal(store, app, slug);
  return { ...describe(record), ...(proposed ? { proposal: proposed.summary } : {}) };
}

/** The change waiting for review on the branch deploy's proposal branch, if any. */
async function proposal(store: GitopsStore, app: string, slug: string) {
  const found = await proposalOf(store, app, slug);
  if (!found) return undefined;
  const { record, gitops_branch } = found;
  return { record, summary: { version: record.current_version ?? record.versions.length, gitops_branch } };
}

function describe(record: Awaited<ReturnType<RepoSnapshot['deployRecord']>> & object): BranchDeployStatus {
  return {
    app: record.app,
    branch: record.branch,
    slug: record.slug,
    url: record.url,
    status: record.status,
    current_version: record.current_version ?? null,
    latest_version: record.versions.length,
    versions: [...record.versions].reverse().map((v) => ({
      number: v.number,
      status: v.status,
      commit_sha: v.commit_sha,
      image_ref: pinnedImageRef(v.image_ref, v.digest),
      requested_by: v.requested_by,
      created_at: v.created_at,
      ...(v.built_at ? { built_at: v.built_at } : {}),
      ...(v.failure ? { failure: v.failure } : {}),
    })),
  };
}
