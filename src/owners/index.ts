// What workspace owners do: create the workspace's gitops repo, grant and revoke deploys.
export { initWorkspace, workspaceConfigFor } from './init.js';
export { grantDeploy, listGrants, revokeDeploy, type GrantCommandResult } from './grant-commands.js';
