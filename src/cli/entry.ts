// What both entries of the installed bin share: the CommonJS bin (bin.ts), which a cold deploy
// runs, and the ES module one (main.ts), which every other command runs (and old links to it).
import { setFlagsFromString } from 'node:v8';
import { loadBundle, type Bundles } from './code-cache.js';

/**
 * A reader that stops early (`x1deploy list | head`) closes the pipe: the rest of the output is not
 * wanted, which is no error of ours. End quietly, as shell tools do, instead of with a stack trace;
 * a command prints after its work is done, so nothing is cut short.
 */
export function endQuietlyWhenStdoutCloses(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}

/**
 * Deploy, what agents run most and always in a new process, loads the program with its command
 * alone (deploy-cli.ts), from V8's code cache; help and every other command load the program.
 */
export function isDeployRun(argv: readonly string[]): boolean {
  return argv[0] === 'deploy' && !argv.some((a) => a === '-h' || a === '--help');
}

export async function runDeploy(argv: readonly string[]): Promise<number> {
  // A deploy's heap ends at ~15 MB, under the 20 MB at which V8 must collect its old generation,
  // but V8 starts marking it incrementally well before (once the young generation's room exceeds
  // the old one's headroom), and finishing that marking cost 10-15 ms of a ~200 ms deploy. Without
  // it, a deploy that does reach the limit still collects, all at once. Set before any bundle
  // loads: V8's code cache is only taken by a process with the flags it was made with.
  setFlagsFromString('--no-incremental-marking');
  const cli =
    (globalThis as Bundles).X1DEPLOY_DEPLOY_BUNDLE === undefined
      ? await import('./deploy-cli.js')
      : loadBundle<typeof import('./deploy-cli.js')>((globalThis as Bundles).X1DEPLOY_DEPLOY_BUNDLE!).exports;
  return cli.runDeployCli(argv);
}
