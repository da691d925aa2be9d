// Argo CD bootstrap of one workspace: an AppProject that confines everything to the workspace, an
// ApplicationSet with one Application per branch deploy folder, and an Application for the shared
// objects. Names are explicit, so nothing depends on construct paths.
import { Chart, type ChartProps } from 'cdk8s';
import { Application } from '../imports/argoproj-application-argoproj.io.js';
import { ApplicationSet } from '../imports/argoproj-applicationset-argoproj.io.js';
import { AppProject } from '../imports/argoproj-appproject-argoproj.io.js';
import type { Construct } from 'constructs';

export interface ArgoCdChartProps extends ChartProps {
  /** The Argo CD control-plane namespace: AppProjects and Applications live there. */
  readonly argoNamespace: string;
  /** AppProject, ApplicationSet and shared Application name. */
  readonly name: string;
  readonly description: string;
  /** The only namespace the project may deploy to. */
  readonly targetNamespace: string;
  readonly repoUrl: string;
  readonly branch: string;
  /** Namespaced kinds the project may sync; nothing else (and nothing cluster-scoped) is allowed. */
  readonly kinds: readonly { readonly group: string; readonly kind: string }[];
  /** Directory pattern of the per-preview folders, e.g. rendered/*\/*. */
  readonly previewDirs: string;
  /** Go template of a generated Application's name. */
  readonly applicationName: string;
  /** Go templates of a generated Application's x1.app and x1.branch labels (from the folder's path). */
  readonly appLabel: string;
  readonly slugLabel: string;
  /** Folder of the objects the previews share. */
  readonly sharedDir: string;
  readonly labels: Readonly<Record<string, string>>;
}

const IN_CLUSTER = 'https://kubernetes.default.svc';
// Deleting an Application (a removed folder) deletes its objects first, so previews never leak.
const RESOURCES_FINALIZER = 'resources-finalizer.argocd.argoproj.io';

export class ArgoCdChart extends Chart {
  constructor(scope: Construct, id: string, props: ArgoCdChartProps) {
    super(scope, id, { namespace: props.argoNamespace, labels: { ...props.labels }, disableResourceNameHashes: true });
    const destination = { server: IN_CLUSTER, namespace: props.targetNamespace };
    const source = (path: string) => ({ repoUrl: props.repoUrl, targetRevision: props.branch, path });
    const syncPolicy = {
      automated: { prune: true, selfHeal: true },
      // No CreateNamespace: the workspace namespace exists before its previews. FailOnSharedResource
      // refuses to take over an object another Application already manages.
      syncOptions: ['FailOnSharedResource=true'],
      retry: { limit: 5, backoff: { duration: '10s', factor: 2, maxDuration: '3m' } },
    };

    new AppProject(this, 'project', {
      metadata: { name: props.name },
      spec: {
        description: props.description,
        sourceRepos: [props.repoUrl],
        destinations: [destination],
        clusterResourceWhitelist: [],
        namespaceResourceWhitelist: props.kinds.map((k) => ({ group: k.group, kind: k.kind })),
      },
    });

    new ApplicationSet(this, 'previews', {
      metadata: { name: props.name },
      spec: {
        goTemplate: true,
        goTemplateOptions: ['missingkey=error'],
        generators: [{ git: { repoUrl: props.repoUrl, revision: props.branch, directories: [{ path: props.previewDirs }] } }],
        template: {
          metadata: {
            name: props.applicationName,
            labels: { ...props.labels, 'x1.app': props.appLabel, 'x1.branch': props.slugLabel },
            finalizers: [RESOURCES_FINALIZER],
          },
          spec: { project: props.name, source: source('{{ .path.path }}'), destination, syncPolicy },
        },
      },
    });

    new Application(this, 'shared', {
      metadata: { name: props.name, finalizers: [RESOURCES_FINALIZER] },
      spec: { project: props.name, source: source(props.sharedDir), destination, syncPolicy },
    });
  }
}
