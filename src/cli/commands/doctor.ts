// x1deploy doctor: is this set-up able to ship previews? Each check says what it saw and what to do.
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { runDoctor, type DoctorCheck } from '../../doctor/index.js';
import { EXIT_FAILURES, EXIT_OK, X1Error } from '../../errors/index.js';
import { openGitopsStore } from '../../gitops/index.js';
import { observePortsFromEnv } from '../../observe/index.js';
import { registryAuthFromEnv, registryClient } from '../../registry/index.js';
import { openCheckout, verifyGitops } from '../../verify/index.js';
import { printResult } from '../output.js';
import { REPO_OPTION, REPO_OPTION_HELP } from '../options.js';
import { run } from '../run.js';

class GitHubTokenError extends X1Error {
  constructor(message: string) {
    super('unavailable', message);
  }
}

/** The token's classic scopes (X-OAuth-Scopes); undefined for a fine-grained token, which lists none. */
async function githubScopes(token: string, api: string): Promise<string[] | undefined> {
  const r = await fetch(api, { headers: { authorization: `Bearer ${token}`, 'user-agent': 'x1deploy-doctor' }, signal: AbortSignal.timeout(10_000) }).catch(
    (err: unknown) => {
      throw new GitHubTokenError(`cannot reach ${api} (${(err as Error).message})`);
    },
  );
  if (r.status === 401) throw new GitHubTokenError(`${api} refused the token (401): it is wrong, expired or revoked`);
  if (!r.ok) throw new GitHubTokenError(`${api} answered ${r.status}`);
  const scopes = r.headers.get('x-oauth-scopes');
  return scopes === null ? undefined : scopes.split(',').map((s) => s.trim()).filter(Boolean);
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check the set-up end to end: gitops repo, engine source and sync, cluster permissions, registry, GitHub token')
    .requiredOption(REPO_OPTION, REPO_OPTION_HELP)
    .option('--json', 'print one JSON object: {ok, checks: [{check, outcome, detail, fix}]}')
    .action(
      run<{ repo: string }>(async (o, out) => {
        const store = await openGitopsStore(o.repo);
        const observe = await observePortsFromEnv();
        const token = process.env.X1DEPLOY_GITHUB_TOKEN;
        const checks: DoctorCheck[] = await runDoctor(store, {
          cluster: observe.cluster,
          registry: (ws) => registryClient({ insecure: ws.build.insecureRegistry, auth: registryAuthFromEnv(), timeoutMs: 5000 }),
          ...(token ? { githubScopes: () => githubScopes(token, process.env.X1DEPLOY_GITHUB_API ?? 'https://api.github.com') } : {}),
        });
        // A local checkout is verified too: what the pull request check would say of it now.
        if (existsSync(o.repo) && checks[0]?.outcome === 'ok') {
          const result = await verifyGitops(await openCheckout(o.repo));
          checks.splice(1, 0, {
            check: 'verify',
            outcome: result.ok ? 'ok' : 'failed',
            detail: result.ok ? 'specs valid, renders current, no secrets' : `${result.problems.length} problem(s), first: ${result.problems[0]!.path}: ${result.problems[0]!.message}`,
            ...(result.ok ? {} : { fix: 'run x1deploy verify --repo . for the list' }),
          });
        }
        const ok = checks.every((c) => c.outcome !== 'failed');
        const mark = { ok: 'ok     ', failed: 'FAILED ', skipped: 'skipped' };
        printResult(
          out,
          { ok, checks },
          checks.map((c) => `${mark[c.outcome]} ${c.check}: ${c.detail}${c.fix ? `\n        fix: ${c.fix}` : ''}`).join('\n'),
        );
        return ok ? EXIT_OK : EXIT_FAILURES;
      }),
    );
}
