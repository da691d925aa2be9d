// The pull request's target: whose settings and grants judge the change, and where the change is
// measured from.
export interface PullRequestBase {
  /** How the user named the target, for messages: a branch, tag or commit. */
  readonly name: string;
  /** The target's tip: whose x1deploy.yaml and grants.yaml decide. */
  readonly commit: string;
  /** Where the pull request forked from the target: what it changed is measured from here. */
  readonly mergeBase: string;
}
