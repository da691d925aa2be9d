// verify as an attacker meets it: pull requests built with plain git (files written by hand,
// `git add`, `git commit`), each trying to get something merged that x1deploy would not have
// written for the pull request's author. Beside them, pull requests x1deploy itself makes pass.
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { deployBranch, newBranchDeploy, rollbackBranch, validateDeployRequest } from '../src/deploy/index.js';
import { openLocalStore } from '../src/gitops/index.js';
import { grantDeploy } from '../src/owners/index.js';
import { RepoSnapshot, stringifyRecord, type DeployRecord, type GitopsStore } from '../src/records/index.js';
import { renderBranchDeploy } from '../src/render/index.js';
import { branchSlug } from '../src/spec/index.js';
import { openCheckout, resolveBase, verifyGitops, type IdentityClaim, type VerifyProblem } from '../src/verify/index.js';
import { recordBuild } from '../src/versions/index.js';
import type { WorkspaceConfig } from '../src/workspace/index.js';
import { cliInProcess } from './support/cli-in-process.js';
import { FIXED_NOW, git, makeWorkspaceRepo, request, SHA_B, tempDir, updateWorkspaceConfig } from './support/workspace-repo.js';

vi.setConfig({ testTimeout: 120_000 });
const by = (agent: string) => ({ agent, clock: () => FIXED_NOW });
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const FEAT_X = branchSlug('api', 'feat/x');
const API_RECORD = `apps/api/branches/${FEAT_X}/deploy.yaml`;

let dir: string;
let ws: WorkspaceConfig;

/** What the build job commits to main when a version's image is built. */
async function buildOnMain(store: GitopsStore, number: number, c: string): Promise<void> {
  const snapshot = await RepoSnapshot.atHead(store);
  const record = (await snapshot.deployRecord('api', FEAT_X))!;
  const built = recordBuild(record, number, { digest: digest(c), built_at: FIXED_NOW.toISOString(), now: FIXED_NOW.toISOString() });
  await store.commit({
    parent: snapshot.commit,
    changes: new Map([[API_RECORD, stringifyRecord(built)], ...renderBranchDeploy(ws, built)]),
    message: `Build ${number}`,
    author: { name: 'x1deploy-build', email: 'build@x1deploy.invalid', timestamp: Math.floor(FIXED_NOW.getTime() / 1000) },
  });
}

/**
 * main: api feat/x with versions 1 and 2 built (2 live), web main (repo acme/web) by agent-7;
 * agent-7 holds auto grants on api and web, agent-9 a grant on web feat/* only; alice owns.
 */
beforeAll(async () => {
  const repo = await makeWorkspaceRepo({ ownerLogins: ['alice'] });
  dir = repo.dir;
  const store = repo.store;
  await updateWorkspaceConfig(store, (config) => ({
    ...config,
    identities: {
      owners: ['alice'],
      agents: [
        { login: 'agent7-bot', agent: 'agent-7' },
        { login: 'agent9-bot', agent: 'agent-9' },
      ],
      proposer: 'x1deploy-bot',
    },
  }));
  await grantDeploy(store, { agent: 'agent-9', app: 'web', branches: 'feat/*', mode: 'auto', by: 'owner' }, FIXED_NOW);
  await grantDeploy(store, { agent: 'agent-5', app: 'api', branches: 'feat/*', mode: 'review', by: 'owner' }, FIXED_NOW);
  ws = await RepoSnapshot.atHead(store).then((s) => s.workspace());
  await deployBranch(store, request(), by('agent-7'));
  await buildOnMain(store, 1, 'a');
  await deployBranch(store, request({ commit_sha: SHA_B }), by('agent-7'));
  await buildOnMain(store, 2, 'b');
  await deployBranch(store, request({ app: 'web', branch: 'main', repo: 'https://github.com/acme/web.git' }), by('agent-7'));
});

/** A new pull request branch off main, checked out. */
function pullRequest(name: string): void {
  git(dir, 'checkout', '-q', '-f', 'main');
  git(dir, 'checkout', '-q', '-b', name);
}

