// The gitops transaction: fresh tip, pure plan, compare-and-swap write, bounded retries, and who
// signs the commit. Every use case that writes goes through here.
export {
  DEFAULT_ATTEMPTS,
  TooManyConflictsError,
  describeChanges,
  withFreshTip,
  writePlanned,
  type PlannedWrite,
  type WriteMode,
  type WriteOutcome,
} from './write-protocol.js';
export { agentCommitter, ownerCommitter, systemCommitter, systemName, type SystemRole } from './committers.js';
export { groupCommits, GroupCommitStore, type GroupCommitOptions } from './group-commit.js';
