// x1deploy deploy (deploy-command.ts), render and list: what render and list use is imported
// where it is used.
import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';
import * as deployCommand from './deploy-command.js';
import { printResult } from '../output.js';
import { REPO_OPTION, REPO_OPTION_HELP } from '../options.js';
import { run } from '../run.js';

export async function beforeHelp(): Promise<void> {
  await deployCommand.beforeHelp();
}

export function register(program: Command): void {
  deployCommand.register(program);

  program
    .command('render')
    .description('re-render every branch deploy from its record; commits only if something changed')
    .requiredOption(REPO_OPTION, REPO_OPTION_HELP)
    .option('--json', 'print one JSON object')
    .action(
      run<{ repo: string }>(async (o, out) => {
        // A re-render is a batch that reads every record and rewrites every file: V8's default lets the
        // heap grow to about twice what is alive before it collects (10,000 previews: ~108 MB alive,
        // 375 MB peak RSS). Growing it by 10% at a time keeps the peak at ~230 MB (~290 without) for ~10% more time.
        // This process runs only this command, so the setting ends with it.
        setFlagsFromString('--heap-growing-percent=10');
        const [{ openGitopsStore }, { renderAll }] = await Promise.all([import('../../gitops/index.js'), import('../../deploy/index.js')]);
        const store = await openGitopsStore(o.repo);
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
    .requiredOption(REPO_OPTION, REPO_OPTION_HELP)
    .option('--app <app>', 'only this app')
    .option('--json', 'print a JSON array')
    .action(
      run<{ repo: string; app?: string }>(async (o, out) => {
        const [{ openGitopsStore }, { listBranchDeploys }, { renderTable }] = await Promise.all([
          import('../../gitops/index.js'),
          import('../../deploy/index.js'),
          import('../table.js'),
        ]);
        const store = await openGitopsStore(o.repo);
        const rows = await listBranchDeploys(store, { app: o.app });
        const text = rows.length
          ? renderTable(
              ['APP', 'BRANCH', 'SERVING', 'NEWEST', 'PROPOSED', 'URL'],
              rows.map((r) => [
                r.app,
                r.branch,
                r.current_version === null ? '-' : `v${r.current_version}`,
                r.status === 'proposed' ? '-' : `v${r.version} ${r.status}`,
                r.proposal ? `v${r.proposal.version} on ${r.proposal.gitops_branch}` : '-',
                r.url,
              ]),
            )
          : 'No branch deploys yet.';
        printResult(out, rows, text);
      }),
    );
}
