// One image build: a Kaniko Job that clones the source repo at exactly one commit, builds one
// Dockerfile and pushes one tag. The Job is created by `x1deploy build` (not synced by the gitops
// engine), in the workspace's build namespace: Kaniko needs root and a writable root filesystem,
// which Pod Security "baseline" allows and the previews' "restricted" namespace does not.
import { Chart, type ChartProps } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { quantities } from './jobs-chart.js';
import type { Construct } from 'constructs';

/** Where Kaniko writes the image digest: the kubelet reads it back as the container's termination message. */
export const DIGEST_FILE = '/dev/termination-log';
export const KANIKO_CONTAINER = 'kaniko';

export interface BuildJobChartProps extends ChartProps {
  readonly namespace: string;
  readonly name: string;
  /** Labels of the Job and its pods (the builder finds the pods by `podSelector`). */
  readonly labels: Readonly<Record<string, string>>;
  /** A label only this Job's pods carry. */
  readonly podSelector: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** The Kaniko executor image, pinned by digest. */
  readonly kanikoImage: string;
  /** Kaniko's git context: `git://host/path#refs/heads/<branch>#<commit>`. */
  readonly gitContext: string;
  /** Clone only the named branch (false when the branch cannot be named in the context). */
  readonly singleBranch: boolean;
  /** The Dockerfile, relative to the repo root. */
  readonly dockerfile: string;
  /** The tag pushed: `<registry>/<repository>:<commit>`. */
  readonly destination: string;
  readonly cacheRepo: string;
  /** Registries reached over plain HTTP. */
  readonly insecureRegistries: readonly string[];
  /** OCI labels written into the image (source, revision). */
  readonly imageLabels: Readonly<Record<string, string>>;
  readonly resources: {
    readonly requests: { readonly cpu: string; readonly memory: string };
    readonly limits: { readonly cpu: string; readonly memory: string };
  };
  readonly activeDeadlineSeconds: number;
  readonly backoffLimit: number;
  readonly ttlSecondsAfterFinished: number;
  /** Secret with key `token`: Kaniko clones with it (GIT_TOKEN). Optional, so public repos need none. */
  readonly gitTokenSecret: string;
  /** kubernetes.io/dockerconfigjson Secret Kaniko pushes with. Optional, for registries without auth. */
  readonly registrySecret: string;
}

export function kanikoArgs(props: BuildJobChartProps): string[] {
  return [
    `--context=${props.gitContext}`,
    `--git=single-branch=${props.singleBranch}`,
    '--git=recurse-submodules=false',
    `--dockerfile=${props.dockerfile}`,
    `--destination=${props.destination}`,
    // Written before the push: the builder trusts it only when the container exited 0.
    `--digest-file=${DIGEST_FILE}`,
    '--cache=true',
    `--cache-repo=${props.cacheRepo}`,
    '--push-retry=2',
    ...props.insecureRegistries.map((r) => `--insecure-registry=${r}`),
    ...Object.entries(props.imageLabels).map(([k, v]) => `--label=${k}=${v}`),
  ];
}

export class BuildJobChart extends Chart {
  constructor(scope: Construct, id: string, props: BuildJobChartProps) {
    super(scope, id, { namespace: props.namespace, disableResourceNameHashes: true });
    new k8s.KubeJob(this, 'job', {
      metadata: { name: props.name, labels: { ...props.labels }, annotations: { ...props.annotations } },
      spec: {
        activeDeadlineSeconds: props.activeDeadlineSeconds,
        backoffLimit: props.backoffLimit,
        ttlSecondsAfterFinished: props.ttlSecondsAfterFinished,
        template: {
          metadata: { labels: { ...props.labels, ...props.podSelector } },
          spec: {
            restartPolicy: 'Never',
            // Build steps run the app's Dockerfile as root: they get no Kubernetes credentials
            // and no service links into the namespace.
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: { runAsUser: 0, runAsGroup: 0, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: KANIKO_CONTAINER,
                image: props.kanikoImage,
                imagePullPolicy: 'IfNotPresent',
                args: kanikoArgs(props),
                env: [{ name: 'GIT_TOKEN', valueFrom: { secretKeyRef: { name: props.gitTokenSecret, key: 'token', optional: true } } }],
                resources: { requests: quantities(props.resources.requests), limits: quantities(props.resources.limits) },
                // Kaniko unpacks the base image over its own root filesystem and needs the default
                // capabilities (chown, setuid, …) to do it: baseline, not restricted. Privilege
                // escalation stays allowed: a Dockerfile's RUN under a USER may call setuid tools.
                securityContext: { privileged: false, readOnlyRootFilesystem: false },
                terminationMessagePath: DIGEST_FILE,
                terminationMessagePolicy: 'File',
                volumeMounts: [{ name: 'registry-credentials', mountPath: '/kaniko/.docker', readOnly: true }],
              },
            ],
            volumes: [
              {
                name: 'registry-credentials',
                secret: { secretName: props.registrySecret, optional: true, items: [{ key: '.dockerconfigjson', path: 'config.json' }] },
              },
            ],
          },
        },
      },
    });
  }
}
