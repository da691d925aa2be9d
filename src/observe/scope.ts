// Which of a workspace's cluster objects belong to one preview, picked from one batched look.
import type { WorkspaceObservation } from '../cluster/index.js';
import type { DeployRecord } from '../records/index.js';
import { objectName } from '../spec/index.js';
import type { PreviewObservation } from '../status/index.js';

export function previewObservation(seen: WorkspaceObservation, record: DeployRecord): Omit<PreviewObservation, 'probe'> {
  const mine = (o: { app: string; slug: string }) => o.app === record.app && o.slug === record.slug;
  const name = objectName(record.app, record.slug);
  const pods = seen.pods.filter(mine);
  const podNames = new Set(pods.map((p) => p.name));
  // A ReplicaSet is <deployment>-<pod-template-hash>; the hash holds no "-".
  const replicaSet = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}-[a-z0-9]+$`);
  const events = seen.events.filter(({ object }) =>
    object.kind === 'Pod'
      ? podNames.has(object.name ?? '')
      : object.kind === 'Deployment'
        ? object.name === name
        : object.kind === 'ReplicaSet'
          ? replicaSet.test(object.name ?? '')
          : false,
  );
  const newest = record.versions[record.versions.length - 1]!;
  const job = seen.buildJobs.find((j) => mine(j) && j.version === newest.number);
  const engine = seen.applications.find(mine) ?? seen.kustomization;
  const deployment = seen.deployments.find(mine);
  return {
    cluster: { observed: true },
    ...(engine ? { engine } : {}),
    ...(deployment ? { deployment } : {}),
    pods,
    events,
    ...(job ? { build: { running: job.running, ...(job.startedAt ? { startedAt: job.startedAt } : {}) } } : {}),
  };
}
