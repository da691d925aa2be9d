// The agent's use cases on branch deploys: deploy, roll back, and read (list, history, status),
// plus re-rendering the whole repo.
export { deployBranch, validAgent, validateDeployRequest, type ActorOptions, type DeployResult } from './deploy-branch.js';
export { answerLanded, landBranchChange, publishLanded, type BranchChange, type Landed } from './land.js';
export {
  newBranchDeploy,
  planDeploy,
  trailers,
  ObjectNameCollisionError,
  SlugCollisionError,
  type DeployAnswer,
  type DeployPlan,
  type DeployState,
} from './plan.js';
export {
  planRollback,
  rollbackBranch,
  rollbackTarget,
  RollbackRefusedError,
  RollbackRequestSchema,
  type RollbackPlan,
  type RollbackRequest,
  type RollbackResult,
  type RollbackState,
} from './rollback.js';
export { branchHistory, type BranchHistory } from './history.js';
export { listBranchDeploys, type BranchDeployListing } from './list.js';
export { branchDeployStatus, BranchRefSchema, type BranchDeployStatus, type BranchRef, type VersionStatus } from './status.js';
export { renderAll, type RenderAllResult } from './render-all.js';
