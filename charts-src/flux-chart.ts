// Flux bootstrap of one workspace: a GitRepository and one Kustomization over rendered/, applied
// as a tenant service account whose Role covers only the kinds x1deploy renders, in the workspace
// namespace only. Names are explicit, so nothing depends on construct paths.
import { Chart, type ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Kustomization, KustomizationSpecSourceRefKind } from '../imports/kustomize-kustomization-kustomize.toolkit.fluxcd.io.js';
import { GitRepository } from '../imports/source-gitrepository-source.toolkit.fluxcd.io.js';
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

    new k8s.KubeServiceAccount(this, 'service-account', {
      metadata: { name: props.serviceAccountName },
      automountServiceAccountToken: false,
    });
    new k8s.KubeRole(this, 'role', {
      metadata: { name: props.serviceAccountName },
      rules: props.rules.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: VERBS })),
    });
    new k8s.KubeRoleBinding(this, 'role-binding', {
      metadata: { name: props.serviceAccountName },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: props.serviceAccountName },
      subjects: [{ kind: 'ServiceAccount', name: props.serviceAccountName, namespace: props.namespace }],
    });

    new GitRepository(this, 'source', {
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

    new Kustomization(this, 'sync', {
      metadata: { name: props.name },
      spec: {
        sourceRef: { kind: KustomizationSpecSourceRefKind.GIT_REPOSITORY, name: props.name },
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
