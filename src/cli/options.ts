// Option texts every command shares.
export const REPO_OPTION = '--repo <dir>';
export const REPO_OPTION_HELP = 'the workspace gitops repo: a local path, or an https:// URL (token in X1DEPLOY_GIT_TOKEN)';
