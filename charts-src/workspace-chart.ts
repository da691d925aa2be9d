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

export interface WorkspaceChartProps extends ChartProps {
  readonly namespace: string;
  readonly issuer: { readonly kind: string; readonly name: string };
  readonly certificates: readonly AppCertificate[];
}

export class WorkspaceChart extends Chart {
  constructor(scope: Construct, id: string, props: WorkspaceChartProps) {
    super(scope, id, { namespace: props.namespace, labels: { 'app.kubernetes.io/managed-by': 'x1deploy' }, disableResourceNameHashes: true });
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
