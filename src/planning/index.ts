// Deciding a change to one branch deploy, purely: from the repo state read at one commit and a
// validated request to the records and rendered files to write (or a typed refusal). The commands
// plan with it before they write; verify replays it to check that a pull request is what x1deploy
// would have written.
export {
  newBranchDeploy,
  planDeploy,
  trailers,
  validAgent,
  validateDeployRequest,
  ObjectNameCollisionError,
  SlugCollisionError,
  type DeployAnswer,
  type DeployPlan,
  type DeployState,
} from './plan-deploy.js';
export {
  planRollback,
  rollbackTarget,
  RollbackRefusedError,
  RollbackRequestSchema,
  type BranchChange,
  type RollbackPlan,
  type RollbackRequest,
  type RollbackState,
} from './plan-rollback.js';
export { planDelete, type DeleteAnswer, type DeleteState } from './plan-delete.js';
