// Rendering, pure: records and workspace settings become Kubernetes objects and files. The same
// inputs always give the same bytes.
export { objectFolder, kindAndName, type RenderedFiles } from './object-folder.js';
export { branchDeployChartProps, branchDeployObjects, containerEnv, previewTls, renderBranchDeploy } from './render-branch-deploy.js';
export { namespaceQuota, renderWorkspace } from './render-workspace.js';
export { renderJobsBootstrap, JobsConfigError } from './render-jobs.js';
export { generatedFiles, renderGenerated } from './render-generated.js';
export { renderBootstrap } from './engines/render-bootstrap.js';
export { ARGOCD_NAMESPACE, argoApplicationName } from './engines/argocd.js';
export { FLUX_OBJECT_NAME, FLUX_SERVICE_ACCOUNT } from './engines/flux.js';
export { MANAGED_KINDS, type ManagedKind } from './engines/managed-kinds.js';
