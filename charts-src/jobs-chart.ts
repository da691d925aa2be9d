// x1deploy's own in-cluster jobs for one workspace: the build loop (a CronJob running `build --once`,
// or a Deployment running `build --watch`) and the daily reaper, with a service account that may
// create Jobs and read their pods and logs in the build namespace, and only read in the workspace
// namespace. The build namespace is Pod Security "baseline" because Kaniko needs root; x1deploy's
// own pods still pass "restricted".
import { Chart, type ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';

export const JOBS_SERVICE_ACCOUNT = 'x1deploy-jobs';

export interface JobsChartProps extends ChartProps {
  readonly workspaceNamespace: string;
  readonly buildNamespace: string;
  /** The x1deploy image, pinned by digest; its entrypoint is the x1deploy CLI. */
  readonly image: string;
  /** The gitops repo URL the jobs clone and push. */
  readonly gitopsRepo: string;
  /** Secret (key `token`) the jobs push to the gitops repo with. */
  readonly gitopsTokenSecret: string;
  /** Secret (keys `username`, `password`) the jobs read (and the reaper deletes) images with; optional. */
  readonly registryLoginSecret: string;
  /** `--registry-url` for both jobs, when the registry is reached at another address in the cluster. */
  readonly registryUrl?: string;
  /** Secrets (key `token`) the reaper reads GitHub and Prometheus with; optional. */
  readonly githubTokenSecret: string;
  readonly prometheusTokenSecret: string;
  readonly build: {
    readonly mode: 'cron' | 'watch';
    readonly schedule: string;
    readonly concurrency: number;
    /** A build Job's own deadline: a `--once` run waits for its Jobs at most this long, plus slack. */
    readonly jobDeadlineSeconds: number;
  };
  readonly reap: { readonly schedule: string };
  /** `x1deploy serve` beside the jobs; absent: not rendered. */
  readonly serve?: {
    readonly replicas: number;
    readonly tokensSecret: string;
    readonly webhookSecret: string;
    /** Argo CD's namespace, where the previews' Applications are (Flux: undefined). */
    readonly argoNamespace?: string;
    readonly ingress?: {
      readonly host: string;
      readonly className: string;
      /** cert-manager's annotation for the issuer, e.g. cert-manager.io/cluster-issuer: name. */
      readonly issuerAnnotation: Readonly<Record<string, string>>;
    };
  };
}

export const SERVE_PORT = 8080;

const MANAGED = { 'app.kubernetes.io/managed-by': 'x1deploy', 'app.kubernetes.io/part-of': 'x1deploy-jobs' };

export class JobsChart extends Chart {
  constructor(scope: Construct, id: string, props: JobsChartProps) {
    super(scope, id, { labels: MANAGED, disableResourceNameHashes: true });
    const ns = props.buildNamespace;

    new k8s.KubeNamespace(this, 'build-namespace', {
      metadata: {
        name: ns,
        labels: {
          'pod-security.kubernetes.io/enforce': 'baseline',
          'pod-security.kubernetes.io/enforce-version': 'latest',
          'pod-security.kubernetes.io/warn': 'baseline',
          'pod-security.kubernetes.io/warn-version': 'latest',
          // The audit log notes every root build pod: they are the reason this namespace exists.
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/audit-version': 'latest',
        },
      },
    });

    new k8s.KubeServiceAccount(this, 'service-account', {
      metadata: { name: JOBS_SERVICE_ACCOUNT, namespace: ns },
      automountServiceAccountToken: false,
    });

    this.roleWithBinding('builder', ns, ns, [
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
    ]);
    // Read only, and no Secrets: the jobs look at what runs, never at credentials.
    this.roleWithBinding('reader', props.workspaceNamespace, ns, [
      { apiGroups: [''], resources: ['pods', 'services', 'endpoints'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['get', 'list', 'watch'] },
    ]);

    const registryArgs = props.registryUrl ? ['--registry-url', props.registryUrl] : [];
    const buildArgs = ['build', '--repo', props.gitopsRepo, '--concurrency', String(props.build.concurrency), ...registryArgs, '--json'];
    if (props.build.mode === 'cron') {
      new k8s.KubeCronJob(this, 'build-cronjob', {
        metadata: { name: 'x1deploy-build', namespace: ns },
        spec: {
          schedule: props.build.schedule,
          // One builder at a time: a run waits for its Jobs, and the next minute's run is skipped meanwhile.
          concurrencyPolicy: 'Forbid',
          startingDeadlineSeconds: 300,
          successfulJobsHistoryLimit: 1,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            spec: {
              backoffLimit: 0,
              activeDeadlineSeconds: props.build.jobDeadlineSeconds + 600,
              ttlSecondsAfterFinished: 3600,
              template: {
                metadata: { labels: { ...MANAGED, 'app.kubernetes.io/component': 'build' } },
                spec: this.podSpec(props, [...buildArgs, '--once'], 'Never'),
              },
            },
          },
        },
      });
    } else {
      const labels = { ...MANAGED, 'app.kubernetes.io/component': 'build' };
      new k8s.KubeDeployment(this, 'build-deployment', {
        metadata: { name: 'x1deploy-build', namespace: ns },
        spec: {
          replicas: 1,
          // Never two watchers: the old one stops before the new one starts.
          strategy: { type: 'Recreate' },
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: this.podSpec(props, [...buildArgs, '--watch'], 'Always') },
        },
      });
    }

    new k8s.KubeCronJob(this, 'reap-cronjob', {
      metadata: { name: 'x1deploy-reap', namespace: ns },
      spec: {
        schedule: props.reap.schedule,
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 3600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          spec: {
            backoffLimit: 1,
            activeDeadlineSeconds: 3600,
            ttlSecondsAfterFinished: 86_400,
            template: {
              metadata: { labels: { ...MANAGED, 'app.kubernetes.io/component': 'reap' } },
              spec: this.podSpec(props, ['reap', '--repo', props.gitopsRepo, ...registryArgs, '--json'], 'Never', [
                secretEnv('X1DEPLOY_GITHUB_TOKEN', props.githubTokenSecret, 'token', true),
                secretEnv('X1DEPLOY_PROMETHEUS_TOKEN', props.prometheusTokenSecret, 'token', true),
              ]),
            },
          },
        },
      },
    });
    if (props.serve) this.serveObjects(props, props.serve);
  }

  /**
   * The service: a Deployment running `x1deploy serve`, its Service, and an Ingress when a host is
   * set. It reads previews (never Secrets) to answer status, logs and events.
   */
  private serveObjects(props: JobsChartProps, serve: NonNullable<JobsChartProps['serve']>): void {
    const ns = props.buildNamespace;
    this.roleWithBinding('observer', props.workspaceNamespace, ns, [
      { apiGroups: [''], resources: ['pods', 'events'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
      { apiGroups: ['apps'], resources: ['deployments', 'replicasets'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['kustomize.toolkit.fluxcd.io'], resources: ['kustomizations'], verbs: ['get', 'list', 'watch'] },
    ]);
    if (serve.argoNamespace) {
      this.roleWithBinding('applications', serve.argoNamespace, ns, [
        { apiGroups: ['argoproj.io'], resources: ['applications'], verbs: ['get', 'list', 'watch'] },
      ]);
    }
    const labels = { ...MANAGED, 'app.kubernetes.io/component': 'serve' };
    const pod = this.podSpec(
      props,
      ['serve', '--repo', props.gitopsRepo, '--tokens', '/etc/x1deploy/tokens/tokens.yaml', '--listen', `0.0.0.0:${SERVE_PORT}`],
      'Always',
      [
        secretEnv('X1DEPLOY_GITHUB_TOKEN', props.githubTokenSecret, 'token', true),
        secretEnv('X1DEPLOY_GITHUB_WEBHOOK_SECRET', serve.webhookSecret, 'secret', true),
      ],
    );
    const [container] = pod.containers;
    const probe = (path: string): k8s.Probe => ({
      httpGet: { path, port: k8s.IntOrString.fromNumber(SERVE_PORT) },
      periodSeconds: 10,
      timeoutSeconds: 3,
    });
    new k8s.KubeDeployment(this, 'serve-deployment', {
      metadata: { name: 'x1deploy-serve', namespace: ns },
      spec: {
        replicas: serve.replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            ...pod,
            // A graceful stop: in-flight writes finish (up to 30 s) before the pod goes.
            terminationGracePeriodSeconds: 40,
            containers: [
              {
                ...container!,
                ports: [{ name: 'http', containerPort: SERVE_PORT }],
                readinessProbe: probe('/readyz'),
                livenessProbe: probe('/healthz'),
                volumeMounts: [...(container!.volumeMounts ?? []), { name: 'tokens', mountPath: '/etc/x1deploy/tokens', readOnly: true }],
              },
            ],
            volumes: [...(pod.volumes ?? []), { name: 'tokens', secret: { secretName: serve.tokensSecret, items: [{ key: 'tokens.yaml', path: 'tokens.yaml' }] } }],
          },
        },
      },
    });
    new k8s.KubeService(this, 'serve-service', {
      metadata: { name: 'x1deploy', namespace: ns },
      spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: k8s.IntOrString.fromString('http') }] },
    });
    if (serve.ingress) {
      new k8s.KubeIngress(this, 'serve-ingress', {
        metadata: { name: 'x1deploy', namespace: ns, annotations: { ...serve.ingress.issuerAnnotation } },
        spec: {
          ingressClassName: serve.ingress.className,
          tls: [{ hosts: [serve.ingress.host], secretName: 'x1deploy-serve-tls' }],
          rules: [
            {
              host: serve.ingress.host,
              http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'x1deploy', port: { name: 'http' } } } }] },
            },
          ],
        },
      });
    }
  }

  private roleWithBinding(kind: string, namespace: string, subjectNamespace: string, rules: k8s.PolicyRule[]): void {
    const name = `x1deploy-${kind}`;
    new k8s.KubeRole(this, `role-${kind}`, { metadata: { name, namespace }, rules });
    new k8s.KubeRoleBinding(this, `rolebinding-${kind}`, {
      metadata: { name, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: JOBS_SERVICE_ACCOUNT, namespace: subjectNamespace }],
    });
  }

  /** x1deploy's own pods pass Pod Security "restricted", even in the baseline build namespace. */
  private podSpec(props: JobsChartProps, args: string[], restartPolicy: 'Never' | 'Always', extraEnv: k8s.EnvVar[] = []): k8s.PodSpec {
    return {
      serviceAccountName: JOBS_SERVICE_ACCOUNT,
      automountServiceAccountToken: true,
      restartPolicy,
      enableServiceLinks: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        fsGroup: 65532,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: 'x1deploy',
          image: props.image,
          imagePullPolicy: 'IfNotPresent',
          args,
          env: [
            { name: 'HOME', value: '/tmp' },
            secretEnv('X1DEPLOY_GIT_TOKEN', props.gitopsTokenSecret, 'token', false),
            secretEnv('X1DEPLOY_REGISTRY_USERNAME', props.registryLoginSecret, 'username', true),
            secretEnv('X1DEPLOY_REGISTRY_PASSWORD', props.registryLoginSecret, 'password', true),
            ...extraEnv,
          ],
          resources: { requests: quantities({ cpu: '50m', memory: '128Mi' }), limits: quantities({ cpu: '500m', memory: '512Mi' }) },
          securityContext: {
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          },
          // The gitops clone lives here: a scratch volume, gone with the pod.
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        },
      ],
      volumes: [{ name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('1Gi') } }],
    };
  }
}

/** An env var read from a Secret key: the value never appears in the manifest. */
function secretEnv(name: string, secret: string, key: string, optional: boolean): k8s.EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secret, key, optional } } };
}

/** Kubernetes quantities, verbatim. */
export function quantities(amounts: Readonly<Record<string, string>>): Record<string, k8s.Quantity> {
  return Object.fromEntries(Object.entries(amounts).map(([k, v]) => [k, k8s.Quantity.fromString(v)]));
}
