import { describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { deployBranch, renderAll } from '../src/deploy/index.js';
import { openLocalStore } from '../src/gitops/index.js';
import { type GitopsStore, stringifyRecord, type DeployRecord } from '../src/records/index.js';
import { grantDeploy } from '../src/owners/index.js';
import { renderBranchDeploy } from '../src/render/index.js';
import { branchSlug } from '../src/spec/index.js';
import { openCheckout, resolveBase, verifyGitops, type IdentityClaim, type VerifyProblem } from '../src/verify/index.js';
import type { WorkspaceConfig } from '../src/workspace/index.js';
import { runCli } from './support/cli.js';
import { FIXED_NOW, git, makeWorkspaceRepo, request } from './support/workspace-repo.js';

// Each CLI call is a fresh process through the TypeScript loader: seconds each on a busy machine.
vi.setConfig({ testTimeout: 60_000 });
const by = (agent: string) => ({ agent, clock: () => FIXED_NOW });

/** A workspace with two previews by agent-7 (granted api and web on every branch) on main. */
async function workspace(engine: 'argocd' | 'flux' = 'argocd') {
  const repo = await makeWorkspaceRepo({ engine, ownerLogins: ['alice'] });
  const { answer } = await deployBranch(repo.store, request(), by('agent-7'));
  await deployBranch(repo.store, request({ app: 'web', branch: 'main' }), by('agent-7'));
  return { ...repo, slug: answer.slug };
}

/** Check out a new branch, as a pull request's author would, and a store that commits to it. */
async function pullRequestBranch(dir: string, name = 'pr'): Promise<GitopsStore> {
  git(dir, 'checkout', '-q', '-b', name);
  return openLocalStore(dir);
}

async function commitFiles(store: GitopsStore, files: Record<string, string | null>, message = 'Hand edit'): Promise<string> {
  const commit = await store.commit({
    parent: await store.head(),
    changes: new Map(Object.entries(files)),
    message,
    author: { name: 'someone', email: 'someone@example.com', timestamp: Math.floor(FIXED_NOW.getTime() / 1000) },
  });
  expect(commit).toBeDefined();
  return commit!;
}

async function readYaml<T>(store: GitopsStore, path: string): Promise<T> {
  return parse((await store.readFile(await store.head(), path))!) as T;
}

async function verifyAgainst(dir: string, base: string, claim: IdentityClaim) {
  const checkout = await openCheckout(dir);
  return verifyGitops(checkout, { base: await resolveBase(dir, base, checkout.head), ...claim });
}

const verifyWhole = async (dir: string) => verifyGitops(await openCheckout(dir));

function verifyCli(
  dir: string,
  ...args: string[]
): { code: number; problems: VerifyProblem[]; ok: boolean; stdout: string; stderr: string } {
  const r = runCli(['verify', '--repo', dir, '--json', ...args]);
  expect(r.stderr).toBe('');
  const out = JSON.parse(r.stdout) as { ok: boolean; problems: VerifyProblem[] };
  return { code: r.code, ...out, stdout: r.stdout, stderr: r.stderr };
}

const kinds = (problems: readonly VerifyProblem[]) => problems.map((p) => `${p.kind} ${p.path}`);

describe('x1deploy verify', () => {
  it('passes a clean repo, alone and as a pull request by a granted agent, also from a detached checkout', async () => {
    const { dir, store } = await workspace();
    expect(verifyCli(dir)).toMatchObject({ code: 0, ok: true, problems: [] });

    const pr = await pullRequestBranch(dir);
    await deployBranch(pr, request({ branch: 'feat/y' }), by('agent-7'));
    expect(verifyCli(dir, '--base', 'main', '--agent', 'agent-7')).toMatchObject({ code: 0, ok: true, problems: [] });
    // CI checks a pull request out as a detached merge commit.
    git(dir, 'checkout', '-q', '--detach');
    expect(verifyCli(dir, '--base', 'main', '--agent', 'agent-7')).toMatchObject({ code: 0, ok: true, problems: [] });
    expect(await verifyWhole(dir)).toEqual({ ok: true, problems: [] });
    expect(await store.head()).toBeDefined();
  });

  it('passes a clean Flux repo', async () => {
    const { dir } = await workspace('flux');
    expect(await verifyWhole(dir)).toEqual({ ok: true, problems: [] });
  });

  it('fails a hand edit of rendered/, naming the file and the command that fixes it', async () => {
    const { dir, store, slug } = await workspace();
    const path = `rendered/api/${slug}/deployment.yaml`;
    const text = (await store.readFile(await store.head(), path))!;
    expect(text).toContain('replicas: 0');
    await commitFiles(store, { [path]: text.replace('replicas: 0', 'replicas: 5') });

    const result = verifyCli(dir);
    expect(result.code).toBe(1);
    expect(result.ok).toBe(false);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ kind: 'render-drift', path });
    expect(result.problems[0]!.message).toContain('x1deploy render --repo .');

    const text_ = runCli(['verify', '--repo', dir]);
    expect(text_.code).toBe(1);
    expect(text_.stdout).toContain(path);
    expect(text_.stdout).toContain('x1deploy render --repo .');
  });

  it('fails files added to or missing from the generated folders', async () => {
    const { dir, store, slug } = await workspace();
    const extra = 'rendered/api/hand-made/deployment.yaml';
    const gone = 'bootstrap/appproject-ws-demo.yaml';
    await commitFiles(store, { [extra]: 'kind: Deployment\n', [gone]: null, [`rendered/api/${slug}/service.yaml`]: null });
    const { problems } = await verifyWhole(dir);
    expect(kinds(problems)).toEqual([`render-drift ${gone}`, `render-drift rendered/api/${slug}/service.yaml`, `render-drift ${extra}`]);
    expect(problems.find((p) => p.path === extra)!.message).toMatch(/not rendered from any record.*x1deploy render --repo \./);
    expect(problems.find((p) => p.path === gone)!.message).toMatch(/is missing.*x1deploy render --repo \./);
  });

  it('fails a deploy.yaml edited by hand: without its render, and (rendered) as a change x1deploy does not write', async () => {
    const { dir, slug } = await workspace();
    const pr = await pullRequestBranch(dir);
    const path = `apps/api/branches/${slug}/deploy.yaml`;
    const record = await readYaml<DeployRecord>(pr, path);
    record.versions[0]!.spec.ports = [9090];
    await commitFiles(pr, { [path]: stringifyRecord(record) });

    const result = verifyCli(dir, '--base', 'main', '--agent', 'agent-7');
    expect(result.code).toBe(1);
    expect(new Set(result.problems.map((p) => p.kind))).toEqual(new Set(['render-drift', 'unexplained-change']));
    expect(result.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining([`rendered/api/${slug}/deployment.yaml`, `rendered/api/${slug}/service.yaml`]),
    );
    for (const p of result.problems.filter((p) => p.kind === 'render-drift')) expect(p.message).toContain('x1deploy render --repo .');

    // Rendered, the files agree; the record still rewrites a version x1deploy wrote, which no deploy does.
    await renderAll(pr, { now: FIXED_NOW });
    const rendered = await verifyAgainst(dir, 'main', { agent: 'agent-7' });
    expect(kinds(rendered.problems)).toEqual([`unexplained-change ${path}`]);
    expect(rendered.problems[0]!.message).toMatch(/without adding a version/);
  });

  it('fails a deploy by an agent whose grant exists only on the pull request branch', async () => {
    const { dir } = await workspace();
    const pr = await pullRequestBranch(dir);
    await grantDeploy(pr, { agent: 'agent-9', app: 'api', branches: '*', mode: 'auto', by: 'agent-9' }, FIXED_NOW);
    const { answer } = await deployBranch(pr, request({ branch: 'feat/sneaky' }), by('agent-9'));
    const deployFile = `apps/api/branches/${answer.slug}/deploy.yaml`;

    const result = await verifyAgainst(dir, 'main', { agent: 'agent-9' });
    expect(kinds(result.problems)).toEqual([`unauthorized-deploy ${deployFile}`, 'owner-review grants.yaml']);
    const denied = result.problems[0]!.message;
    expect(denied).toContain('agent-9');
    expect(denied).toContain('cannot grant itself');
    // Made by an owner, the grants change stands, but the deploy is still judged by main's grants:
    // an owner is not an agent.
    const byOwner = await verifyAgainst(dir, 'main', { author: 'alice' });
    expect(kinds(byOwner.problems)).toEqual([`unauthorized-deploy ${deployFile}`]);
    expect(pr).toBeDefined();
    // Once an owner grants agent-9 on main, only the pull request's own grants edit is left.
    git(dir, 'checkout', '-q', 'main');
    await grantDeploy(
      await openLocalStore(dir),
      { agent: 'agent-9', app: 'api', branches: 'feat/*', mode: 'review', by: 'owner' },
      FIXED_NOW,
    );
    git(dir, 'checkout', '-q', 'pr');
    expect(kinds((await verifyAgainst(dir, 'main', { agent: 'agent-9' })).problems)).toEqual(['owner-review grants.yaml']);
  });

  it('flags a grants.yaml or x1deploy.yaml change unless an owner (named on the base) made it', async () => {
    const { dir } = await workspace();
    const pr = await pullRequestBranch(dir);
    await grantDeploy(pr, { agent: 'agent-8', app: 'web', branches: 'feat/*', mode: 'review', by: 'owner' }, FIXED_NOW);

    const flagged = verifyCli(dir, '--base', 'main', '--author', 'mallory');
    expect(flagged.code).toBe(1);
    expect(kinds(flagged.problems)).toEqual(['owner-review grants.yaml']);
    expect(flagged.problems[0]!.message).toMatch(/an owner must make this change.*identities\.owners/);
    expect(flagged.problems[0]!.message).toContain('login mallory (not named in x1deploy.yaml identities)');
    expect(verifyCli(dir, '--base', 'main', '--author', 'Alice')).toMatchObject({ code: 0, ok: true, problems: [] });
    // Without --base only the whole-repo checks run.
    expect(verifyCli(dir)).toMatchObject({ code: 0, ok: true });

    const config = await readYaml<WorkspaceConfig>(pr, 'x1deploy.yaml');
    await commitFiles(pr, { 'x1deploy.yaml': stringifyRecord({ ...config, limits: { ...config.limits, maxBranchDeploys: 500 } }) });
    await renderAll(pr, { now: FIXED_NOW });
    expect(kinds((await verifyAgainst(dir, 'main', { agent: 'agent-7' })).problems)).toEqual([
      'owner-review grants.yaml',
      'owner-review x1deploy.yaml',
    ]);
    // A pull request that names its author an owner does not make them one: the base decides.
    const promoted = await readYaml<WorkspaceConfig>(pr, 'x1deploy.yaml');
    await commitFiles(pr, { 'x1deploy.yaml': stringifyRecord({ ...promoted, identities: { ...promoted.identities, owners: ['alice', 'mallory'] } }) });
    expect(kinds((await verifyAgainst(dir, 'main', { author: 'mallory' })).problems)).toEqual([
      'owner-review grants.yaml',
      'owner-review x1deploy.yaml',
    ]);
  });

  it('flags a secret-looking plain env value without echoing it', async () => {
    const { dir, store } = await workspace();
    const secret = `sk_live_${'4eC39HqLyjWDarjtT1zdp7dc'}`;
    const record = await readYaml<DeployRecord>(store, `apps/web/branches/main/deploy.yaml`);
    const branch = 'feat/leak';
    const slug = branchSlug('web', branch);
    const leaked: DeployRecord = {
      ...record,
      branch,
      slug,
      url: record.url.replace('https://main.', `https://${slug}.`),
      versions: record.versions.map((v) => ({ ...v, spec: { ...v.spec, env: { MODE: 'preview', STRIPE_KEY: secret } } })),
    };
    const ws = await readYaml<WorkspaceConfig>(store, 'x1deploy.yaml');
    const path = `apps/web/branches/${slug}/deploy.yaml`;
    await commitFiles(store, { [path]: stringifyRecord(leaked), ...Object.fromEntries(renderBranchDeploy(ws, leaked)) });

    const result = verifyCli(dir);
    expect(result.code).toBe(1);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ kind: 'secret-value', path });
    expect(result.problems[0]!.message).toMatch(/STRIPE_KEY looks like a Stripe key/);
    expect(result.problems[0]!.message).toContain('${STRIPE_KEY}');
    const text = runCli(['verify', '--repo', dir]);
    for (const output of [result.stdout, text.stdout, text.stderr]) expect(output).not.toContain(secret.slice(8));
  });

  it('reports invalid specs by file and field, and names an unknown --base', async () => {
    const { dir, store, slug } = await workspace();
    const path = `apps/api/branches/${slug}/deploy.yaml`;
    const text = (await store.readFile(await store.head(), path))!;
    await commitFiles(store, { [path]: text.replace('status: pending-build', 'status: sort-of-built'), 'grants.yaml': 'grants: [\n' });
    const { problems } = await verifyWhole(dir);
    expect(kinds(problems)).toEqual(['invalid-spec apps/api/branches/' + slug + '/deploy.yaml', 'invalid-spec grants.yaml']);
    expect(problems[0]!.message).toMatch(/^versions\.0\.status: /);

    const r = runCli(['verify', '--repo', dir, '--base', 'no-such-branch', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toMatch(/--base no-such-branch is not a branch, tag or commit/);
  });
});
