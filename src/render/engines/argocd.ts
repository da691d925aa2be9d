// The Argo CD bootstrap: chart props from the workspace, and the name each preview's Application gets.
//
// Applications of every workspace share Argo CD's namespace, so `<app>-<slug>` alone would clash
// (two workspaces each deploying api/main) and a workspace prefix would be ambiguous and could
// pass 63 characters. The name is the readable `<app>-<slug>` cut to 52 characters, "-", and 10
// hex of sha256("<workspace id>/rendered/<app>/<slug>"): at most 63 characters, so it is also a
// valid label value (label-based tracking), and a DNS label (app starts with a letter, the hash
// ends it with a hex digit). The ApplicationSet computes the same with sprig's trunc and sha256sum.
import { App } from 'cdk8s';
import { ArgoCdChart } from '../../../charts-src/argocd-chart.js';
import { RENDERED_PREVIEW_GLOB, RENDERED_SEGMENTS, renderedDir, WORKSPACE_RENDER_DIR } from '../../layout/index.js';
import { hexHash, objectName, workspaceNamespace } from '../../spec/index.js';
import type { WorkspaceConfig } from '../../workspace/index.js';
import { MANAGED_KINDS } from './managed-kinds.js';

/** Argo CD's own namespace, where AppProjects and Applications must live (the install default). */
export const ARGOCD_NAMESPACE = 'argocd';

const READABLE_MAX = 52;
const HASH_LENGTH = 10;

/** The Application Argo CD syncs rendered/<app>/<slug>/ with (what the ApplicationSet template yields). */
export function argoApplicationName(workspaceId: string, app: string, slug: string): string {
  const hash = hexHash(`${workspaceId}/${renderedDir(app, slug)}`, HASH_LENGTH);
  return `${objectName(app, slug).slice(0, READABLE_MAX)}-${hash}`;
}

/** The ApplicationSet template expression for <app> or <slug> of a generated rendered folder's path. */
export function segment(part: keyof typeof RENDERED_SEGMENTS): string {
  return `(index .path.segments ${RENDERED_SEGMENTS[part]})`;
}

function applicationNameTemplate(workspaceId: string): string {
  const readable = `{{ printf "%s-%s" ${segment('app')} ${segment('slug')} | trunc ${READABLE_MAX} }}`;
  const hash = `{{ printf "%s/%s" ${JSON.stringify(workspaceId)} .path.path | sha256sum | trunc ${HASH_LENGTH} }}`;
  return `${readable}-${hash}`;
}

export function argoCdObjects(ws: WorkspaceConfig): Record<string, unknown>[] {
  const namespace = workspaceNamespace(ws.workspace.id);
  const chart = new ArgoCdChart(new App({ outdir: '/nonexistent' }), 'argocd', {
    argoNamespace: ARGOCD_NAMESPACE,
    name: namespace,
    description: `x1deploy previews of workspace ${ws.workspace.id}: only this gitops repo, only namespace ${namespace}`,
    targetNamespace: namespace,
    repoUrl: ws.gitops.repoUrl,
    branch: ws.gitops.branch,
    kinds: MANAGED_KINDS,
    previewDirs: RENDERED_PREVIEW_GLOB,
    appLabel: `{{ ${segment('app')} }}`,
    slugLabel: `{{ ${segment('slug')} }}`,
    applicationName: applicationNameTemplate(ws.workspace.id),
    sharedDir: WORKSPACE_RENDER_DIR,
    labels: { 'app.kubernetes.io/managed-by': 'x1deploy', 'x1deploy.dev/workspace': ws.workspace.id },
  });
  return chart.toJson() as Record<string, unknown>[];
}
