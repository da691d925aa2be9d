// x1deploy doctor: the set-up checked end to end, each check with what it saw and, when it failed,
// what to do. Reads only (the registry check asks for a tag that does not exist).
import { workspaceScope, type PreviewCluster } from '../cluster/index.js';
import { X1Error } from '../errors/index.js';
import { RepoSnapshot, type GitopsStore } from '../records/index.js';
import type { ImageRegistry } from '../registry/index.js';
import { ARGOCD_NAMESPACE, FLUX_OBJECT_NAME } from '../render/index.js';
import { cacheRepo, hasPlaceholderGitopsUrl, type WorkspaceConfig } from '../workspace/index.js';

export type CheckOutcome = 'ok' | 'failed' | 'skipped';

export interface DoctorCheck {
  readonly check: string;
  readonly outcome: CheckOutcome;
  /** What was seen. */
  readonly detail: string;
  /** What to do, when it failed or was skipped. */
  readonly fix?: string;
}

export interface DoctorPorts {
  readonly cluster: PreviewCluster | { readonly unavailable: string };
  /** The registry client for the workspace's settings. */
  readonly registry: (ws: WorkspaceConfig) => ImageRegistry;
  /** A GitHub token's scopes (X-OAuth-Scopes), when a token is configured. */
  readonly githubScopes?: () => Promise<string[] | undefined>;
}

export async function runDoctor(store: GitopsStore, ports: DoctorPorts): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const add = (c: DoctorCheck) => checks.push(c);

  let ws: WorkspaceConfig;
  try {
    const snapshot = await RepoSnapshot.atHead(store);
    ws = await snapshot.workspace();
    add({ check: 'gitops-repo', outcome: 'ok', detail: `branch ${store.branch} at ${snapshot.commit.slice(0, 12)}, workspace ${ws.workspace.id}` });
  } catch (err) {
    add({ check: 'gitops-repo', outcome: 'failed', detail: messageOf(err), fix: 'point --repo at the workspace gitops repo (x1deploy init creates one)' });
    return checks;
  }

  add(
    hasPlaceholderGitopsUrl(ws)
      ? {
          check: 'engine-source',
          outcome: 'failed',
          detail: `gitops.repoUrl is the placeholder ${ws.gitops.repoUrl}`,
          fix: 'set gitops.repoUrl in x1deploy.yaml to the URL the engine clones, then run x1deploy render --repo .',
        }
      : { check: 'engine-source', outcome: 'ok', detail: `${ws.engine} syncs ${ws.gitops.repoUrl} (${ws.gitops.branch})` },
  );

  if ('unavailable' in ports.cluster) {
    add({ check: 'cluster', outcome: 'skipped', detail: ports.cluster.unavailable, fix: 'set KUBECONFIG (or run in the cluster) to check the engine and the permissions' });
  } else {
    const scope = workspaceScope(ws);
    try {
      const seen = await ports.cluster.observe(scope);
      add({ check: 'cluster', outcome: 'ok', detail: `may read previews in ${scope.namespace} and builds in ${scope.buildNamespace}` });
      const previews = (await (await RepoSnapshot.atHead(store)).allDeployRecords()).length;
      if (ws.engine === 'argocd') {
        const synced = seen.applications.filter((a) => a.synced).length;
        add(
          seen.applications.length === 0 && previews > 0
            ? {
                check: 'engine',
                outcome: 'failed',
                detail: `no Argo CD Application of workspace ${ws.workspace.id} in ${ARGOCD_NAMESPACE}, for ${previews} preview(s)`,
                fix: 'a cluster admin applies bootstrap/ (kubectl apply -k bootstrap/) and Argo CD syncs it',
              }
            : { check: 'engine', outcome: 'ok', detail: `${seen.applications.length} Application(s), ${synced} synced, for ${previews} preview(s)` },
        );
      } else {
        const k = seen.kustomization;
        add(
          !k
            ? { check: 'engine', outcome: 'failed', detail: `no Flux Kustomization ${FLUX_OBJECT_NAME} in ${scope.namespace}`, fix: 'a cluster admin applies bootstrap/ (kubectl apply -k bootstrap/)' }
            : k.failure
              ? { check: 'engine', outcome: 'failed', detail: `the Kustomization is not ready: ${k.failure}`, fix: 'read the message; x1deploy verify --repo . finds repo-side causes' }
              : { check: 'engine', outcome: 'ok', detail: `Kustomization ${FLUX_OBJECT_NAME} ${k.synced ? 'ready' : 'reconciling'}${k.revision ? ` at ${k.revision.slice(0, 12)}` : ''}` },
        );
      }
    } catch (err) {
      add({ check: 'cluster', outcome: 'failed', detail: messageOf(err), fix: 'bind x1deploy\'s service account to the roles x1deploy install renders, or fix KUBECONFIG' });
    }
  }

  const probe = `${cacheRepo(ws)}:x1deploy-doctor-probe`;
  try {
    await ports.registry(ws).manifestDigest(probe);
    add({ check: 'registry', outcome: 'ok', detail: `${ws.registry} answers the registry API` });
  } catch (err) {
    add({ check: 'registry', outcome: 'failed', detail: messageOf(err), fix: 'start the registry or fix x1deploy.yaml registry (and build.insecureRegistry for plain HTTP); the build pushes there' });
  }

  if (ports.githubScopes) {
    try {
      const scopes = await ports.githubScopes();
      add({
        check: 'github-token',
        outcome: 'ok',
        detail: scopes === undefined ? 'the token works (a fine-grained token: its permissions are not listed)' : `the token works; scopes: ${scopes.join(', ') || 'none'}`,
      });
    } catch (err) {
      add({ check: 'github-token', outcome: 'failed', detail: messageOf(err), fix: 'set X1DEPLOY_GITHUB_TOKEN to a token with pull requests, issues and deployments write on the repos' });
    }
  } else {
    add({ check: 'github-token', outcome: 'skipped', detail: 'X1DEPLOY_GITHUB_TOKEN is not set', fix: 'set it for review pull requests, preview comments and GitHub deployments' });
  }
  return checks;
}

function messageOf(err: unknown): string {
  if (err instanceof X1Error) return err.message;
  throw err;
}
