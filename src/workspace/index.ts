// x1deploy.yaml: a workspace's settings, validated on every read.
export * from './config.js';
