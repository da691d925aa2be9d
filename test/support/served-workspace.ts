// A workspace gitops repo served over smart HTTP (git http-backend) for the tests of remote stores:
// one server per suite, and a bare copy of a fresh workspace per test.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startGitHttpServer, type GitHttpServer } from './git-http-server.js';
import { makeWorkspaceRepo, tempDir, updateWorkspaceConfig } from './workspace-repo.js';

export interface SuiteGitServer {
  /** The running server (started before the suite's tests, stopped after them). */
  readonly server: GitHttpServer;
  /** The folder it serves. */
  readonly root: string;
}

export function gitServerForSuite(): SuiteGitServer {
  const suite = {} as { server: GitHttpServer; root: string };
  beforeAll(async () => {
    suite.root = tempDir();
    suite.server = await startGitHttpServer(suite.root);
  });
  afterAll(async () => {
    await suite.server?.close();
  });
  return suite;
}

/** A bare copy of a fresh workspace (agent-7 may deploy api and web) served as `<name>.git`. */
export async function servedWorkspace(suite: SuiteGitServer, name: string, maxBranchDeploys = 10): Promise<{ url: string; bare: string }> {
  const { dir, store } = await makeWorkspaceRepo();
  if (maxBranchDeploys !== 10) await updateWorkspaceConfig(store, (ws) => ({ ...ws, limits: { ...ws.limits, maxBranchDeploys } }));
  const bare = join(suite.root, `${name}.git`);
  execFileSync('git', ['clone', '-q', '--bare', dir, bare]);
  return { url: suite.server.url(`${name}.git`), bare };
}
