// A local HTTP server speaking the Kubernetes API routes the builder calls, with the payloads a real
// API server sends (batch/v1 Job with server-set fields, core/v1 PodList whose items omit
// apiVersion/kind, Status objects for errors, text/plain logs). The test decides each Job's fate:
// running, succeeded with a digest in the termination message, or failed with an exit code and a log.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Json = Record<string, any>;

export interface SeenRequest {
  readonly method: string;
  readonly path: string;
}

export interface FailOptions {
  readonly exitCode?: number;
  readonly log?: string;
  /** What the container left in its termination message (Kaniko writes its digest before pushing). */
  readonly message?: string;
  readonly reason?: string;
  readonly conditionMessage?: string;
}

export interface FakeKube {
  readonly url: string;
  /** A kubeconfig file pointing at this server. */
  readonly kubeconfig: string;
  readonly requests: SeenRequest[];
  /** Job bodies as POSTed, before the server adds its fields. */
  readonly created: Json[];
  /** Requests to routes a real API server has but this fake does not serve: always a test failure. */
  readonly unexpected: string[];
  /** Called for each new Job (after it is stored), e.g. to finish it at once. */
  onCreate?: (job: Json) => void;
  /** Answer this verb on this resource with 403 (e.g. 'create jobs'). */
  forbid(what: 'create jobs' | 'get jobs' | 'list pods' | 'get pods/log'): void;
  job(name: string, namespace?: string): Json | undefined;
  /** Start a pod of the Job and mark it active. */
  run(name: string): void;
  succeed(name: string, options: { readonly digest: string; readonly log?: string }): void;
  fail(name: string, options?: FailOptions): void;
  setLog(pod: string, log: string, options?: { readonly previous?: boolean }): void;
  /**
   * Store (or replace) a preview-side object as the API server would serve it: a Deployment, a
   * Pod, an Event, an Argo CD Application or a Flux Kustomization (the test validates it against
   * the upstream schemas first).
   */
  put(object: Json): void;
  remove(kind: string, namespace: string, name: string): void;
  close(): Promise<void>;
}

const TOKEN = 'fake-kube-test-token';

function status(code: number, reason: string, message: string, details?: Json): Json {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code };
}

