// /api/v1: the same library calls as the CLI and the MCP tools, as JSON over HTTP, with the same
// field names and the same error answers. Reads for any token; deploy, rollback and delete for
// agent tokens (acting as that agent); grant and revoke for owner tokens (as that owner).
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { BranchRefSchema, branchHistory, deleteBranchDeploy, deployBranch, listBranchDeploys, rollbackBranch, RollbackRequestSchema } from '../deploy/index.js';
import { errorAnswer, InvalidRequestError, kindOf, type ErrorKind } from '../errors/index.js';
import { GRANT_MODES } from '../grants/index.js';
import { jsonSchemaOf } from '../mcp/index.js';
import { liveStatus, LogsRequestSchema, previewLogs, workspaceStatuses, type ObservePorts } from '../observe/index.js';
import { grantDeploy, listGrants, revokeDeploy } from '../owners/index.js';
import type { GitopsStore } from '../records/index.js';
import type { ReviewPort } from '../review/index.js';
import { AppNameSchema, deployRequestSchema, toFieldIssues } from '../spec/index.js';
import type { Caller, TokenTable } from './tokens.js';

const HTTP_STATUS: Record<ErrorKind, 400 | 403 | 409 | 503 | 500> = {
  invalid: 400,
  denied: 403,
  conflict: 409,
  unavailable: 503,
  internal: 500,
};

export const GrantBodySchema = z.strictObject({
  agent: z.string().min(1).max(100),
  app: AppNameSchema,
  branches: z.string().min(1).max(255),
  mode: z.enum(GRANT_MODES).optional(),
});
export const RevokeBodySchema = z.strictObject({
  agent: z.string().min(1).max(100),
  app: AppNameSchema,
  branches: z.string().min(1).max(255).optional(),
});

export interface ApiOptions {
  readonly store: GitopsStore;
  readonly tokens: TokenTable;
  readonly observe: ObservePorts;
  readonly review?: ReviewPort;
  readonly onError?: (kind: ErrorKind) => void;
  /** Told of each write that succeeded, with its answer (for the event log). */
  readonly onWrite?: (call: 'deploy' | 'rollback' | 'delete' | 'grant' | 'revoke', answer: Record<string, unknown>) => void;
}

type Need = 'any' | 'agent' | 'owner';

