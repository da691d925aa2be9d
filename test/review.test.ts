import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deployBranch, rollbackBranch } from '../src/deploy/index.js';
import { recordBuildOutcome } from '../src/build/index.js';
import { openRemoteStore } from '../src/gitops/index.js';
import { grantDeploy } from '../src/owners/index.js';
import { GitHubReview, PREVIEW_COMMENT_MARKER, type ReviewPort } from '../src/review/index.js';
import { startFakeGitHub } from './support/fake-github.js';
import { startGitHttpServer } from './support/git-http-server.js';
import { git, makeWorkspaceRepo, request, tempDir } from './support/workspace-repo.js';

const TOKEN = 'ghs_faketokenfaketokenfaketoken1234';

describe('review mode on GitHub: gitops pull requests and the preview comment', () => {
  let github: Awaited<ReturnType<typeof startFakeGitHub>>;
  let gitServer: Awaited<ReturnType<typeof startGitHttpServer>>;
  let root: string;
  let url: string;
  let review: ReviewPort;

  beforeAll(async () => {
    github = await startFakeGitHub();
    root = tempDir();
    gitServer = await startGitHttpServer(root);
    const { dir, store } = await makeWorkspaceRepo();
    await grantDeploy(store, { agent: 'agent-3', app: 'api', branches: 'feat/*', mode: 'review', by: 'owner' });
    execFileSync('git', ['clone', '-q', '--bare', dir, join(root, 'gitops.git')]);
    url = gitServer.url('gitops.git');
    github.state.addRepo('acme/gitops');
    github.state.addRepo('acme/api', { branches: ['feat/login'] }).openPull({ head: 'feat/login', title: 'Login page' });
    const real = new GitHubReview(
      { owner: 'acme', repo: 'gitops' },
      { token: TOKEN, baseUrl: github.baseUrl, userAgent: 'x1deploy-test', webHost: 'github.com', retry: { timeUnitMs: 1 } },
    );
    // GitHub serves the git remote and the API from one place; here the push goes to git
    // http-backend, so the fake learns of the pushed branch the way GitHub would.
    review = {
      proposeForReview: async (p) => {
        github.state.repo('acme/gitops').addBranch(p.head, git(join(root, 'gitops.git'), 'rev-parse', p.head));
        return real.proposeForReview(p);
      },
      commentOnSourcePullRequest: (c) => real.commentOnSourcePullRequest(c),
      reportDeployment: (d) => real.reportDeployment(d),
    };
  }, 60_000);
  afterEach(() => {
    expect(github.violations).toEqual([]);
  });
  afterAll(async () => {
    await github?.close();
    await gitServer?.close();
  });

  it('a review-mode deploy pushes a proposal branch and opens a pull request that names app, branch and version', async () => {
    const store = await openRemoteStore(url, { cacheDir: tempDir() });
    const main = git(join(root, 'gitops.git'), 'rev-parse', 'main');
    const { answer, commit } = await deployBranch(store, request({ branch: 'feat/login', repo: 'https://github.com/acme/api.git' }), {
      agent: 'agent-3',
      review,
    });
    expect(answer.review_error).toBeUndefined();
    expect(answer).toMatchObject({ mode: 'review', version: 1, gitops_branch: `x1deploy/api/${answer.slug}` });
    expect(git(join(root, 'gitops.git'), 'rev-parse', 'main')).toBe(main);
    expect(git(join(root, 'gitops.git'), 'rev-parse', answer.gitops_branch!)).toBe(commit);

    const [pr] = github.state.repo('acme/gitops').pulls;
    expect(pr).toMatchObject({
      state: 'open',
      head: answer.gitops_branch,
      base: 'main',
      title: `Deploy api feat/login version 1 (${'1'.repeat(12)})`,
    });
    expect(answer.pull_request).toMatch(/\/acme\/gitops\/pull\/1$/);
    expect(pr!.body).toContain(answer.url);
    expect(pr!.body).toContain(`registry.localhost:5000/ws/demo/app-api:${'1'.repeat(40)}`);
    expect(pr!.body).toContain('`agent-3`');
    expect(pr!.body).toContain(`[111111111111](https://github.com/acme/api/commit/${'1'.repeat(40)})`);
    expect(pr!.body).toMatch(/`rendered\/api\/feat-login-[a-z2-7]{8}\/deployment\.yaml: added`/);

    const comments = github.state.repo('acme/api').comments;
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain(PREVIEW_COMMENT_MARKER);
    expect(comments[0]!.body).toContain(`waiting for review in ${answer.pull_request}`);
  });

  it('a new version of the same branch updates the open pull request and the same comment', async () => {
    const store = await openRemoteStore(url, { cacheDir: tempDir() });
    const { answer } = await deployBranch(
      store,
      request({ branch: 'feat/login', commit_sha: '2'.repeat(40), repo: 'https://github.com/acme/api.git' }),
      { agent: 'agent-3', review },
    );
    expect(answer.review_error).toBeUndefined();
    const pulls = github.state.repo('acme/gitops').pulls;
    expect(pulls).toHaveLength(1);
    // Versions are numbered on main, where nothing was merged yet: the proposal is still version 1.
    expect(pulls[0]!.title).toBe(`Deploy api feat/login version 1 (${'2'.repeat(12)})`);
    const comments = github.state.repo('acme/api').comments;
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain('2'.repeat(12));
  });

  it('an auto-mode deploy commits to main and keeps the one comment up to date', async () => {
    const store = await openRemoteStore(url, { cacheDir: tempDir() });
    const { answer, commit } = await deployBranch(
      store,
      request({ branch: 'feat/login', commit_sha: '3'.repeat(40), repo: 'https://github.com/acme/api.git' }),
      { agent: 'agent-7', review },
    );
    expect(answer).toMatchObject({ mode: 'auto', version: 1 });
    expect(answer.pull_request).toBeUndefined();
    expect(git(join(root, 'gitops.git'), 'rev-parse', 'main')).toBe(commit);
    expect(github.state.repo('acme/gitops').pulls).toHaveLength(1);
    const comments = github.state.repo('acme/api').comments;
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toMatch(/\| 1 \| pending-build \(BuildPending\) \| 333333333333 \|/);
    // A transient GitHub deployment of the commit, in progress: no environment URL before it is ready.
    const [deployment] = github.state.repo('acme/api').deployments.filter((d) => d.sha === '3'.repeat(40));
    expect(deployment).toMatchObject({ environment: `preview/api/${answer.slug}`, transient: true, production: false });
    expect(deployment!.statuses.map((st) => st.state)).toEqual(['in_progress']);
    expect(deployment!.statuses[0]!.environmentUrl).toBeUndefined();
  });

  it('a finished build refreshes the comment: the preview is live', async () => {
    const store = await openRemoteStore(url, { cacheDir: tempDir() });
    const slug = (await deployBranch(store, request({ branch: 'feat/login', commit_sha: '3'.repeat(40) }), { agent: 'agent-7' })).answer
      .slug;
    await recordBuildOutcome(store, { app: 'api', slug, version: 1 }, { ok: true, digest: `sha256:${'d'.repeat(64)}` }, new Date(), review);
    const comments = github.state.repo('acme/api').comments;
    expect(comments).toHaveLength(1);
    // Built and committed is not live yet: the engine still has to apply it.
    expect(comments[0]!.body).toMatch(/\| 1 \| syncing \| 333333333333 \|/);
    const deployment = github.state.repo('acme/api').deployments.find((d) => d.sha === '3'.repeat(40) && d.environment === `preview/api/${slug}`)!;
    expect(deployment.statuses.map((st) => st.state)).toEqual(['in_progress', 'in_progress']);
    expect(github.state.repo('acme/api').deployments.filter((d) => d.environment === `preview/api/${slug}`)).toHaveLength(1);
  });

  it('a failed build shows its state and reason, and fails the GitHub deployment; ready carries the URL; delete makes it inactive', async () => {
    const store = await openRemoteStore(url, { cacheDir: tempDir() });
    const branch = 'feat/deploys';
    const pull = github.state.repo('acme/api').openPull({ head: branch, title: 'Deploys' });
    const comment = () => github.state.repo('acme/api').commentsOn(pull.number)[0]!.body;
    const deploymentOf = (sha: string) => github.state.repo('acme/api').deployments.find((d) => d.sha === sha)!;
    const { answer } = await deployBranch(store, request({ branch, commit_sha: '7'.repeat(40), repo: 'https://github.com/acme/api.git' }), {
      agent: 'agent-7',
      review,
    });
    await recordBuildOutcome(
      store,
      { app: 'api', slug: answer.slug, version: 1 },
      { ok: false, reason: 'kaniko exited 1\nnpm ERR! missing script: build' },
      new Date(),
      review,
    );
    expect(comment()).toMatch(/\| 1 \| build-failed \(BuildFailed\) \| 777777777777 \|/);
    expect(comment()).toContain('`kaniko exited 1` — read the build log');
    expect(deploymentOf('7'.repeat(40)).statuses.at(-1)).toMatchObject({
      state: 'failure',
      description: expect.stringMatching(/build-failed \(BuildFailed\): kaniko exited 1/),
    });

    // A fix, built; then what a wait observed (deploy_branch's wait): ready, with the URL.
    await deployBranch(store, request({ branch, commit_sha: '8'.repeat(40) }), { agent: 'agent-7', review });
    await recordBuildOutcome(store, { app: 'api', slug: answer.slug, version: 2 }, { ok: true, digest: `sha256:${'8'.repeat(64)}` }, new Date(), review);
    expect(deploymentOf('8'.repeat(40)).statuses.map((st) => st.state)).toEqual(['in_progress', 'in_progress']);
    const { reportObserved } = await import('../src/observe/index.js');
    const { previewStatus } = await import('../src/status/index.js');
    const { RepoSnapshot } = await import('../src/records/index.js');
    const record = (await (await RepoSnapshot.atHead(store)).deployRecord('api', answer.slug))!;
    const ready = previewStatus({
      record,
      observation: {
        cluster: { observed: true },
        deployment: { name: 'd', version: 2, replicas: 1, readyReplicas: 1, updatedReplicas: 1 },
        pods: [],
        events: [],
      },
      now: new Date().toISOString(),
    });
    expect(ready.state).toBe('ready');
    expect(await reportObserved(store, review, ready)).not.toHaveProperty('review_error');
    expect(deploymentOf('8'.repeat(40)).statuses.at(-1)).toMatchObject({ state: 'success', environmentUrl: answer.url });
    expect(comment()).toMatch(/\| 2 \| ready \| 888888888888 \|/);

    const { deleteBranchDeploy } = await import('../src/deploy/index.js');
    await deleteBranchDeploy(store, { app: 'api', branch }, { agent: 'agent-7', review });
    expect(deploymentOf('8'.repeat(40)).statuses.at(-1)).toMatchObject({ state: 'inactive' });
    expect(comment()).toMatch(/\| deleted \|/);
  });

  it('a review-mode rollback proposes on the gitops branch and opens its pull request, leaving main alone', async () => {
    const store = await openRemoteStore(url, { cacheDir: tempDir() });
    const branch = 'feat/rollback';
    github.state.repo('acme/api').addBranch(branch, '5'.repeat(40));
    const first = await deployBranch(store, request({ branch, commit_sha: '5'.repeat(40) }), { agent: 'agent-7' });
    const slug = first.answer.slug;
    await recordBuildOutcome(store, { app: 'api', slug, version: 1 }, { ok: true, digest: `sha256:${'5'.repeat(64)}` });
    await deployBranch(store, request({ branch, commit_sha: '6'.repeat(40) }), { agent: 'agent-7' });
    await recordBuildOutcome(store, { app: 'api', slug, version: 2 }, { ok: true, digest: `sha256:${'6'.repeat(64)}` });
    const main = git(join(root, 'gitops.git'), 'rev-parse', 'main');
    const pulls = github.state.repo('acme/gitops').pulls.length;

    const { answer, commit } = await rollbackBranch(store, { app: 'api', branch }, { agent: 'agent-3', review });
    expect(answer).toMatchObject({ mode: 'review', version: 1, previous_version: 2, gitops_branch: `x1deploy/api/${slug}` });
    expect(answer.review_error).toBeUndefined();
    expect(git(join(root, 'gitops.git'), 'rev-parse', 'main')).toBe(main);
    expect(git(join(root, 'gitops.git'), 'rev-parse', answer.gitops_branch!)).toBe(commit);
    const opened = github.state.repo('acme/gitops').pulls;
    expect(opened).toHaveLength(pulls + 1);
    expect(opened[opened.length - 1]).toMatchObject({
      state: 'open',
      head: answer.gitops_branch,
      base: 'main',
      title: `Roll back api ${branch} to version 1 (from 2)`,
    });
    expect(answer.pull_request).toMatch(/\/acme\/gitops\/pull\/\d+$/);
  });

  it('GitHub failing after the push is reported with the answer; the gitops change stands', async () => {
    const store = await openRemoteStore(url, { cacheDir: tempDir() });
    await recordBuildOutcome(
      store,
      {
        app: 'api',
        slug: (await deployBranch(store, request({ branch: 'feat/login', commit_sha: '3'.repeat(40) }), { agent: 'agent-7' })).answer.slug,
        version: 1,
      },
      { ok: true, digest: `sha256:${'e'.repeat(64)}` },
    );
    const failing: ReviewPort = {
      proposeForReview: () => Promise.reject(new Error('GitHub create pull request failed: HTTP 502')),
      commentOnSourcePullRequest: () => Promise.reject(new Error('GitHub comment failed: HTTP 502')),
      reportDeployment: () => Promise.reject(new Error('GitHub deployment failed: HTTP 502')),
    };
    const { answer, commit } = await deployBranch(store, request({ branch: 'feat/login', commit_sha: '4'.repeat(40) }), {
      agent: 'agent-3',
      review: failing,
    });
    expect(commit).toBeDefined();
    expect(answer.review_error).toMatch(/could not be opened \(GitHub create pull request failed: HTTP 502\); deploy again to retry/);
    expect(JSON.stringify(answer)).not.toContain(TOKEN);
    const back = await rollbackBranch(store, { app: 'api', branch: 'feat/login' }, { agent: 'agent-7' }).catch((e) => e);
    expect(back.message).toMatch(/no built version before version 1/);
  });

  it('a reap says so on the comment and makes the GitHub deployment inactive', async () => {
    const { reapPreviews } = await import('../src/reap/index.js');
    const { branchSourceFor } = await import('../src/scm/index.js');
    const { registryClient } = await import('../src/registry/index.js');
    const store = await openRemoteStore(url, { cacheDir: tempDir() });
    const branch = 'feat/reaped';
    const source = github.state.repo('acme/api');
    source.addBranch(branch, '9'.repeat(40));
    const pull = source.openPull({ head: branch, title: 'Reaped soon' });
    // Deployed a month ago, so the reaper's grace for fresh deploys is long past.
    const { answer } = await deployBranch(store, request({ branch, commit_sha: '9'.repeat(40), repo: 'https://github.com/acme/api.git' }), {
      agent: 'agent-7',
      review,
      clock: () => new Date('2026-11-01T12:00:00Z'),
    });
    const deployment = () => source.deployments.find((d) => d.sha === '9'.repeat(40) && d.environment === `preview/api/${answer.slug}`)!;
    expect(deployment().statuses.at(-1)).toMatchObject({ state: 'in_progress' });
    source.branches.delete(branch);
    const result = await reapPreviews(store, {
      sources: {
        branchSource: (repoUrl) =>
          branchSourceFor(repoUrl, { github: { token: TOKEN, baseUrl: github.baseUrl, webHost: 'github.com', userAgent: 'x1deploy-test', retry: { timeUnitMs: 1 } } }),
        registry: registryClient({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 2000 }),
      },
      force: true,
      review,
    });
    expect(result.plan.reap.map((i) => i.branch)).toContain(branch);
    expect(result.warnings.filter((w) => w.startsWith(`api ${branch}`))).toEqual([]);
    expect(deployment().statuses.at(-1)).toMatchObject({ state: 'inactive', description: 'the preview was reaped' });
    expect(source.commentsOn(pull.number)[0]!.body).toMatch(/\| reaped \(Reaped\) \|/);
  });
});
