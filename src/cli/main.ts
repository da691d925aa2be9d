#!/usr/bin/env node
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
import * as versions from './commands/versions.js';

const program = new Command()
  .name('x1deploy')
  .description('Branch deploys the GitOps way: deploy requests become typed manifests in one commit to a workspace gitops repo.')
  .version(await packageVersion())
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) });

for (const commands of [init, deploy, grants, versions, build, reap, install, mcp, verify]) commands.register(program);

await program.parseAsync(process.argv);
