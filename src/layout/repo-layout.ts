// The gitops repo layout (DESIGN.md), in one place: every path x1deploy reads or writes is built
// here, and every path a change touches is parsed here. Nothing else spells a folder name.
//
//   x1deploy.yaml                              workspace settings (owners)
//   grants.yaml                                deploy grants (owners)
//   CODEOWNERS, .gitattributes, README.md      written by init (owners)
//   .github/workflows/x1deploy-verify.yaml     the pull request check (owners)
//   apps/<app>/app.yaml                        an app
//   apps/<app>/branches/<slug>/deploy.yaml     a branch deploy and its versions
//   rendered/<app>/<slug>/<file>               generated manifests of one branch deploy
//   rendered/_workspace/<file>                 generated objects the previews share
//   bootstrap/<file>, bootstrap/jobs/<file>    generated engine wiring and in-cluster jobs

export const WORKSPACE_FILE = 'x1deploy.yaml';
export const GRANTS_FILE = 'grants.yaml';
export const CODEOWNERS_FILE = 'CODEOWNERS';
export const GITATTRIBUTES_FILE = '.gitattributes';
export const GITMODULES_FILE = '.gitmodules';
export const README_FILE = 'README.md';
export const VERIFY_WORKFLOW_FILE = '.github/workflows/x1deploy-verify.yaml';

export const APPS_DIR = 'apps';
const APP_FILE = 'app.yaml';
const BRANCHES = 'branches';
const DEPLOY_FILE = 'deploy.yaml';

export const RENDERED_DIR = 'rendered';
/** rendered/_workspace: "_" keeps it apart from apps, whose names start with a letter. */
export const WORKSPACE_RENDER_DIR = `${RENDERED_DIR}/_workspace`;
export const BOOTSTRAP_DIR = 'bootstrap';
export const JOBS_DIR = `${BOOTSTRAP_DIR}/jobs`;

/** The folders x1deploy owns outright: every file in them is generated, and nothing else is. */
export const GENERATED_DIRS: readonly string[] = [RENDERED_DIR, BOOTSTRAP_DIR];

/**
 * Files only the workspace owners may change (CODEOWNERS gives them to the owners): the settings,
 * the grants, who reviews, how git treats files, and the check itself.
 */
export const OWNER_FILES: readonly string[] = [
  GRANTS_FILE,
  WORKSPACE_FILE,
  CODEOWNERS_FILE,
  GITATTRIBUTES_FILE,
  GITMODULES_FILE,
  VERIFY_WORKFLOW_FILE,
];

export function appDir(app: string): string {
  return `${APPS_DIR}/${app}`;
}

export function appRecordPath(app: string): string {
  return `${appDir(app)}/${APP_FILE}`;
}

export function branchesDir(app: string): string {
  return `${appDir(app)}/${BRANCHES}`;
}

/** apps/<app>/branches/<slug>: the branch deploy's record folder (removed whole when it is reaped). */
export function branchDeployDir(app: string, slug: string): string {
  return `${branchesDir(app)}/${slug}`;
}

export function deployRecordPath(app: string, slug: string): string {
  return `${branchDeployDir(app, slug)}/${DEPLOY_FILE}`;
}

export function appRenderDir(app: string): string {
  return `${RENDERED_DIR}/${app}`;
}

/** rendered/<app>/<slug>: one branch deploy's manifests. */
export function renderedDir(app: string, slug: string): string {
  return `${appRenderDir(app)}/${slug}`;
}

/** The glob over every branch deploy's rendered folder (the Argo CD directory generator's path). */
export const RENDERED_PREVIEW_GLOB = `${RENDERED_DIR}/*/*`;

/**
 * Where <app> and <slug> sit among the "/"-separated parts of a rendered folder's path: the Argo CD
 * ApplicationSet template reads them as `.path.segments N`.
 */
export const RENDERED_SEGMENTS = { app: 1, slug: 2 } as const;

/**
 * The gitops branch where a branch deploy's change waits for review: a newer deploy or a rollback of
 * the same branch replaces the proposal (and updates its pull request) instead of opening another.
 */
