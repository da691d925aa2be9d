// `npx tsx bench/status-bench.ts`: the live status of 100 previews from one batched look at the
// workspace, against the Kubernetes API test server (test/support/fake-kube.ts, in this process,
// real HTTP): how many API calls one look takes (it must not grow with the previews), and how long
// the look plus 100 status answers take (min/median/max over repeated runs). Prints one JSON object.
import { performance } from 'node:perf_hooks';
import { newBranchDeploy } from '../src/deploy/index.js';
import { kubePreviewCluster, loadKubeConfig } from '../src/k8s/index.js';
import { workspaceScope } from '../src/cluster/index.js';
import { previewObservation } from '../src/observe/index.js';
import { workspaceConfigFor } from '../src/owners/index.js';
import { branchDeployObjects } from '../src/render/index.js';
import { branchSlug, deployRequestSchema } from '../src/spec/index.js';
import { previewStatus } from '../src/status/index.js';
import { recordBuild } from '../src/versions/index.js';
import { startFakeKube } from '../test/support/fake-kube.js';

const PREVIEWS = 100;
const RUNS = 15;
const NOW = '2026-11-30T12:00:00.000Z';

async function main(): Promise<void> {
  const kube = await startFakeKube();
  try {
    const ws = workspaceConfigFor({ id: 'demo' });
    const records = Array.from({ length: PREVIEWS }, (_, i) => {
      const request = deployRequestSchema().parse({ app: 'api', branch: `task-${i}`, commit_sha: 'a'.repeat(40), ports: [8080] });
      const pending = newBranchDeploy(ws, request, branchSlug('api', request.branch), { agent: 'agent-1', now: NOW });
      return recordBuild(pending, 1, { digest: `sha256:${'b'.repeat(64)}`, built_at: NOW, now: NOW });
    });
    for (const record of records) {
      const deployment = branchDeployObjects(ws, record).find((o) => o.kind === 'Deployment') as Record<string, any>;
      kube.put({ ...deployment, status: { replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 } });
      const template = deployment.spec.template;
      kube.put({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `${deployment.metadata.name}-abc12-xyz34`, namespace: deployment.metadata.namespace, labels: template.metadata.labels },
        spec: template.spec,
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: [{ name: 'app', image: 'x', imageID: '', ready: true, restartCount: 0, state: { running: { startedAt: NOW } } }],
        },
      });
      kube.put({
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name: `api-${record.slug}`, namespace: 'argocd', labels: { 'x1deploy.dev/workspace': 'demo', 'x1.app': 'api', 'x1.branch': record.slug } },
        spec: { project: 'ws-demo', destination: {} },
        status: { sync: { status: 'Synced', revision: 'c'.repeat(40) }, health: { status: 'Healthy' } },
      });
    }
    const cluster = kubePreviewCluster(loadKubeConfig({ KUBECONFIG: kube.kubeconfig }));
    const scope = workspaceScope(ws);
    const times: number[] = [];
    let calls = 0;
    let ready = 0;
    for (let run = 0; run < RUNS; run++) {
      const before = kube.requests.length;
      const started = performance.now();
      const seen = await cluster.observe(scope);
      const statuses = records.map((record) => previewStatus({ record, observation: previewObservation(seen, record), now: NOW }));
      times.push(performance.now() - started);
      calls = kube.requests.length - before;
      ready = statuses.filter((s) => s.state === 'ready').length;
    }
    times.sort((a, b) => a - b);
    const round = (n: number) => Math.round(n * 10) / 10;
    console.log(
      JSON.stringify({
        previews: PREVIEWS,
        api_calls_per_look: calls,
        ready,
        latency_ms: { min: round(times[0]!), median: round(times[Math.floor(times.length / 2)]!), max: round(times[times.length - 1]!) },
        runs: RUNS,
      }),
    );
  } finally {
    await kube.close();
  }
}

await main();
