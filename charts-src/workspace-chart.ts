// Objects shared by a workspace's previews, synced from rendered/_workspace/: one wildcard
// certificate per app (`*.<app>.<workspace-slug>.<domain>` covers every preview host of that app;
// a single workspace wildcard cannot, as the hosts are two labels deep).
import { ApiObject, Chart, type ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';

export interface AppCertificate {
  readonly name: string;
  readonly secretName: string;
  readonly dnsName: string;
}

export interface ResourceAmounts {
  readonly cpu: string;
  readonly memory: string;
}

export interface WorkspaceChartProps extends ChartProps {
  readonly namespace: string;
  /** The namespace quota: what all previews may use at their limits, plus room for shared resources. */
  readonly quota: ResourceAmounts & { readonly pods: number };
  /** Container defaults for pods that set no resources (a quota on requests needs them). */
  readonly containerDefaults: { readonly requests: ResourceAmounts; readonly limits: ResourceAmounts };
  readonly issuer: { readonly kind: string; readonly name: string };
  readonly certificates: readonly AppCertificate[];
}

export class WorkspaceChart extends Chart {
  constructor(scope: Construct, id: string, props: WorkspaceChartProps) {
    super(scope, id, {
      namespace: props.namespace,
      labels: { 'app.kubernetes.io/managed-by': 'x1deploy' },
      disableResourceNameHashes: true,
    });
    new ApiObject(this, 'quota', {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'x1deploy-previews' },
      spec: {
        hard: {
          pods: String(props.quota.pods),
          'requests.cpu': props.quota.cpu,
          'requests.memory': props.quota.memory,
          'limits.cpu': props.quota.cpu,
          'limits.memory': props.quota.memory,
          // Previews are reached through the Ingress only.
          'services.loadbalancers': '0',
          'services.nodeports': '0',
        },
      },
    });
    new ApiObject(this, 'limit-range', {
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: 'x1deploy-defaults' },
      spec: {
        limits: [
          { type: 'Container', defaultRequest: { ...props.containerDefaults.requests }, default: { ...props.containerDefaults.limits } },
        ],
      },
    });
    for (const cert of props.certificates) {
      new ApiObject(this, `certificate-${cert.name}`, {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        metadata: { name: cert.name },
        spec: {
          secretName: cert.secretName,
          dnsNames: [cert.dnsName],
          issuerRef: { group: 'cert-manager.io', kind: props.issuer.kind, name: props.issuer.name },
          privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
        },
      });
    }
  }
}
