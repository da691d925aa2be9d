// x1deploy deploy. Light to load: a deploy handed to another process loads only what reads its
// request and waits (deploy-together.ts); the rest is imported where it is used. A run whose
// command is deploy loads this module alone (deploy-cli.ts), without the other commands.
import type { Command } from 'commander';
import { deployTogether } from '../deploy-together.js';
import { readRequestText } from '../request-text.js';
import { printResult } from '../output.js';
import { REPO_OPTION, REPO_OPTION_HELP } from '../options.js';
import { run } from '../run.js';

/** The request fields for `deploy --help`, loaded by beforeHelp (they come from the schemas). */
let requestFieldsHelp: (() => string) | undefined;

export async function beforeHelp(): Promise<void> {
  ({ requestFieldsHelp } = await import('../request-input.js'));
}

export function register(program: Command): void {
  program
    .command('deploy')
    .description('deploy a branch: record a version, render its manifests, commit')
    .argument('<file>', 'the deploy request (YAML or JSON), or - for stdin')
    .requiredOption(REPO_OPTION, REPO_OPTION_HELP)
    .requiredOption('--agent <id>', 'the agent asking for the deploy')
    .option('--json', 'print one JSON object: {url, version, image_ref, ...}')
    .addHelpText('after', () => requestFieldsHelp?.() ?? '')
    .action(
      run<{ repo: string; agent: string }>(async (o, out) => {
        const request = await readRequestText(o._args[0]!);
        const { answer, commit } = await deployTogether(o.repo, { request, agent: o.agent });
        const what = !commit
          ? 'already deployed, nothing to commit'
          : answer.gitops_branch
            ? `proposed for review on gitops branch ${answer.gitops_branch} (${commit.slice(0, 12)}); it goes live when merged`
            : `committed ${commit.slice(0, 12)}`;
        printResult(
          out,
          { ...answer, commit: commit ?? null },
          [
            `${answer.app} ${answer.branch}: version ${answer.version} (${answer.status}), ${what}`,
            `  url:   ${answer.url}`,
            `  image: ${answer.image_ref}`,
            ...(answer.pull_request ? [`  pull request: ${answer.pull_request}`] : []),
            ...(answer.review_error ? [`  warning: ${answer.review_error}`] : []),
            ...(answer.warnings ?? []).map((w) => `  warning: ${w}`),
          ].join('\n'),
        );
      }),
    );
}
