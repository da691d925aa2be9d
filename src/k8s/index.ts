export { kubeBuildCluster } from './kube-build-cluster.js';
export { loadKubeConfig, NoClusterConfigError } from './kubeconfig.js';
