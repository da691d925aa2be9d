// Where GitHub is and which repo a URL names: light enough for any command (no octokit).

/** The REST API of github.com; GitHub Enterprise serves it at https://<host>/api/v3. */
export const DEFAULT_GITHUB_API = 'https://api.github.com';

export interface RepoCoordinates {
  readonly owner: string;
  readonly repo: string;
}

const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const REPO = /^[A-Za-z0-9._-]{1,100}$/;

/**
 * `owner/repo` of a repo URL on `host`: https://host/owner/repo(.git), ssh://git@host/owner/repo(.git)
 * or git@host:owner/repo(.git); undefined for anything else.
 */
export function parseGitHubRepoUrl(url: string, host = 'github.com'): RepoCoordinates | undefined {
  const wanted = host.toLowerCase();
  let path: string | undefined;
  const scp = /^[A-Za-z0-9._-]+@([^:/]+):(.+)$/.exec(url);
  if (scp !== null) {
    if (scp[1]!.toLowerCase() === wanted) path = scp[2];
  } else {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return undefined;
    }
    const schemeOk = parsed.protocol === 'https:' || parsed.protocol === 'ssh:' || (parsed.protocol === 'http:' && wanted !== 'github.com');
    if (schemeOk && parsed.host.toLowerCase() === wanted && parsed.search === '' && parsed.hash === '') path = parsed.pathname;
  }
  if (path === undefined) return undefined;
  const parts = path.replace(/^\/+/, '').replace(/\/+$/, '').split('/');
  if (parts.length !== 2) return undefined;
  const owner = parts[0]!;
  const repo = parts[1]!.replace(/\.git$/, '');
  if (!OWNER.test(owner) || !REPO.test(repo) || repo === '.' || repo === '..') return undefined;
  return { owner, repo };
}

/** The host whose repo URLs an API root serves (see GitHubOptions.webHost). */
export function gitHubWebHost(options: { readonly baseUrl?: string; readonly webHost?: string }): string {
  if (options.webHost !== undefined) return options.webHost.toLowerCase();
  const api = new URL(options.baseUrl ?? DEFAULT_GITHUB_API);
  return api.host === 'api.github.com' ? 'github.com' : api.host.toLowerCase();
}
