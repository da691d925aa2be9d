// Runs the real CLI (src/cli/main.ts) in a child process, through the TypeScript loader so tests
// see the sources. `runCli` blocks; a test whose servers live in its own process (fake GitHub,
// fake Kubernetes API) must use `startCli` or `runCliAsync`, or the child never gets its answers.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly input?: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

const childEnv = (env: NodeJS.ProcessEnv | undefined) => ({ ...process.env, X1DEPLOY_DEBUG: '', ...env });

export function runCli(args: readonly string[], options: CliOptions = {}): CliResult {
  const result = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    input: options.input,
    cwd: options.cwd,
    encoding: 'utf8',
    env: childEnv(options.env),
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** A CLI process still running: its output so far, and its exit code once it ends. */
export interface RunningCli {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number>;
}

export function startCli(args: readonly string[], options: CliOptions = {}): RunningCli {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: options.cwd, env: childEnv(options.env) });
  const running: RunningCli = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve(code ?? (signal ? -1 : 0)));
    }),
  };
  child.stdout!.on('data', (c: Buffer) => (running.stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (running.stderr += c.toString()));
  child.stdin!.end(options.input ?? '');
  return running;
}

export async function runCliAsync(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const running = startCli(args, options);
  const code = await running.exited;
  return { code, stdout: running.stdout, stderr: running.stderr };
}
