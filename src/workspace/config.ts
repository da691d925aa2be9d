// x1deploy.yaml: one workspace's settings. This schema is the single source for the type, the
// validation of the file on every read, and the defaults `init` writes.
import { z } from 'zod';
import {
  AgentIdSchema,
  branchNameProblem,
  defaultBuildNamespace,
  defaultCacheRepo,
  isDnsLabel,
  isDnsSubdomain,
  isQuantity,
  isSourceRepoUrl,
  WORKSPACE_HOST_SUFFIX_MAX,
  lazySchema,
  workspaceNamespace,
} from '../spec/index.js';

const dnsLabel = (what: string, max = 63) =>
  z.string().refine((s) => isDnsLabel(s) && s.length <= max, {
    message: `must be a DNS label of at most ${max} characters: lowercase letters, digits and "-", starting and ending with a letter or digit (${what})`,
  });

const quantity = lazySchema(() =>
  z.string().refine(isQuantity, { message: 'must be a Kubernetes quantity such as 500m, 2, 256Mi or 1Gi' }),
);

export const ResourceAmountsSchema = lazySchema(() => z.strictObject({ cpu: quantity, memory: quantity }));

/** An image reference pinned by digest: a tag can be moved under a running cluster, a digest cannot. */
const pinnedImage = (what: string) =>
  z.string().regex(/^[a-z0-9][a-z0-9._:/-]*(:[A-Za-z0-9._-]+)?@sha256:[0-9a-f]{64}$/, {
    message: `must be an image pinned by digest, such as registry.example.com/${what}:v1.2.3@sha256:<64 hex digits>`,
  });

// Kaniko's maintained fork (upstream GoogleContainerTools/kaniko was archived in June 2025). This
// digest is the one public configurations pin for v1.28.2; x1deploy has NOT verified it. Operators
// must resolve and pin the digest they trust (`crane digest ghcr.io/osscontainertools/kaniko:<tag>`)
// in x1deploy.yaml `build.kanikoImage`.
export const DEFAULT_KANIKO_IMAGE =
  'ghcr.io/osscontainertools/kaniko:v1.28.2@sha256:4ea0e7301e3f6806de15150e4982c73018351e28c1dca6947bd3b4afb5ae3c60';

const cronSchedule = lazySchema(() =>
  z.string().regex(/^(@(hourly|daily|weekly|monthly|yearly|annually|midnight)|(\S+\s+){4}\S+)$/, {
    message: 'must be a cron schedule of five fields, such as "* * * * *" or "17 3 * * *"',
  }),
);

/** How pending versions get their images (x1deploy build): one Kaniko Job per version. */
export const BuildConfigSchema = lazySchema(() =>
  z
    .strictObject({
      /** Namespace the Kaniko Jobs run in (Pod Security "baseline": Kaniko needs root). Default ws-<id>-builds. */
      namespace: dnsLabel('the build namespace').optional(),
      kanikoImage: pinnedImage('kaniko').default(DEFAULT_KANIKO_IMAGE),
      /** Kaniko's layer cache repository; default <registry>/ws/<id>/cache. */
      cacheRepo: z.string().min(1).optional(),
      resources: z
        .strictObject({ requests: ResourceAmountsSchema, limits: ResourceAmountsSchema })
        .default({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '4Gi' } }),
      /** A build Job running longer than this fails (activeDeadlineSeconds). */
      deadlineSeconds: z.number().int().min(60).default(1800),
      /** Retries of a failed build pod before the Job fails. */
      backoffLimit: z.number().int().min(0).max(10).default(1),
      /** Finished Jobs (and their pods and logs) are deleted this long after they finish. */
      ttlSecondsAfterFinished: z.number().int().min(0).default(86_400),
      /** Secret (key `token`) with a token that can clone the source repos; optional for public repos. */
      gitTokenSecret: dnsLabel('the git token secret name', 253).default('x1deploy-git-token'),
      /** kubernetes.io/dockerconfigjson Secret Kaniko pushes with; optional for a registry without auth. */
      registrySecret: dnsLabel('the registry credentials secret name', 253).default('x1deploy-registry-credentials'),
      /** The registry speaks plain HTTP (an in-cluster registry without TLS). */
      insecureRegistry: z.boolean().default(false),
    })
    .prefault({}),
);

