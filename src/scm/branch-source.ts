// The port the reaper asks "which branches does this app's source repo still have?".
//
// The answer deletes previews, so it must fail safe: a listing is returned only on positive evidence
// that it is whole. Argo CD's SCM-provider generator treated an erroring API as "no branches" and
// deleted every preview (argo-cd #11464, #14318); here every doubt is a BranchListingError instead.
import { X1Error } from '../errors/index.js';

/** Every branch of a repo, known to be complete. */
export interface BranchListing {
  readonly complete: true;
  readonly branches: ReadonlySet<string>;
  /** True when the server confirmed every page unchanged since the cached copy (HTTP 304). */
  readonly notModified: boolean;
  /** HTTP requests (or CLI runs) this listing took, retries included. */
  readonly requests: number;
}

export interface BranchSource {
  /** Throws BranchListingError unless the listing is positively complete. */
  listBranches(repoUrl: string): Promise<BranchListing>;
}

/** Why a listing could not be trusted. */
export type BranchListingFailure =
  | 'invalid-url' // not a repo URL this source can list
  | 'http-status' // the server answered with an error status
  | 'unreachable' // no answer: DNS, refused connection, timeout, TLS
  | 'rate-limited' // still rate limited after the bounded retries
  | 'truncated' // the pages (or the ref advertisement) ended before the end
  | 'empty' // no branches at all, which a repo with a default branch never has
  | 'invalid-response'; // an answer that is not a branch list

const ADVICE: Record<BranchListingFailure, string> = {
  'invalid-url': 'use an https://, ssh://, file:// or git@host:owner/repo URL of the source repo',
  'http-status': 'check the repo URL and that the credentials can read the repo; retry later for a server error',
  unreachable: 'check the host name and the network path to it; the next run will retry',
  'rate-limited': 'the next run will retry; give the token a higher rate limit (a GitHub App) if this keeps happening',
  truncated: 'the next run will retry; if this repeats, the server is cutting its answers short',
  empty: 'check that the URL names the source repo and that it has been pushed to',
  'invalid-response': 'check that the URL points at a git or GitHub server and not at a proxy or login page',
};

/** The listing is not positively complete, so no branch may be treated as gone. */
export class BranchListingError extends X1Error {
  constructor(
    /** The repo URL without any credentials it carried. */
    readonly repo: string,
    readonly reason: BranchListingFailure,
    detail: string,
    /** The HTTP status, when the server answered with one. */
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super('unavailable', `cannot list the branches of ${repo}: ${detail}; treat no branch as deleted, ${ADVICE[reason]}`, options);
  }
}
