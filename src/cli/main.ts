#!/usr/bin/env node
// The installed bin: runs the CLI on the process's arguments.
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv.slice(2));
