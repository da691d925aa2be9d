// `x1deploy init`: a new gitops repo for one workspace, in one initial commit.
import { InvalidRequestError } from '../errors/index.js';
import { initGitopsRepo } from '../gitops/index.js';
import { emptyGrantsFile } from '../grants/index.js';
import { CODEOWNERS_FILE, GITATTRIBUTES_FILE, GRANTS_FILE, README_FILE, VERIFY_WORKFLOW_FILE, WORKSPACE_FILE } from '../layout/index.js';
import { stringifyRecord } from '../records/index.js';
import { renderGenerated } from '../render/index.js';
import { workspaceNamespace } from '../spec/index.js';
import { packageVersion, readTemplate } from '../templates/index.js';
import { systemCommitter } from '../transaction/index.js';
import { defaultWorkspaceConfig, WorkspaceConfigSchema, type WorkspaceConfig, type WorkspaceInit } from '../workspace/index.js';

export function workspaceConfigFor(init: WorkspaceInit): WorkspaceConfig {
  const parsed = WorkspaceConfigSchema.safeParse(defaultWorkspaceConfig(init));
  if (!parsed.success) {
    throw new InvalidRequestError(
      parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
      'invalid workspace settings',
    );
  }
  return parsed.data;
}

export async function initWorkspace(
  dir: string,
  init: WorkspaceInit & { readonly owners?: string },
  now: Date = new Date(),
): Promise<{ commit: string; config: WorkspaceConfig }> {
  const config = workspaceConfigFor(init);
  const values = {
    workspace: config.workspace.id,
    slug: config.workspace.slug,
    domain: config.workspace.domain,
    namespace: workspaceNamespace(config.workspace.id),
    engine: config.engine === 'argocd' ? 'Argo CD' : 'Flux',
    owners: init.owners ?? '@workspace-owners',
    repoUrl: config.gitops.repoUrl,
    x1deployVersion: await packageVersion(),
  };
  const files = new Map<string, string>([
    [WORKSPACE_FILE, stringifyRecord(config)],
    [README_FILE, await readTemplate('gitops-README.md', values)],
    [GITATTRIBUTES_FILE, await readTemplate('gitattributes', values)],
    [CODEOWNERS_FILE, await readTemplate('CODEOWNERS', values)],
    [GRANTS_FILE, stringifyRecord(emptyGrantsFile())],
    [VERIFY_WORKFLOW_FILE, await readTemplate('verify-workflow.yaml', values)],
    ...renderGenerated(config, [], []),
  ]);
  const commit = await initGitopsRepo(dir, files, {
    message: `Create workspace ${config.workspace.id}\n\nx1deploy init: ${config.engine}, previews at *.${config.workspace.slug}.${config.workspace.domain}.`,
    author: systemCommitter('init', now),
  });
  return { commit, config };
}
