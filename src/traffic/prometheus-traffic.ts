// Preview traffic from the Prometheus HTTP API (`GET /api/v1/query`): one instant query for all
// preview hosts. The reaper classifies it (any doubt is an error, never "idle": an error makes the
// planner reap nothing for idleness); the status page shows the request counts.
import { z } from 'zod';
import { X1Error } from '../errors/index.js';

/** A preview host's traffic over a window: some requests, none, or Prometheus has no series for it. */
export type HostTraffic = 'active' | 'idle' | 'no-data';

export const PROMETHEUS_TOKEN_ENV = 'X1DEPLOY_PROMETHEUS_TOKEN';

export interface TrafficSource {
  /** Traffic of each host in the last `idleDays`; throws TrafficError when it cannot tell. */
  classify(hosts: readonly string[], window: TrafficWindow): Promise<Map<string, HostTraffic>>;
  /** Requests each host served in the last `idleDays` days (undefined: no series); throws TrafficError. */
  requestCounts(hosts: readonly string[], window: TrafficWindow): Promise<Map<string, number | undefined>>;
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
    return classifyVector(await this.#instantVector(window), hosts, this.options.hostLabel ?? 'host');
  }

  async requestCounts(hosts: readonly string[], window: TrafficWindow): Promise<Map<string, number | undefined>> {
    return countVector(await this.#instantVector(window), hosts, this.options.hostLabel ?? 'host');
  }

  /** The traffic query's answer, checked to be an instant vector. */
  async #instantVector(window: TrafficWindow): Promise<Sample[]> {
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
    const samples = z.array(SampleSchema).safeParse(answer.data.result);
    if (answer.data.resultType !== 'vector' || !samples.success) {
      throw new TrafficError(
        this.where,
        `the query gave a ${answer.data.resultType}, not an instant vector`,
        'make reap.trafficQuery return one series per host',
      );
    }
    return samples.data;
  }
}

type Sample = z.output<typeof SampleSchema>;

/** A sample's value; NaN or a negative count says nothing about requests (undefined). */
function requestsOf(sample: Sample): number | undefined {
  const value = Number(sample.value[1].replace(/^\+?Inf$/, 'Infinity'));
  return value >= 0 ? value : undefined;
}

/**
 * Each host's traffic from an instant vector: 0 is idle, more is active, no series is no-data. A
 * host with several series (a query not summed by host) is idle only if every one of them is 0.
 */
const RANK: Record<HostTraffic, number> = { idle: 0, 'no-data': 1, active: 2 };

function classifyVector(samples: readonly Sample[], hosts: readonly string[], hostLabel: string): Map<string, HostTraffic> {
  const seen = new Map<string, HostTraffic>();
  for (const sample of samples) {
    const host = sample.metric[hostLabel]?.toLowerCase();
    if (host === undefined) continue;
    const value = requestsOf(sample);
    const traffic: HostTraffic = value === undefined ? 'no-data' : value > 0 ? 'active' : 'idle';
    const before = seen.get(host);
    if (before === undefined || RANK[traffic] > RANK[before]) seen.set(host, traffic);
  }
  return new Map(hosts.map((host) => [host, seen.get(host.toLowerCase()) ?? 'no-data']));
}

/** Each host's requests: the sum of its series (a query not summed by host), undefined without one. */
function countVector(samples: readonly Sample[], hosts: readonly string[], hostLabel: string): Map<string, number | undefined> {
  const sums = new Map<string, number>();
  for (const sample of samples) {
    const host = sample.metric[hostLabel]?.toLowerCase();
    const value = requestsOf(sample);
    if (host !== undefined && value !== undefined) sums.set(host, (sums.get(host) ?? 0) + value);
  }
  return new Map(hosts.map((host) => [host, sums.get(host.toLowerCase())]));
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

/** The traffic source x1deploy.yaml configures (reap.prometheusUrl), or undefined without one. */
export function prometheusTrafficFor(
  reap: { readonly prometheusUrl?: string; readonly trafficQuery: string; readonly hostLabel: string },
  env: NodeJS.ProcessEnv = process.env,
): PrometheusTraffic | undefined {
  if (reap.prometheusUrl === undefined) return undefined;
  return new PrometheusTraffic({ url: reap.prometheusUrl, query: reap.trafficQuery, hostLabel: reap.hostLabel, token: env[PROMETHEUS_TOKEN_ENV] || undefined });
}
