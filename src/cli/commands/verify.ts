// x1deploy verify: the check a gitops pull request must pass.
import type { Command } from 'commander';
import { validAgent } from '../../deploy/index.js';
import { openCheckout, resolveBase, uncommittedChanges, verifyGitops } from '../../verify/index.js';
import { EXIT_INVALID, EXIT_OK, UsageError } from '../../errors/index.js';
import { printResult } from '../output.js';
import { run } from '../run.js';

export function register(program: Command): void {
  program
    .command('verify')
    .description('check a gitops repo (and with --base, a pull request): specs valid, renders untouched, deploys granted, no secrets')
    .requiredOption('--repo <dir>', 'the workspace gitops repo, with the pull request checked out')
    .option('--base <ref>', "the pull request's target (branch, tag or commit, e.g. origin/main): check its changes against it")
    .option('--author <login>', "the pull request author's git host login: its identity comes from x1deploy.yaml identities on the base")
    .option('--agent <id>', 'authorize the pull request as this agent (instead of --author)')
    .option('--json', 'print one JSON object: {ok, problems: [{kind, path, message}]}')
    .action(
      run<{ repo: string; base?: string; author?: string; agent?: string }>(async (o, out) => {
        if (o.author !== undefined && o.agent !== undefined) throw new UsageError('give --author or --agent, not both: one pull request has one author');
        if ((o.author !== undefined || o.agent !== undefined) && o.base === undefined)
          throw new UsageError('--author and --agent judge a pull request: give its target with --base too');
        if (o.agent !== undefined) validAgent(o.agent);
        const checkout = await openCheckout(o.repo);
        const base = o.base === undefined ? undefined : await resolveBase(o.repo, o.base, checkout.head);
        const checked = await verifyGitops(checkout, { base, author: o.author, agent: o.agent });
        const dirty = await uncommittedChanges(o.repo);
        const problems = [...dirty, ...checked.problems];
        const result = { ok: problems.length === 0, problems };
        const against = base ? ` against ${base.name}` : '';
        const text = result.ok
          ? `verify: ok${against}`
          : `${result.problems.map((p) => `${p.kind}\t${p.path}: ${p.message}`).join('\n')}\nverify: ${result.problems.length} problem(s)${against}`;
        printResult(out, result, text);
        return result.ok ? EXIT_OK : EXIT_INVALID;
      }),
    );
}
