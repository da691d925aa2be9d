// What a deploy runs once it leads (alone, or for the requests handed over to it), as one module
// the deploy command imports then: its imports are loaded side by side instead of one after another,
// and they name only what a deploy uses. Importing deploy/index.js itself would keep every one of
// its exports, `render`'s with them (the engine bootstrap objects, ~270 KB to compile).
export { deployBranch } from '../deploy/index.js';
export { openGitopsStore } from '../gitops/index.js';
export { reviewPortFor } from '../review/index.js';
export { groupCommits } from '../transaction/index.js';
export { parseRequestText } from './request-input.js';
