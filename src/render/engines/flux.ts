// The Flux bootstrap: chart props from the workspace.
//
// There is no kustomization.yaml at the top of rendered/ on purpose: kustomize-controller generates
// one when the path has none, adding every sub-folder that holds a kustomization.yaml as a resource
// (rendered/_workspace/ and each rendered/<app>/<slug>/). A listing file there would be one more
// file every new preview rewrites, and a merge conflict between any two open review PRs.
import { App } from 'cdk8s';
import { FluxChart } from '../../../charts-src/flux-chart.js';
import { RENDERED_DIR } from '../../layout/index.js';
import { workspaceNamespace } from '../../spec/index.js';
import type { WorkspaceConfig } from '../../workspace/index.js';
import { MANAGED_KINDS } from './managed-kinds.js';

export const FLUX_OBJECT_NAME = 'x1deploy';
/** The tenant account kustomize-controller applies rendered/ as. */
export const FLUX_SERVICE_ACCOUNT = 'x1deploy-reconciler';

function rbacRules() {
  const byGroup = new Map<string, string[]>();
  for (const k of MANAGED_KINDS) byGroup.set(k.group, [...(byGroup.get(k.group) ?? []), k.resource]);
  return [...byGroup].map(([group, resources]) => ({ apiGroups: [group], resources }));
}

export function fluxObjects(ws: WorkspaceConfig): Record<string, unknown>[] {
  const chart = new FluxChart(new App({ outdir: '/nonexistent' }), 'flux', {
    namespace: workspaceNamespace(ws.workspace.id),
    name: FLUX_OBJECT_NAME,
    serviceAccountName: FLUX_SERVICE_ACCOUNT,
    repoUrl: ws.gitops.repoUrl,
    branch: ws.gitops.branch,
    secretName: ws.gitops.secretName,
    path: `./${RENDERED_DIR}`,
    // Only rendered/ reaches the cluster side: the records and settings stay out of the artifact.
    ignore: `/*\n!/${RENDERED_DIR}/\n`,
    rules: rbacRules(),
    labels: { 'app.kubernetes.io/managed-by': 'x1deploy', 'x1deploy.dev/workspace': ws.workspace.id },
  });
  return chart.toJson() as Record<string, unknown>[];
}
