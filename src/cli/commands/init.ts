// x1deploy init.
import { type Command, Option } from 'commander';
import { hasPlaceholderGitopsUrl, initWorkspace } from '../../owners/index.js';
import { workspaceNamespace } from '../../spec/index.js';
import { printResult } from '../output.js';
import { run } from '../run.js';

export function register(program: Command): void {
  program
    .command('init')
    .description('create a gitops repo for a workspace (all flags have demo defaults)')
    .argument('<dir>', 'folder for the new gitops repo (must not exist or be empty)')
    .option('--workspace <id>', 'workspace id; the namespace is ws-<id>', 'demo')
    .option('--slug <slug>', 'workspace label in preview hosts (default: the id)')
    .option('--domain <domain>', 'cluster domain previews are served under', 'preview.localhost')
    .option('--registry <host>', 'image registry the builds push to', 'registry.localhost:5000')
    .addOption(new Option('--engine <engine>', 'gitops engine that syncs the repo').choices(['argocd', 'flux']).default('argocd'))
    .option('--gitops-url <url>', 'clone URL the gitops engine syncs this repo from (https://github.com/org/repo.git)')
    .option('--owners <team>', 'CODEOWNERS entry for grants.yaml and x1deploy.yaml', '@workspace-owners')
    .option('--json', 'print one JSON object')
    .action(
      run<{
        workspace: string;
        slug?: string;
        domain: string;
        registry: string;
        engine: 'argocd' | 'flux';
        owners: string;
        gitopsUrl?: string;
      }>(async (o, out) => {
        const dir = o._args[0]!;
        const { commit, config } = await initWorkspace(dir, {
          id: o.workspace,
          slug: o.slug,
          domain: o.domain,
          registry: o.registry,
          engine: o.engine,
          owners: o.owners,
          gitopsRepoUrl: o.gitopsUrl,
        });
        const nextSteps = hasPlaceholderGitopsUrl(config)
          ? [
              `bootstrap/ points the engine at ${config.gitops.repoUrl}, a placeholder: push this repo to your git host, set gitops.repoUrl in x1deploy.yaml (or run init again with --gitops-url URL) and run "x1deploy render --repo ${dir}"`,
            ]
          : [];
        printResult(
          out,
          {
            repo: dir,
            commit,
            workspace: config.workspace.id,
            namespace: workspaceNamespace(config.workspace.id),
            engine: config.engine,
            ...(nextSteps.length ? { next_steps: nextSteps } : {}),
          },
          [
            `Created gitops repo ${dir} for workspace ${config.workspace.id} (${config.engine}); previews at https://<branch>.<app>.${config.workspace.slug}.${config.workspace.domain}`,
            ...nextSteps.map((s) => `Next: ${s}`),
          ].join('\n'),
        );
      }),
    );
}
