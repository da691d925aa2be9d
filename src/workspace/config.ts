// x1deploy.yaml: one workspace's settings. This schema is the single source for the type, the
// validation of the file on every read, and the defaults `init` writes.
import { z } from 'zod';
import { isDnsLabel, isDnsSubdomain, WORKSPACE_HOST_SUFFIX_MAX } from '../spec/names.js';
import { isQuantity } from '../spec/quantity.js';

const dnsLabel = (what: string, max = 63) =>
  z.string().refine((s) => isDnsLabel(s) && s.length <= max, {
    message: `must be a DNS label of at most ${max} characters: lowercase letters, digits and "-", starting and ending with a letter or digit (${what})`,
  });

const quantity = z.string().refine(isQuantity, { message: 'must be a Kubernetes quantity such as 500m, 2, 256Mi or 1Gi' });

export const ResourceAmountsSchema = z.strictObject({ cpu: quantity, memory: quantity });

export const WorkspaceConfigSchema = z
  .strictObject({
    apiVersion: z.literal('x1deploy.dev/v1'),
    kind: z.literal('Workspace'),
    workspace: z.strictObject({
      id: dnsLabel('the namespace is ws-<id>', 60),
      slug: dnsLabel('the workspace label in preview hosts'),
      domain: z.string().refine(isDnsSubdomain, { message: 'must be a DNS name such as previews.example.com' }),
    }),
    registry: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9._-]+)*$/, {
      message: 'must be a registry host (and optional port/path) such as registry.example.com or 127.0.0.1:5000',
    }),
    engine: z.enum(['argocd', 'flux']),
    ingress: z.strictObject({
      className: z.string().min(1),
      /** Namespace the ingress controller runs in: the NetworkPolicy admits traffic from it. */
      controllerNamespace: dnsLabel('the ingress controller namespace'),
    }),
    tls: z.strictObject({
      /**
       * wildcard: one cert-manager Certificate per app for `*.<app>.<workspace-slug>.<domain>`, shared by its
       * previews (one ACME order per app, not per branch). per-host: cert-manager's ingress-shim issues
       * one certificate per preview host from the Ingress annotation.
       */
      mode: z.enum(['wildcard', 'per-host']),
      issuer: z.strictObject({ kind: z.enum(['ClusterIssuer', 'Issuer']), name: z.string().min(1) }),
    }),
    secrets: z.strictObject({
      /** The workspace Secret that `${NAME}` env references read key NAME from. */
      workspaceSecret: dnsLabel('the workspace secret name', 253),
    }),
    database: z.strictObject({
      /** Name of each branch's database Secret; `{app}`, `{slug}` and `{workspace}` are filled in. */
      secretName: z.string().min(1),
      key: z.string().min(1),
    }),
    defaults: z.strictObject({
      replicas: z.number().int().min(0),
      requests: ResourceAmountsSchema,
      limits: ResourceAmountsSchema,
    }),
    apps: z.strictObject({
      /** Default branch of a new app: always up, never reaped, not counted against maxBranchDeploys. */
      defaultBranch: z.string().min(1),
      /** Source repo of a new app whose first request names none; `{app}` and `{workspace}` are filled in. */
      sourceRepo: z.string().min(1).optional(),
    }),
    limits: z.strictObject({
      /** Concurrent previews per workspace; each app's default branch does not count. */
      maxBranchDeploys: z.number().int().min(0),
      maxReplicas: z.number().int().min(1),
      maxCpu: quantity,
      maxMemory: quantity,
    }),
    /** Room the namespace quota leaves for the workspace's shared resources (its postgres, redis, …). */
    sharedHeadroom: z.strictObject({ cpu: quantity, memory: quantity, pods: z.number().int().min(0) }),
    pod: z.strictObject({
      /** uid/gid the preview containers run as: "restricted" needs a non-root user even when the image has none. */
      runAsUser: z.number().int().min(1),
    }),
  })
  .superRefine((cfg, ctx) => {
    const suffix = `${cfg.workspace.slug}.${cfg.workspace.domain}`;
    if (suffix.length > WORKSPACE_HOST_SUFFIX_MAX) {
      ctx.addIssue({
        code: 'custom',
        path: ['workspace', 'domain'],
        message: `"<workspace slug>.<domain>" is ${suffix.length} characters; at most ${WORKSPACE_HOST_SUFFIX_MAX} leave room for "<branch>.<app>." in a 253-character host`,
      });
    }
  });

export type WorkspaceConfig = z.infer<typeof WorkspaceConfigSchema>;

export interface WorkspaceInit {
  readonly id?: string;
  readonly slug?: string;
  readonly domain?: string;
  readonly registry?: string;
  readonly engine?: 'argocd' | 'flux';
}

/** The x1deploy.yaml `init` writes: a demo works with no flags at all. */
export function defaultWorkspaceConfig(init: WorkspaceInit = {}): WorkspaceConfig {
  const id = init.id ?? 'demo';
  return {
    apiVersion: 'x1deploy.dev/v1',
    kind: 'Workspace',
    workspace: { id, slug: init.slug ?? id, domain: init.domain ?? 'preview.localhost' },
    registry: init.registry ?? 'registry.localhost:5000',
    engine: init.engine ?? 'argocd',
    ingress: { className: 'nginx', controllerNamespace: 'ingress-nginx' },
    tls: { mode: 'wildcard', issuer: { kind: 'ClusterIssuer', name: 'letsencrypt-dns01' } },
    secrets: { workspaceSecret: 'workspace-secrets' },
    database: { secretName: '{app}-{slug}-db', key: 'DATABASE_URL' },
    defaults: {
      replicas: 1,
      requests: { cpu: '50m', memory: '128Mi' },
      limits: { cpu: '500m', memory: '512Mi' },
    },
    apps: { defaultBranch: 'main' },
    limits: { maxBranchDeploys: 10, maxReplicas: 3, maxCpu: '1', maxMemory: '1Gi' },
    sharedHeadroom: { cpu: '2', memory: '4Gi', pods: 10 },
    pod: { runAsUser: 65532 },
  };
}
