// A run whose command is deploy: the program with the deploy command alone. The installed bin
// loads it as a bundle of its own through V8's code cache (main.ts), so a deploy neither compiles
// commander and its own code from source nor loads the other commands' chunks.
import { runProgram } from './command-line.js';
import { register } from './commands/deploy-command.js';

export function runDeployCli(argv: readonly string[]): Promise<number> {
  return runProgram(argv, [async () => ({ register })], false);
}
