// Preview traffic from the Prometheus HTTP API (`GET /api/v1/query`): one instant query per sweep,
// its result classified per preview host. Any doubt is an error, never "idle": an error makes the
// planner reap nothing for idleness.
import { z } from 'zod';
import type { HostTraffic } from './plan.js';
import { X1Error } from '../errors/index.js';

export const PROMETHEUS_TOKEN_ENV = 'X1DEPLOY_PROMETHEUS_TOKEN';

export interface TrafficSource {
  /** Traffic of each host in the last `idleDays`; throws TrafficError when it cannot tell. */
  classify(hosts: readonly string[], window: TrafficWindow): Promise<Map<string, HostTraffic>>;
}

export interface TrafficWindow {
  readonly idleDays: number;
  /** An RE2 regex matching every preview host of the workspace (see previewHostRegex). */
  readonly hostRegex: string;
}

/** Traffic could not be read; no preview is reaped for idleness until it can. */
export class TrafficError extends X1Error {
  constructor(where: string, detail: string, advice: string) {
    super(
      'unavailable',
      `cannot read preview traffic from Prometheus at ${where}: ${detail}; no preview is reaped for idleness: ${advice}`,
    );
  }
}

export interface PrometheusTrafficOptions {
  /** The HTTP API root, e.g. http://prometheus.monitoring:9090 (a path prefix is kept). */
  readonly url: string;
  /** The query template (x1deploy.yaml reap.trafficQuery): `{hostRegex}` and `{idleDays}` are filled in. */
  readonly query: string;
  /** The result label holding the host; default `host`. */
  readonly hostLabel?: string;
  /** Sent as a bearer token; never logged. */
  readonly token?: string;
  readonly timeoutMs?: number;
}

const SampleSchema = z.object({
  metric: z.record(z.string(), z.string()),
  value: z.tuple([z.number(), z.string()]),
});

const AnswerSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('success'), data: z.object({ resultType: z.string(), result: z.unknown() }) }),
  z.object({ status: z.literal('error'), errorType: z.string().optional(), error: z.string().optional() }),
]);

export class PrometheusTraffic implements TrafficSource {
  private readonly base: string;
  private readonly where: string;

  constructor(private readonly options: PrometheusTrafficOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.where = new URL(options.url).origin;
  }

  async classify(hosts: readonly string[], window: TrafficWindow): Promise<Map<string, HostTraffic>> {
    const query = fillTrafficQuery(this.options.query, window);
    const url = `${this.base}/api/v1/query?${new URLSearchParams({ query })}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000), redirect: 'error' });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (error as Error).name;
      throw new TrafficError(this.where, `no answer (${why})`, 'check reap.prometheusUrl in x1deploy.yaml and the network path to it');
    }
    const text = await response.text().catch(() => '');
    let answer: z.output<typeof AnswerSchema> | undefined;
    try {
      const parsed = AnswerSchema.safeParse(JSON.parse(text));
      answer = parsed.success ? parsed.data : undefined;
    } catch {
      answer = undefined;
    }
    if (answer?.status === 'error') {
      throw new TrafficError(
        this.where,
        `the query was refused (HTTP ${response.status}, ${answer.errorType ?? 'error'}: ${answer.error ?? 'no message'})`,
        response.status === 400 || response.status === 422 ? 'fix reap.trafficQuery in x1deploy.yaml' : 'retry later',
      );
    }
    if (!response.ok || answer === undefined) {
      const advice =
        response.status === 401 || response.status === 403
          ? `set ${PROMETHEUS_TOKEN_ENV} to a token Prometheus accepts`
          : 'check that reap.prometheusUrl points at the Prometheus HTTP API, not a proxy or login page';
      throw new TrafficError(this.where, `HTTP ${response.status} without a Prometheus answer`, advice);
    }
    return classifyVector(answer.data, hosts, this.options.hostLabel ?? 'host', this.where);
  }
}

/**
 * Each host's traffic from an instant vector: 0 is idle, more is active, no series is no-data. A
 * host with several series (a query not summed by host) is idle only if every one of them is 0.
 */
const RANK: Record<HostTraffic, number> = { idle: 0, 'no-data': 1, active: 2 };

function classifyVector(
  data: { resultType: string; result: unknown },
  hosts: readonly string[],
  hostLabel: string,
  where: string,
): Map<string, HostTraffic> {
  const samples = z.array(SampleSchema).safeParse(data.result);
  if (data.resultType !== 'vector' || !samples.success) {
    throw new TrafficError(
      where,
      `the query gave a ${data.resultType}, not an instant vector`,
      'make reap.trafficQuery return one series per host',
    );
  }
  const seen = new Map<string, HostTraffic>();
  for (const sample of samples.data) {
    const host = sample.metric[hostLabel]?.toLowerCase();
    if (host === undefined) continue;
    const value = Number(sample.value[1].replace(/^\+?Inf$/, 'Infinity'));
    // NaN or a negative count says nothing about requests: treated as no data.
    const traffic: HostTraffic = value > 0 ? 'active' : value === 0 ? 'idle' : 'no-data';
    const before = seen.get(host);
    if (before === undefined || RANK[traffic] > RANK[before]) seen.set(host, traffic);
  }
  return new Map(hosts.map((host) => [host, seen.get(host.toLowerCase()) ?? 'no-data']));
}

export function fillTrafficQuery(template: string, window: TrafficWindow): string {
  return template.replaceAll('{hostRegex}', window.hostRegex).replaceAll('{idleDays}', String(window.idleDays));
}

/**
 * Every preview host of the workspace, `<slug>.<app>.<workspace-slug>.<domain>`, as an RE2 regex.
 * Dots are written `[.]`: no backslash needs escaping in a PromQL string or in YAML.
 */
export function previewHostRegex(workspace: { readonly slug: string; readonly domain: string }): string {
  const literal = (text: string) => text.split('.').join('[.]');
  return `[^.]+[.][^.]+[.]${literal(workspace.slug)}[.]${literal(workspace.domain)}`;
}
