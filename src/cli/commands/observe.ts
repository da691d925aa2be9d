// x1deploy status, logs and delete: what an agent (or a person) does after a deploy.
import { type Command, InvalidArgumentError } from 'commander';
import { deleteBranchDeploy } from '../../deploy/index.js';
import { EXIT_IN_PROGRESS, EXIT_NOT_READY, EXIT_OK } from '../../errors/index.js';
import { openGitopsStore } from '../../gitops/index.js';
import { liveStatus, observePortsFromEnv, previewLogs, waitForSettled, type LiveStatus } from '../../observe/index.js';
import { reviewPortFor } from '../../review/index.js';
import { SETTLED_STATES } from '../../status/index.js';
import { printResult } from '../output.js';
import { REPO_OPTION, REPO_OPTION_HELP } from '../options.js';
import { run } from '../run.js';

/** "90s", "10m", "1h" or plain seconds. */
function duration(text: string): number {
  const m = /^([0-9]{1,6})(s|m|h)?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError('a duration such as 90s, 10m or 1h');
  return Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
}

function positive(max: number) {
  return (text: string) => {
    if (!/^[1-9][0-9]*$/.test(text) || Number(text) > max) throw new InvalidArgumentError(`a whole number from 1 to ${max}`);
    return Number(text);
  };
}

function exitFor(status: LiveStatus): number {
  if (status.state === 'ready') return EXIT_OK;
  return SETTLED_STATES.has(status.state) ? EXIT_NOT_READY : EXIT_IN_PROGRESS;
}

function describeStatus(s: LiveStatus): string {
  return [
    `${s.app} ${s.branch}: ${s.state}${s.reason ? ` (${s.reason})` : ''} since ${s.since}`,
    `  url:     ${s.url}`,
    `  version: ${s.version}${s.current_version !== null && s.current_version !== s.version ? ` (serving ${s.current_version})` : ''}`,
    ...(s.message ? [`  what:    ${s.message.split('\n')[0]}`] : []),
    ...(s.fix ? [`  fix:     ${s.fix}`] : []),
    ...(s.log_tail ? ['  log:', ...s.log_tail.trimEnd().split('\n').map((l) => `    ${l}`)] : []),
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('status')
    .description(
      `a preview's live state (pending-build, building, build-failed, syncing, rolling-out, ready, degraded, reaped) with its reason and fix; exit ${EXIT_OK} ready, ${EXIT_NOT_READY} degraded/build-failed/reaped, ${EXIT_IN_PROGRESS} still on its way`,
    )
    .requiredOption(REPO_OPTION, REPO_OPTION_HELP)
    .requiredOption('--app <app>', 'the app')
    .requiredOption('--branch <branch>', 'the branch')
    .option('--wait', 'wait until the preview is ready, degraded or its build failed')
    .option('--timeout <duration>', 'with --wait: give up after this long (90s, 10m, 1h)', duration, 600)
    .option('--json', 'print one JSON object: {state, reason, fix, since, url, version, ...}')
    .action(
      run<{ repo: string; app: string; branch: string; wait?: boolean; timeout: number }>(async (o, out) => {
        const store = await openGitopsStore(o.repo);
        const ports = await observePortsFromEnv();
        const ref = { app: o.app, branch: o.branch };
        if (!o.wait) {
          const status = await liveStatus(store, ref, ports);
          printResult(out, status, describeStatus(status));
          return exitFor(status);
        }
        const progress = (s: LiveStatus) => {
          if (!out.json && !SETTLED_STATES.has(s.state)) process.stderr.write(`${s.app} ${s.branch}: ${s.state}${s.reason ? ` (${s.reason})` : ''}\n`);
        };
        const { status, timed_out, waited_ms } = await waitForSettled(store, ref, ports, { timeoutMs: o.timeout * 1000, onChange: progress });
        const text = `${describeStatus(status)}${timed_out ? `\n  still ${status.state} after ${Math.round(waited_ms / 1000)} s (--timeout ${o.timeout}s)` : ''}`;
        printResult(out, { ...status, timed_out, waited_ms }, text);
        return exitFor(status);
      }),
    );

  program
    .command('logs')
    .description("the last lines of a preview's app log, or with --build of a version's build (bounded, credentials scrubbed)")
    .requiredOption(REPO_OPTION, REPO_OPTION_HELP)
    .requiredOption('--app <app>', 'the app')
    .requiredOption('--branch <branch>', 'the branch')
    .option('--build', "the build's log instead of the app's")
    .option('--version <n>', 'with --build: the version (default: the newest)', positive(100_000))
    .option('--previous', 'the run before the last restart (what a crashing app said)')
    .option('--tail <n>', 'last N lines (at most 500)', positive(500), 100)
    .option('--since <duration>', 'only lines from the last 90s, 10m, 1h', duration)
    .option('--grep <re>', 'only lines matching this RE2 expression (case-insensitive)')
    .option('--json', 'print one JSON object: {source, version, pod, container, lines, truncated}')
    .action(
      run<{ repo: string; app: string; branch: string; build?: boolean; version?: number; previous?: boolean; tail: number; since?: number; grep?: string }>(
        async (o, out) => {
          const logs = await previewLogs(
            await openGitopsStore(o.repo),
            {
              app: o.app,
              branch: o.branch,
              ...(o.build ? { build: true } : {}),
              ...(o.version !== undefined ? { version: o.version } : {}),
              ...(o.previous ? { previous: true } : {}),
              tail: o.tail,
              ...(o.since !== undefined ? { since_seconds: o.since } : {}),
              ...(o.grep !== undefined ? { grep: o.grep } : {}),
            },
            await observePortsFromEnv(),
          );
          const note = [logs.note, logs.truncated ? 'cut to the limits' : undefined].filter(Boolean).join('; ');
          printResult(out, logs, `${logs.lines.join('\n')}${note ? `\n(${note})` : ''}`);
        },
      ),
    );

  program
    .command('delete')
    .description('remove a preview now: its record and manifests in one commit; its images go with the next reap')
    .requiredOption(REPO_OPTION, REPO_OPTION_HELP)
    .requiredOption('--app <app>', 'the app')
    .requiredOption('--branch <branch>', 'the branch')
    .requiredOption('--agent <id>', 'the agent asking (needs a deploy grant for the branch)')
    .option('--json', 'print one JSON object')
    .action(
      run<{ repo: string; app: string; branch: string; agent: string }>(async (o, out) => {
        const { answer, commit } = await deleteBranchDeploy(
          await openGitopsStore(o.repo),
          { app: o.app, branch: o.branch },
          { agent: o.agent, review: reviewPortFor(o.repo) },
        );
        const where = answer.gitops_branch ? `proposed on gitops branch ${answer.gitops_branch}` : `committed ${commit?.slice(0, 12)}`;
        printResult(out, { ...answer, commit: commit ?? null }, `${answer.app} ${answer.branch}: deleted (${answer.deleted_versions} versions), ${where}`);
      }),
    );
}
