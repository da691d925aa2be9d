// The cluster adapter over @kubernetes/client-node (slow to import: load this module lazily).
export { kubeBuildCluster } from './kube-build-cluster.js';
export { loadKubeConfig } from './kubeconfig.js';
export { kubePreviewCluster } from './kube-preview-cluster.js';
