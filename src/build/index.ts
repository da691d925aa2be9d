// Builds: one Kaniko Job per pending version, its outcome recorded in the gitops repo.
export { recordBuildOutcome, type BuildOutcome, type BuiltVersionRef } from './record-outcome.js';
export {
  buildPass,
  isRecorded,
  isSettled,
  newestOfBranch,
  pendingTargets,
  planBuildPass,
  type BuildAction,
  type BuildEvent,
  type BuildObservation,
  type BuildPassOptions,
  type ProposedBuild,
  type BuildRef,
  type RecordedEvent,
} from './build-pass.js';
export { buildUntilSettled, watchBuilds, type BuildLoopOptions, type BuildOnceResult } from './build-loop.js';
export { buildJobName, buildJobObject, kanikoGitContext, NotBuildableError, type BuildTarget, type GitContext } from './build-job.js';
export { failureReason, reportedDigest } from './outcome.js';
