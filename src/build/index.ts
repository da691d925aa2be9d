// Builds: one Kaniko Job per pending version, its outcome recorded in the gitops repo.
export { recordBuildOutcome, type BuildOutcome, type BuiltVersionRef } from './record-outcome.js';
export {
  buildPass,
  isRecorded,
  isSettled,
  pendingTargets,
  type BuildEvent,
  type BuildPassOptions,
  type BuildRef,
  type RecordedEvent,
} from './build-pass.js';
export { buildUntilSettled, watchBuilds, type BuildLoopOptions, type BuildOnceResult } from './build-loop.js';
export {
  buildJobName,
  buildJobObject,
  buildNamespace,
  cacheRepo,
  kanikoGitContext,
  NotBuildableError,
  type BuildTarget,
  type GitContext,
} from './build-job.js';
export { BUILD_JOB_LABEL, ClusterError, type BuildCluster, type BuildJobState, type BuildPodState, type KubeObject } from './cluster.js';
export {
  MANIFEST_ACCEPT,
  parseImageRef,
  registryAuthFromEnv,
  registryClient,
  RegistryError,
  REGISTRY_PASSWORD_ENV,
  REGISTRY_USERNAME_ENV,
  type ImageRegistry,
  type RegistryAuth,
  type RegistryClientOptions,
} from './registry.js';
export { scrubSecrets } from './scrub.js';
