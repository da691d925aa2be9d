// The branch listings a sweep rests on, one per source repo, a few at a time.
//
// A listing that lacks a preview's branch is taken a second time, and the branch counts as gone only
// if both lack it. GitHub pages by page number: a branch deleted on an earlier page while the pages
// are read moves a live branch from the next page onto one already read, so one listing can miss a
// live branch. The second listing starts after the first has ended; the same live branch would have
// to be shifted out of view again by another deletion at the same moment. Confirming within the
// sweep needs no state between sweeps (no file to keep, no commit per sweep) and delays nothing a
// day; it costs requests only for repos that lost a previewed branch, and 304s where nothing changed.
import { BranchListingError, type BranchListing, type BranchSource } from '../scm/index.js';
import { displayUrl } from '../spec/index.js';

export interface ListingReport {
  /** The repo URL without credentials. */
  readonly repo: string;
  readonly outcome: 'complete' | 'failed';
  readonly branches?: number;
  /** HTTP requests (or git runs) made, retries and the confirming listing included. */
  readonly requests: number;
  /** Every page was answered 304 (unchanged since the cached copy). */
  readonly notModified: boolean;
  /** Listed a second time because a previewed branch was missing from the first listing. */
  readonly confirmed: boolean;
  readonly error?: string;
}

export interface SourceListings {
  readonly listings: Map<string, BranchListing | BranchListingError>;
  readonly reports: ListingReport[];
}

/** List each repo of `wanted` (repo URL → branches its previews were deployed from). */
export async function listSourceRepos(
  wanted: ReadonlyMap<string, ReadonlySet<string>>,
  sourceFor: (repoUrl: string) => BranchSource,
  concurrency: number,
): Promise<SourceListings> {
  const listings = new Map<string, BranchListing | BranchListingError>();
  const reports: ListingReport[] = [];
  const queue = [...wanted.keys()];
  const worker = async () => {
    for (let repo = queue.shift(); repo !== undefined; repo = queue.shift()) {
      const { listing, report } = await confirmedListing(repo, wanted.get(repo) ?? new Set(), sourceFor);
      listings.set(repo, listing);
      reports.push(report);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, queue.length)) }, worker));
  reports.sort((a, b) => (a.repo < b.repo ? -1 : a.repo > b.repo ? 1 : 0));
  return { listings, reports };
}

async function confirmedListing(
  repo: string,
  previewed: ReadonlySet<string>,
  sourceFor: (repoUrl: string) => BranchSource,
): Promise<{ listing: BranchListing | BranchListingError; report: ListingReport }> {
  const shown = displayUrl(repo);
  const failed = (error: BranchListingError, requests: number, confirmed: boolean) => ({
    listing: error,
    report: { repo: shown, outcome: 'failed' as const, requests, notModified: false, confirmed, error: error.message },
  });
  const first = await listOnce(repo, sourceFor);
  if (first instanceof BranchListingError) return failed(first, 0, false);
  const missing = [...previewed].some((branch) => !first.branches.has(branch));
  let listing = first;
  if (missing) {
    const second = await listOnce(repo, sourceFor);
    if (second instanceof BranchListingError) return failed(second, first.requests, true);
    listing = {
      complete: true,
      branches: new Set([...first.branches, ...second.branches]),
      notModified: first.notModified && second.notModified,
      requests: first.requests + second.requests,
    };
  }
  return {
    listing,
    report: {
      repo: shown,
      outcome: 'complete',
      branches: listing.branches.size,
      requests: listing.requests,
      notModified: listing.notModified,
      confirmed: missing,
    },
  };
}

/** Any failure, expected or not, is a BranchListingError: nothing unproven reaches the planner. */
async function listOnce(repo: string, sourceFor: (repoUrl: string) => BranchSource): Promise<BranchListing | BranchListingError> {
  try {
    const listing = await sourceFor(repo).listBranches(repo);
    if (listing.complete !== true || listing.branches.size === 0) {
      return new BranchListingError(displayUrl(repo), 'invalid-response', 'the branch source returned a listing not marked complete');
    }
    return listing;
  } catch (error) {
    if (error instanceof BranchListingError) return error;
    const detail = error instanceof Error ? error.message : String(error);
    return new BranchListingError(displayUrl(repo), 'invalid-response', `the listing failed unexpectedly (${detail})`, undefined, {
      cause: error,
    });
  }
}
