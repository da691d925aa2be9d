// x1deploy build: give pending versions their images (Kaniko Jobs), and record the outcomes.
import { type Command, InvalidArgumentError } from 'commander';
import { buildUntilSettled, watchBuilds, type BuildEvent, type BuildLoopOptions } from '../../build/index.js';
import { registryAuthFromEnv, registryClient } from '../../registry/index.js';
import { scrubSecrets } from '../../spec/index.js';
import { type GitopsStore, RepoSnapshot } from '../../records/index.js';
import { openGitopsStore } from '../../gitops/index.js';
import { printResult, type Output } from '../output.js';
import { EXIT_FAILURES, EXIT_OK } from '../../errors/index.js';
import { UsageError } from '../../errors/index.js';
import { reviewPortFor } from '../../review/index.js';
import { REPO_OPTION, REPO_OPTION_HELP } from '../options.js';
import { run } from '../run.js';

interface BuildFlags {
  repo: string;
  once?: boolean;
  watch?: boolean;
  concurrency?: number;
  interval?: number;
  registryUrl?: string;
}

function positiveInt(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError('a whole number of 1 or more');
  return Number(value);
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a number of seconds greater than 0');
  return n;
}

const WAITING = {
  concurrency: 'concurrency limit',
  'same-image': 'another Job pushes the same image',
  'newer-version': 'a newer version of the branch is pending',
} as const;

function describe(e: BuildEvent): string {
  const what = `${e.app} ${e.branch} v${e.version}`;
  switch (e.kind) {
    case 'found':
      return `${what}: ${e.image_ref} is in the registry already (${e.digest.slice(0, 19)}…), live now`;
    case 'built':
      return `${what}: built ${e.digest.slice(0, 19)}… by Job ${e.job}, live now`;
    case 'failed':
      return `${what}: build failed, the branch keeps serving what it served\n  ${e.reason.split('\n').join('\n  ')}`;
    case 'started':
      return `${what}: started build Job ${e.job}`;
    case 'running':
      return `${what}: build Job ${e.job} is running`;
    case 'waiting':
      return `${what}: waiting (${WAITING[e.why]})`;
    case 'prebuilt':
      return e.digest
        ? `${what}: proposed on ${e.gitops_branch}, built ahead (${e.digest.slice(0, 19)}…); it goes live as soon as it is merged`
        : `${what}: proposed on ${e.gitops_branch}, its build failed; merging it records the failure\n  ${(e.reason ?? '').split('\n').join('\n  ')}`;
  }
}

export function register(program: Command): void {
  program
    .command('build')
    .description('build the images of pending versions (one Kaniko Job each) and record the outcomes, one commit each')
    .requiredOption(REPO_OPTION, REPO_OPTION_HELP)
    .option('--once', 'build what is pending, wait for the Jobs, then exit (the default)')
    .option('--watch', 'keep building what becomes pending, one pass per interval, until SIGTERM')
    .option('--concurrency <n>', 'most build Jobs running at once (default: jobs.buildConcurrency in x1deploy.yaml)', positiveInt)
    .option('--interval <seconds>', 'pause between passes (default: 5 with --once, 15 with --watch)', seconds)
    .option('--registry-url <url>', 'reach the registry here instead of at the host in the image names (e.g. http://registry.svc:5000)')
    .option('--json', 'print JSON: one object with --once, one line per outcome with --watch')
    .addHelpText(
      'after',
      '\nExit codes: 0 done, 1 a problem with the input or the repo, 4 done but a build failed (recorded; the branch keeps\nserving what it served).\nThe cluster comes from KUBECONFIG, ~/.kube/config or the in-cluster service account; registry basic auth from\nX1DEPLOY_REGISTRY_USERNAME and X1DEPLOY_REGISTRY_PASSWORD (never logged).',
    )
    .action(
      run<BuildFlags>(async (o, out) => {
        if (o.once && o.watch) throw new UsageError('choose one of --once and --watch');
        if (o.registryUrl !== undefined && !/^https?:\/\/[^/@]+\/?$/.test(o.registryUrl)) {
          throw new UsageError('--registry-url must be http(s)://host[:port], without credentials or a path');
        }
        const store = await openGitopsStore(o.repo);
        const ws = await (await RepoSnapshot.atHead(store)).workspace();
        {
          // Loaded here, not at the top: the client library takes ~0.5 s to import, which every
          // other command would pay once this command is registered in the CLI.
          const { kubeBuildCluster, loadKubeConfig } = await import('../../k8s/index.js');
          const options: BuildLoopOptions = {
            cluster: kubeBuildCluster(loadKubeConfig()),
            registry: registryClient({ insecure: ws.build.insecureRegistry, baseUrl: o.registryUrl, auth: registryAuthFromEnv() }),
            concurrency: o.concurrency ?? ws.jobs.buildConcurrency,
            intervalMs: (o.interval ?? (o.watch ? 15 : 5)) * 1000,
            review: reviewPortFor(o.repo),
          };
          if (o.watch) await watch(store, options, out);
          else return once(store, options, out);
        }
      }),
    );
}

/** Run `work` with a signal that SIGTERM or SIGINT aborts, so a pass ends cleanly when asked to. */
async function untilStopped<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    return await work(stop.signal);
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

async function once(store: GitopsStore, options: BuildLoopOptions, out: Output): Promise<number> {
  return untilStopped(async (signal) => {
    const result = await buildUntilSettled(store, {
      ...options,
      signal,
      // Progress on stderr, so that stdout stays the one answer.
      onPass: (events) => {
        if (out.json) return;
        for (const e of events) if (e.kind === 'started') process.stderr.write(`${describe(e)}\n`);
      },
    });
    const text = [
      ...result.recorded.map(describe),
      ...result.prebuilt.map(describe),
      ...result.unfinished.map((e) => `${describe(e)} (stopped before it finished)`),
    ].join('\n');
    printResult(out, result, text || 'Nothing to build: no version is waiting for its image.');
    // A failed build is recorded (the branch keeps serving), and the run says so by its exit code.
    return result.recorded.some((e) => e.kind === 'failed') ? EXIT_FAILURES : EXIT_OK;
  });
}

async function watch(store: GitopsStore, options: BuildLoopOptions, out: Output): Promise<void> {
  await untilStopped(async (signal) => {
    await watchBuilds(store, {
      ...options,
      signal,
      onPass: (events) => {
        for (const e of events) {
          // A proposal's prebuilt image is reported on every pass until it is merged: once is enough.
          if (e.kind === 'running' || e.kind === 'waiting' || e.kind === 'prebuilt') continue;
          process.stdout.write(out.json ? `${JSON.stringify(e)}\n` : `${describe(e)}\n`);
        }
      },
      onError: (err) => {
        const message = scrubSecrets(err instanceof Error ? err.message : String(err));
        process.stderr.write(out.json ? `${JSON.stringify({ error: message })}\n` : `x1deploy build: ${message} (trying again)\n`);
      },
    });
  });
}
