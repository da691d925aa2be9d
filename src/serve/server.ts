// `x1deploy serve`: the agent tools over MCP Streamable HTTP, one identity per bearer token. It
// keeps no state of its own (all of it is in git), so several replicas can serve one workspace:
// within a replica concurrent writes are group-committed (one fetch, one commit, one push for
// all that wait); between replicas they are settled by the store's compare-and-swap and re-planning.
import type { AddressInfo } from 'node:net';
import { serve as serveNode, type ServerType } from '@hono/node-server';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Hono, type Context } from 'hono';
import { createMcpServer } from '../mcp/index.js';
import type { ObservePorts } from '../observe/index.js';
import type { GitopsStore } from '../records/index.js';
import type { ReviewPort } from '../review/index.js';
import { errorAnswer, exitCodeFor, kindOf } from '../errors/index.js';
import { apiRoutes } from './api.js';
import { serviceMetrics } from './metrics.js';
import { webhookHandler, type WebhookOptions } from './webhooks.js';
import { EventLog, eventStream, watchPreviews } from './events.js';
import { workspaceStatuses } from '../observe/index.js';
import { RepoSnapshot } from '../records/index.js';
import { groupCommits } from '../transaction/index.js';
import { grantsPage, overviewPage, previewPage } from './pages.js';
import type { Caller, TokenTable } from './tokens.js';

export interface ServeOptions {
  readonly store: GitopsStore;
  readonly tokens: TokenTable;
  readonly observe: ObservePorts;
  readonly review?: ReviewPort;
  readonly version: string;
  /** /webhooks/github, when a webhook secret is configured. */
  readonly webhook?: WebhookOptions;
  /** How often /events' watcher looks at the previews (default 10 s). */
  readonly watchIntervalMs?: number;
}

export interface RunningServer {
  readonly url: string;
  /** Refuse new requests, finish the ones in flight, then stop listening. */
  close(): Promise<void>;
}

const UNAUTHORIZED = { error: 'a bearer token is required: send "Authorization: Bearer <token>" with a token the operator issued', kind: 'denied' };
const unauthorized = (c: Context) => c.json(UNAUTHORIZED, 401, { 'www-authenticate': 'Bearer realm="x1deploy"' });

interface ServiceState {
  draining: boolean;
  inFlight: number;
}

