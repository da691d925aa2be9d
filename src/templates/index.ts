// Files shipped with x1deploy (templates/, package.json), filled in for a workspace.
export { packageRoot, packageVersion, readTemplate, renderVerifyWorkflow } from './templates.js';