export function apiRoutes(options: ApiOptions): Hono {
  const api = new Hono();
  const { store, observe, review } = options;

  /** Run `handler` as the token's caller, answering errors as every surface does. */
  const as =
    (need: Need, handler: (c: Context, caller: Caller) => Promise<unknown>) =>
    async (c: Context): Promise<Response> => {
      const caller = options.tokens.identify(c.req.header('authorization'));
      if (!caller) {
        return c.json({ error: 'a bearer token is required: send "Authorization: Bearer <token>"', kind: 'denied' }, 401, {
          'www-authenticate': 'Bearer realm="x1deploy"',
        });
      }
      if (need !== 'any' && caller.kind !== need) {
        return c.json({ error: `this call needs ${need === 'agent' ? 'an agent' : 'an owner'} token; yours is ${caller.kind === 'read' ? 'a read' : `an ${caller.kind}`} token`, kind: 'denied' }, 403);
      }
      try {
        return c.json((await handler(c, caller)) as object);
      } catch (err) {
        const kind = kindOf(err);
        options.onError?.(kind);
        if (kind === 'internal') process.stderr.write(`x1deploy serve: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        return c.json(errorAnswer(err), HTTP_STATUS[kind]);
      }
    };

  const body = async (c: Context): Promise<unknown> => {
    try {
      return await c.req.json();
    } catch {
      throw new InvalidRequestError([{ path: '(body)', message: 'the body must be a JSON object' }]);
    }
  };
  /** The JSON body, checked against the schema the call validates with. */
  const bodyAs = async <S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> => {
    const parsed = schema.safeParse(await body(c));
    if (!parsed.success) throw new InvalidRequestError(toFieldIssues(parsed.error));
    return parsed.data;
  };
  const query = (c: Context) => Object.fromEntries(new URL(c.req.url).searchParams);
  const agentOf = (caller: Caller) => (caller.kind === 'agent' ? caller.agent : '');
  const ownerOf = (caller: Caller) => (caller.kind === 'owner' ? caller.owner : '');

  api.get(
    '/previews',
    as('any', async () => {
      const [listed, statuses] = await Promise.all([listBranchDeploys(store, {}), workspaceStatuses(store, observe)]);
      const byKey = new Map(statuses.map((s) => [`${s.app}/${s.branch}`, s]));
      return {
        previews: listed.map((d) => {
          const s = byKey.get(`${d.app}/${d.branch}`);
          return { ...d, ...(s ? { state: s.state, reason: s.reason, fix: s.fix, since: s.since } : {}) };
        }),
      };
    }),
  );
  api.get(
    '/preview',
    as('any', async (c) => {
      const ref = BranchRefSchema.safeParse(query(c));
      if (!ref.success) throw new InvalidRequestError(toFieldIssues(ref.error));
      const [status, history] = await Promise.all([liveStatus(store, ref.data, observe), branchHistory(store, ref.data.app, ref.data.branch)]);
      return { ...status, versions: history.versions };
    }),
  );
  api.get(
    '/logs',
    as('any', async (c) => {
      const q = query(c);
      const numbers = ['version', 'tail', 'since_seconds'];
      const flags = ['build', 'previous'];
      const input = Object.fromEntries(
        Object.entries(q).map(([k, v]) => [k, numbers.includes(k) ? Number(v) : flags.includes(k) ? v === 'true' : v]),
      );
      return previewLogs(store, input, observe);
    }),
  );
  api.get('/grants', as('any', async () => ({ grants: await listGrants(store) })));

  api.post(
    '/deploy',
    as('agent', async (c, caller) => {
      const { answer, commit } = await deployBranch(store, await body(c), { agent: agentOf(caller), review });
      const out = { ...answer, commit: commit ?? null };
      options.onWrite?.('deploy', out);
      return out;
    }),
  );
  api.post(
    '/rollback',
    as('agent', async (c, caller) => {
      const { answer, commit } = await rollbackBranch(store, await bodyAs(c, RollbackRequestSchema), { agent: agentOf(caller), review });
      return { ...answer, commit: commit ?? null };
    }),
  );
  api.post(
    '/delete',
    as('agent', async (c, caller) => {
      const { answer, commit } = await deleteBranchDeploy(store, await body(c), { agent: agentOf(caller), review });
      const out = { ...answer, commit: commit ?? null };
      options.onWrite?.('delete', out);
      return out;
    }),
  );
  api.post(
    '/grants',
    as('owner', async (c, caller) => {
      const { commit, summary } = await grantDeploy(store, { ...(await bodyAs(c, GrantBodySchema)), by: ownerOf(caller) });
      return { summary, commit: commit ?? null };
    }),
  );
  api.post(
    '/revoke',
    as('owner', async (c, caller) => {
      const { commit, summary } = await revokeDeploy(store, { ...(await bodyAs(c, RevokeBodySchema)), by: ownerOf(caller) });
      return { summary, commit: commit ?? null };
    }),
  );
  api.get('/openapi.json', (c) => c.json(openApiDocument()));
  return api;
}

/** The API's OpenAPI 3.1 description; request bodies are the zod schemas the calls validate with. */
export function openApiDocument(): Record<string, unknown> {
  const error = { description: 'The error answer every surface gives: {error, kind, issues?} or {denied, kind, reason}', content: { 'application/json': { schema: { type: 'object' } } } };
  const ok = (description: string) => ({ description, content: { 'application/json': { schema: { type: 'object' } } } });
  const errors = { '400': error, '401': error, '403': error, '409': error, '503': error };
  const bodyOf = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema: jsonSchemaOf(schema, 'input') } } });
  const refParams = [
    { name: 'app', in: 'query', required: true, schema: { type: 'string' } },
    { name: 'branch', in: 'query', required: true, schema: { type: 'string' } },
  ];
  const logParams = Object.entries((jsonSchemaOf(LogsRequestSchema, 'input').properties ?? {}) as Record<string, Record<string, unknown>>).map(
    ([name, schema]) => ({ name, in: 'query', required: name === 'app' || name === 'branch', schema }),
  );
  return {
    openapi: '3.1.0',
    info: { title: 'x1deploy', version: 'v1', description: 'Branch deploys: the library calls of the CLI and the MCP tools, as JSON.' },
    servers: [{ url: '/api/v1' }],
    components: { securitySchemes: { token: { type: 'http', scheme: 'bearer' } } },
    security: [{ token: [] }],
    paths: {
      '/previews': { get: { summary: 'Every preview with its live state', responses: { '200': ok('{previews: [...]}'), ...errors } } },
      '/preview': { get: { summary: "One preview's live state and versions", parameters: refParams, responses: { '200': ok('the status answer'), ...errors } } },
      '/logs': { get: { summary: 'Log lines of a preview or a build (bounded, scrubbed)', parameters: logParams, responses: { '200': ok('{lines, ...}'), ...errors } } },
      '/grants': {
        get: { summary: 'Every grant, revoked ones included', responses: { '200': ok('{grants: [...]}'), ...errors } },
        post: { summary: 'Grant deploys (owner token)', requestBody: bodyOf(GrantBodySchema), responses: { '200': ok('{summary, commit}'), ...errors } },
      },
      '/revoke': { post: { summary: 'Revoke grants (owner token)', requestBody: bodyOf(RevokeBodySchema), responses: { '200': ok('{summary, commit}'), ...errors } } },
      '/deploy': { post: { summary: 'Deploy a branch (agent token)', requestBody: bodyOf(deployRequestSchema()), responses: { '200': ok('the deploy answer'), ...errors } } },
      '/rollback': { post: { summary: 'Serve an earlier built version (agent token)', requestBody: bodyOf(RollbackRequestSchema), responses: { '200': ok('the rollback answer'), ...errors } } },
      '/delete': { post: { summary: 'Delete a preview (agent token)', requestBody: bodyOf(BranchRefSchema), responses: { '200': ok('{app, branch, deleted_versions, commit}'), ...errors } } },
    },
  };
}
