// The x1deploy CLI: a thin shell over the library. Each command validates first and writes last.
import { Command } from 'commander';
import { packageVersion } from '../templates/index.js';
import * as build from './commands/build.js';
import * as deploy from './commands/deploy.js';
import * as grants from './commands/grants.js';
import * as init from './commands/init.js';
import * as install from './commands/install.js';
import * as mcp from './commands/mcp.js';
import * as reap from './commands/reap.js';
import * as verify from './commands/verify.js';
import * as observe from './commands/observe.js';
import * as versions from './commands/versions.js';

/** Run the CLI on `argv` (without node and the script); resolves to the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
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
  for (const commands of [init, deploy, observe, grants, versions, build, reap, install, mcp, verify]) commands.register(program);
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
