// Objects shared by a workspace's previews, synced from rendered/_workspace/: one wildcard
// certificate per app (`*.<app>.<workspace-slug>.<domain>` covers every preview host of that app;
// a single workspace wildcard cannot, as the hosts are two labels deep).
import { Chart, type ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import {
  Certificate,
  CertificateSpecPrivateKeyAlgorithm,
  CertificateSpecPrivateKeyRotationPolicy,
} from '../imports/cert-manager-certificate-cert-manager.io.js';
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
    const q = (value: string | number) => k8s.Quantity.fromString(String(value));
    new k8s.KubeResourceQuota(this, 'quota', {
      metadata: { name: 'x1deploy-previews' },
      spec: {
        hard: {
          pods: q(props.quota.pods),
          'requests.cpu': q(props.quota.cpu),
          'requests.memory': q(props.quota.memory),
          'limits.cpu': q(props.quota.cpu),
          'limits.memory': q(props.quota.memory),
          // Previews are reached through the Ingress only.
          'services.loadbalancers': q(0),
          'services.nodeports': q(0),
        },
      },
    });
    const amounts = (a: ResourceAmounts) => ({ cpu: q(a.cpu), memory: q(a.memory) });
    new k8s.KubeLimitRange(this, 'limit-range', {
      metadata: { name: 'x1deploy-defaults' },
      spec: {
        limits: [
          {
            type: 'Container',
            defaultRequest: amounts(props.containerDefaults.requests),
            default: amounts(props.containerDefaults.limits),
          },
        ],
      },
    });
    for (const cert of props.certificates) {
      new Certificate(this, `certificate-${cert.name}`, {
        metadata: { name: cert.name },
        spec: {
          secretName: cert.secretName,
          dnsNames: [cert.dnsName],
          issuerRef: { group: 'cert-manager.io', kind: props.issuer.kind, name: props.issuer.name },
          privateKey: {
            algorithm: CertificateSpecPrivateKeyAlgorithm.ECDSA,
            size: 256,
            rotationPolicy: CertificateSpecPrivateKeyRotationPolicy.ALWAYS,
          },
        },
      });
    }
  }
}
