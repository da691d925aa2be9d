// One branch deploy: Deployment, Service, Ingress and NetworkPolicy for `<app>-<slug>`.
// Names and selectors are set explicitly: nothing depends on construct paths, so refactoring this
// file never changes an (immutable) Deployment selector or an object name.
import { ApiObject, Chart, JsonPatch, type ChartProps } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';

export interface BranchDeployEnvVar {
  readonly name: string;
  /** A plain value, kept exactly. */
  readonly value?: string;
  /** Read from a key of a Secret (workspace secret or the branch database secret). */
  readonly secretKeyRef?: { readonly name: string; readonly key: string; readonly optional?: boolean };
}

export interface BranchDeployChartProps extends ChartProps {
  readonly namespace: string;
  readonly name: string;
  readonly app: string;
  readonly slug: string;
  readonly version: number;
  readonly image: string;
  readonly replicas: number;
  readonly ports: readonly number[];
  readonly env: readonly BranchDeployEnvVar[];
  readonly resources: {
    readonly requests: { readonly cpu: string; readonly memory: string };
    readonly limits: { readonly cpu: string; readonly memory: string };
  };
  readonly runAsUser: number;
  readonly host: string;
  readonly ingressClassName: string;
  readonly tls: { readonly secretName: string; readonly annotations: Readonly<Record<string, string>> };
  readonly ingressControllerNamespace: string;
  /** Extra annotations for the Deployment (source commit, branch name). */
  readonly annotations: Readonly<Record<string, string>>;
}

export class BranchDeployChart extends Chart {
  constructor(scope: Construct, id: string, props: BranchDeployChartProps) {
    const selector = { 'x1.app': props.app, 'x1.branch': props.slug };
    const labels = { ...selector, 'x1.version': String(props.version) };
    super(scope, id, { namespace: props.namespace, labels, disableResourceNameHashes: true });

    const deployment = new kplus.Deployment(this, 'deployment', {
      metadata: { name: props.name, annotations: { ...props.annotations } },
      replicas: props.replicas,
      select: false,
      podMetadata: { labels },
      automountServiceAccountToken: false,
      securityContext: {
        ensureNonRoot: true,
        user: props.runAsUser,
        group: props.runAsUser,
        fsGroup: props.runAsUser,
      },
      containers: [
        {
          name: 'app',
          image: props.image,
          imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
          ports: props.ports.map((number, i) => ({ number, name: i === 0 ? 'http' : `port-${number}` })),
          // A readiness probe only holds traffic back; no startup or liveness probe, so an app that
          // simply starts listening late is never killed.
          readiness: kplus.Probe.fromTcpSocket({ port: props.ports[0] }),
          securityContext: {
            ensureNonRoot: true,
            user: props.runAsUser,
            group: props.runAsUser,
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: false,
            capabilities: { drop: [kplus.Capability.ALL] },
            seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
          },
          resources: {
            cpu: { request: kplus.Cpu.millis(0), limit: kplus.Cpu.millis(0) },
          },
        },
      ],
    });
    deployment.select(kplus.LabelSelector.of({ labels: selector }));
    // cdk8s-plus only takes cpu/memory as its own typed amounts, which cannot spell every quantity
    // ("1G", "1.5"); ours are validated Kubernetes quantities, so they are set verbatim. The patch
    // runs before the L1 serializer, hence k8s.Quantity. The selector label cdk8s-plus derives from
    // the construct path is dropped: ours are explicit.
    const quantities = (r: { readonly cpu: string; readonly memory: string }) => ({
      cpu: kplus.k8s.Quantity.fromString(r.cpu),
      memory: kplus.k8s.Quantity.fromString(r.memory),
    });
    ApiObject.of(deployment).addJsonPatch(
      JsonPatch.replace('/spec/template/spec/containers/0/resources', {
        requests: quantities(props.resources.requests),
        limits: quantities(props.resources.limits),
      }),
      JsonPatch.add('/spec/template/spec/containers/0/env', props.env.map(toEnvVar)),
      JsonPatch.remove('/spec/template/metadata/labels/cdk8s.io~1metadata.addr'),
    );

    const service = new kplus.Service(this, 'service', {
      metadata: { name: props.name },
      type: kplus.ServiceType.CLUSTER_IP,
      ports: props.ports.map((port, i) => ({ port, targetPort: port, name: i === 0 ? 'http' : `port-${port}` })),
    });
    for (const [key, value] of Object.entries(selector)) service.selectLabel(key, value);

    const ingress = new kplus.Ingress(this, 'ingress', {
      metadata: { name: props.name, annotations: { ...props.tls.annotations } },
      className: props.ingressClassName,
    });
    ingress.addHostRule(
      props.host,
      '/',
      kplus.IngressBackend.fromService(service, { port: props.ports[0] }),
      kplus.HttpIngressPathType.PREFIX,
    );
    ingress.addTls([{ hosts: [props.host], secret: kplus.Secret.fromSecretName(this, 'tls-secret', props.tls.secretName) }]);

    new kplus.k8s.KubeNetworkPolicy(this, 'network-policy', {
      metadata: { name: props.name },
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': props.ingressControllerNamespace } } },
              { podSelector: {} },
            ],
            ports: props.ports.map((port) => ({ protocol: 'TCP', port: kplus.k8s.IntOrString.fromNumber(port) })),
          },
        ],
      },
    });
  }
}

function toEnvVar(v: BranchDeployEnvVar): Record<string, unknown> {
  if (v.secretKeyRef) return { name: v.name, valueFrom: { secretKeyRef: { ...v.secretKeyRef } } };
  return { name: v.name, value: v.value ?? '' };
}
