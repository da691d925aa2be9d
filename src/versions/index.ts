// The version state machine of a branch deploy.
export * from './lifecycle.js';
