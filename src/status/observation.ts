// What x1deploy saw of one preview outside git: the engine's object, the Deployment, its Pods, the
// Events about them, the build of the newest version and the URL. Plain data: the cluster adapter
// fills it in, the status model reads it, tests write it by hand.

export interface EngineObservation {
  readonly engine: 'argocd' | 'flux';
  /** Argo CD: sync.status is Synced; Flux: the Kustomization's Ready condition is True. */
  readonly synced: boolean | undefined;
  /** Argo CD health.status (Healthy, Progressing, Degraded, Missing, …). */
  readonly health?: string;
  /** The gitops commit the engine last applied (Argo CD sync.revision, Flux lastAppliedRevision). */
  readonly revision?: string;
  /** Why the last sync failed (Argo CD operationState, Flux Ready=False), when it did. */
  readonly failure?: string;
  /** When the engine last changed its mind. */
  readonly at?: string;
}

export interface DeploymentObservation {
  readonly name: string;
  /** The x1.version label of its pod template: which version the cluster was told to run. */
  readonly version?: number;
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly updatedReplicas: number;
  /** The Progressing condition's message when its reason is ProgressDeadlineExceeded. */
  readonly deadlineExceeded?: string;
  readonly at?: string;
}

export interface ContainerObservation {
  readonly name: string;
  readonly ready: boolean;
  readonly restartCount: number;
  readonly waiting?: { readonly reason?: string; readonly message?: string };
  readonly runningSince?: string;
  /** The last termination (of the previous run, for a restarting container). */
  readonly lastTerminated?: { readonly exitCode: number; readonly reason?: string; readonly finishedAt?: string };
}

export interface PodObservation {
  readonly name: string;
  /** The pod's x1.version label. */
  readonly version?: number;
  readonly phase?: string;
  readonly ready: boolean;
  readonly createdAt?: string;
  readonly containers: readonly ContainerObservation[];
}

export interface EventObservation {
  readonly type?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly object: { readonly kind?: string; readonly name?: string };
  readonly at?: string;
}

export interface ProbeObservation {
  readonly url: string;
  /** A non-5xx answer within the timeout. */
  readonly up: boolean;
  readonly status?: number;
  readonly error?: string;
  readonly at: string;
}

export interface BuildObservation {
  /** A build Job of the version exists and has not finished. */
  readonly running: boolean;
  readonly startedAt?: string;
}

export type ClusterAccess = { readonly observed: true } | { readonly observed: false; readonly why: string };

/** Everything seen of one preview at one moment. */
export interface PreviewObservation {
  readonly cluster: ClusterAccess;
  readonly engine?: EngineObservation;
  readonly deployment?: DeploymentObservation;
  readonly pods: readonly PodObservation[];
  readonly events: readonly EventObservation[];
  readonly build?: BuildObservation;
  readonly probe?: ProbeObservation;
}
