export { BOOTSTRAP_DIR, renderBootstrap } from './render-bootstrap.js';
export { ARGOCD_NAMESPACE, argoApplicationName } from './argocd.js';
export { FLUX_OBJECT_NAME, FLUX_SERVICE_ACCOUNT } from './flux.js';
export { MANAGED_KINDS, type ManagedKind } from './managed-kinds.js';
