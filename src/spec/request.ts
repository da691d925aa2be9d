// The deploy request: the seed's deploy_branch arguments. One zod schema is the type, the
// validation, the CLI's help and the MCP tool's input schema.
import { z } from 'zod';
import type { FieldIssue } from '../errors/index.js';
import { branchNameProblem } from './git-ref.js';
import { APP_NAME_MAX, isDns1035Label } from './names.js';
import { isQuantity, parseQuantity } from './quantity.js';
import { exampleFor } from './plain-errors.js';
import { credentialKind, tokenKind } from './secret-values.js';

/** A value that is exactly `${NAME}`: a reference to key NAME of the workspace secret. */
export const SECRET_REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Env names x1deploy sets itself. */
export const RESERVED_ENV_NAMES = new Set(['DATABASE_URL']);

export const AppNameSchema = z
  .string({ error: (iss) => (iss.input === undefined ? 'app is required: the workspace-unique app name' : undefined) })
  .refine((s) => s.length <= APP_NAME_MAX && isDns1035Label(s), {
    message: `app must be 1-${APP_NAME_MAX} characters of lowercase letters, digits and "-", starting with a letter and not ending with "-"`,
  })
  .describe('Workspace-unique app name (a DNS label starting with a letter).');

/** A clone URL without embedded credentials (those belong in the workspace secrets). */
export function isSourceRepoUrl(url: string): boolean {
  if (/^git@[A-Za-z0-9.-]+:[A-Za-z0-9._~/-]+$/.test(url)) return true;
  try {
    const u = new URL(url);
    return ['https:', 'ssh:', 'git:', 'file:'].includes(u.protocol) && !u.username && !u.password;
  } catch {
    return false;
  }
}

/** A name field holding a credential: refused without showing it (the name would reach git, URLs and pull requests). */
function notAName(field: string, kind: string): string {
  return `${field} looks like ${kind} (not shown): names are written to git, URLs and pull requests; use a plain name and keep the credential in the workspace secrets, then rotate it`;
}

/** Workspace limits a request is checked against (x1deploy.yaml `limits`). */
export interface RequestLimits {
  readonly maxReplicas: number;
  readonly maxCpu: string;
  readonly maxMemory: string;
}

function quantityWithin(what: 'cpu' | 'memory', max: string | undefined) {
  return z.string().superRefine((value, ctx) => {
    if (!isQuantity(value)) {
      ctx.addIssue({
        code: 'custom',
        message: `${what} must be a Kubernetes quantity such as ${what === 'cpu' ? '250m or 1' : '256Mi or 1Gi'}`,
      });
      return;
    }
    const n = parseQuantity(value) ?? 0;
    if (n <= 0) ctx.addIssue({ code: 'custom', message: `${what} must be greater than zero` });
    if (max !== undefined && n > (parseQuantity(max) ?? Infinity)) {
      ctx.addIssue({ code: 'custom', message: `${what} ${value} is over the workspace limit of ${max} (x1deploy.yaml limits)` });
    }
  });
}

/** With a limit, the JSON schema an MCP client sees carries it as `maximum`. */
function replicasWithin(max: number | undefined) {
  const replicas = z
    .number({ message: 'replicas must be a number' })
    .int({ message: 'replicas must be a whole number' })
    .min(0, { message: 'replicas must be 0 or more' });
  return max === undefined
    ? replicas
    : replicas.max(max, { message: `replicas is over the workspace limit of ${max} (x1deploy.yaml limits.maxReplicas)` });
}

const envValue = z.string().max(32_768, { message: 'is longer than 32768 characters' });

