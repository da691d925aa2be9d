// Every Kubernetes and DNS name x1deploy derives comes from here, so the length budget is kept in
// one place: object names `<app>-<slug>` ≤ 63 (DNS-1035: a Service name must start with a letter),
// host `<slug>.<app>.<workspace-slug>.<domain>` with labels ≤ 63 and ≤ 253 in total.
import { createHash } from 'node:crypto';

export const DNS_LABEL_MAX = 63;
export const HOST_MAX = 253;
/** Longest app name; leaves a slug budget of at least 32 characters. */
export const APP_NAME_MAX = 30;
/** `<workspace-slug>.<domain>` may use this much of the host, so any app and slug still fit. */
export const WORKSPACE_HOST_SUFFIX_MAX = HOST_MAX - 2 - (DNS_LABEL_MAX - 1);

const HASH_LENGTH = 8;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** A branch's DNS-1123 label, unique per branch within an app. */
export type BranchSlug = string & { readonly __brand: 'BranchSlug' };

export function isDnsLabel(text: string): boolean {
  return text.length <= DNS_LABEL_MAX && DNS_LABEL.test(text);
}

export function isDns1035Label(text: string): boolean {
  return text.length <= DNS_LABEL_MAX && DNS_1035_LABEL.test(text);
}

/** A DNS-1123 subdomain: dot-separated labels, ≤ 253. */
export function isDnsSubdomain(text: string): boolean {
  return text.length <= HOST_MAX && text.split('.').every(isDnsLabel);
}

/** How long a slug may be for this app: `<app>-<slug>` must stay a DNS label. */
export function slugBudget(app: string): number {
  return Math.min(DNS_LABEL_MAX, DNS_LABEL_MAX - app.length - 1);
}

// base32 (RFC 4648 alphabet, lowercased) keeps the hash inside [a-z2-7], valid in any DNS label.
function shortHash(text: string): string {
  const digest = createHash('sha256').update(text, 'utf8').digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < HASH_LENGTH) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= HASH_LENGTH) break;
  }
  return out;
}

/**
 * The branch's slug for `app`. A branch that is already a clean label within budget keeps its
 * name; any other gets a sanitized, cut name plus a hash of the full branch name, so `feat/x` and
 * `feat-x` (or two long names that differ only after the cut) never share a slug.
 */
export function branchSlug(app: string, branch: string): BranchSlug {
  const budget = slugBudget(app);
  if (branch.length <= budget && DNS_LABEL.test(branch)) return branch as BranchSlug;
  const readable = branch
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '');
  const room = budget - HASH_LENGTH - 1;
  const head = readable.slice(0, room).replace(/-+$/, '');
  const hash = shortHash(branch);
  return (head ? `${head}-${hash}` : hash) as BranchSlug;
}

/** The names one branch deploy's objects and URL use. */
export interface BranchDeployNames {
  /** Deployment, Service, Ingress and NetworkPolicy name. */
  readonly objectName: string;
  readonly host: string;
  readonly url: string;
  readonly namespace: string;
}

export interface WorkspaceNaming {
  readonly id: string;
  readonly slug: string;
  readonly domain: string;
}

export function workspaceNamespace(workspaceId: string): string {
  return `ws-${workspaceId}`;
}

/**
 * `<app>-<slug>`: the name of a branch deploy's Deployment, Service, Ingress and NetworkPolicy. App
 * and slug may both hold "-", so two apps can meet on one name (see RepoSnapshot.objectNameOwner).
 */
export function objectName(app: string, slug: string): string {
  return `${app}-${slug}`;
}

/** The TLS Secret cert-manager's ingress-shim writes for one preview host (tls.mode per-host). */
export function perHostTlsSecretName(app: string, slug: string): string {
  return `${objectName(app, slug)}-tls`;
}

/** The TLS Secret of an app's wildcard certificate, shared by its previews. */
export function appWildcardSecretName(app: string): string {
  return `${app}-previews-tls`;
}

export function branchDeployNames(ws: WorkspaceNaming, app: string, slug: BranchSlug): BranchDeployNames {
  const host = `${slug}.${app}.${ws.slug}.${ws.domain}`;
  return {
    objectName: objectName(app, slug),
    host,
    url: `https://${host}`,
    namespace: workspaceNamespace(ws.id),
  };
}

/** What names a workspace's images: its registry and id. */
export interface ImageNaming {
  readonly registry: string;
  readonly workspace: { readonly id: string };
}

/** `<registry>/ws/<id>/app-<app>`: the repository every version of an app is pushed to. */
export function imageRepository(ws: ImageNaming, app: string): string {
  return `${ws.registry}/ws/${ws.workspace.id}/app-${app}`;
}

/** The tag a version's image is built as: the source commit. */
export function imageRef(ws: ImageNaming, app: string, commitSha: string): string {
  return `${imageRepository(ws, app)}:${commitSha}`;
}

/** Kaniko's layer cache repository, unless build.cacheRepo names another. */
export function defaultCacheRepo(ws: ImageNaming): string {
  return `${ws.registry}/ws/${ws.workspace.id}/cache`;
}

/** `ref@digest` once the digest is known (what the cluster pulls), else the tag alone. */
export function pinnedImageRef(ref: string, digest: string | undefined): string {
  return digest ? `${ref}@${digest}` : ref;
}

const BUILDS_SUFFIX = '-builds';

/** Where a workspace's build Jobs run by default: ws-<id>-builds, cut and hashed past 63 characters. */
export function defaultBuildNamespace(workspaceId: string): string {
  const plain = `${workspaceNamespace(workspaceId)}${BUILDS_SUFFIX}`;
  if (plain.length <= DNS_LABEL_MAX) return plain;
  const head = workspaceNamespace(workspaceId)
    .slice(0, DNS_LABEL_MAX - BUILDS_SUFFIX.length - 9)
    .replace(/-+$/, '');
  return `${head}-${hexHash(workspaceId, 8)}${BUILDS_SUFFIX}`;
}

/** The first `length` hex digits of the text's SHA-256. */
export function hexHash(text: string, length: number): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, length);
}

/** Fill a `{app}`/`{slug}`/`{workspace}` name template from x1deploy.yaml. */
export function fillNameTemplate(template: string, values: { app: string; slug: string; workspace: string }): string {
  return template.replace(/\{(app|slug|workspace)\}/g, (_, key: 'app' | 'slug' | 'workspace') => values[key]);
}
