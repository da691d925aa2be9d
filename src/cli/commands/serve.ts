// x1deploy serve: the agent tools over MCP Streamable HTTP for many agents, each known by its token.
import { type Command, InvalidArgumentError } from 'commander';
import { openGitopsStore } from '../../gitops/index.js';
import { observePortsFromEnv } from '../../observe/index.js';
import { reviewPortFor } from '../../review/index.js';
import { loadTokens, startService } from '../../serve/index.js';
import { packageVersion } from '../../templates/index.js';
import { RepoSnapshot, type GitopsStore } from '../../records/index.js';
import { REPO_OPTION, REPO_OPTION_HELP } from '../options.js';
import { run } from '../run.js';

function hostPort(text: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(text);
  if (!m || Number(m[2]) > 65535) throw new InvalidArgumentError('HOST:PORT, such as 127.0.0.1:8080 or 0.0.0.0:8080');
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve the agent tools over MCP Streamable HTTP at /mcp; each bearer token acts as its agent (also /healthz, /readyz)')
    .requiredOption(REPO_OPTION, REPO_OPTION_HELP)
    .requiredOption('--tokens <file>', 'YAML list of {sha256, agent} | {sha256, owner} | {sha256, read: true}: SHA-256 of each token, never the token')
    .option('--listen <host:port>', 'where to listen', hostPort, { host: '127.0.0.1', port: 8080 })
    .action(
      run<{ repo: string; tokens: string; listen: { host: string; port: number } }>(async (o) => {
        const [store, tokens, observe, version] = await Promise.all([
          openGitopsStore(o.repo),
          loadTokens(o.tokens),
          observePortsFromEnv(),
          packageVersion(),
        ]);
        const secret = process.env.X1DEPLOY_GITHUB_WEBHOOK_SECRET ?? '';
        const webhook = secret
          ? {
              secret,
              // The reaper's own sweep, with its listing checks and deletion limit.
              reap: async (store: GitopsStore) => {
                const { reapPreviews, reapSourcesFor } = await import('../../reap/index.js');
                const ws = await (await RepoSnapshot.atHead(store)).workspace();
                const result = await reapPreviews(store, {
                  sources: reapSourcesFor(ws, { log: { warn: (line) => process.stderr.write(`x1deploy serve: reap: ${line}\n`) } }),
                  review: reviewPortFor(o.repo),
                });
                return { reaped: result.commit ? result.plan.reap.length : 0 };
              },
              follow: async (store: GitopsStore, push: { repoUrls: readonly string[]; branch: string; sha: string }) => {
                const { followPush } = await import('../../deploy/index.js');
                return followPush(store, push, reviewPortFor(o.repo));
              },
            }
          : undefined;
        const service = await startService({ store, tokens, observe, review: reviewPortFor(o.repo), version, ...(webhook ? { webhook } : {}) }, o.listen);
        process.stderr.write(`x1deploy serve: ${service.url}/mcp for ${tokens.size} token(s)\n`);
        // SIGTERM (Kubernetes stopping the pod) and Ctrl-C: finish what is in flight, then exit 0.
        await new Promise<void>((resolve) => {
          const stop = () => void service.close().then(resolve);
          process.once('SIGTERM', stop);
          process.once('SIGINT', stop);
        });
      }),
    );
}
