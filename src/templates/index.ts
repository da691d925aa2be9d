// Files shipped with x1deploy (templates/, package.json), filled in for a workspace.
export { packageVersion, readTemplate, renderVerifyWorkflow } from './templates.js';
