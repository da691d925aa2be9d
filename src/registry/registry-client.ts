// The one client of the image registry (OCI distribution API): the build asks whether a tag exists,
// so that an image already pushed is never built again; the reaper deletes manifests by digest.
// Credentials come from the environment and never appear in a message.
import { createHash } from 'node:crypto';
import { X1Error } from '../errors/index.js';

/** Every manifest type a tag can point at: without these Accept types the registry answers 400 or 404. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export const REGISTRY_USERNAME_ENV = 'X1DEPLOY_REGISTRY_USERNAME';
export const REGISTRY_PASSWORD_ENV = 'X1DEPLOY_REGISTRY_PASSWORD';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export interface ImageRegistry {
  /** The digest the image reference's tag points at, or undefined when the tag does not exist. */
  manifestDigest(imageRef: string): Promise<string | undefined>;
  /** Delete the manifest `digest` of `repository` (host[:port]/path); 'absent' when it was not there. */
  deleteManifest(repository: string, digest: string): Promise<'deleted' | 'absent'>;
}

export class RegistryError extends X1Error {
  constructor(message: string) {
    super('unavailable', message);
  }
}

export interface ImageReference {
  /** host[:port] */
  readonly host: string;
  /** The repository path below the host. */
  readonly repository: string;
  readonly tag: string;
}

/** `host[:port]/path/name:tag` → its parts. x1deploy's image refs always name their registry host. */
export function parseImageRef(ref: string): ImageReference {
  const slash = ref.indexOf('/');
  const colon = ref.lastIndexOf(':');
  if (slash <= 0 || colon < slash || ref.includes('@')) {
    throw new RegistryError(`${ref} is not an image reference of the form host/repository:tag`);
  }
  return { host: ref.slice(0, slash), repository: ref.slice(slash + 1, colon), tag: ref.slice(colon + 1) };
}

export interface RegistryAuth {
  readonly username: string;
  readonly password: string;
}

/** Basic auth from X1DEPLOY_REGISTRY_USERNAME / X1DEPLOY_REGISTRY_PASSWORD, when both are set. */
export function registryAuthFromEnv(env: NodeJS.ProcessEnv = process.env): RegistryAuth | undefined {
  const username = env[REGISTRY_USERNAME_ENV];
  const password = env[REGISTRY_PASSWORD_ENV];
  return username && password ? { username, password } : undefined;
}

export interface RegistryClientOptions {
  /** Plain HTTP instead of HTTPS (x1deploy.yaml build.insecureRegistry). */
  readonly insecure?: boolean;
  /**
   * Where to reach the registry, when that differs from the host in the image references (the
   * build job may reach an in-cluster registry by its Service name): `http(s)://host[:port]`.
   */
  readonly baseUrl?: string;
  readonly auth?: RegistryAuth;
  readonly timeoutMs?: number;
}

export function registryClient(options: RegistryClientOptions = {}): ImageRegistry {
  const authHeader = options.auth
    ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`
    : undefined;
  const timeoutMs = options.timeoutMs ?? 15_000;

  const baseFor = (host: string) => (options.baseUrl ?? `${options.insecure ? 'http' : 'https'}://${host}`).replace(/\/+$/, '');

  async function request(method: 'HEAD' | 'GET' | 'DELETE', url: string): Promise<Response> {
    const headers: Record<string, string> = method === 'DELETE' ? {} : { accept: MANIFEST_ACCEPT };
    if (authHeader) headers.authorization = authHeader;
    try {
      return await fetch(url, { method, headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new RegistryError(
        `cannot reach the image registry at ${new URL(url).origin} (${why}); check x1deploy.yaml registry and build.insecureRegistry, or pass --registry-url`,
      );
    }
  }

  return {
    async manifestDigest(imageRef) {
      const { host, repository, tag } = parseImageRef(imageRef);
      const base = baseFor(host);
      const url = `${base}/v2/${repository}/manifests/${encodeURIComponent(tag)}`;
      const head = await request('HEAD', url);
      if (head.status === 404) return undefined;
      if (head.status === 401 || head.status === 403) throw refused(base, head);
      if (!head.ok) {
        throw new RegistryError(`the image registry at ${base} answered ${head.status} to HEAD ${repository}:${tag}; check that it is up`);
      }
      const digest = head.headers.get('docker-content-digest');
      if (digest && DIGEST.test(digest)) return digest;
      // Registries that do not send the header: the digest is the hash of the manifest bytes.
      const get = await request('GET', url);
      if (get.status === 404) return undefined;
      if (!get.ok) throw new RegistryError(`the image registry at ${base} answered ${get.status} to GET ${repository}:${tag}`);
      return `sha256:${createHash('sha256')
        .update(Buffer.from(await get.arrayBuffer()))
        .digest('hex')}`;
    },

    async deleteManifest(repositoryWithHost, digest) {
      const slash = repositoryWithHost.indexOf('/');
      const base = baseFor(repositoryWithHost.slice(0, slash));
      const path = repositoryWithHost.slice(slash + 1);
      const response = await request('DELETE', `${base}/v2/${path}/manifests/${digest}`);
      await response.body?.cancel();
      if (response.status === 202 || response.status === 200) return 'deleted';
      if (response.status === 404) return 'absent';
      if (response.status === 405) {
        throw new RegistryError(
          `the image registry at ${base} has deletes turned off (405); enable them (docker-registry: storage.delete.enabled, or REGISTRY_STORAGE_DELETE_ENABLED=true)`,
        );
      }
      if (response.status === 401 || response.status === 403) {
        throw new RegistryError(
          `the image registry at ${base} refused the delete (${response.status}); give ${REGISTRY_USERNAME_ENV}/${REGISTRY_PASSWORD_ENV} delete rights`,
        );
      }
      throw new RegistryError(`the image registry at ${base} answered ${response.status} to DELETE ${path}@${digest}; retry later`);
    },
  };

  function refused(base: string, res: Response): RegistryError {
    const challenge = res.headers.get('www-authenticate') ?? '';
    if (/^bearer/i.test(challenge)) {
      return new RegistryError(
        `the image registry at ${base} asks for token authentication, which x1deploy does not speak; give the build job a registry that takes basic auth`,
      );
    }
    return new RegistryError(
      authHeader
        ? `the image registry at ${base} refused the credentials in ${REGISTRY_USERNAME_ENV}/${REGISTRY_PASSWORD_ENV} (${res.status}); check them`
        : `the image registry at ${base} needs credentials (${res.status}); set ${REGISTRY_USERNAME_ENV} and ${REGISTRY_PASSWORD_ENV}`,
    );
  }
}
