// The x1deploy CLI: a thin shell over the library. Each command validates first and writes last.
import { runProgram, type CommandModule } from './command-line.js';

// Each command's module is loaded only when that command runs: `--version` loads none, `grant`
// does not load the renderer or the MCP SDK. Help (and an unknown command) loads them all.
const init = () => import('./commands/init.js');
const deploy = () => import('./commands/deploy.js');
const observe = () => import('./commands/observe.js');
const grants = () => import('./commands/grants.js');
const versions = () => import('./commands/versions.js');
const build = () => import('./commands/build.js');
const reap = () => import('./commands/reap.js');
const install = () => import('./commands/install.js');
const mcp = () => import('./commands/mcp.js');
const verify = () => import('./commands/verify.js');
const serve = () => import('./commands/serve.js');
const doctor = () => import('./commands/doctor.js');
/** In the order help lists them. */
const MODULES: readonly (() => Promise<CommandModule>)[] = [init, deploy, observe, grants, versions, build, reap, install, mcp, serve, verify, doctor];
const MODULE_OF: Readonly<Record<string, () => Promise<CommandModule>>> = {
  init,
  deploy,
  render: deploy,
  list: deploy,
  status: observe,
  logs: observe,
  delete: observe,
  grant: grants,
  revoke: grants,
  grants,
  rollback: versions,
  history: versions,
  build,
  reap,
  install,
  mcp,
  serve,
  verify,
  doctor,
};

/** The modules `argv` needs: none for the program's own options, one for a known command, else all. */
export function modulesFor(argv: readonly string[]): readonly (() => Promise<CommandModule>)[] {
  const name = argv.find((a) => !a.startsWith('-'));
  if (name === undefined) return argv.some((a) => a === '-V' || a === '--version') && !argv.some((a) => a === '-h' || a === '--help') ? [] : MODULES;
  const only = Object.hasOwn(MODULE_OF, name) ? MODULE_OF[name] : undefined;
  return only ? [only] : MODULES;
}

/** Run the CLI on `argv` (without node and the script); resolves to the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const modules = modulesFor(argv);
  // Help shows for -h/--help, and for `help`, no command or an unknown one (all modules loaded).
  const help = modules === MODULES || argv.some((a) => a === '-h' || a === '--help');
  return runProgram(argv, modules, help);
}
