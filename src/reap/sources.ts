// Where a sweep's evidence comes from, as x1deploy.yaml `reap` and the environment configure it.
// Tokens are read from the environment here and handed only to the clients that send them.
import { registryAuthFromEnv, registryClient, type ImageRegistry } from '../registry/index.js';
import { branchSourceFor, JsonFileEtagCache, MemoryEtagCache, type BranchSource, type EtagCache, type ScmLog } from '../scm/index.js';
import type { WorkspaceConfig } from '../workspace/index.js';
import { prometheusTrafficFor, type TrafficSource } from '../traffic/index.js';

export const GITHUB_TOKEN_ENV = 'X1DEPLOY_GITHUB_TOKEN';

export interface ReapSources {
  readonly branchSource: (repoUrl: string) => BranchSource;
  /** Undefined: idle previews are not looked for. */
  readonly traffic?: TrafficSource;
  readonly registry: ImageRegistry;
  /** Persist what the listings learnt (ETags); called once, after the last listing. */
  finish?(): Promise<void>;
}

export interface ReapSourcesOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Reach the registry here instead of at the host in the image references. */
  readonly registryUrl?: string;
  /** Where rate-limit and retry warnings go. */
  readonly log?: ScmLog;
}

export function reapSourcesFor(ws: WorkspaceConfig, options: ReapSourcesOptions = {}): ReapSources {
  const env = options.env ?? process.env;
  const cache: EtagCache = ws.reap.etagCacheFile === undefined ? new MemoryEtagCache() : new JsonFileEtagCache(ws.reap.etagCacheFile);
  const github = {
    token: env[GITHUB_TOKEN_ENV] || undefined,
    baseUrl: ws.reap.githubApiUrl,
    ...(ws.reap.githubWebHost === undefined ? {} : { webHost: ws.reap.githubWebHost }),
    userAgent: 'x1deploy-reap',
    etagCache: flushedOnce(cache),
    ...(options.log === undefined ? {} : { log: options.log }),
  };
  const traffic = ws.reap.idleDays !== undefined ? prometheusTrafficFor(ws.reap, env) : undefined;
  return {
    branchSource: (repoUrl) => branchSourceFor(repoUrl, { github }),
    ...(traffic === undefined ? {} : { traffic }),
    registry: registryClient({ insecure: ws.build.insecureRegistry, baseUrl: options.registryUrl, auth: registryAuthFromEnv(env) }),
    finish: async () => cache.flush?.(),
  };
}

/**
 * The cache as the listings see it, without its flush: each listing would rewrite the whole file,
 * and listings running side by side could land an older copy last. The sweep flushes once.
 */
function flushedOnce(cache: EtagCache): EtagCache {
  return { get: (key) => cache.get(key), set: (key, response) => cache.set(key, response) };
}
