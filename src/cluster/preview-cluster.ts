// The part of the Kubernetes API status and logs need, as a port: one batched look at a whole
// workspace (one list call per kind, not one per preview) and the tail of one container's log.
import type {
  BuildObservation,
  DeploymentObservation,
  EngineObservation,
  EventObservation,
  PodObservation,
} from '../status/index.js';

import { ARGOCD_NAMESPACE, FLUX_OBJECT_NAME } from '../render/index.js';
import { workspaceNamespace } from '../spec/index.js';
import { buildNamespace, type WorkspaceConfig } from '../workspace/index.js';

/** Where one workspace's objects live. */
export interface WorkspaceScope {
  readonly workspaceId: string;
  /** ws-<id>: the previews, their events and (Flux) the Kustomization. */
  readonly namespace: string;
  readonly buildNamespace: string;
  readonly engine: 'argocd' | 'flux';
  /** Argo CD's namespace, where the Applications are. */
  readonly argoNamespace: string;
  /** Flux: the Kustomization's name. */
  readonly fluxName: string;
}

export function workspaceScope(ws: WorkspaceConfig): WorkspaceScope {
  return {
    workspaceId: ws.workspace.id,
    namespace: workspaceNamespace(ws.workspace.id),
    buildNamespace: buildNamespace(ws),
    engine: ws.engine,
    argoNamespace: ARGOCD_NAMESPACE,
    fluxName: FLUX_OBJECT_NAME,
  };
}

/** Which preview an object belongs to, from its x1.app / x1.branch labels. */
export interface PreviewLabels {
  readonly app: string;
  readonly slug: string;
}

export interface WorkspaceObservation {
  /** Argo CD: one Application per preview. */
  readonly applications: readonly (EngineObservation & PreviewLabels)[];
  /** Flux: the one Kustomization that applies every preview. */
  readonly kustomization?: EngineObservation;
  readonly deployments: readonly (DeploymentObservation & PreviewLabels)[];
  readonly pods: readonly (PodObservation & PreviewLabels)[];
  readonly events: readonly EventObservation[];
  readonly buildJobs: readonly (BuildObservation & PreviewLabels & { readonly version: number; readonly name: string })[];
  readonly buildPods: readonly (PodObservation & PreviewLabels)[];
}

export interface LogOptions {
  readonly tailLines: number;
  readonly previous?: boolean;
  readonly sinceSeconds?: number;
  /** The API server stops reading after this many bytes. */
  readonly limitBytes: number;
}

export interface PreviewCluster {
  observe(scope: WorkspaceScope): Promise<WorkspaceObservation>;
  podLog(namespace: string, pod: string, container: string, options: LogOptions): Promise<string>;
}
