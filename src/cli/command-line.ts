// The program around the commands: commander set up once, for whichever command modules a run
// loads (program.ts: the one the command needs; deploy-cli.ts: deploy's alone).
import { Command } from 'commander';
import { packageVersion } from '../templates/index.js';

export interface CommandModule {
  register(program: Command): void;
  /** Loads what the module's help text needs, which its commands do not (called only for help). */
  beforeHelp?(): Promise<void>;
}

/** Run `argv` (without node and the script) with the commands `modules` register; resolves to the exit code. */
export async function runProgram(argv: readonly string[], modules: readonly (() => Promise<CommandModule>)[], help: boolean): Promise<number> {
  // With --json every answer is JSON, commander's own usage errors included.
  const json = argv.includes('--json');
  const program = new Command()
    .name('x1deploy')
    .description('Branch deploys the GitOps way: deploy requests become typed manifests in one commit to a workspace gitops repo.')
    .version(await packageVersion())
    // Program options only before the command: `logs --version 2` is the log's version, not ours.
    .enablePositionalOptions()
    .showHelpAfterError(!json)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => (json ? undefined : write(text)) });
  for (const load of modules) {
    const module = await load();
    if (help) await module.beforeHelp?.();
    module.register(program);
  }
  process.exitCode = undefined;
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    // commander's own exits (--help, --version, a missing option) keep commander's exit code.
    const code = (err as { exitCode?: number }).exitCode;
    if (typeof code !== 'number') throw err;
    if (json && code !== 0) {
      const message = (err as Error).message.replace(/^error: /, '');
      process.stdout.write(`${JSON.stringify({ error: message, kind: 'invalid' })}\n`);
    }
    return code;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}
