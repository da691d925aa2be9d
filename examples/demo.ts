// `npm run demo`: the embedded default end to end. A local gitops repo (no cluster, no GitHub),
// created on first run, receives the example deploy requests; then the branch deploys are listed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { deployBranch, listBranchDeploys } from '../src/deploy/index.js';
import { openLocalStore } from '../src/gitops/index.js';
import { grantDeploy, initWorkspace } from '../src/owners/index.js';

const repo = resolve(process.argv[2] ?? 'demo-gitops');
const fresh = !existsSync(join(repo, '.git'));
if (fresh) {
  await initWorkspace(repo, {});
  console.log(`Created the gitops repo ${repo} (workspace demo)`);
}
const store = await openLocalStore(repo);
if (fresh) {
  // The owner lets the demo agent ship app "api" straight to the default branch.
  const { summary } = await grantDeploy(store, { agent: 'demo-agent', app: 'api', branches: '*', mode: 'auto', by: 'demo-owner' });
  console.log(summary);
}
const dir = join(import.meta.dirname, 'requests');
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()) {
  const { answer, commit } = await deployBranch(store, parse(readFileSync(join(dir, file), 'utf8')), { agent: 'demo-agent' });
  console.log(
    `${file}: ${answer.app} ${answer.branch} v${answer.version} ${answer.status} ${commit ? `→ commit ${commit.slice(0, 12)}` : '(already deployed)'}`,
  );
}
console.log('\nBranch deploys:');
for (const row of await listBranchDeploys(store)) console.log(`  ${row.app}\t${row.branch}\tv${row.version} ${row.status}\t${row.url}`);
console.log(`\nInspect it: git -C ${repo} log --stat; ls ${repo}/rendered/*/*`);
