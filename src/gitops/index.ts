// The gitops store adapters: a local repo, or a remote one through a bare cache clone.
export {
  initGitopsRepo,
  openBareStore,
  openLocalStore,
  NotAGitopsRepoError,
  RepoNotEmptyError,
  RepoLockedError,
  InvalidChangePathError,
  UncommittedChangesError,
  CheckedOutBranchChangedError,
  type InitOptions,
} from './local-store.js';
export { UnsupportedIndexError, readWholeIndex } from './git-index.js';
export { openGitopsStore, openRemoteStore, RemoteUnavailableError, type RemoteOptions } from './remote-store.js';
