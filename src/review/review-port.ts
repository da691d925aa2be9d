// Where reviewers see a deploy: a pull request on the gitops repo for a review-mode change, and
// one comment on the app's own pull request with the preview's URL and state.
export interface ProposalForReview {
  /** The gitops branch holding the proposal. */
  readonly head: string;
  /** The gitops repo's default branch. */
  readonly base: string;
  readonly title: string;
  readonly body: string;
}

export interface PreviewComment {
  /** The app's source repo URL (from app.yaml). */
  readonly repoUrl: string;
  /** The app branch whose pull request gets the comment. */
  readonly branch: string;
  readonly body: string;
}

export interface DeploymentReport {
  /** The app's source repo URL (from app.yaml): deployments live beside its commits. */
  readonly repoUrl: string;
  /** `preview/<app>/<slug>`. */
  readonly environment: string;
  readonly sha: string;
  readonly state: 'in_progress' | 'success' | 'failure' | 'inactive';
  readonly description: string;
  /** Only once the preview is ready. */
  readonly environmentUrl?: string;
}

export interface ReviewPort {
  /** Open the gitops pull request, or update the open one for the same head branch. */
  proposeForReview(proposal: ProposalForReview): Promise<{ readonly url: string; readonly number: number; readonly created: boolean }>;
  /** Keep ONE comment on the source repo's open pull request for the branch; undefined when there is none. */
  commentOnSourcePullRequest(comment: PreviewComment): Promise<{ readonly url: string } | undefined>;
  /** Report the version's state as a deployment of the source repo; false when the repo is not on this host. */
  reportDeployment(report: DeploymentReport): Promise<boolean>;
}