/** The in-cluster jobs `x1deploy install` renders into bootstrap/jobs/. Opt-in: nothing is rendered unless enabled. */
export const JobsConfigSchema = lazySchema(() =>
  z
    .strictObject({
      enabled: z.boolean().default(false),
      /** The x1deploy image the jobs run (its entrypoint is the x1deploy CLI). Required when enabled. */
      image: pinnedImage('x1deploy').optional(),
      /** The gitops repo's https:// URL the jobs clone and push; default gitops.repoUrl when that is https://. */
      gitopsRepo: z
        .url({ protocol: /^https$/, message: 'must be the https:// URL of this gitops repo' })
        .refine((u) => !/^https:\/\/[^/]*@/.test(u), {
          message: 'must not hold credentials: the token goes in the Secret named by jobs.gitopsTokenSecret',
        })
        .optional(),
      /** Secret (key `token`) with a token that can push to the gitops repo. */
      gitopsTokenSecret: dnsLabel('the gitops token secret name', 253).default('x1deploy-gitops-token'),
      /** Secret (keys `username`, `password`) the jobs read (and the reaper deletes) images with; optional. */
      registryLoginSecret: dnsLabel('the registry login secret name', 253).default('x1deploy-registry-login'),
      /** Where the jobs reach the registry when the host in the image names is not reachable from their pods. */
      registryUrl: z
        .string()
        .regex(/^https?:\/\/[^/@\s]+\/?$/, { message: 'must be http(s)://host[:port], without credentials or a path' })
        .optional(),
      /** Secret (key `token`) the reaper lists GitHub branches with; optional. */
      githubTokenSecret: dnsLabel('the GitHub token secret name', 253).default('x1deploy-github-token'),
      /** Secret (key `token`) the reaper queries Prometheus with; optional. */
      prometheusTokenSecret: dnsLabel('the Prometheus token secret name', 253).default('x1deploy-prometheus-token'),
      /** cron: a CronJob runs `build --once`; watch: a Deployment runs `build --watch`. */
      buildMode: z.enum(['cron', 'watch']).default('cron'),
      buildSchedule: cronSchedule.default('* * * * *'),
      buildConcurrency: z.number().int().min(1).max(50).default(2),
      reapSchedule: cronSchedule.default('17 3 * * *'),
      /** `x1deploy serve` beside the jobs: MCP over HTTP, the API, events, webhooks and the status page. */
      serve: z
        .strictObject({
          enabled: z.boolean().default(false),
          replicas: z.number().int().min(1).max(10).default(2),
          /** Secret with key `tokens.yaml`: the {sha256, agent|owner|read} list (never in git). */
          tokensSecret: dnsLabel('the serve tokens secret name', 253).default('x1deploy-serve-tokens'),
          /** Secret with key `secret`: the GitHub webhook secret; optional (no webhooks without it). */
          webhookSecret: dnsLabel('the GitHub webhook secret name', 253).default('x1deploy-github-webhook'),
          /** A host for an Ingress (with a cert-manager certificate from tls.issuer); none without it. */
          host: z.string().refine(isDnsSubdomain, { message: 'must be a DNS name such as x1deploy.example.com' }).optional(),
        })
        .prefault({}),
    })
    .prefault({}),
);

/**
 * The traffic query `x1deploy reap` asks Prometheus for: one series per preview host, valued by the
 * requests it served in the idle window. `{hostRegex}` becomes a regex matching the workspace's
 * preview hosts, `{idleDays}` the window in days.
 */
export const DEFAULT_TRAFFIC_QUERY = 'sum by (host) (increase(nginx_ingress_controller_requests{host=~"{hostRegex}"}[{idleDays}d]))';

const httpUrlWithoutCredentials = (what: string) =>
  z
    .url({ protocol: /^https?$/, message: `must be the http(s):// URL of ${what}` })
    .refine((u) => !/^https?:\/\/[^/]*@/.test(u), { message: 'must not hold credentials: they go in an environment variable' });

/** How `x1deploy reap` finds previews to remove: branches gone upstream, and (opt-in) idle previews. */
export const ReapConfigSchema = lazySchema(() =>
  z
    .strictObject({
      /** Previews that served no HTTP request for this many days are reaped; unset: never for idleness. */
      idleDays: z.number().int().min(1).max(365).optional(),
      /** Prometheus's HTTP API root (bearer token, if any, in X1DEPLOY_PROMETHEUS_TOKEN). Needed with idleDays. */
      prometheusUrl: httpUrlWithoutCredentials('the Prometheus server').optional(),
      trafficQuery: z
        .string()
        .refine((q) => q.includes('{hostRegex}'), { message: 'must contain {hostRegex}, where the preview hosts regex goes' })
        .default(DEFAULT_TRAFFIC_QUERY),
      /** The label of the traffic query's result that holds the preview host. */
      hostLabel: z.string().min(1).default('host'),
      /** File (relative to the working directory) keeping GitHub ETags between runs, so an unchanged branch list costs no rate limit. Default: none kept. */
      etagCacheFile: z.string().min(1).optional(),
      /** The GitHub REST API the branch lists come from (token in X1DEPLOY_GITHUB_TOKEN); GitHub Enterprise: https://HOST/api/v3. */
      githubApiUrl: httpUrlWithoutCredentials('the GitHub API').default('https://api.github.com'),
      /** The host of the repo URLs that API serves; default github.com for api.github.com, else the API's host. */
      githubWebHost: z.string().min(1).optional(),
    })
    .superRefine((reap, ctx) => {
      if (reap.idleDays !== undefined && reap.prometheusUrl === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['prometheusUrl'],
          message: 'is needed with idleDays: idle previews are found from Prometheus traffic',
        });
      }
    })
    .prefault({}),
);

