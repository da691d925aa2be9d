// x1deploy reap: remove previews whose branch is gone upstream or that sat idle, in one commit.
import { type Command, InvalidArgumentError } from 'commander';
import { openGitopsStore } from '../../gitops/index.js';
import { RepoSnapshot } from '../../records/index.js';
import type { ReapResult, ReapSources } from '../../reap/index.js';
import { EXIT_FAILURES, EXIT_INVALID, EXIT_OK, UsageError } from '../../errors/index.js';
import { printResult } from '../output.js';
import { REPO_OPTION, REPO_OPTION_HELP } from '../options.js';
import { run } from '../run.js';
import { reviewPortFor } from '../../review/index.js';

interface ReapFlags {
  repo: string;
  dryRun?: boolean;
  maxDeletions?: number;
  force?: boolean;
  registryUrl?: string;
}

function count(value: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(value)) throw new InvalidArgumentError('a whole number of 0 or more');
  return Number(value);
}

export function register(program: Command): void {
  program
    .command('reap')
    .description('remove previews whose branch is gone upstream, or idle for reap.idleDays (one commit), and their images')
    .requiredOption(REPO_OPTION, REPO_OPTION_HELP)
    .option('--dry-run', 'print the plan; change nothing')
    .option('--max-deletions <n>', 'stop, changing nothing, when more previews would go (default: a quarter of them, at least 1)', count)
    .option('--force', 'reap past --max-deletions')
    .option('--registry-url <url>', 'reach the registry here instead of at the host in the image names (e.g. http://registry.svc:5000)')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      '\nBranch lists come from GitHub (token in X1DEPLOY_GITHUB_TOKEN) or git ls-remote; traffic from Prometheus\n' +
        '(x1deploy.yaml reap.prometheusUrl, bearer token in X1DEPLOY_PROMETHEUS_TOKEN); registry basic auth from\n' +
        'X1DEPLOY_REGISTRY_USERNAME and X1DEPLOY_REGISTRY_PASSWORD. None is ever logged.\n' +
        'Exit codes: 0 done (or nothing to reap), 1 stopped by --max-deletions or a repo problem, 4 done but a branch\n' +
        'listing or an image delete failed (nothing was reaped on its account).',
    )
    .action(
      run<ReapFlags>(async (o, out) => {
        if (o.registryUrl !== undefined && !/^https?:\/\/[^/@]+\/?$/.test(o.registryUrl)) {
          throw new UsageError('--registry-url must be http(s)://host[:port], without credentials or a path');
        }
        // Loaded here: octokit and the registry client cost every other command their import time.
        const { reapPreviews, reapSourcesFor } = await import('../../reap/index.js');
        const store = await openGitopsStore(o.repo);
        const ws = await (await RepoSnapshot.atHead(store)).workspace();
        const sources: ReapSources = reapSourcesFor(ws, {
          registryUrl: o.registryUrl,
          log: { warn: (line) => process.stderr.write(`x1deploy reap: ${line}\n`) },
        });
        const result = await reapPreviews(store, {
          sources,
          dryRun: o.dryRun,
          maxDeletions: o.maxDeletions,
          force: o.force,
          review: reviewPortFor(o.repo),
        });
        const advice = result.plan.stoppedByLimit ? limitAdvice(result) : undefined;
        printResult(out, { ...result, commit: result.commit ?? null, ...(advice ? { advice } : {}) }, describe(result, advice));
        if (result.plan.stoppedByLimit) return EXIT_INVALID;
        // A listing that failed reaped nothing for its repo: the run is incomplete and says so.
        const failures = result.listings.some((l) => l.outcome === 'failed') || result.images.some((i) => i.outcome === 'failed');
        return failures ? EXIT_FAILURES : EXIT_OK;
      }),
    );
}

function limitAdvice({ plan }: ReapResult): string {
  return (
    `${plan.reap.length} previews would be reaped, more than the limit of ${plan.maxDeletions} (of ${plan.previews} previews); ` +
    `nothing was changed. Check the list: if it is right, run again with --force, or with --max-deletions ${plan.reap.length}`
  );
}

function describe(result: ReapResult, advice: string | undefined): string {
  const { plan } = result;
  const lines: string[] = [];
  const items = plan.reap.map((i) => `  ${i.app} ${i.branch} (${i.slug}): ${i.reason}: ${i.detail}`);
  if (plan.reap.length === 0) lines.push(`Nothing to reap among ${plan.previews} previews.`);
  else if (advice !== undefined) lines.push('Would reap:', ...items, `Stopped: ${advice}.`);
  else if (result.dryRun) lines.push(`Would reap ${plan.reap.length} of ${plan.previews} previews (dry run, nothing changed):`, ...items);
  else lines.push(`Reaped ${plan.reap.length} of ${plan.previews} previews in commit ${result.commit?.slice(0, 12)}:`, ...items);
  if (plan.skipped.length > 0) {
    lines.push('Not checked (nothing reaped for these):');
    for (const s of plan.skipped) lines.push(`  ${s.app}${s.branch ? ` ${s.branch}` : ''} ${s.check}: ${s.why}`);
  }
  for (const image of result.images) {
    const what = image.digest === undefined ? image.repository : `${image.repository}@${image.digest}`;
    lines.push(
      `Image ${image.outcome}: ${what}${image.tags.length > 0 ? ` (tags ${image.tags.join(', ')})` : ''}${image.detail ? `: ${image.detail}` : ''}`,
    );
  }
  const requests = result.listings.reduce((sum, l) => sum + l.requests, 0);
  const unchanged = result.listings.filter((l) => l.notModified).length;
  const repos = result.listings.length === 1 ? '1 source repo' : `${result.listings.length} source repos`;
  lines.push(`Branch listings: ${repos} in ${requests} requests (${unchanged} unchanged since the last sweep).`);
  for (const warning of result.warnings) lines.push(`Warning: ${warning}`);
  return lines.join('\n');
}
