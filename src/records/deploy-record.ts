// apps/<app>/branches/<slug>/deploy.yaml: one branch deploy (the seed's workspace_app_branches row)
// with its versions (workspace_app_versions rows). Validated on every read.
import { z } from 'zod';
import { deployRequestSchema, lazySchema } from '../spec/index.js';

export const VERSION_STATUSES = ['pending-build', 'built', 'failed', 'live', 'superseded'] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

/** What a version runs: the request minus the app and branch it belongs to. */
export const VersionSpecSchema = lazySchema(() => deployRequestSchema().omit({ app: true, branch: true, commit_sha: true, repo: true }));
export type VersionSpec = z.output<typeof VersionSpecSchema>;

const timestamp = () => z.iso.datetime({ message: 'must be an ISO-8601 UTC timestamp' });

export const VersionSchema = lazySchema(() =>
  z.strictObject({
    number: z.number().int().min(1),
    commit_sha: z.string().regex(/^([0-9a-f]{40}|[0-9a-f]{64})$/),
    image_ref: z.string().min(1),
    digest: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/)
      .optional(),
    status: z.enum(VERSION_STATUSES),
    requested_by: z.string().min(1),
    created_at: timestamp(),
    built_at: timestamp().optional(),
    deployed_at: timestamp().optional(),
    failure: z.string().optional(),
    spec: VersionSpecSchema,
  }),
);
export type Version = z.output<typeof VersionSchema>;

export const BRANCH_STATUSES = ['pending', 'live', 'failed'] as const;
export type BranchStatus = (typeof BRANCH_STATUSES)[number];

export const DeployRecordSchema = lazySchema(() =>
  z
    .strictObject({
      apiVersion: z.literal('x1deploy.dev/v1'),
      kind: z.literal('BranchDeploy'),
      app: z.string().min(1),
      branch: z.string().min(1),
      slug: z.string().min(1),
      url: z.string().url(),
      status: z.enum(BRANCH_STATUSES),
      created_at: timestamp(),
      reaped_at: timestamp().optional(),
      /** The version the preview serves; absent until a version is built. */
      current_version: z.number().int().min(1).optional(),
      versions: z.array(VersionSchema).min(1),
    })
    .superRefine((rec, ctx) => {
      rec.versions.forEach((v, i) => {
        if (v.number !== i + 1)
          ctx.addIssue({
            code: 'custom',
            path: ['versions', i, 'number'],
            message: `must be ${i + 1}: versions are numbered 1, 2, 3… in order`,
          });
      });
      if (rec.current_version !== undefined) {
        const current = rec.versions[rec.current_version - 1];
        if (!current)
          ctx.addIssue({
            code: 'custom',
            path: ['current_version'],
            message: `names version ${rec.current_version}, which does not exist`,
          });
        else if (!current.digest)
          ctx.addIssue({
            code: 'custom',
            path: ['current_version'],
            message: `names version ${rec.current_version}, which has no built image digest`,
          });
      }
    }),
);
export type DeployRecord = z.output<typeof DeployRecordSchema>;