export function proposalBranchName(app: string, slug: string): string {
  return `${PROPOSAL_BRANCH_PREFIX}${app}/${slug}`;
}

/** Every proposal branch's name starts with this. */
export const PROPOSAL_BRANCH_PREFIX = 'x1deploy/';

/** The app and slug a proposal branch is for, or undefined for any other branch. */
export function parseProposalBranch(name: string): { readonly app: string; readonly slug: string } | undefined {
  if (!name.startsWith(PROPOSAL_BRANCH_PREFIX)) return undefined;
  const parts = name.slice(PROPOSAL_BRANCH_PREFIX.length).split('/');
  return parts.length === 2 && parts[0] && parts[1] ? { app: parts[0], slug: parts[1] } : undefined;
}

/** What a repo path is, as x1deploy sees it. */
export type RepoPath =
  | { readonly kind: 'workspace' }
  | { readonly kind: 'grants' }
  | { readonly kind: 'owner-file'; readonly path: string }
  | { readonly kind: 'app-record'; readonly app: string }
  | { readonly kind: 'deploy-record'; readonly app: string; readonly slug: string }
  | { readonly kind: 'rendered'; readonly app: string; readonly slug: string; readonly file: string }
  | { readonly kind: 'workspace-rendered'; readonly file: string }
  | { readonly kind: 'bootstrap'; readonly file: string }
  | { readonly kind: 'jobs'; readonly file: string }
  | { readonly kind: 'readme' }
  /** Under apps/ or a generated folder, but not where x1deploy writes anything. */
  | { readonly kind: 'stray'; readonly path: string }
  /** Anywhere else: not x1deploy's. */
  | { readonly kind: 'other'; readonly path: string };

/** What the layout says a path is. */
export function parseRepoPath(path: string): RepoPath {
  if (path === WORKSPACE_FILE) return { kind: 'workspace' };
  if (path === GRANTS_FILE) return { kind: 'grants' };
  if (path === README_FILE) return { kind: 'readme' };
  if (OWNER_FILES.includes(path)) return { kind: 'owner-file', path };
  const parts = path.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return { kind: 'other', path };
  const [top, a, b, c, d] = parts;
  if (top === APPS_DIR) {
    if (parts.length === 3 && b === APP_FILE) return { kind: 'app-record', app: a! };
    if (parts.length === 5 && b === BRANCHES && d === DEPLOY_FILE) return { kind: 'deploy-record', app: a!, slug: c! };
    return { kind: 'stray', path };
  }
  if (top === RENDERED_DIR) {
    if (`${top}/${a}` === WORKSPACE_RENDER_DIR && parts.length === 3) return { kind: 'workspace-rendered', file: b! };
    if (parts.length === 4 && `${top}/${a}` !== WORKSPACE_RENDER_DIR) return { kind: 'rendered', app: a!, slug: b!, file: c! };
    return { kind: 'stray', path };
  }
  if (top === BOOTSTRAP_DIR) {
    if (parts.length === 2) return { kind: 'bootstrap', file: a! };
    if (`${top}/${a}` === JOBS_DIR && parts.length === 3) return { kind: 'jobs', file: b! };
    return { kind: 'stray', path };
  }
  return { kind: 'other', path };
}

/** The path a parsed RepoPath stands for (the inverse of parseRepoPath). */
export function repoPathString(p: RepoPath): string {
  switch (p.kind) {
    case 'workspace':
      return WORKSPACE_FILE;
    case 'grants':
      return GRANTS_FILE;
    case 'readme':
      return README_FILE;
    case 'app-record':
      return appRecordPath(p.app);
    case 'deploy-record':
      return deployRecordPath(p.app, p.slug);
    case 'rendered':
      return `${renderedDir(p.app, p.slug)}/${p.file}`;
    case 'workspace-rendered':
      return `${WORKSPACE_RENDER_DIR}/${p.file}`;
    case 'bootstrap':
      return `${BOOTSTRAP_DIR}/${p.file}`;
    case 'jobs':
      return `${JOBS_DIR}/${p.file}`;
    case 'owner-file':
    case 'stray':
    case 'other':
      return p.path;
  }
}
