export { StaleHeadError, type CommitAuthor, type CommitRequest, type FileChanges, type GitopsStore } from './store.js';
export {
  initGitopsRepo,
  openLocalStore,
  NotAGitopsRepoError,
  RepoNotEmptyError,
  RepoLockedError,
  InvalidChangePathError,
  type InitOptions,
} from './local-store.js';
