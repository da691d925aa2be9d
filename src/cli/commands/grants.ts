// x1deploy grant, revoke and grants: owners' commands.
import { type Command, Option } from 'commander';
import { grantDeploy, listGrants, revokeDeploy } from '../../owners/index.js';
import { openGitopsStore } from '../../gitops/index.js';
import { printResult } from '../output.js';
import { REPO_OPTION, REPO_OPTION_HELP } from '../options.js';
import { run } from '../run.js';
import { renderTable } from '../table.js';

export function register(program: Command): void {
  const modeOption = new Option(
    '--mode <mode>',
    'review: deploys are proposed for review; auto: committed straight to the default branch (default: the mode held, else review)',
  ).choices(['review', 'auto']);

  program
    .command('grant')
    .description('grant an agent deploys of an app on branches matching a pattern (one commit)')
    .requiredOption(REPO_OPTION, REPO_OPTION_HELP)
    .requiredOption('--agent <id>', 'the agent')
    .requiredOption('--app <app>', 'the app')
    .requiredOption('--branches <pattern>', 'branch glob: "*" every branch, "feat/*" one level below feat/, "release/**" any depth')
    .addOption(modeOption)
    .requiredOption('--by <owner>', 'the owner granting it')
    .option('--json', 'print one JSON object')
    .action(
      run<{ repo: string; agent: string; app: string; branches: string; mode?: 'review' | 'auto'; by: string }>(async (o, out) => {
        const result = await grantDeploy(await openGitopsStore(o.repo), {
          agent: o.agent,
          app: o.app,
          branches: o.branches,
          mode: o.mode,
          by: o.by,
        });
        printResult(
          out,
          { commit: result.commit ?? null, summary: result.summary },
          result.commit ? `${result.summary} (${result.commit.slice(0, 12)})` : result.summary,
        );
      }),
    );

  program
    .command('revoke')
    .description("revoke an agent's grants for an app (one commit)")
    .requiredOption(REPO_OPTION, REPO_OPTION_HELP)
    .requiredOption('--agent <id>', 'the agent')
    .requiredOption('--app <app>', 'the app')
    .option('--branches <pattern>', 'only the grant with this exact pattern')
    .requiredOption('--by <owner>', 'the owner revoking it')
    .option('--json', 'print one JSON object')
    .action(
      run<{ repo: string; agent: string; app: string; branches?: string; by: string }>(async (o, out) => {
        const result = await revokeDeploy(await openGitopsStore(o.repo), { agent: o.agent, app: o.app, branches: o.branches, by: o.by });
        printResult(
          out,
          { commit: result.commit ?? null, summary: result.summary },
          result.commit ? `${result.summary} (${result.commit.slice(0, 12)})` : result.summary,
        );
      }),
    );

  program
    .command('grants')
    .description('list the deploy grants, revoked ones included')
    .requiredOption(REPO_OPTION, REPO_OPTION_HELP)
    .option('--json', 'print a JSON array')
    .action(
      run<{ repo: string }>(async (o, out) => {
        const grants = await listGrants(await openGitopsStore(o.repo));
        const text = grants.length
          ? renderTable(
              ['AGENT', 'APP', 'BRANCHES', 'MODE', 'STATE'],
              grants.map((g) => [
                g.agent,
                g.app,
                g.branches,
                g.mode,
                g.revoked_at ? `revoked by ${g.revoked_by ?? '?'} ${g.revoked_at}` : `granted by ${g.granted_by} ${g.granted_at}`,
              ]),
            )
          : 'No deploy grants: every deploy is denied.';
        printResult(out, grants, text);
      }),
    );
}