/** Write (or, with null, delete) files and commit them with plain git, as anyone with a clone can. */
function commitByHand(files: Record<string, string | null>, message = 'Hand-made change'): void {
  for (const [path, text] of Object.entries(files)) {
    const full = join(dir, path);
    if (text === null) rmSync(full, { recursive: true, force: true });
    else {
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, text);
    }
  }
  // Only the paths written: a plain `git add -A` would re-read files git thinks racily clean (written
  // in the same second as the index), through whatever .gitattributes the change itself sets.
  git(dir, 'add', '-A', '--', ...Object.keys(files));
  git(dir, '-c', 'user.name=mallory', '-c', 'user.email=mallory@example.com', 'commit', '-qm', message);
}

async function mainRecord(path = API_RECORD): Promise<DeployRecord> {
  const store = await openLocalStore(dir);
  return (await new RepoSnapshot(store, git(dir, 'rev-parse', 'main')).deployRecord(...appAndSlug(path)))!;
}

function appAndSlug(path: string): [string, string] {
  const [, app, , slug] = path.split('/');
  return [app!, slug!];
}

/** A record and its rendered files, exactly as x1deploy renders them: the render check cannot tell. */
function withRender(path: string, record: DeployRecord): Record<string, string> {
  return { [path]: stringifyRecord(record), ...Object.fromEntries(renderBranchDeploy(ws, record)) };
}

async function verifyAs(claim: IdentityClaim): Promise<VerifyProblem[]> {
  const checkout = await openCheckout(dir);
  const result = await verifyGitops(checkout, { base: await resolveBase(dir, 'main', checkout.head), ...claim });
  expect(result.ok).toBe(result.problems.length === 0);
  return [...result.problems];
}

const kinds = (problems: readonly VerifyProblem[]) => problems.map((p) => `${p.kind} ${p.path}`);

async function verifyCli(...args: string[]) {
  const r = await cliInProcess(['verify', '--repo', dir, '--json', ...args]);
  return { code: r.code, ...(JSON.parse(r.stdout) as { ok?: boolean; problems?: VerifyProblem[]; error?: string }) };
}

