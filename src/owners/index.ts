// What workspace owners do: create the workspace's gitops repo, grant and revoke deploys.
export { hasPlaceholderGitopsUrl, initWorkspace, workspaceConfigFor } from './init.js';
export { grantDeploy, listGrants, revokeDeploy, type GrantCommandResult } from './grant-commands.js';
