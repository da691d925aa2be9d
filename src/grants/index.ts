// Deploy grants: grants.yaml, branch patterns, who may deploy what, and owners' edits (all pure).
export { authorize, type Authorization } from './authorize.js';
export { BranchPatternSchema, branchMatches } from './branch-pattern.js';
export {
  addGrant,
  revokeGrants,
  DEFAULT_GRANT_MODE,
  NothingToRevokeError,
  type GrantEdit,
  type GrantRequest,
  type RevokeRequest,
} from './edit-grants.js';
export { emptyGrantsFile, GRANT_MODES, GrantSchema, GrantsFileSchema, type Grant, type GrantMode, type GrantsFile } from './grants-file.js';
