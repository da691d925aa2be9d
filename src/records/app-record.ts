// apps/<app>/app.yaml: the seed's workspace_apps row.
import { z } from 'zod';
import { lazySchema } from '../spec/index.js';

export const AppRecordSchema = lazySchema(() =>
  z.strictObject({
    apiVersion: z.literal('x1deploy.dev/v1'),
    kind: z.literal('App'),
    name: z.string().min(1),
    /** The source repo; one app is one repo (a request naming another repo is refused). */
    repo: z.string().min(1).optional(),
    default_branch: z.string().min(1),
    created_by: z.string().min(1),
    created_at: z.iso.datetime(),
  }),
);
export type AppRecord = z.output<typeof AppRecordSchema>;
