// Which cluster the build talks to: $KUBECONFIG, ~/.kube/config, or the pod's service account when
// running inside the cluster. Without any of them, say so instead of dialling localhost:8080 (the
// client library's silent fallback).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { NoClusterConfigError } from '../cluster/index.js';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export function loadKubeConfig(env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  // KUBECONFIG may list several files, merged in order (the first file's current context wins).
  const files = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '' && existsSync(f));
  if (files.length > 0) {
    kc.loadFromFile(files[0]!);
    for (const file of files.slice(1)) {
      const more = new KubeConfig();
      more.loadFromFile(file);
      kc.mergeConfig(more, true);
    }
    return kc;
  }
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  if (existsSync(home)) {
    kc.loadFromFile(home);
    return kc;
  }
  if (env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN)) {
    kc.loadFromCluster();
    return kc;
  }
  throw new NoClusterConfigError();
}
