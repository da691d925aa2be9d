// A run whose command is deploy: the program with the deploy command alone. The installed bin
// loads it as a bundle of its own through V8's code cache (main.ts), so a deploy neither compiles
// commander and its own code from source nor loads the other commands' chunks.
import { setFlagsFromString } from 'node:v8';
import { runProgram } from './command-line.js';
import { register } from './commands/deploy-command.js';

export function runDeployCli(argv: readonly string[]): Promise<number> {
  // A deploy's heap ends at ~15 MB, under the 20 MB at which V8 must collect its old generation,
  // but V8 starts marking it incrementally well before (once the young generation's room exceeds
  // the old one's headroom), and finishing that marking cost 10-15 ms of a ~200 ms deploy. Without
  // incremental marking a deploy that does reach the limit still collects, all at once. This
  // process runs only this command, so the setting ends with it.
  setFlagsFromString('--no-incremental-marking');
  return runProgram(argv, [async () => ({ register })], false);
}
