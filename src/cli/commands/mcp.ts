// x1deploy mcp: the agent-facing MCP server over stdio.
import type { Command } from 'commander';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { openGitopsStore } from '../../gitops/index.js';
import { createMcpServer } from '../../mcp/index.js';
import { validAgent } from '../../deploy/index.js';
import { observePortsFromEnv } from '../../observe/index.js';
import { packageVersion } from '../../templates/index.js';
import { reviewPortFor } from '../../review/index.js';
import { REPO_OPTION, REPO_OPTION_HELP } from '../options.js';
import { run } from '../run.js';

export function register(program: Command): void {
  program
    .command('mcp')
    .description('serve the agent tools (deploy_branch, branch_deploy_status, branch_deploy_logs, fetch_preview, list_branch_deploys, rollback_branch, delete_branch_deploy) over MCP (stdio)')
    .requiredOption(REPO_OPTION, REPO_OPTION_HELP)
    .requiredOption('--agent <id>', 'the agent this server acts for (tools cannot change it)')
    .action(
      run<{ repo: string; agent: string }>(async (o) => {
        const agent = validAgent(o.agent);
        const store = await openGitopsStore(o.repo);
        const observe = await observePortsFromEnv();
        const server = createMcpServer({ store, agent, review: reviewPortFor(o.repo), observe }, await packageVersion());
        // Serve until the client closes stdin (or the transport closes): that is a normal end, exit 0.
        const closed = new Promise<void>((resolve) => {
          server.onclose = resolve;
          process.stdin.once('end', resolve);
          process.stdin.once('close', resolve);
        });
        await server.connect(new StdioServerTransport());
        await closed;
        await server.close().catch(() => undefined);
      }),
    );
}
