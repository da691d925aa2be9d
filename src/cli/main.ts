#!/usr/bin/env node
// The installed bin: runs the CLI on the process's arguments.
import { runCli } from './program.js';

// A reader that stops early (`x1deploy list | head`) closes the pipe: the rest of the output is not
// wanted, which is no error of ours. End quietly, as shell tools do, instead of with a stack trace;
// a command prints after its work is done, so nothing is cut short.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
});

process.exitCode = await runCli(process.argv.slice(2));
