// The agent's use cases on branch deploys: deploy, roll back, and read (list, history, status),
// plus re-rendering the whole repo.
export { deployBranch, type ActorOptions, type DeployResult } from './deploy-branch.js';
export { answerLanded, landBranchChange, publishLanded, type Landed } from './land.js';
export { rollbackBranch, type RollbackAnswer, type RollbackResult } from './rollback.js';
export { deleteBranchDeploy, type DeleteResult } from './delete-branch.js';
export { followPush, type FollowOutcome, type Push } from './follow.js';
// The plans the commands make, for the shells and tests that name them.
export {
  newBranchDeploy,
  planDeploy,
  planRollback,
  rollbackTarget,
  validAgent,
  validateDeployRequest,
  ObjectNameCollisionError,
  RollbackRefusedError,
  RollbackRequestSchema,
  SlugCollisionError,
  type BranchChange,
  type DeployAnswer,
  type DeployPlan,
  type DeployState,
  type RollbackPlan,
  type RollbackRequest,
  type RollbackState,
} from '../planning/index.js';
export { branchHistory, type BranchHistory } from './history.js';
export { listBranchDeploys, type BranchDeployListing } from './list.js';
export { branchDeployStatus, BranchRefSchema, type BranchDeployStatus, type BranchRef, type VersionStatus } from './status.js';
export { renderAll, type RenderAllResult } from './render-all.js';
