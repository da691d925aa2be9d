// A gitops repo holding N branch deploys for the benchmarks, made the way x1deploy makes them
// (every preview planned and rendered by planDeploy) and committed in one commit. Set-up, not a
// thing measured: `npx tsx bench/seed.ts N` prints the repo's folder.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { planDeploy } from '../src/deploy/index.js';
import { addGrant, emptyGrantsFile, type Grant } from '../src/grants/index.js';
import { GRANTS_FILE, WORKSPACE_FILE } from '../src/layout/index.js';
import { type AppRecord, stringifyRecord } from '../src/records/index.js';
import { initGitopsRepo } from '../src/gitops/index.js';
import { branchSlug, deployRequestSchema } from '../src/spec/index.js';
import { workspaceConfigFor } from '../src/owners/index.js';

const defaults = workspaceConfigFor({ id: 'bench', domain: 'previews.example.com' });
export const ws = { ...defaults, limits: { ...defaults.limits, maxBranchDeploys: 1_000_000 } };
export const NOW = '2026-11-01T00:00:00.000Z';
export const sha = (n: number) => n.toString(16).padStart(40, '0');

const BENCH_GRANT = { allowed: true as const, mode: 'auto' as const, grant: {} as Grant };

export function requestFor(i: number, commit = i) {
  return {
    app: `app${i % 10}`,
    branch: `feature/task-${i}`,
    commit_sha: sha(commit),
    dockerfile: 'Dockerfile',
    ports: [8080],
    env: { MODE: 'preview', KEY: '${API_KEY}' },
  };
}

/** A repo holding `count` branch deploys, created in one commit from planned records. */
export async function seededRepo(count: number): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'x1deploy-bench-')), 'gitops');
  const files = new Map<string, string>([[WORKSPACE_FILE, stringifyRecord(ws)]]);
  const apps: string[] = [];
  const appRecords = new Map<string, AppRecord>();
  let grants = emptyGrantsFile();
  for (let a = 0; a < 10; a++)
    grants = addGrant(grants, { agent: 'bench', app: `app${a}`, branches: '*', mode: 'auto', by: 'owner', now: NOW }).file;
  files.set(GRANTS_FILE, stringifyRecord(grants));
  const requestSchema = deployRequestSchema(ws.limits);
  for (let i = 0; i < count; i++) {
    const request = requestSchema.parse(requestFor(i));
    const slug = branchSlug(request.app, request.branch);
    const plan = planDeploy(
      {
        workspace: ws,
        apps,
        app: apps.includes(request.app) ? appRecords.get(request.app) : undefined,
        existing: undefined,
        authorization: BENCH_GRANT,
        previewCount: 0,
      },
      request,
      slug,
      { agent: 'bench', now: NOW },
    );
    if (!apps.includes(request.app)) {
      apps.push(request.app);
      appRecords.set(request.app, parse(plan.changes.get(`apps/${request.app}/app.yaml`)!));
    }
    for (const [path, text] of plan.changes) files.set(path, text);
  }
  await initGitopsRepo(dir, files, { message: `seed ${count}`, author: { name: 'bench', email: 'bench@x1deploy' } });
  return dir;
}


if (process.argv[1] === import.meta.filename) process.stdout.write(await seededRepo(Number(process.argv[2])));
