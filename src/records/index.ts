// The records x1deploy keeps in the gitops repo (git is the database), the store port they are
// read from and written to, and typed reads of one commit.
export { AppRecordSchema, type AppRecord } from './app-record.js';
export { parseRecord, readYamlRecord, stringifyRecord, RecordFileError } from './codec.js';
export {
  BRANCH_STATUSES,
  DeployRecordSchema,
  VERSION_STATUSES,
  VersionSchema,
  VersionSpecSchema,
  type BranchStatus,
  type DeployRecord,
  type Version,
  type VersionSpec,
  type VersionStatus,
} from './deploy-record.js';
export { StaleHeadError, gitObjectId, type CommitAuthor, type CommitRequest, type FileChanges, type GitopsStore, type HandoffPort } from './gitops-store.js';
export { NotInitializedError, RepoSnapshot, UnknownBranchDeployError } from './snapshot.js';
export { allProposals, proposalOf, type Proposal } from './proposals.js';
export { keepParsedRecordsOn, type ParsedRecordShelf, type RecordKind } from './parsed-cache.js';
