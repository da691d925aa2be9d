// grants.yaml: the seed's workspace_app_deploy_grants rows. Owners change it (x1deploy grant /
// revoke, reviewed through CODEOWNERS); agents never can.
import { z } from 'zod';
import { AgentIdSchema, AppNameSchema, lazySchema } from '../spec/index.js';
import { BranchPatternSchema } from './branch-pattern.js';

export const GRANT_MODES = ['review', 'auto'] as const;
export type GrantMode = (typeof GRANT_MODES)[number];

export const GrantSchema = lazySchema(() =>
  z.strictObject({
    agent: AgentIdSchema,
    app: AppNameSchema,
    /** Which branches: a glob, see branch-pattern.ts. */
    branches: BranchPatternSchema,
    /** review: the deploy is proposed for review; auto: committed straight to the default branch. */
    mode: z.enum(GRANT_MODES),
    granted_by: z.string().min(1),
    granted_at: z.iso.datetime(),
    revoked_at: z.iso.datetime().optional(),
    revoked_by: z.string().min(1).optional(),
  }),
);
export type Grant = z.output<typeof GrantSchema>;

export const GrantsFileSchema = lazySchema(() =>
  z.strictObject({
    apiVersion: z.literal('x1deploy.dev/v1'),
    kind: z.literal('DeployGrants'),
    grants: z.array(GrantSchema),
  }),
);
export type GrantsFile = z.output<typeof GrantsFileSchema>;

export function emptyGrantsFile(): GrantsFile {
  return { apiVersion: 'x1deploy.dev/v1', kind: 'DeployGrants', grants: [] };
}
