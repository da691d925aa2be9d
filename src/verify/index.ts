export { verifyGitops, type Checkout, type VerifyOptions } from './verify.js';
export { openCheckout, resolveBase, uncommittedChanges, UnknownBaseError } from './refs.js';
export { type PullRequestBase } from './pull-request.js';
export { resolveIdentity, type Identity, type IdentityClaim } from './identity.js';
export { PROBLEM_KINDS, RENDER_COMMAND, type ProblemKind, type VerifyProblem, type VerifyResult } from './problems.js';