export async function startFakeKube(): Promise<FakeKube> {
  const jobs = new Map<string, Json>();
  const pods = new Map<string, Json>();
  const logs = new Map<string, string>();
  const previousLogs = new Map<string, string>();
  /** Other kinds by `${plural}/${namespace}/${name}`. */
  const objects = new Map<string, Json>();
  const PLURALS: Record<string, string> = {
    Deployment: 'deployments',
    Event: 'events',
    Application: 'applications',
    Kustomization: 'kustomizations',
  };
  const forbidden = new Set<string>();
  const requests: SeenRequest[] = [];
  const created: Json[] = [];
  const unexpected: string[] = [];
  let resourceVersion = 1000;
  const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const nextVersion = () => String(++resourceVersion);

  const send = (res: http.ServerResponse, code: number, body: Json | string) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(code, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
    res.end(text);
  };

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      requests.push({ method: req.method ?? '', path: url.pathname + url.search });
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
        return;
      }
      let m: RegExpExecArray | null;
      if ((m = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs$/.exec(url.pathname)) && req.method === 'POST') {
        if (forbidden.has('create jobs')) {
          send(
            res,
            403,
            status(
              403,
              'Forbidden',
              `jobs.batch is forbidden: User "system:serviceaccount:x:y" cannot create resource "jobs" in API group "batch" in the namespace "${m[1]}"`,
            ),
          );
          return;
        }
        const body = JSON.parse(raw) as Json;
        created.push(structuredClone(body));
        const ns = m[1]!;
        const name = body.metadata?.name as string;
        if (body.metadata?.namespace !== undefined && body.metadata.namespace !== ns) {
          send(
            res,
            400,
            status(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request'),
          );
          return;
        }
        if (jobs.has(`${ns}/${name}`)) {
          send(res, 409, status(409, 'AlreadyExists', `jobs.batch "${name}" already exists`, { name, group: 'batch', kind: 'jobs' }));
          return;
        }
        const uid = randomUUID();
        const stored: Json = structuredClone(body);
        stored.apiVersion = 'batch/v1';
        stored.kind = 'Job';
        stored.metadata = {
          ...stored.metadata,
          namespace: ns,
          uid,
          resourceVersion: nextVersion(),
          generation: 1,
          creationTimestamp: now(),
        };
        const selectorLabels = { 'batch.kubernetes.io/controller-uid': uid };
        stored.spec = {
          parallelism: 1,
          completions: 1,
          backoffLimit: 6,
          completionMode: 'NonIndexed',
          suspend: false,
          ...stored.spec,
          selector: { matchLabels: selectorLabels },
        };
        stored.spec.template.metadata = {
          ...stored.spec.template.metadata,
          labels: {
            ...stored.spec.template.metadata?.labels,
            ...selectorLabels,
            'batch.kubernetes.io/job-name': name,
            'controller-uid': uid,
            'job-name': name,
          },
        };
        stored.status = {};
        jobs.set(`${ns}/${name}`, stored);
        send(res, 201, stored);
        fake.onCreate?.(stored);
        return;
      }
      if ((m = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs\/([^/]+)$/.exec(url.pathname)) && req.method === 'GET') {
        if (forbidden.has('get jobs')) {
          send(res, 403, status(403, 'Forbidden', 'jobs.batch is forbidden'));
          return;
        }
        const job = jobs.get(`${m[1]}/${m[2]}`);
        if (job) send(res, 200, job);
        else send(res, 404, status(404, 'NotFound', `jobs.batch "${m[2]}" not found`, { name: m[2], group: 'batch', kind: 'jobs' }));
        return;
      }
      if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname)) && req.method === 'GET') {
        if (forbidden.has('list pods')) {
          send(res, 403, status(403, 'Forbidden', 'pods is forbidden'));
          return;
        }
        const selector = parseSelector(url.searchParams.get('labelSelector') ?? '');
        if (!selector) {
          send(res, 400, status(400, 'BadRequest', 'unable to parse requirement'));
          return;
        }
        const items = [...pods.values()]
          .filter((p) => p.metadata.namespace === m![1] && matches(p.metadata.labels, selector))
          .map(({ apiVersion: _a, kind: _k, ...item }) => item);
        send(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(resourceVersion) }, items });
        return;
      }
      if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(url.pathname)) && req.method === 'GET') {
        if (forbidden.has('get pods/log')) {
          send(res, 403, status(403, 'Forbidden', 'pods "log" is forbidden'));
          return;
        }
        const pod = pods.get(`${m[1]}/${m[2]}`);
        if (!pod) {
          send(res, 404, status(404, 'NotFound', `pods "${m[2]}" not found`, { name: m[2], kind: 'pods' }));
          return;
        }
        const container = url.searchParams.get('container');
        const names = (pod.spec.containers as Json[]).map((c) => c.name as string);
        if (container !== null && !names.includes(container)) {
          send(res, 400, status(400, 'BadRequest', `container ${container} is not valid for pod ${m[2]}`));
          return;
        }
        const previous = url.searchParams.get('previous') === 'true';
        if (previous && !previousLogs.has(`${m[1]}/${m[2]}`)) {
          send(res, 400, status(400, 'BadRequest', `previous terminated container "${container ?? names[0]}" in pod "${m[2]}" not found`));
          return;
        }
        const lines = ((previous ? previousLogs : logs).get(`${m[1]}/${m[2]}`) ?? '').split('\n');
        if (lines[lines.length - 1] === '') lines.pop();
        const tail = url.searchParams.get('tailLines');
        const kept = tail === null ? lines : lines.slice(-Number(tail));
        const limit = url.searchParams.get('limitBytes');
        const text = kept.length ? `${kept.join('\n')}\n` : '';
        send(res, 200, limit === null ? text : Buffer.from(text).subarray(0, Number(limit)).toString('utf8'));
        return;
      }
      if (req.method === 'GET' && (m = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs$/.exec(url.pathname))) {
        const selector = parseSelector(url.searchParams.get('labelSelector') ?? '');
        if (!selector) return send(res, 400, status(400, 'BadRequest', 'unable to parse requirement'));
        const items = [...jobs.values()]
          .filter((j) => j.metadata.namespace === m![1] && matches(j.metadata.labels, selector))
          .map(({ apiVersion: _a, kind: _k, ...item }) => item);
        return send(res, 200, { kind: 'JobList', apiVersion: 'batch/v1', metadata: { resourceVersion: String(resourceVersion) }, items });
      }
      const listRoute =
        /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(deployments)$/.exec(url.pathname) ??
        /^\/api\/v1\/namespaces\/([^/]+)\/(events)$/.exec(url.pathname) ??
        /^\/apis\/argoproj\.io\/v1alpha1\/namespaces\/([^/]+)\/(applications)$/.exec(url.pathname);
      if (req.method === 'GET' && listRoute) {
        const [, ns, plural] = listRoute;
        const selector = parseSelector(url.searchParams.get('labelSelector') ?? '');
        if (!selector) return send(res, 400, status(400, 'BadRequest', 'unable to parse requirement'));
        const items = [...objects.entries()]
          .filter(([key, o]) => key.startsWith(`${plural}/${ns}/`) && matches(o.metadata.labels, selector))
          .map(([, { apiVersion: _a, kind: _k, ...item }]) => item);
        const list = { deployments: ['DeploymentList', 'apps/v1'], events: ['EventList', 'v1'], applications: ['ApplicationList', 'argoproj.io/v1alpha1'] }[
          plural as 'deployments' | 'events' | 'applications'
        ];
        return send(res, 200, { kind: list[0], apiVersion: list[1], metadata: { resourceVersion: String(resourceVersion) }, items });
      }
      if (req.method === 'GET' && (m = /^\/apis\/kustomize\.toolkit\.fluxcd\.io\/v1\/namespaces\/([^/]+)\/kustomizations\/([^/]+)$/.exec(url.pathname))) {
        const found = objects.get(`kustomizations/${m[1]}/${m[2]}`);
        if (found) return send(res, 200, found);
        return send(res, 404, status(404, 'NotFound', `kustomizations.kustomize.toolkit.fluxcd.io "${m[2]}" not found`));
      }
      unexpected.push(`${req.method} ${url.pathname}`);
      send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const dir = mkdtempSync(join(tmpdir(), 'x1deploy-fake-kube-'));
  const kubeconfig = join(dir, 'kubeconfig');
  // Plain HTTP on loopback: the client library insists on insecure-skip-tls-verify for http:// servers.
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${url}`,
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: builder',
      '  user:',
      `    token: ${TOKEN}`,
      'contexts:',
      '- name: fake',
      '  context:',
      '    cluster: fake',
      '    user: builder',
      'current-context: fake',
      '',
    ].join('\n'),
  );

  const findJob = (name: string, namespace?: string): Json | undefined =>
    [...jobs.values()].find((j) => j.metadata.name === name && (namespace === undefined || j.metadata.namespace === namespace));

  const requireJob = (name: string): Json => {
    const job = findJob(name);
    if (!job) throw new Error(`fake-kube: no Job ${name} (have: ${[...jobs.values()].map((j) => j.metadata.name).join(', ') || 'none'})`);
    return job;
  };

  const startPod = (job: Json): Json => {
    const ns = job.metadata.namespace as string;
    const suffix = Array.from({ length: 5 }, () => 'bcdfghjklmnpqrstvwxz2456789'[Math.floor(Math.random() * 27)]).join('');
    const name = `${job.metadata.name}-${suffix}`;
    const template = job.spec.template as Json;
    const pod: Json = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        generateName: `${job.metadata.name}-`,
        namespace: ns,
        uid: randomUUID(),
        resourceVersion: nextVersion(),
        creationTimestamp: now(),
        labels: { ...template.metadata.labels },
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name: job.metadata.name,
            uid: job.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
        finalizers: ['batch.kubernetes.io/job-tracking'],
      },
      spec: { ...structuredClone(template.spec), nodeName: 'node-1', serviceAccountName: 'default', schedulerName: 'default-scheduler' },
      status: {
        phase: 'Running',
        hostIP: '10.0.0.1',
        podIP: '10.244.0.17',
        startTime: now(),
        qosClass: 'Burstable',
        conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: now() }],
        containerStatuses: (template.spec.containers as Json[]).map((c) => ({
          name: c.name,
          image: c.image,
          imageID: c.image,
          containerID: `containerd://${randomUUID().replace(/-/g, '')}`,
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: now() } },
          lastState: {},
        })),
      },
    };
    pods.set(`${ns}/${name}`, pod);
    job.status = {
      ...job.status,
      active: 1,
      ready: 1,
      terminating: 0,
      startTime: job.status.startTime ?? now(),
      uncountedTerminatedPods: {},
    };
    job.metadata.resourceVersion = nextVersion();
    return pod;
  };

  const currentPod = (job: Json): Json => {
    const running = [...pods.values()].find((p) => p.metadata.labels['job-name'] === job.metadata.name && p.status.phase === 'Running');
    return running ?? startPod(job);
  };

  const terminate = (pod: Json, exitCode: number, message: string | undefined, log: string | undefined) => {
    const finished = now();
    pod.status.phase = exitCode === 0 ? 'Succeeded' : 'Failed';
    pod.status.conditions = [{ type: 'Ready', status: 'False', reason: 'PodCompleted', lastProbeTime: null, lastTransitionTime: finished }];
    pod.metadata.finalizers = [];
    for (const cs of pod.status.containerStatuses as Json[]) {
      cs.ready = false;
      cs.started = false;
      cs.state = {
        terminated: {
          exitCode,
          reason: exitCode === 0 ? 'Completed' : 'Error',
          ...(message !== undefined ? { message } : {}),
          startedAt: cs.state.running?.startedAt ?? finished,
          finishedAt: finished,
          containerID: cs.containerID,
        },
      };
    }
    if (log !== undefined) logs.set(`${pod.metadata.namespace}/${pod.metadata.name}`, log);
  };

  const fake: FakeKube = {
    url,
    kubeconfig,
    requests,
    created,
    unexpected,
    forbid: (what) => void forbidden.add(what),
    job: findJob,
    run(name) {
      currentPod(requireJob(name));
    },
    succeed(name, options) {
      const job = requireJob(name);
      terminate(currentPod(job), 0, options.digest, options.log ?? `INFO Pushed ${job.metadata.annotations?.['x1deploy.dev/image']}\n`);
      const t = now();
      job.status = {
        startTime: job.status.startTime ?? t,
        completionTime: t,
        succeeded: 1,
        ready: 0,
        terminating: 0,
        uncountedTerminatedPods: {},
        conditions: [
          {
            type: 'SuccessCriteriaMet',
            status: 'True',
            reason: 'CompletionsReached',
            message: 'Reached expected number of succeeded pods',
            lastProbeTime: t,
            lastTransitionTime: t,
          },
          {
            type: 'Complete',
            status: 'True',
            reason: 'CompletionsReached',
            message: 'Reached expected number of succeeded pods',
            lastProbeTime: t,
            lastTransitionTime: t,
          },
        ],
      };
      job.metadata.resourceVersion = nextVersion();
    },
    fail(name, options = {}) {
      const job = requireJob(name);
      terminate(currentPod(job), options.exitCode ?? 1, options.message, options.log ?? 'error building image\n');
      const t = now();
      job.status = {
        startTime: job.status.startTime ?? t,
        failed: 1,
        ready: 0,
        terminating: 0,
        uncountedTerminatedPods: {},
        conditions: [
          {
            type: 'FailureTarget',
            status: 'True',
            reason: options.reason ?? 'BackoffLimitExceeded',
            message: options.conditionMessage ?? 'Job has reached the specified backoff limit',
            lastProbeTime: t,
            lastTransitionTime: t,
          },
          {
            type: 'Failed',
            status: 'True',
            reason: options.reason ?? 'BackoffLimitExceeded',
            message: options.conditionMessage ?? 'Job has reached the specified backoff limit',
            lastProbeTime: t,
            lastTransitionTime: t,
          },
        ],
      };
      job.metadata.resourceVersion = nextVersion();
    },
    setLog(pod, log, options = {}) {
      const found = [...pods.values()].find((p) => p.metadata.name === pod);
      if (!found) throw new Error(`fake-kube: no pod ${pod}`);
      (options.previous ? previousLogs : logs).set(`${found.metadata.namespace}/${pod}`, log);
    },
    put(object) {
      const stored = structuredClone(object);
      stored.metadata = { uid: randomUUID(), creationTimestamp: now(), ...stored.metadata, resourceVersion: nextVersion() };
      const ns = stored.metadata.namespace as string;
      if (stored.kind === 'Pod') pods.set(`${ns}/${stored.metadata.name}`, stored);
      else {
        const plural = PLURALS[stored.kind as string];
        if (!plural) throw new Error(`fake-kube: put of unsupported kind ${stored.kind}`);
        objects.set(`${plural}/${ns}/${stored.metadata.name}`, stored);
      }
    },
    remove(kind, namespace, name) {
      if (kind === 'Pod') pods.delete(`${namespace}/${name}`);
      else objects.delete(`${PLURALS[kind]}/${namespace}/${name}`);
    },
    close: () =>
      new Promise<void>((r) => server.close(() => r())).then(() => {
        rmSync(dir, { recursive: true, force: true });
      }),
  };
  return fake;
}

/** Equality (`a=b`, `c==d`) and existence (`e`) selectors, which is all x1deploy sends; anything else is a 400. */
function parseSelector(text: string): Record<string, string | true> | undefined {
  const out: Record<string, string | true> = {};
  for (const part of text.split(',').filter(Boolean)) {
    const m = /^([A-Za-z0-9./_-]+)(?:==?([A-Za-z0-9._-]*))?$/.exec(part.trim());
    if (!m) return undefined;
    out[m[1]!] = m[2] ?? true;
  }
  return out;
}

function matches(labels: Record<string, string> | undefined, selector: Record<string, string | true>): boolean {
  return Object.entries(selector).every(([k, v]) => (v === true ? labels?.[k] !== undefined : labels?.[k] === v));
}
