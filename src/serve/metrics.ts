// /metrics in the Prometheus text format: what the service did for its callers. One registry per
// service (not the library's global one), so two services in one process never mix their counts.
import { Counter, Histogram, Registry } from 'prom-client';
import type { ToolCallRecord } from '../mcp/index.js';

export interface ServiceMetrics {
  readonly registry: Registry;
  toolCall(call: ToolCallRecord): void;
  httpRequest(route: string, status: number): void;
  apiError(kind: string): void;
  webhookDelivery(event: string, status: number): void;
  groupCommit(size: number): void;
}

export function serviceMetrics(): ServiceMetrics {
  const registry = new Registry();
  const calls = new Counter({
    name: 'x1deploy_tool_calls_total',
    help: 'MCP tool calls answered, by tool and outcome (ok, or the error kind).',
    labelNames: ['tool', 'outcome'] as const,
    registers: [registry],
  });
  const callSeconds = new Histogram({
    name: 'x1deploy_tool_call_seconds',
    help: 'Time to answer an MCP tool call, waits included.',
    labelNames: ['tool'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 600],
    registers: [registry],
  });
  const deploys = new Counter({
    name: 'x1deploy_deploys_total',
    help: 'Deploy requests that were accepted, by how they landed (committed, proposed for review, unchanged).',
    labelNames: ['landed'] as const,
    registers: [registry],
  });
  const denials = new Counter({
    name: 'x1deploy_denials_total',
    help: 'Requests refused for want of a grant, by tool.',
    labelNames: ['tool'] as const,
    registers: [registry],
  });
  const settled = new Histogram({
    name: 'x1deploy_time_to_settled_seconds',
    help: 'From a deploy with wait to the state it settled in (ready, degraded, build-failed), as the wait saw it.',
    labelNames: ['state'] as const,
    buckets: [5, 15, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  const http = new Counter({
    name: 'x1deploy_http_requests_total',
    help: 'HTTP requests answered, by route and status code.',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
  const apiErrors = new Counter({
    name: 'x1deploy_api_errors_total',
    help: 'API calls answered with an error, by kind (invalid, denied, conflict, unavailable, internal).',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'x1deploy_webhook_deliveries_total',
    help: 'GitHub webhook deliveries, by event and the status answered (401: bad signature).',
    labelNames: ['event', 'status'] as const,
    registers: [registry],
  });
  const groups = new Histogram({
    name: 'x1deploy_group_commit_size',
    help: 'Writes that shared one gitops commit (and one push), per commit the service made.',
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [registry],
  });
  return {
    registry,
    groupCommit(size) {
      groups.observe(size);
    },
    webhookDelivery(event, status) {
      deliveries.inc({ event: /^[a-z_]{1,40}$/.test(event) ? event : 'other', status: String(status) });
    },
    apiError(kind) {
      apiErrors.inc({ kind });
    },
    toolCall(call) {
      calls.inc({ tool: call.tool, outcome: call.outcome });
      callSeconds.observe({ tool: call.tool }, call.seconds);
      if (call.outcome === 'denied') denials.inc({ tool: call.tool });
      if (call.tool === 'deploy_branch' && call.outcome === 'ok') {
        const s = call.structured ?? {};
        deploys.inc({ landed: s.commit === null ? 'unchanged' : s.gitops_branch ? 'proposed' : 'committed' });
        const live = s.live as { state?: string; timed_out?: boolean; waited_ms?: number } | undefined;
        if (live && !live.timed_out && typeof live.waited_ms === 'number') settled.observe({ state: String(live.state) }, live.waited_ms / 1000);
      }
    },
    httpRequest(route, status) {
      http.inc({ route, status: String(status) });
    },
  };
}