export function serviceApp(given: ServeOptions, state: ServiceState, events: EventLog, deletedHere: Set<string>) {
  const app = new Hono();
  const metrics = serviceMetrics();
  // Every write of the service (API, MCP, webhooks) joins one group commit queue.
  const options = { ...given, store: groupCommits(given.store, { onGroup: (size) => metrics.groupCommit(size) }) };
  /** A write the service made: it goes to the event log as it happens. */
  const wrote = (tool: string, answer: Record<string, unknown>) => {
    const ref = { app: String(answer.app), branch: String(answer.branch) };
    if (tool === 'deploy_branch' && answer.commit !== null) {
      events.append('dev.x1deploy.deploy.requested', ref, { version: answer.version, url: answer.url, mode: answer.mode, commit: answer.commit });
    } else if (tool === 'delete_branch_deploy' && answer.commit !== null) {
      deletedHere.add(`${ref.app}/${ref.branch}`);
      events.append('dev.x1deploy.preview.deleted', ref, { url: answer.url, commit: answer.commit });
    }
  };

  app.use('*', async (c, next) => {
    if (state.draining && c.req.path !== '/healthz') {
      return c.json({ error: 'x1deploy is shutting down; retry on another replica', kind: 'unavailable' }, 503, { 'retry-after': '1' });
    }
    state.inFlight++;
    try {
      await next();
    } finally {
      state.inFlight--;
      // The route's pattern, not the path: label values stay few.
      metrics.httpRequest(c.req.routePath, c.res.status);
    }
  });

  app.get('/metrics', async (c) => {
    if (!options.tokens.identify(c.req.header('authorization'))) return unauthorized(c);
    return c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType });
  });

  app.route(
    '/api/v1',
    apiRoutes({
      store: options.store,
      tokens: options.tokens,
      observe: options.observe,
      review: options.review,
      onError: (kind) => metrics.apiError(kind),
      onWrite: (call, answer) => wrote(call === 'deploy' ? 'deploy_branch' : call === 'delete' ? 'delete_branch_deploy' : call, answer),
    }),
  );

  const webhook = options.webhook ? webhookHandler(options.webhook, options.store) : undefined;
  app.post('/webhooks/github', async (c) => {
    if (!webhook) return c.json({ error: 'webhooks are off: set X1DEPLOY_GITHUB_WEBHOOK_SECRET to the secret of the GitHub webhook', kind: 'unavailable' }, 503);
    const answer = await webhook(c);
    metrics.webhookDelivery(c.req.header('x-github-event') ?? 'unknown', answer.status);
    return answer;
  });

  app.get('/events', (c) => {
    if (!options.tokens.identify(c.req.header('authorization'))) return unauthorized(c);
    return eventStream(c, events);
  });

  app.get('/healthz', (c) => c.json({ ok: true }));

  app.get('/readyz', async (c) => {
    try {
      await options.store.head();
      return c.json({ ok: true });
    } catch {
      return c.json({ ok: false, error: 'the gitops repo cannot be read', kind: 'unavailable' }, 503);
    }
  });

  app.all('/mcp', async (c) => {
    const caller = options.tokens.identify(c.req.header('authorization'));
    if (!caller) return unauthorized(c);
    if (caller.kind !== 'agent') {
      return c.json({ error: 'the MCP tools act as an agent: use an agent token (owner and read tokens are for the API and the status page)', kind: 'denied' }, 403);
    }
    // Stateless: a server and a transport per request, acting as the token's agent and no other.
    const server = createMcpServer(
      { store: options.store, agent: caller.agent, review: options.review, observe: options.observe, onCall: (call) => {
          metrics.toolCall(call);
          if (call.outcome === 'ok' && call.structured) wrote(call.tool, call.structured);
        },
      },
      options.version,
    );
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    try {
      return await transport.handleRequest(c.req.raw);
    } finally {
      await server.close().catch(() => undefined);
    }
  });

  // The pages: any valid token may read them. A browser sends it as the password of HTTP Basic
  // auth (it asks for it), a script as a bearer token.
  const reader = (authorization: string | undefined): Caller | undefined => {
    const basic = /^Basic ([A-Za-z0-9+/=]{1,8192})$/.exec(authorization ?? '');
    if (!basic) return options.tokens.identify(authorization);
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    return options.tokens.identify(`Bearer ${decoded.slice(decoded.indexOf(':') + 1)}`);
  };
  const pageRoute = (render: (c: Context) => Promise<Response>) => async (c: Context) => {
    if (!reader(c.req.header('authorization'))) {
      return c.text('x1deploy: sign in with any user name and your token as the password.', 401, {
        'www-authenticate': 'Basic realm="x1deploy", charset="UTF-8"',
      });
    }
    try {
      return await render(c);
    } catch (err) {
      if (kindOf(err) === 'internal') throw err;
      const answer = errorAnswer(err);
      const message = 'error' in answer ? answer.error : 'reason' in answer ? answer.reason : 'failed';
      return c.text(message, exitCodeFor(err) === 3 ? 403 : 404);
    }
  };
  app.get('/', pageRoute((c) => overviewPage(c, options.store, options.observe)));
  app.get('/preview', pageRoute((c) => previewPage(c, options.store, options.observe)));
  app.get('/grants', pageRoute((c) => grantsPage(c, options.store)));

  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}; the routes are /, /preview, /grants, /mcp, /api/v1/… (see /api/v1/openapi.json), /events, /webhooks/github, /metrics, /healthz and /readyz`, kind: 'invalid' }, 404));
  return app;
}

/** Listen on host:port (port 0: any free one). */
export async function startService(options: ServeOptions, listen: { readonly host: string; readonly port: number }): Promise<RunningServer> {
  const state = { draining: false, inFlight: 0 };
  const ws = await (await RepoSnapshot.atHead(options.store)).workspace();
  const events = new EventLog(`x1deploy/${ws.workspace.id}`);
  const deletedHere = new Set<string>();
  const app = serviceApp(options, state, events, deletedHere);
  const watcher = watchPreviews(events, () => workspaceStatuses(options.store, options.observe), options.watchIntervalMs ?? 10_000, deletedHere);
  const server = await new Promise<ServerType>((resolve) => {
    const s = serveNode({ fetch: app.fetch, hostname: listen.host, port: listen.port }, () => resolve(s));
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    async close() {
      state.draining = true;
      watcher.stop();
      events.close();
      // Writes in flight finish (their commits land and their callers get answers) before the socket closes.
      const deadline = Date.now() + 30_000;
      while (state.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive connections would hold close() open: nothing is in flight on them now.
      (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      await closed;
    },
  };
}
