// Reaping: previews whose branch is gone upstream, or that served no traffic for reap.idleDays, are
// removed in one commit (the gitops engine prunes their objects), then their images are deleted.
export {
  planReap,
  defaultMaxDeletions,
  LISTING_GRACE_MS,
  type ReapInput,
  type ReapItem,
  type ReapPlan,
  type ReapReason,
  type SkippedCheck,
} from './plan.js';
export { reapPreviews, type ReapOptions, type ReapResult } from './sweep.js';
export { reapSourcesFor, GITHUB_TOKEN_ENV, type ReapSources, type ReapSourcesOptions } from './sources.js';
export { listSourceRepos, type ListingReport, type SourceListings } from './listings.js';
export { removeReapedImages, type ImageOutcome } from './images.js';
export { reapMessage } from './message.js';
