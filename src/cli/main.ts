#!/usr/bin/env node
// The program as an ES module: every command but a deploy, which the bin (bin.ts) runs itself.
// It also runs a whole CLI on its own, for what still links to it (npx's cache, the former bin).
import { endQuietlyWhenStdoutCloses, isDeployRun, runDeploy } from './entry.js';

endQuietlyWhenStdoutCloses();
const argv = process.argv.slice(2);
process.exitCode = isDeployRun(argv) ? await runDeploy(argv) : await (await import('./program.js')).runCli(argv);
