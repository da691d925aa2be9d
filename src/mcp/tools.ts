// The agent's tools. Each input schema is generated from the zod schema the library validates
// with, so the MCP tool, the CLI and the library can never disagree about a field; each output
// schema describes the structured answer, whose fields carry the same names on every surface.
import { z } from 'zod';
import {
  branchDeployStatus,
  BranchRefSchema,
  deleteBranchDeploy,
  deployBranch,
  listBranchDeploys,
  rollbackBranch,
  RollbackRequestSchema,
} from '../deploy/index.js';
import {
  fetchPreview,
  FetchRequestSchema,
  liveStatus,
  LogsRequestSchema,
  MAX_LOG_LINES,
  previewLogs,
  reportObserved,
  waitForSettled,
  type LiveStatus,
  type ObservePorts,
} from '../observe/index.js';
import { RepoSnapshot, type GitopsStore } from '../records/index.js';
import type { ReviewPort } from '../review/index.js';
import { InvalidRequestError } from '../errors/index.js';
import { AppNameSchema, deployRequestSchema, toFieldIssues, type RequestLimits } from '../spec/index.js';
import { PREVIEW_STATES } from '../status/index.js';

export interface ToolContext {
  readonly store: GitopsStore;
  /** From the server's configuration: an agent cannot act as another. */
  readonly agent: string;
  readonly review?: ReviewPort;
  readonly observe: ObservePorts;
  /** Told of every call once it is answered (for metrics): the outcome is "ok" or the error's kind. */
  readonly onCall?: (call: ToolCallRecord) => void;
}

export interface ToolCallRecord {
  readonly tool: string;
  readonly outcome: 'ok' | 'invalid' | 'denied' | 'conflict' | 'unavailable' | 'internal';
  readonly seconds: number;
  readonly structured?: Record<string, unknown>;
}

export interface ToolAnswer {
  readonly structured: Record<string, unknown>;
  readonly sentence: string;
}

export interface ToolAnnotations {
  readonly readOnlyHint: boolean;
  readonly destructiveHint: boolean;
  readonly idempotentHint: boolean;
  readonly openWorldHint: boolean;
}

export interface ToolDefinition {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  /** The input schema; given the workspace's limits, the one the tool list shows. */
  readonly input: (limits?: RequestLimits) => z.ZodType;
  readonly output: z.ZodType;
  readonly annotations: ToolAnnotations;
  readonly call: (context: ToolContext, input: unknown) => Promise<ToolAnswer>;
}

export const MAX_WAIT_SECONDS = 600;

const ListInputSchema = z.strictObject({ app: AppNameSchema.optional() });

// Answers are open objects: the listed fields are promised, more may come.
const StatusShape = z.looseObject({
  app: z.string(),
  branch: z.string(),
  slug: z.string(),
  url: z.string(),
  state: z.enum(PREVIEW_STATES),
  reason: z.string().nullable(),
  fix: z.string().nullable(),
  message: z.string().nullable(),
  since: z.string(),
  version: z.number(),
  current_version: z.number().nullable(),
  observed: z.array(z.string()),
  log_tail: z.string().optional(),
});

const DeployShape = z.looseObject({
  url: z.string(),
  version: z.number(),
  image_ref: z.string(),
  status: z.string(),
  app: z.string(),
  branch: z.string(),
  slug: z.string(),
  mode: z.string(),
  commit: z.string().nullable(),
  live: StatusShape.extend({ timed_out: z.boolean(), waited_ms: z.number() }).optional(),
});

const READ_ONLY: ToolAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

const AFTER_DEPLOY =
  'After the commit the build job makes the image (pending-build → building), the engine (Argo CD or Flux) applies the manifests (syncing → rolling-out), and the URL serves once the pods are ready (ready); a crash, a failed build or a missing secret ends in build-failed or degraded with a reason and a fix.';

function deployInput(limits?: RequestLimits) {
  return deployRequestSchema(limits).extend({
    wait: z
      .number()
      .int()
      .min(0)
      .max(MAX_WAIT_SECONDS)
      .optional()
      .describe(`Seconds to wait (at most ${MAX_WAIT_SECONDS}) until the preview is ready, degraded or its build failed; the answer then carries that state in "live".`),
  });
}