/** A git host login (GitHub: letters, digits and "-"; apps and bots end in "[bot]"). */
const LoginSchema = lazySchema(() =>
  z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,38}(\[bot\])?$/, { message: 'must be a git host login such as octocat or my-app[bot]' }),
);

/**
 * Who a gitops pull request comes from, by the git host login of its author: `x1deploy verify
 * --author LOGIN` decides what that pull request may change from this list as it is on the target
 * branch (a pull request cannot name itself an owner). Logins compare case-insensitively, as GitHub's do.
 */
export const IdentitiesSchema = lazySchema(() =>
  z
    .strictObject({
      /** The workspace owners: they alone change owner files (grants, settings, CODEOWNERS, .github/) and delete previews by hand. */
      owners: z.array(LoginSchema).default([]),
      /** Agents that open their own pull requests: the login and the agent id whose grants it uses. */
      agents: z.array(z.strictObject({ login: LoginSchema, agent: AgentIdSchema })).default([]),
      /**
       * The login x1deploy itself opens review-mode pull requests as (its GitHub token's user). It
       * authenticated the agent before proposing, so its pull requests may name the requesting agent.
       */
      proposer: LoginSchema.optional(),
    })
    .prefault({}),
);

export type Identities = z.output<typeof IdentitiesSchema>;

export const WorkspaceConfigSchema = lazySchema(() =>
  z
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
      /** Where the engine pulls this repo from (bootstrap/): the only source the workspace's Argo CD project or Flux source accepts. */
      gitops: z.strictObject({
        repoUrl: z.string().refine(isSourceRepoUrl, {
          message: 'must be the clone URL of this gitops repo (https://, ssh:// or git@host:path), without credentials',
        }),
        /** The branch the engine syncs: the one x1deploy commits to. */
        branch: z.string().refine((b) => branchNameProblem(b) === undefined, { message: 'must be a branch name git accepts' }),
        /** Flux only: a Secret in ws-<id> holding the credentials for a private repo (Argo CD keeps repository credentials itself). */
        secretName: dnsLabel('the Flux GitRepository secretRef', 253).optional(),
      }),
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
      build: BuildConfigSchema,
      jobs: JobsConfigSchema,
      reap: ReapConfigSchema,
      identities: IdentitiesSchema,
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
    }),
);

export type WorkspaceConfig = z.infer<typeof WorkspaceConfigSchema>;

export interface WorkspaceInit {
  readonly id?: string;
  readonly slug?: string;
  readonly domain?: string;
  readonly registry?: string;
  readonly engine?: 'argocd' | 'flux';
  /** The gitops repo's clone URL as the engine reaches it. */
  readonly gitopsRepoUrl?: string;
  /** Git host logins of the workspace owners (identities.owners). */
  readonly ownerLogins?: readonly string[];
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
    // The .invalid placeholder (RFC 2606) fails loudly in the engine until the real URL is set.
    gitops: { repoUrl: init.gitopsRepoUrl ?? `https://gitops.invalid/${workspaceNamespace(id)}.git`, branch: 'main' },
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
    build: BuildConfigSchema.parse({}),
    jobs: JobsConfigSchema.parse({}),
    reap: ReapConfigSchema.parse({}),
    identities: { owners: [...(init.ownerLogins ?? [])], agents: [] },
  };
}

/** Where the workspace's build Jobs run: build.namespace, else ws-<id>-builds. */
export function buildNamespace(ws: WorkspaceConfig): string {
  return ws.build.namespace ?? defaultBuildNamespace(ws.workspace.id);
}

/** Kaniko's layer cache repository: build.cacheRepo, else <registry>/ws/<id>/cache. */
export function cacheRepo(ws: WorkspaceConfig): string {
  return ws.build.cacheRepo ?? defaultCacheRepo(ws);
}

/** Whether the engine's clone URL is the placeholder init writes without --gitops-url. */
export function hasPlaceholderGitopsUrl(config: WorkspaceConfig): boolean {
  return new URL(config.gitops.repoUrl.replace(/^git@([^:]+):/, 'ssh://$1/')).hostname.endsWith('.invalid');
}
