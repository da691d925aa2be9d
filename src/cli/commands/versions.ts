// x1deploy rollback and history.
import { type Command, InvalidArgumentError } from 'commander';
import { branchHistory, rollbackBranch } from '../../deploy/index.js';
import { openGitopsStore } from '../../gitops/index.js';
import { printResult } from '../output.js';
import { REPO_OPTION, REPO_OPTION_HELP } from '../options.js';
import { run } from '../run.js';
import { renderTable } from '../table.js';

export function register(program: Command): void {
  program
    .command('rollback')
    .description('serve an earlier built version again (no rebuild; one commit)')
    .requiredOption(REPO_OPTION, REPO_OPTION_HELP)
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
        const { answer, commit } = await rollbackBranch(
          await openGitopsStore(o.repo),
          { app: o.app, branch: o.branch, to: o.to },
          { agent: o.agent },
        );
        const where = answer.gitops_branch ? `proposed on gitops branch ${answer.gitops_branch}` : `committed ${commit?.slice(0, 12)}`;
        printResult(
          out,
          { ...answer, commit: commit ?? null },
          `${answer.app} ${answer.branch}: version ${answer.version} is current again (was ${answer.previous_version ?? 'none'}), ${where}\n  image: ${answer.image_ref}`,
        );
      }),
    );

  program
    .command('history')
    .description("a branch deploy's versions, newest first")
    .requiredOption(REPO_OPTION, REPO_OPTION_HELP)
    .requiredOption('--app <app>', 'the app')
    .requiredOption('--branch <branch>', 'the branch')
    .option('--json', 'print one JSON object')
    .action(
      run<{ repo: string; app: string; branch: string }>(async (o, out) => {
        const history = await branchHistory(await openGitopsStore(o.repo), o.app, o.branch);
        const table = renderTable(
          ['', 'VERSION', 'STATUS', 'COMMIT', 'REQUESTED BY', 'CREATED', 'FAILURE'],
          history.versions.map((v) => [
            v.number === history.current_version ? '*' : v.proposed ? 'p' : '',
            `v${v.number}`,
            v.proposed ? `${v.status} (proposed)` : v.status,
            v.commit_sha.slice(0, 12),
            v.requested_by,
            v.created_at,
            v.failure ?? '',
          ]),
        );
        const legend = `* serving${history.proposal ? `; p proposed on ${history.proposal.gitops_branch}, waiting for review` : ''}`;
        printResult(out, history, `${history.app} ${history.branch} (${history.url})\n${table}\n${legend}`);
      }),
    );
}
