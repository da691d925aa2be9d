// `x1deploy init`: a new gitops repo for one workspace, in one initial commit.
import { renderGenerated } from '../deploy/render-all.js';
import { initGitopsRepo } from '../gitops/local-store.js';
import { emptyGrantsFile, GRANTS_FILE } from '../grants/grants-file.js';
import { stringifyRecord } from '../records/codec.js';
import { WORKSPACE_FILE } from '../records/paths.js';
import { workspaceNamespace } from '../spec/names.js';
import type { FieldIssue } from '../spec/request.js';
import { defaultWorkspaceConfig, WorkspaceConfigSchema, type WorkspaceConfig, type WorkspaceInit } from './config.js';
import { packageVersion, readTemplate } from './templates.js';

/** The pull request check: every gitops PR must pass `x1deploy verify`. */
export const VERIFY_WORKFLOW = '.github/workflows/x1deploy-verify.yaml';

export class InvalidWorkspaceError extends Error {
  constructor(readonly issues: readonly FieldIssue[]) {
    super(`the workspace settings are invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'InvalidWorkspaceError';
  }
}

export function workspaceConfigFor(init: WorkspaceInit): WorkspaceConfig {
  const parsed = WorkspaceConfigSchema.safeParse(defaultWorkspaceConfig(init));
  if (!parsed.success) {
    throw new InvalidWorkspaceError(parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })));
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
    ['README.md', await readTemplate('gitops-README.md', values)],
    ['.gitattributes', await readTemplate('gitattributes', values)],
    ['CODEOWNERS', await readTemplate('CODEOWNERS', values)],
    [GRANTS_FILE, stringifyRecord(emptyGrantsFile())],
    [VERIFY_WORKFLOW, await readTemplate('verify-workflow.yaml', values)],
    ...renderGenerated(config, [], []),
  ]);
  const commit = await initGitopsRepo(dir, files, {
    message: `Create workspace ${config.workspace.id}\n\nx1deploy init: ${config.engine}, previews at *.${config.workspace.slug}.${config.workspace.domain}.`,
    author: { name: 'x1deploy', email: 'init@x1deploy', timestamp: Math.floor(now.getTime() / 1000) },
  });
  return { commit, config };
}
