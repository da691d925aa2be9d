// `npx cdk8s synth`: renders the example requests in examples/requests/ with the demo workspace,
// as new branches would be before their first build (replicas 0 until the build job pins a digest).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'cdk8s';
import { parse } from 'yaml';
import { BranchDeployChart } from '../charts-src/branch-deploy-chart.js';
import { newBranchDeploy } from '../src/deploy/index.js';
import { branchDeployChartProps } from '../src/render/index.js';
import { branchSlug, deployRequestSchema } from '../src/spec/index.js';
import { workspaceConfigFor } from '../src/owners/index.js';

const workspace = workspaceConfigFor({});
const dir = join(import.meta.dirname, 'requests');
const app = new App();
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort()) {
  const request = deployRequestSchema(workspace.limits).parse(parse(readFileSync(join(dir, file), 'utf8')));
  const slug = branchSlug(request.app, request.branch);
  const record = newBranchDeploy(workspace, request, slug, { agent: 'example-agent', now: '2026-01-01T00:00:00.000Z' });
  new BranchDeployChart(app, `${request.app}-${slug}`, branchDeployChartProps(workspace, record));
}
app.synth();
