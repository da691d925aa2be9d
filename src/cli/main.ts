#!/usr/bin/env node
// The x1deploy CLI: a thin shell over the library. Each command validates first and writes last.
import { Command, Option } from 'commander';
import { deployBranch } from '../deploy/deploy-branch.js';
import { listBranchDeploys } from '../deploy/list.js';
import { renderAll } from '../deploy/render-all.js';
import { openLocalStore } from '../gitops/local-store.js';
import { initWorkspace } from '../workspace/init.js';
import { EXIT_OK, printResult, reportError, type Output } from './output.js';
import { readRequestFile, requestFieldsHelp } from './request-input.js';

type Action<O> = (options: O & { json?: boolean }, out: Output) => Promise<number | void>;

function run<O extends object>(action: Action<O>) {
  return async (...args: unknown[]) => {
    // commander passes positional arguments first, then the options object, then the command.
    const options = args[args.length - 2] as O & { json?: boolean };
    const out: Output = { json: Boolean(options.json) };
    let code: number;
    try {
      code = (await action({ ...options, _args: args.slice(0, -2) } as O & { json?: boolean }, out)) ?? EXIT_OK;
    } catch (err) {
      code = reportError(out, err);
    }
    process.exitCode = code;
  };
}

const program = new Command()
  .name('x1deploy')
  .description('Branch deploys the GitOps way: deploy requests become typed manifests in one commit to a workspace gitops repo.')
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) });

program
  .command('init')
  .description('create a gitops repo for a workspace (all flags have demo defaults)')
  .argument('<dir>', 'folder for the new gitops repo (must not exist or be empty)')
  .option('--workspace <id>', 'workspace id; the namespace is ws-<id>', 'demo')
  .option('--slug <slug>', 'workspace label in preview hosts (default: the id)')
  .option('--domain <domain>', 'cluster domain previews are served under', 'preview.localhost')
  .option('--registry <host>', 'image registry the builds push to', 'registry.localhost:5000')
  .addOption(new Option('--engine <engine>', 'gitops engine that syncs the repo').choices(['argocd', 'flux']).default('argocd'))
  .option('--json', 'print one JSON object')
  .action(
    run<{ workspace: string; slug?: string; domain: string; registry: string; engine: 'argocd' | 'flux'; _args: string[] }>(async (o, out) => {
      const dir = o._args[0]!;
      const { commit, config } = await initWorkspace(dir, { id: o.workspace, slug: o.slug, domain: o.domain, registry: o.registry, engine: o.engine });
      printResult(
        out,
        { repo: dir, commit, workspace: config.workspace.id, namespace: `ws-${config.workspace.id}`, engine: config.engine },
        `Created gitops repo ${dir} for workspace ${config.workspace.id} (${config.engine}); previews at https://<branch>.<app>.${config.workspace.slug}.${config.workspace.domain}`,
      );
    }),
  );

program
  .command('deploy')
  .description('deploy a branch: record a version, render its manifests, commit')
  .argument('<file>', 'the deploy request (YAML or JSON), or - for stdin')
  .requiredOption('--repo <dir>', 'the workspace gitops repo')
  .requiredOption('--agent <id>', 'the agent asking for the deploy')
  .option('--json', 'print one JSON object: {url, version, image_ref, ...}')
  .addHelpText('after', requestFieldsHelp())
  .action(
    run<{ repo: string; agent: string; _args: string[] }>(async (o, out) => {
      const input = await readRequestFile(o._args[0]!);
      const store = await openLocalStore(o.repo);
      const { answer, commit } = await deployBranch(store, input, { agent: o.agent });
      const what = commit ? `committed ${commit.slice(0, 12)}` : 'already deployed, nothing to commit';
      printResult(
        out,
        { ...answer, commit: commit ?? null },
        `${answer.app} ${answer.branch}: version ${answer.version} (${answer.status}), ${what}\n  url:   ${answer.url}\n  image: ${answer.image_ref}`,
      );
    }),
  );

program
  .command('render')
  .description('re-render every branch deploy from its record; commits only if something changed')
  .requiredOption('--repo <dir>', 'the workspace gitops repo')
  .option('--json', 'print one JSON object')
  .action(
    run<{ repo: string }>(async (o, out) => {
      const store = await openLocalStore(o.repo);
      const result = await renderAll(store);
      printResult(
        out,
        { commit: result.commit ?? null, branch_deploys: result.branchDeploys },
        result.commit
          ? `Re-rendered ${result.branchDeploys} branch deploys: committed ${result.commit.slice(0, 12)}`
          : `Re-rendered ${result.branchDeploys} branch deploys: already up to date, nothing to commit`,
      );
    }),
  );

program
  .command('list')
  .description('list the branch deploys')
  .requiredOption('--repo <dir>', 'the workspace gitops repo')
  .option('--app <app>', 'only this app')
  .option('--json', 'print a JSON array')
  .action(
    run<{ repo: string; app?: string }>(async (o, out) => {
      const store = await openLocalStore(o.repo);
      const rows = await listBranchDeploys(store, { app: o.app });
      const text = rows.length
        ? rows.map((r) => `${r.app}\t${r.branch}\tv${r.version} ${r.status}\t${r.url}`).join('\n')
        : 'No branch deploys yet.';
      printResult(out, rows, text);
    }),
  );

await program.parseAsync(process.argv);