function statusSentence(s: LiveStatus): string {
  const why = s.reason ? ` (${s.reason}${s.message ? `: ${s.message.split('\n')[0]}` : ''})` : '';
  return `${s.app} ${s.branch} version ${s.version} is ${s.state}${why}.${s.fix ? ` Fix: ${s.fix}.` : ''} ${s.url}`;
}

export const TOOLS: readonly ToolDefinition[] = [
  {
    name: 'deploy_branch',
    title: 'Deploy a branch',
    description: `Deploy a branch of an app as a live preview in the workspace: records a new version, renders its manifests and commits them to the gitops repo (or, under a review-mode grant, opens a gitops pull request). ${AFTER_DEPLOY} Pass "wait" to get that state in the same call. A denial names the grant that is missing: ask a workspace owner for it ("x1deploy grant").`,
    input: deployInput,
    output: DeployShape,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    async call({ store, agent, review, observe }, input) {
      const { wait, ...request } = (input ?? {}) as { wait?: unknown };
      const waitSeconds = deployInput().shape.wait.safeParse(wait);
      if (!waitSeconds.success) throw new InvalidRequestError(toFieldIssues(waitSeconds.error).map((i) => ({ ...i, path: 'wait' })));
      const { answer, commit } = await deployBranch(store, request, { agent, review });
      const where = !commit
        ? 'already deployed, nothing changed'
        : answer.gitops_branch
          ? `proposed for review on gitops branch ${answer.gitops_branch}; it goes live when merged`
          : 'committed to the gitops repo';
      const structured: Record<string, unknown> = { ...answer, commit: commit ?? null };
      let sentence = `${answer.app} ${answer.branch} version ${answer.version} (${answer.status}): ${where}. Preview: ${answer.url}`;
      if (waitSeconds.data) {
        const settled = await waitForSettled(store, { app: answer.app, branch: answer.branch }, observe, { timeoutMs: waitSeconds.data * 1000 });
        structured.live = { ...settled.status, timed_out: settled.timed_out, waited_ms: settled.waited_ms };
        // What was seen goes to the reviewers too: the comment and the GitHub deployment's status.
        if (review && !answer.gitops_branch) {
          const told = await reportObserved(store, review, settled.status);
          if (told.review_error) structured.review_error = told.review_error;
        }
        sentence += `. ${settled.timed_out ? `Still ${settled.status.state} after ${waitSeconds.data} s: ` : 'Now: '}${statusSentence(settled.status)}`;
      }
      return { structured, sentence };
    },
  },
  {
    name: 'branch_deploy_status',
    title: 'Preview status',
    description:
      "A preview's live state, from git, the build, the engine, the cluster and its URL: pending-build, building, build-failed, syncing, rolling-out, ready, degraded or reaped, with a reason, a one-sentence fix and since; for a crash, the exit code and the last lines of the log. Also its versions, newest first.",
    input: () => BranchRefSchema,
    output: StatusShape.extend({ latest_version: z.number(), versions: z.array(z.looseObject({ number: z.number(), status: z.string() })) }),
    annotations: { ...READ_ONLY, openWorldHint: true },
    async call({ store, observe }, input) {
      const live = await liveStatus(store, input, observe);
      const git = await branchDeployStatus(store, input as z.output<typeof BranchRefSchema>);
      return {
        structured: { ...live, latest_version: git.latest_version, versions: git.versions.slice(0, 10) },
        sentence: statusSentence(live),
      };
    },
  },
  {
    name: 'branch_deploy_logs',
    title: 'Preview or build logs',
    description: `The last lines of the preview's app log (previous: the run before the last restart, which is what a crash-looping app said), or with build: true of a version's build. At most ${MAX_LOG_LINES} lines and 32 KiB; grep keeps matching lines (RE2 syntax, case-insensitive). Credentials are scrubbed.`,
    input: () => LogsRequestSchema,
    output: z.looseObject({
      source: z.enum(['runtime', 'build']),
      version: z.number(),
      pod: z.string().nullable(),
      container: z.string(),
      lines: z.array(z.string()),
      truncated: z.boolean(),
    }),
    annotations: { ...READ_ONLY, openWorldHint: true },
    async call({ store, observe }, input) {
      const logs = await previewLogs(store, input, observe);
      const what = logs.source === 'build' ? `build of version ${logs.version}` : `${logs.previous ? 'previous run of ' : ''}version ${logs.version}`;
      return {
        structured: { ...logs },
        sentence: `${logs.lines.length} line${logs.lines.length === 1 ? '' : 's'} of the ${what} of ${logs.app} ${logs.branch}${logs.truncated ? ' (cut to the limits)' : ''}${logs.note ? `; ${logs.note}` : ''}.`,
      };
    },
  },
  {
    name: 'fetch_preview',
    title: 'Fetch a page of the preview',
    description: "GET a path (default /) of the agent's own preview: the HTTP status, a few headers and at most 16 KiB of the body, to check what the app serves.",
    input: () => FetchRequestSchema,
    output: z.looseObject({ url: z.string(), status: z.number(), headers: z.record(z.string(), z.string()), body: z.string(), truncated: z.boolean() }),
    annotations: { ...READ_ONLY, idempotentHint: false, openWorldHint: true },
    async call({ store, observe }, input) {
      const page = await fetchPreview(store, input, observe);
      return {
        structured: { ...page },
        sentence: `GET ${page.url} answered ${page.status}${page.headers['content-type'] ? ` (${page.headers['content-type']})` : ''} with ${page.body.length} characters${page.truncated ? ', cut at 16 KiB' : ''}.`,
      };
    },
  },
  {
    name: 'list_branch_deploys',
    title: 'List previews',
    description: 'The branch deploys of the workspace (or of one app): app, branch, URL, newest version and its status, and the version served.',
    input: () => ListInputSchema,
    output: z.object({ deploys: z.array(z.looseObject({ app: z.string(), branch: z.string(), url: z.string(), version: z.number() })) }),
    annotations: READ_ONLY,
    async call({ store }, input) {
      const { app } = input as z.output<typeof ListInputSchema>;
      const deploys = await listBranchDeploys(store, { app });
      const names = deploys
        .slice(0, 10)
        .map((d) => `${d.app} ${d.branch} v${d.version} (${d.status})`)
        .join(', ');
      return {
        structured: { deploys },
        sentence:
          deploys.length === 0
            ? 'No branch deploys.'
            : `${deploys.length} branch deploy${deploys.length === 1 ? '' : 's'}: ${names}${deploys.length > 10 ? ', …' : ''}.`,
      };
    },
  },
  {
    name: 'rollback_branch',
    title: 'Roll back a preview',
    description:
      'Serve an earlier built version of a branch deploy again (default: the previous built one). No rebuild: the image is pinned by digest. Needs the same grant as deploy_branch.',
    input: () => RollbackRequestSchema,
    output: z.looseObject({ app: z.string(), branch: z.string(), version: z.number(), previous_version: z.number().nullable(), url: z.string() }),
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    async call({ store, agent }, input) {
      const { answer, commit } = await rollbackBranch(store, input as z.output<typeof RollbackRequestSchema>, { agent });
      return {
        structured: { ...answer, commit: commit ?? null },
        sentence: `${answer.app} ${answer.branch} serves version ${answer.version} again (was ${answer.previous_version ?? 'none'})${answer.gitops_branch ? `, proposed for review on ${answer.gitops_branch}` : ''}. ${answer.url}`,
      };
    },
  },
  {
    name: 'delete_branch_deploy',
    title: 'Delete a preview',
    description:
      'Remove a preview now: its record and manifests go in one commit, the engine deletes its objects, and its images go with the next reap. Needs the same grant as deploy_branch; deploying the branch again brings it back as version 1.',
    input: () => BranchRefSchema,
    output: z.looseObject({ app: z.string(), branch: z.string(), url: z.string(), deleted_versions: z.number(), commit: z.string().nullable() }),
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    async call({ store, agent, review }, input) {
      const { answer, commit } = await deleteBranchDeploy(store, input, { agent, review });
      return {
        structured: { ...answer, commit: commit ?? null },
        sentence: `${answer.app} ${answer.branch} is deleted${answer.gitops_branch ? `, proposed for review on ${answer.gitops_branch}` : ''}: ${answer.url} stops serving once the engine syncs.`,
      };
    },
  },
];

/** The workspace's request limits, for the input schemas the tool list shows (none when unreadable). */
export async function workspaceLimits(store: GitopsStore): Promise<RequestLimits | undefined> {
  try {
    return (await (await RepoSnapshot.atHead(store)).workspace()).limits;
  } catch {
    return undefined;
  }
}

/** The JSON schema an MCP client sees for a tool's input or output. */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _drop, ...json } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return json;
}
