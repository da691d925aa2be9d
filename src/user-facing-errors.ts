// The typed errors whose messages are written for the user (they say what happened and what to
// do, and carry no secret): the CLI prints them and the MCP server returns them as they are. Any
// other error is an internal one, reported without its details.
const USER_FACING = new Set([
  'UserError',
  'InvalidRequestError',
  'DeniedError',
  'RecordFileError',
  'NotInitializedError',
  'NotAGitopsRepoError',
  'RepoNotEmptyError',
  'SlugCollisionError',
  'ObjectNameCollisionError',
  'TooManyConflictsError',
  'StaleHeadError',
  'InvalidWorkspaceError',
  'RollbackRefusedError',
  'UnknownBranchDeployError',
  'NothingToRevokeError',
  'InvalidChangePathError',
  'RepoLockedError',
  'RemoteUnavailableError',
  'ClusterError',
  'RegistryError',
  'NoClusterConfigError',
  'JobsNotEnabledError',
  'JobsConfigError',
  'UnknownBaseError',
  'BranchListingError',
  'TrafficError',
  'GitHubRequestError',
]);

/** Matched by name: the errors come from many modules, and a name survives module duplication. */
export function isUserFacing(err: unknown): err is Error {
  return err instanceof Error && USER_FACING.has(err.name);
}
