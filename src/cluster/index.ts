// The cluster as x1deploy sees it (ports): the build's Jobs, and the previews' engine objects,
// Deployments, Pods, Events and logs. The @kubernetes/client-node adapters are in k8s/, loaded only
// by the commands that talk to a cluster.
export * from './build-cluster.js';
export * from './preview-cluster.js';
