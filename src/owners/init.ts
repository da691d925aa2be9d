// `x1deploy init`: a new gitops repo for one workspace, in one initial commit.
import { InvalidRequestError } from '../errors/index.js';
import { initGitopsRepo } from '../gitops/index.js';
import { emptyGrantsFile } from '../grants/index.js';
import { CODEOWNERS_FILE, GITATTRIBUTES_FILE, GRANTS_FILE, README_FILE, VERIFY_WORKFLOW_FILE, WORKSPACE_FILE } from '../layout/index.js';
import { stringifyRecord } from '../records/index.js';
import { renderGenerated } from '../render/index.js';
import { workspaceNamespace } from '../spec/index.js';
import { readTemplate, renderVerifyWorkflow } from '../templates/index.js';
import { systemCommitter } from '../transaction/index.js';
import { defaultWorkspaceConfig, WorkspaceConfigSchema, type WorkspaceConfig, type WorkspaceInit } from '../workspace/index.js';
export { hasPlaceholderGitopsUrl } from '../workspace/index.js';

/** The init flag each setting comes from, so a message names what the user typed. */
const FLAGS: Record<string, string> = {
  'workspace.id': '--workspace',
  'workspace.slug': '--slug',
  'workspace.domain': '--domain',
  registry: '--registry',
  engine: '--engine',
  'gitops.repoUrl': '--gitops-url',
};

export function workspaceConfigFor(init: WorkspaceInit): WorkspaceConfig {
  const parsed = WorkspaceConfigSchema.safeParse(defaultWorkspaceConfig(init));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
    const idInvalid = issues.some((i) => i.path === 'workspace.id');
    const named = issues
      // The slug defaults to the id: an invalid id is reported once, under the flag that was typed.
      .filter((i) => !(i.path === 'workspace.slug' && init.slug === undefined && idInvalid))
      .map((i) => {
        const flag =
          i.path === 'workspace.slug' && init.slug === undefined
            ? '--workspace (the slug defaults to the id; or pass --slug)'
            : FLAGS[i.path];
        return flag ? { path: i.path, message: `${i.message} (from ${flag})` } : i;
      });
    throw new InvalidRequestError(named, 'invalid workspace settings');
  }
  return parsed.data;
}

/** The user logins among CODEOWNERS owners ("@alice @org/team" → alice): teams are not pull request authors. */
export function ownerLoginsOf(owners: string | undefined): string[] {
  return (owners ?? '')
    .split(/\s+/)
    .filter((o) => /^@[A-Za-z0-9][A-Za-z0-9-]{0,38}$/.test(o))
    .map((o) => o.slice(1));
}


export async function initWorkspace(
  dir: string,
  init: WorkspaceInit & { readonly owners?: string },
  now: Date = new Date(),
): Promise<{ commit: string; config: WorkspaceConfig }> {
  const config = workspaceConfigFor({ ...init, ownerLogins: init.ownerLogins ?? ownerLoginsOf(init.owners) });
  const values = {
    workspace: config.workspace.id,
    slug: config.workspace.slug,
    domain: config.workspace.domain,
    namespace: workspaceNamespace(config.workspace.id),
    engine: config.engine === 'argocd' ? 'Argo CD' : 'Flux',
    owners: init.owners ?? '@workspace-owners',
    repoUrl: config.gitops.repoUrl,
  };
  const files = new Map<string, string>([
    [WORKSPACE_FILE, stringifyRecord(config)],
    [README_FILE, await readTemplate('gitops-README.md', values)],
    [GITATTRIBUTES_FILE, await readTemplate('gitattributes', values)],
    [CODEOWNERS_FILE, await readTemplate('CODEOWNERS', values)],
    [GRANTS_FILE, stringifyRecord(emptyGrantsFile())],
    [VERIFY_WORKFLOW_FILE, await renderVerifyWorkflow(config.jobs.image)],
    ...renderGenerated(config, [], []),
  ]);
  const commit = await initGitopsRepo(dir, files, {
    message: `Create workspace ${config.workspace.id}\n\nx1deploy init: ${config.engine}, previews at *.${config.workspace.slug}.${config.workspace.domain}.`,
    author: systemCommitter('init', now),
  });
  return { commit, config };
}
