// Branch deploy records built in memory, for the pure version and rule tests.
import type { VersionSpec } from '../../src/records/index.js';

export const spec: VersionSpec = { dockerfile: 'Dockerfile', ports: [8080] };
export const sha = (c: string) => c.repeat(40);
export const digest = (c: string) => `sha256:${c.repeat(64)}`;
/** 2026-01-01 at 00:MM. */
export const at = (minute: number) => `2026-01-01T00:${String(minute).padStart(2, '0')}:00.000Z`;

/** A request for commit `c` (40 times the character), as addVersion and firstVersion take it. */
export function next(c: string, s: VersionSpec = spec, minute = 0, imageRepository = 'reg/ws/demo/app-api') {
  return { commit_sha: sha(c), spec: s, image_ref: `${imageRepository}:${sha(c)}`, requested_by: 'agent-1', now: at(minute) };
}

/** The fields of a branch deploy record that are not versions. */
export const base = {
  apiVersion: 'x1deploy.dev/v1' as const,
  kind: 'BranchDeploy' as const,
  app: 'api',
  branch: 'feat/x',
  slug: 'feat-x-aaaaaaaa',
  url: 'https://feat-x-aaaaaaaa.api.demo.preview.localhost',
  created_at: at(0),
};
