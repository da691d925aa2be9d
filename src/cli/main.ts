#!/usr/bin/env node
// The x1deploy CLI: a thin shell over the library. Each command validates first and writes last.
import { Command, InvalidArgumentError, Option } from 'commander';
import { deployBranch } from '../deploy/deploy-branch.js';
import { branchHistory } from '../deploy/history.js';
import { rollbackBranch } from '../deploy/rollback.js';
import { grantDeploy, listGrants, revokeDeploy } from '../grants/grant-commands.js';
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
  .option('--owners <team>', 'CODEOWNERS entry for grants.yaml and x1deploy.yaml', '@workspace-owners')
  .option('--json', 'print one JSON object')
  .action(
    run<{ workspace: string; slug?: string; domain: string; registry: string; engine: 'argocd' | 'flux'; owners: string; _args: string[] }>(async (o, out) => {
      const dir = o._args[0]!;
      const { commit, config } = await initWorkspace(dir, { id: o.workspace, slug: o.slug, domain: o.domain, registry: o.registry, engine: o.engine, owners: o.owners });
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
      const what = !commit
        ? 'already deployed, nothing to commit'
        : answer.gitops_branch
          ? `proposed for review on gitops branch ${answer.gitops_branch} (${commit.slice(0, 12)}); it goes live when merged`
          : `committed ${commit.slice(0, 12)}`;
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

const modeOption = new Option('--mode <mode>', 'review: deploys are proposed for review; auto: committed straight to the default branch')
  .choices(['review', 'auto'])
  .default('review');

program
  .command('grant')
  .description('grant an agent deploys of an app on branches matching a pattern (one commit)')
  .requiredOption('--repo <dir>', 'the workspace gitops repo')
  .requiredOption('--agent <id>', 'the agent')
  .requiredOption('--app <app>', 'the app')
  .requiredOption('--branches <pattern>', 'branch glob: "*" every branch, "feat/*" one level below feat/, "release/**" any depth')
  .addOption(modeOption)
  .requiredOption('--by <owner>', 'the owner granting it')
  .option('--json', 'print one JSON object')
  .action(
    run<{ repo: string; agent: string; app: string; branches: string; mode: 'review' | 'auto'; by: string }>(async (o, out) => {
      const result = await grantDeploy(await openLocalStore(o.repo), { agent: o.agent, app: o.app, branches: o.branches, mode: o.mode, by: o.by });
      printResult(out, { commit: result.commit ?? null, summary: result.summary }, result.commit ? `${result.summary} (${result.commit.slice(0, 12)})` : result.summary);
    }),
  );

program
  .command('revoke')
  .description("revoke an agent's grants for an app (one commit)")
  .requiredOption('--repo <dir>', 'the workspace gitops repo')
  .requiredOption('--agent <id>', 'the agent')
  .requiredOption('--app <app>', 'the app')
  .option('--branches <pattern>', 'only the grant with this exact pattern')
  .requiredOption('--by <owner>', 'the owner revoking it')
  .option('--json', 'print one JSON object')
  .action(
    run<{ repo: string; agent: string; app: string; branches?: string; by: string }>(async (o, out) => {
      const result = await revokeDeploy(await openLocalStore(o.repo), { agent: o.agent, app: o.app, branches: o.branches, by: o.by });
      printResult(out, { commit: result.commit ?? null, summary: result.summary }, `${result.summary} (${result.commit?.slice(0, 12)})`);
    }),
  );

program
  .command('grants')
  .description('list the deploy grants, revoked ones included')
  .requiredOption('--repo <dir>', 'the workspace gitops repo')
  .option('--json', 'print a JSON array')
  .action(
    run<{ repo: string }>(async (o, out) => {
      const grants = await listGrants(await openLocalStore(o.repo));
      const text = grants.length
        ? grants.map((g) => `${g.agent}\t${g.app}\t${g.branches}\t${g.mode}\t${g.revoked_at ? `revoked ${g.revoked_at}` : `granted by ${g.granted_by} ${g.granted_at}`}`).join('\n')
        : 'No deploy grants: every deploy is denied.';
      printResult(out, grants, text);
    }),
  );

program
  .command('rollback')
  .description('serve an earlier built version again (no rebuild; one commit)')
  .requiredOption('--repo <dir>', 'the workspace gitops repo')
  .requiredOption('--app <app>', 'the app')
  .requiredOption('--branch <branch>', 'the branch')
  .option('--to <n>', 'the version (default: the previous built one)', (v) => {
    if (!/^[1-9][0-9]*$/.test(v)) throw new InvalidArgumentError('a version number (1, 2, 3, …)');
    return Number(v);
  })
  .requiredOption('--agent <id>', 'the agent asking (needs a deploy grant for the branch)')
  .option('--json', 'print one JSON object')
  .action(
    run<{ repo: string; app: string; branch: string; to?: number; agent: string }>(async (o, out) => {
      const { answer, commit } = await rollbackBranch(await openLocalStore(o.repo), { app: o.app, branch: o.branch, to: o.to }, { agent: o.agent });
      const where = answer.gitops_branch ? `proposed on gitops branch ${answer.gitops_branch}` : `committed ${commit?.slice(0, 12)}`;
      printResult(out, { ...answer, commit: commit ?? null }, `${answer.app} ${answer.branch}: version ${answer.version} is current again (was ${answer.previous_version ?? 'none'}), ${where}\n  image: ${answer.image_ref}`);
    }),
  );

program
  .command('history')
  .description("a branch deploy's versions, newest first")
  .requiredOption('--repo <dir>', 'the workspace gitops repo')
  .requiredOption('--app <app>', 'the app')
  .requiredOption('--branch <branch>', 'the branch')
  .option('--json', 'print one JSON object')
  .action(
    run<{ repo: string; app: string; branch: string }>(async (o, out) => {
      const history = await branchHistory(await openLocalStore(o.repo), o.app, o.branch);
      const lines = history.versions.map(
        (v) => `${v.number === history.current_version ? '*' : ' '} v${v.number}\t${v.status}\t${v.commit_sha.slice(0, 12)}\t${v.requested_by}\t${v.created_at}${v.failure ? `\t${v.failure}` : ''}`,
      );
      printResult(out, history, `${history.app} ${history.branch} (${history.url})\n${lines.join('\n')}`);
    }),
  );

await program.parseAsync(process.argv);
