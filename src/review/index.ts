// Where reviewers see a change: the review port, its GitHub adapter, and what is published.
export { reviewPortFor } from './from-env.js';
export { GitHubReview, PREVIEW_COMMENT_MARKER } from './github-review.js';
export { previewEnvironment, publishForReview, sourceCommitLink, type Published, type PublishRequest } from './publish.js';
export type { DeploymentReport, PreviewComment, ProposalForReview, ReviewPort } from './review-port.js';
