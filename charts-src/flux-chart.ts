// Flux bootstrap of one workspace: a GitRepository and one Kustomization over rendered/, applied
// as a tenant service account whose Role covers only the kinds x1deploy renders, in the workspace
// namespace only. Names are explicit, so nothing depends on construct paths.
import { ApiObject, Chart, type ChartProps } from 'cdk8s';
import type { Construct } from 'constructs';

export interface FluxChartProps extends ChartProps {
  /** The workspace namespace: the Flux objects live there, beside what they apply. */
  readonly namespace: string;
  /** GitRepository and Kustomization name. */
  readonly name: string;
  readonly serviceAccountName: string;
  readonly repoUrl: string;
  readonly branch: string;
  /** Secret with the credentials of a private repo. */
  readonly secretName?: string;
  /** Folder of the rendered manifests, e.g. ./rendered. */
  readonly path: string;
  /** gitignore-style patterns of what not to fetch. */
  readonly ignore: string;
  readonly rules: readonly { readonly apiGroups: readonly string[]; readonly resources: readonly string[] }[];
  readonly labels: Readonly<Record<string, string>>;
}

// What kustomize-controller needs to apply, diff, wait for and prune an object.
const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

export class FluxChart extends Chart {
  constructor(scope: Construct, id: string, props: FluxChartProps) {
    super(scope, id, { namespace: props.namespace, labels: { ...props.labels }, disableResourceNameHashes: true });

    new ApiObject(this, 'service-account', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: props.serviceAccountName },
      automountServiceAccountToken: false,
    });
    new ApiObject(this, 'role', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: props.serviceAccountName },
      rules: props.rules.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: VERBS })),
    });
    new ApiObject(this, 'role-binding', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: props.serviceAccountName },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: props.serviceAccountName },
      subjects: [{ kind: 'ServiceAccount', name: props.serviceAccountName, namespace: props.namespace }],
    });

    new ApiObject(this, 'source', {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: { name: props.name },
      spec: {
        // Polling finds new commits; the Kustomization runs as soon as a new revision is fetched.
        interval: '1m',
        url: props.repoUrl,
        ref: { branch: props.branch },
        ...(props.secretName ? { secretRef: { name: props.secretName } } : {}),
        ignore: props.ignore,
      },
    });

    new ApiObject(this, 'sync', {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: props.name },
      spec: {
        sourceRef: { kind: 'GitRepository', name: props.name },
        path: props.path,
        prune: true,
        targetNamespace: props.namespace,
        serviceAccountName: props.serviceAccountName,
        // Drift correction; new commits are applied when the source fetches them.
        interval: '10m',
        retryInterval: '1m',
        timeout: '3m',
        // Previews fail independently (a bad image, a crashing app): waiting for all of them would
        // mark the whole workspace not ready for one broken branch and stall each reconcile.
        wait: false,
      },
    });
  }
}