describe('verify passes what x1deploy writes', () => {
  it('a pull request made by `x1deploy deploy` passes as its agent, and as nobody else', async () => {
    pullRequest('legit-deploy');
    const file = join(tempDir(), 'request.yaml');
    writeFileSync(file, stringify(request({ branch: 'feat/legit', replicas: 2, env: { MODE: 'preview', DB_PASSWORD: '${DB_PASSWORD}' } })));
    expect((await cliInProcess(['deploy', file, '--repo', dir, '--agent', 'agent-7', '--json'])).code).toBe(0);

    expect(await verifyCli('--base', 'main', '--author', 'agent7-bot')).toMatchObject({ code: 0, ok: true, problems: [] });
    expect(await verifyCli('--base', 'main', '--agent', 'agent-7')).toMatchObject({ code: 0, ok: true, problems: [] });
    // Someone else's pull request with the same bytes: agent-9 has no grant for api.
    const asOther = await verifyCli('--base', 'main', '--author', 'agent9-bot');
    expect(asOther.code).toBe(1);
    expect(kinds(asOther.problems!)).toEqual([`unauthorized-deploy apps/api/branches/${branchSlug('api', 'feat/legit')}/deploy.yaml`]);
    // Without an identity, a record change cannot be authorized at all.
    const anonymous = await verifyCli('--base', 'main');
    expect(anonymous.problems!.map((p) => p.kind)).toEqual(['unauthorized-deploy']);
    expect(anonymous.problems![0]!.message).toMatch(/not told who made this pull request.*--author/);
    // An owner is not an agent: owners grant, agents deploy.
    const owner = await verifyAs({ author: 'alice' });
    expect(owner.map((p) => p.kind)).toEqual(['unauthorized-deploy']);
    expect(owner[0]!.message).toMatch(/is not an agent/);
  });

  it("x1deploy's own review-mode proposals pass as its login, for deploys and rollbacks", async () => {
    git(dir, 'checkout', '-q', '-f', 'main');
    const store = await openLocalStore(dir);
    const deployed = await deployBranch(store, request({ branch: 'feat/reviewed' }), by('agent-5'));
    expect(deployed.answer.gitops_branch).toMatch(/^x1deploy\//);
    git(dir, 'checkout', '-q', deployed.answer.gitops_branch!);
    expect(await verifyAs({ author: 'x1deploy-bot' })).toEqual([]);
    // The proposer may name the agent only when that agent is granted: agent-9 holds no api grant.
    git(dir, 'checkout', '-q', '-f', 'main');
    const rolled = await rollbackBranch(store, { app: 'api', branch: 'feat/x', to: 1 }, by('agent-5'));
    git(dir, 'checkout', '-q', rolled.answer.gitops_branch!);
    expect(await verifyAs({ author: 'x1deploy-bot' })).toEqual([]);
  });

  it('a rollback an agent commits on its own branch passes; an owner deletes a preview', async () => {
    pullRequest('legit-rollback');
    await rollbackBranch(await openLocalStore(dir), { app: 'api', branch: 'feat/x', to: 1 }, by('agent-7'));
    expect(await verifyAs({ author: 'agent7-bot' })).toEqual([]);

    pullRequest('owner-delete');
    commitByHand({ [`apps/api/branches/${FEAT_X}`]: null, [`rendered/api/${FEAT_X}`]: null });
    expect(await verifyAs({ author: 'ALICE' })).toEqual([]);
    // agent-7 may deploy api feat/x, so it may delete it (x1deploy delete); agent-9 may not.
    expect(await verifyAs({ author: 'agent7-bot' })).toEqual([]);
    expect(kinds(await verifyAs({ author: 'agent9-bot' }))).toEqual([`owner-review ${API_RECORD}`]);
  });
});

describe('verify refuses what x1deploy would not write', () => {
  it('a forged version: attacker image, made-up digest, live, 50 replicas, 64 CPUs', async () => {
    pullRequest('miner');
    const record = await mainRecord();
    const v2 = record.versions[1]!;
    const forged: DeployRecord = {
      ...record,
      current_version: 3,
      versions: [
        ...record.versions.map((v) => ({ ...v, status: 'superseded' as const })),
        {
          ...v2,
          number: 3,
          image_ref: 'docker.io/attacker/miner:latest',
          digest: digest('f'),
          status: 'live',
          spec: { ...v2.spec, replicas: 50, resources: { cpu: '64', memory: '512Mi' } },
        },
      ],
    };
    commitByHand(withRender(API_RECORD, forged));
    const problems = await verifyAs({ author: 'agent7-bot' });
    expect(kinds(problems)).toEqual([`refused-change ${API_RECORD}`]);
    expect(problems[0]!.message).toMatch(/replicas/);
    expect(problems[0]!.message).toMatch(/cpu/);

    // Within the limits, the forged image, digest and status are what no deploy writes.
    pullRequest('miner-small');
    const small: DeployRecord = { ...forged, versions: forged.versions.map((v) => (v.number === 3 ? { ...v, spec: v2.spec } : v)) };
    commitByHand(withRender(API_RECORD, small));
    const smallProblems = await verifyAs({ author: 'agent7-bot' });
    expect(kinds(smallProblems)).toEqual([`unexplained-change ${API_RECORD}`]);
    expect(smallProblems[0]!.message).toMatch(/first difference: (status|current_version|versions\.\d)/);
  });

  it('a new preview that claims to be built and live from the start', async () => {
    pullRequest('born-live');
    const slug = branchSlug('api', 'feat/born-live');
    const requestFor = validateDeployRequest(request({ branch: 'feat/born-live' }), ws);
    const fresh = newBranchDeploy(ws, requestFor, slug, { agent: 'agent-7', now: FIXED_NOW.toISOString() });
    const live: DeployRecord = {
      ...fresh,
      status: 'live',
      current_version: 1,
      versions: [{ ...fresh.versions[0]!, status: 'live', digest: digest('e'), deployed_at: FIXED_NOW.toISOString() }],
    };
    const path = `apps/api/branches/${slug}/deploy.yaml`;
    commitByHand(withRender(path, live));
    const problems = await verifyAs({ agent: 'agent-7' });
    expect(kinds(problems)).toEqual([`unexplained-change ${path}`]);
    expect(problems[0]!.message).toMatch(/digests and live\/failed statuses come only from the build job/);
    // The same record as x1deploy writes it passes.
    commitByHand(withRender(path, fresh));
    expect(await verifyAs({ agent: 'agent-7' })).toEqual([]);
  });

  it('an older version rewritten and current_version pointed at it', async () => {
    pullRequest('rewrite-history');
    const record = await mainRecord();
    const rewritten: DeployRecord = {
      ...record,
      current_version: 1,
      versions: record.versions.map((v) =>
        v.number === 1 ? { ...v, status: 'live', commit_sha: 'c'.repeat(40), image_ref: v.image_ref.replace(/:[0-9a-f]+$/, `:${'c'.repeat(40)}`) } : { ...v, status: 'superseded' },
      ),
    };
    commitByHand(withRender(API_RECORD, rewritten));
    const problems = await verifyAs({ author: 'agent7-bot' });
    expect(kinds(problems)).toEqual([`unexplained-change ${API_RECORD}`]);
    expect(problems[0]!.message).toMatch(/first difference: versions\.0\.commit_sha/);
  });

  it('impersonation: a deploy "requested by" another agent, or a record of an app the author may not touch', async () => {
    // agent-9 may deploy web feat/*; its pull request carries a web deploy requested by agent-7.
    pullRequest('impersonate');
    await deployBranch(await openLocalStore(dir), request({ app: 'web', branch: 'feat/y' }), by('agent-7'));
    const path = `apps/web/branches/${branchSlug('web', 'feat/y')}/deploy.yaml`;
    const problems = await verifyAs({ author: 'agent9-bot' });
    expect(kinds(problems)).toEqual([`unexplained-change ${path}`]);
    expect(problems[0]!.message).toMatch(/first difference: versions\.0\.requested_by/);
    // The proposer's login may name the agent, but only a granted one.
    expect(await verifyAs({ author: 'x1deploy-bot' })).toEqual([]);

    // agent-9 adds a version to agent-7's api preview, in agent-7's name.
    pullRequest('impersonate-api');
    await deployBranch(await openLocalStore(dir), request({ commit_sha: 'd'.repeat(40) }), by('agent-7'));
    const denied = await verifyAs({ author: 'agent9-bot' });
    expect(kinds(denied)).toEqual([`unauthorized-deploy ${API_RECORD}`]);
    expect(denied[0]!.message).toMatch(/agent agent-9 may not make this change on main: agent agent-9 has no deploy grant for app api/);
  });

  it("app.yaml: another source repo for the build to clone with the workspace's token", async () => {
    pullRequest('swap-repo');
    const app = (await openLocalStore(dir)).readFile(git(dir, 'rev-parse', 'main'), 'apps/web/app.yaml');
    commitByHand({ 'apps/web/app.yaml': (await app)!.replace('https://github.com/acme/web.git', 'https://github.com/attacker/web.git') });
    const problems = await verifyAs({ author: 'agent7-bot' });
    expect(kinds(problems)).toEqual(['refused-change apps/web/app.yaml']);
    expect(problems[0]!.message).toMatch(/one app is one source repo/);
    // agent-9 may deploy web feat/* only, not the branch whose app record this is.
    expect(kinds(await verifyAs({ author: 'agent9-bot' }))).toEqual(['unauthorized-deploy apps/web/app.yaml']);

    pullRequest('app-without-deploy');
    commitByHand({ 'apps/new/app.yaml': (await app)!.replaceAll('web', 'new') });
    // (The workspace objects would be rendered for the new app too: render drift, besides.)
    const added = await verifyAs({ author: 'agent7-bot' });
    expect(kinds(added.filter((p) => p.kind !== 'render-drift'))).toEqual(['unexplained-change apps/new/app.yaml']);
    expect(added.find((p) => p.kind === 'unexplained-change')!.message).toMatch(/without its first deploy/);
  });

  it('deleting another agent’s preview is an owner’s change', async () => {
    pullRequest('delete-web');
    commitByHand({ 'apps/web/branches/main': null, 'rendered/web/main': null });
    expect(kinds(await verifyAs({ author: 'agent9-bot' }))).toEqual(['owner-review apps/web/branches/main/deploy.yaml']);
    expect(kinds(await verifyAs({}))).toEqual(['unauthorized-deploy apps/web/branches/main/deploy.yaml']);
  });

  it('15 new previews against a limit of 10 (the budget is counted on the result)', async () => {
    pullRequest('budget');
    const files: Record<string, string> = {};
    for (let i = 0; i < 15; i++) {
      const branch = `feat/b${String(i).padStart(2, '0')}`;
      const slug = branchSlug('api', branch);
      const record = newBranchDeploy(ws, validateDeployRequest(request({ branch }), ws), slug, { agent: 'agent-7', now: FIXED_NOW.toISOString() });
      Object.assign(files, withRender(`apps/api/branches/${slug}/deploy.yaml`, record));
    }
    commitByHand(files);
    const problems = await verifyAs({ author: 'agent7-bot' });
    // main holds one preview (api feat/x; web main is a default branch): 9 more fit.
    expect(problems.map((p) => p.kind)).toEqual(Array(6).fill('refused-change'));
    for (const p of problems) expect(p.message).toMatch(/at its limit of 10 concurrent branch deploys/);
  });

  it('a submodule under rendered/ with its .gitmodules, and symbolic links', async () => {
    pullRequest('submodule');
    writeFileSync(join(dir, '.gitmodules'), '[submodule "x"]\n\tpath = rendered/api/sub\n\turl = https://github.com/attacker/manifests.git\n');
    git(dir, 'update-index', '--add', '--cacheinfo', `160000,${'e'.repeat(40)},rendered/api/${FEAT_X}/sub`);
    git(dir, 'add', '.gitmodules');
    git(dir, '-c', 'user.name=mallory', '-c', 'user.email=m@example.com', 'commit', '-qm', 'Add a submodule');
    const problems = await verifyAs({ author: 'agent7-bot' });
    expect(kinds(problems)).toEqual(['owner-review .gitmodules', `not-a-regular-file rendered/api/${FEAT_X}/sub`]);
    expect(problems[1]!.message).toMatch(/submodule/);
    // Not even an owner may put one there.
    expect(kinds(await verifyAs({ author: 'alice' }))).toEqual([`not-a-regular-file rendered/api/${FEAT_X}/sub`]);

    pullRequest('symlink');
    symlinkSync('../../../x1deploy.yaml', join(dir, 'rendered', 'api', FEAT_X, 'zz-link.yaml'));
    symlinkSync('../../grants.yaml', join(dir, 'apps', 'api', 'grants.yaml'));
    git(dir, 'add', '-A');
    git(dir, '-c', 'user.name=mallory', '-c', 'user.email=m@example.com', 'commit', '-qm', 'Links');
    const linked = await verifyAs({ author: 'agent7-bot' });
    expect(kinds(linked.filter((p) => p.kind !== 'render-drift'))).toEqual([
      'not-a-regular-file apps/api/grants.yaml',
      'owner-review apps/api/grants.yaml',
      `not-a-regular-file rendered/api/${FEAT_X}/zz-link.yaml`,
    ]);
    expect(linked.find((p) => p.kind === 'not-a-regular-file')!.message).toMatch(/symbolic link/);
  });

  it('.gitattributes, the verify workflow, CODEOWNERS elsewhere and any other file need an owner', async () => {
    pullRequest('attributes');
    commitByHand({
      '.gitattributes': 'rendered/** working-tree-encoding=UTF-16\n',
      '.github/workflows/x1deploy-verify.yaml': 'name: x1deploy verify\non: pull_request\njobs: {}\n',
      '.github/CODEOWNERS': '* @mallory\n',
      'notes.txt': 'hello\n',
    });
    const problems = await verifyAs({ author: 'agent7-bot' });
    expect(kinds(problems)).toEqual([
      'owner-review .gitattributes',
      'owner-review .github/CODEOWNERS',
      'owner-review .github/workflows/x1deploy-verify.yaml',
      'owner-review notes.txt',
    ]);
    expect(problems[0]!.message).toMatch(/an owner must make this change/);
    expect(await verifyAs({ author: 'alice' })).toEqual([]);
  });

  it('the CLI takes one identity, and only with --base', async () => {
    const both = await verifyCli('--base', 'main', '--author', 'alice', '--agent', 'agent-7');
    expect(both.code).toBe(1);
    expect(both.error).toMatch(/--author or --agent, not both/);
    const noBase = await verifyCli('--agent', 'agent-7');
    expect(noBase.code).toBe(1);
    expect(noBase.error).toMatch(/--base/);
  });
});