/** The schema of a deploy request; with `limits`, replicas and resources are checked against them. */
export function deployRequestSchema(limits?: RequestLimits) {
  return z.strictObject({
    app: AppNameSchema,
    branch: z
      .string({ error: (iss) => (iss.input === undefined ? 'branch is required: the branch of the app repo to deploy' : undefined) })
      .superRefine((s, ctx) => {
        const problem = branchNameProblem(s);
        if (problem) ctx.addIssue({ code: 'custom', message: `branch is not a name git accepts: it ${problem}` });
        else {
          const kind = tokenKind(s);
          if (kind) ctx.addIssue({ code: 'custom', message: notAName('branch', kind) });
        }
      })
      .describe("Branch of the agent's working repo (any name git accepts)."),
    commit_sha: z
      .string({ error: (iss) => (iss.input === undefined ? 'commit_sha is required: the full commit id to build' : undefined) })
      .regex(/^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/, {
        message: 'commit_sha must be a full commit id: 40 hex characters (64 for sha256 repos)',
      })
      .transform((s) => s.toLowerCase())
      .describe('Full commit id to build, pinned for reproducibility.'),
    dockerfile: z
      .string()
      .superRefine((s, ctx) => {
        if (s.length === 0) ctx.addIssue({ code: 'custom', message: 'dockerfile must not be empty' });
        else if (s.length > 1024) ctx.addIssue({ code: 'custom', message: 'dockerfile is longer than 1024 characters' });
        else if (s.startsWith('/') || /^[A-Za-z]:/.test(s))
          ctx.addIssue({ code: 'custom', message: 'dockerfile must be a path relative to the repo root, not absolute' });
        else if (s.split(/[\\/]/).includes('..'))
          ctx.addIssue({ code: 'custom', message: 'dockerfile must stay inside the repo: ".." is not allowed' });
        // eslint-disable-next-line no-control-regex
        else if (/[\x00-\x1f\\]/.test(s)) ctx.addIssue({ code: 'custom', message: 'dockerfile must be a plain "/"-separated path' });
        else {
          const kind = tokenKind(s);
          if (kind) ctx.addIssue({ code: 'custom', message: notAName('dockerfile', kind) });
        }
      })
      .default('Dockerfile')
      .describe('Repo-relative path of the Dockerfile (default: Dockerfile).'),
    ports: z
      .array(
        z
          .number({ error: (iss) => (iss.input === undefined ? undefined : 'each port must be a number from 1 to 65535') })
          .int({ message: 'each port must be a whole number' })
          .min(1, { message: 'ports must be between 1 and 65535' })
          .max(65535, { message: 'ports must be between 1 and 65535' }),
        { error: (iss) => (iss.input === undefined ? 'ports is required: a list of container ports, the HTTP port first' : undefined) },
      )
      .min(1, { message: 'ports needs at least one port (the first is the HTTP port behind the URL)' })
      .max(16, { message: 'ports takes at most 16 ports' })
      .refine((ports) => new Set(ports).size === ports.length, { message: 'ports must not repeat a port' })
      .describe('Container ports; the first is the HTTP port served at the preview URL.'),
    env: z
      .record(z.string(), envValue, { message: 'env must be a map of NAME to value' })
      .superRefine((env, ctx) => {
        for (const [name, value] of Object.entries(env)) {
          const nameKind = name.length <= 256 ? tokenKind(name) : undefined;
          if (nameKind) {
            // Not under path [name]: the issue's path would show the name.
            ctx.addIssue({ code: 'custom', message: notAName('an env name', nameKind) });
            continue;
          }
          if (!ENV_NAME.test(name)) {
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message: `env name "${name.slice(0, 64)}" must be letters, digits and "_", not starting with a digit`,
            });
            continue;
          }
          if (isPrototypeKey(name)) {
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message: `env name "${name}" is refused: it is a JavaScript object key, not a setting`,
            });
            continue;
          }
          if (RESERVED_ENV_NAMES.has(name)) {
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message: `${name} is set by x1deploy from the branch's database secret; remove it from env`,
            });
            continue;
          }
          if (SECRET_REFERENCE.test(value)) continue;
          if (value.includes('${')) {
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message: `${name}: a secret reference must be the whole value, exactly \${SECRET_NAME}; values are not interpolated`,
            });
            continue;
          }
          const kind = credentialKind(name, value);
          if (kind) {
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message: `${name} looks like ${kind}; store it in the workspace secrets and set ${name} to \${SECRET_NAME} instead (the value was not saved)`,
            });
          }
        }
      })
      .optional()
      .describe('Environment variables: plain text, or exactly ${NAME} to read key NAME of the workspace secret.'),
    replicas: replicasWithin(limits?.maxReplicas)
      .optional()
      .describe('Number of pods (default: the workspace default, 1).'),
    repo: z
      .string()
      .max(2048)
      .refine(isSourceRepoUrl, {
        message: "repo must be the app's source repo as an https://, ssh:// or git@host:path URL, without credentials",
      })
      .optional()
      .describe('Source repo URL of the app; needed on the first deploy unless the workspace sets a default, then it must stay the same.'),
    follow: z
      .boolean({ message: 'follow must be true or false' })
      .optional()
      .describe('Redeploy this branch at every push to it (the GitHub webhook of x1deploy serve); needs an auto grant.'),
    resources: z
      .strictObject({
        cpu: quantityWithin('cpu', limits?.maxCpu).optional(),
        memory: quantityWithin('memory', limits?.maxMemory).optional(),
      })
      .optional()
      .describe('Per-pod cpu and memory (Kubernetes quantities); used as both request and limit.'),
  });
}

/** The request as validated: defaults applied, commit_sha lowercased. */
export type DeployRequest = z.output<ReturnType<typeof deployRequestSchema>>;
/** The request as an agent writes it. */
export type DeployRequestInput = z.input<ReturnType<typeof deployRequestSchema>>;

export type { FieldIssue };

const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** A key JavaScript treats specially on plain objects: refused as a field or env name. */
export function isPrototypeKey(key: string): boolean {
  return PROTOTYPE_KEYS.has(key);
}

/**
 * Own keys of the input that JavaScript treats specially (`JSON.parse` keeps `"__proto__"` as an own
 * key; assigning it elsewhere would change a prototype or drop the field without a word). Checked
 * on the raw input, before the schema, which would never see them.
 */
export function prototypeKeyIssues(input: unknown, path: readonly string[] = [], depth = 0): FieldIssue[] {
  if (input === null || typeof input !== 'object' || depth > 32) return [];
  const issues: FieldIssue[] = [];
  for (const key of Object.keys(input)) {
    const at = [...path, key];
    if (isPrototypeKey(key))
      issues.push({ path: at.join('.'), message: `"${key}" is refused as a field or env name: it is a JavaScript object key` });
    else issues.push(...prototypeKeyIssues((input as Record<string, unknown>)[key], at, depth + 1));
  }
  return issues;
}

export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(request)',
    message: plainMessage(issue),
  }));
}

// The error map (plain-errors.ts) words structural problems; here they get an example of a valid
// value, which needs the issue's path.
function plainMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.path.length === 0) return 'the request must be a map of fields, such as {"app": "api", …}';
  const example = issue.code === 'invalid_type' ? exampleFor(issue.path) : undefined;
  if (!example) return issue.message;
  const got = issue.message.lastIndexOf(' (got ');
  return got < 0 ? `${issue.message}, such as ${example}` : `${issue.message.slice(0, got)} such as ${example}${issue.message.slice(got)}`;
}
