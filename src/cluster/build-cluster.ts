// The part of the Kubernetes API a build needs, as a port: create a Job, read it back, find its
// pods, read the tail of a pod's log. The @kubernetes/client-node adapter lives in src/k8s/.

import { X1Error } from '../errors/index.js';

/** A Kubernetes object as JSON. */
export type KubeObject = Record<string, unknown>;

/** The label every pod of a build Job carries, with the Job's name as its value. */
export const BUILD_JOB_LABEL = 'x1deploy.dev/build-job';

export type BuildJobPhase = 'running' | 'succeeded' | 'failed';

export interface BuildJobState {
  readonly name: string;
  readonly phase: BuildJobPhase;
  /** The Failed condition's reason and message (BackoffLimitExceeded, DeadlineExceeded, …). */
  readonly reason?: string;
  readonly message?: string;
}

export interface ContainerTermination {
  readonly exitCode: number;
  readonly reason?: string;
  /** The termination message: what the container wrote to its terminationMessagePath. */
  readonly message?: string;
  readonly finishedAt?: string;
}

export interface BuildPodState {
  readonly name: string;
  readonly createdAt?: string;
  readonly phase?: string;
  /** The build container's state. */
  readonly terminated?: ContainerTermination;
  readonly waiting?: { readonly reason?: string; readonly message?: string };
}

export interface BuildCluster {
  /** Create a Job; 'exists' when one of that name is already there (a restarted builder). */
  createJob(namespace: string, job: KubeObject): Promise<'created' | 'exists'>;
  /** The Job's state, or undefined when there is no such Job. */
  readJob(namespace: string, name: string): Promise<BuildJobState | undefined>;
  /** The Job's pods (selected by BUILD_JOB_LABEL), oldest first. */
  podsOfJob(namespace: string, jobName: string): Promise<BuildPodState[]>;
  /** The last `lines` lines of a container's log. */
  podLogTail(namespace: string, pod: string, container: string, lines: number): Promise<string>;
}

/** The cluster refused or could not answer a call; the message says what to check. */
export class ClusterError extends X1Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super('unavailable', message);
  }
}

/** No cluster to talk to: no kubeconfig and not running in a pod. */
export class NoClusterConfigError extends X1Error {
  constructor() {
    super(
      'unavailable',
      'no Kubernetes cluster configured: set KUBECONFIG (or create ~/.kube/config), or run the build inside the cluster with a service account',
    );
  }
}
