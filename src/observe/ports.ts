// The ports a status or log call uses, from the environment: the cluster from KUBECONFIG (or the
// pod's service account), loaded lazily because the client library is slow to import; the URL
// probe with X1DEPLOY_PREVIEW_RESOLVE ("host:port:address", as curl --resolve) and
// X1DEPLOY_PREVIEW_CA (a PEM file of extra CAs) for previews without public DNS or certificates.
import { readFileSync } from 'node:fs';
import { X1Error } from '../errors/index.js';
import { parseResolve } from '../probe/index.js';
import type { ObservePorts } from './live-status.js';

export const PROBE_TIMEOUT_MS = 5_000;

export async function observePortsFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<ObservePorts> {
  const probe = {
    timeoutMs: PROBE_TIMEOUT_MS,
    resolve: parseResolve(env.X1DEPLOY_PREVIEW_RESOLVE),
    ...(env.X1DEPLOY_PREVIEW_CA ? { ca: readFileSync(env.X1DEPLOY_PREVIEW_CA, 'utf8') } : {}),
  };
  try {
    const { kubePreviewCluster, loadKubeConfig } = await import('../k8s/index.js');
    return { cluster: kubePreviewCluster(loadKubeConfig(env)), probe };
  } catch (err) {
    if (err instanceof X1Error && err.kind === 'unavailable') return { cluster: { unavailable: err.message }, probe };
    throw err;
  }
}
