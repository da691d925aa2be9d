// fetch_preview: GET a path of one's own preview, bounded, so an agent can check what it shipped.
import { z } from 'zod';
import { InvalidRequestError } from '../errors/index.js';
import { fetchPage, type FetchedPage } from '../probe/index.js';
import { RepoSnapshot, UnknownBranchDeployError, type GitopsStore } from '../records/index.js';
import { branchSlug, scrubSecrets, toFieldIssues } from '../spec/index.js';
import type { ObservePorts } from './live-status.js';
import { PreviewRefSchema } from './live-status.js';

export const MAX_PAGE_BYTES = 16 * 1024;

export const FetchRequestSchema = PreviewRefSchema.extend({
  path: z
    .string()
    .max(2048)
    .regex(/^\/(?!\/)[^\s#\\]*$/, { message: 'path must start with a single "/" and hold no spaces, "\\" or "#"' })
    .optional()
    .describe('The path to GET (default "/").'),
});

export async function fetchPreview(store: GitopsStore, input: unknown, ports: ObservePorts): Promise<FetchedPage> {
  const parsed = FetchRequestSchema.safeParse(input);
  if (!parsed.success) throw new InvalidRequestError(toFieldIssues(parsed.error));
  const { app, branch, path } = parsed.data;
  const snapshot = await RepoSnapshot.atHead(store);
  const record = await snapshot.deployRecord(app, branchSlug(app, branch));
  if (!record || record.branch !== branch) throw new UnknownBranchDeployError(app, branch);
  // Only the preview's own origin: the path cannot name another host.
  const origin = new URL(record.url).origin;
  const target = new URL(path ?? '/', origin);
  if (target.origin !== origin) throw new InvalidRequestError([{ path: 'path', message: `must stay on the preview ${origin}` }]);
  const url = target.toString();
  const probe = ports.probe || { timeoutMs: 10_000 };
  const page = await fetchPage(url, { ...probe, maxBytes: MAX_PAGE_BYTES });
  return { ...page, body: scrubSecrets(page.body) };
}
