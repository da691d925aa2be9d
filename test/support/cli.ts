// Runs the real CLI in a child process, through the TypeScript loader so tests see the sources.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runCli(args: readonly string[], options: { input?: string; cwd?: string } = {}): CliResult {
  const result = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    input: options.input,
    cwd: options.cwd,
    encoding: 'utf8',
    env: { ...process.env, X1DEPLOY_DEBUG: '' },
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
