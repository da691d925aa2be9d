// The cluster as the build sees it (a port): the @kubernetes/client-node adapter is in k8s/, loaded
// only by the commands that talk to a cluster.
export * from './build-cluster.js';
