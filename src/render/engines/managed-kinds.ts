// The kinds x1deploy renders into rendered/: everything a workspace's engine may create, and all
// it may create, in ws-<id>. Adding a kind to a chart means adding it here, or the engine refuses it.
export interface ManagedKind {
  readonly group: string;
  readonly kind: string;
  /** The API resource, for RBAC rules. */
  readonly resource: string;
}

export const MANAGED_KINDS: readonly ManagedKind[] = [
  { group: 'apps', kind: 'Deployment', resource: 'deployments' },
  { group: '', kind: 'Service', resource: 'services' },
  { group: 'networking.k8s.io', kind: 'Ingress', resource: 'ingresses' },
  { group: 'networking.k8s.io', kind: 'NetworkPolicy', resource: 'networkpolicies' },
  { group: '', kind: 'ResourceQuota', resource: 'resourcequotas' },
  { group: '', kind: 'LimitRange', resource: 'limitranges' },
  { group: 'cert-manager.io', kind: 'Certificate', resource: 'certificates' },
];
