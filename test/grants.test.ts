import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { grantDeploy, revokeDeploy } from '../src/owners/index.js';
import { deployBranch } from '../src/deploy/index.js';
import { DeniedError } from '../src/errors/index.js';
import { RecordFileError } from '../src/records/index.js';
import { runCli } from './support/cli.js';
import { git, makeWorkspaceRepo, repoFingerprint, request } from './support/workspace-repo.js';

describe('grants in the gitops repo', () => {
  it('deploy without a grant is denied, exit 3, and leaves the repo byte-identical', async () => {
    const { dir } = await makeWorkspaceRepo({ grants: false });
    const fp = repoFingerprint(dir);
    const r = runCli(['deploy', '-', '--repo', dir, '--agent', 'agent-7', '--json'], {
      input: JSON.stringify(request({ branch: 'hotfix/1' })),
    });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toEqual({
      denied: true,
      kind: 'denied',
      reason: expect.stringContaining('agent agent-7 has no deploy grant for app api on branch hotfix/1'),
    });
    expect(repoFingerprint(dir)).toBe(fp);
  });

  it('a revoked grant denies the next deploy', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    await deployBranch(store, request(), { agent: 'agent-7' });
    await revokeDeploy(store, { agent: 'agent-7', app: 'api', by: 'owner' });
    const fp = repoFingerprint(dir);
    await expect(deployBranch(store, request({ commit_sha: 'f'.repeat(40) }), { agent: 'agent-7' })).rejects.toBeInstanceOf(DeniedError);
    expect(repoFingerprint(dir)).toBe(fp);
    expect(git(dir, 'log', '-1', '--format=%s')).toBe("Grants: owner revoked agent-7's grant for api on *");
  });

  it('revoking what is not held is refused and changes nothing', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    const fp = repoFingerprint(dir);
    await expect(revokeDeploy(store, { agent: 'agent-7', app: 'api', branches: 'feat/*', by: 'owner' })).rejects.toThrow(
      'agent-7 holds no active grant for api on feat/*; its active grants for api cover *',
    );
    expect(repoFingerprint(dir)).toBe(fp);
  });

  it('a bad pattern or app is refused by field', async () => {
    const { store } = await makeWorkspaceRepo({ grants: false });
    await expect(grantDeploy(store, { agent: 'a', app: 'Bad App', branches: '!main', mode: 'auto', by: 'o' })).rejects.toMatchObject({
      issues: [
        expect.objectContaining({ path: 'app' }),
        expect.objectContaining({ path: 'branches', message: expect.stringContaining('negated') }),
      ],
    });
  });

  it('review mode proposes the deploy on a gitops branch and leaves main alone', async () => {
    const { dir, store } = await makeWorkspaceRepo({ grants: false });
    await grantDeploy(store, { agent: 'agent-3', app: 'api', branches: 'feat/*', mode: 'review', by: 'owner' });
    const main = git(dir, 'rev-parse', 'HEAD');
    const { answer, commit } = await deployBranch(store, request(), { agent: 'agent-3' });
    expect(answer).toMatchObject({ mode: 'review', version: 1, gitops_branch: `x1deploy/api/${answer.slug}` });
    expect(git(dir, 'rev-parse', 'HEAD')).toBe(main);
    expect(git(dir, 'rev-parse', answer.gitops_branch!)).toBe(commit);
    expect(git(dir, 'rev-parse', `${answer.gitops_branch!}~1`)).toBe(main);
    expect(git(dir, 'show', `${answer.gitops_branch!}:rendered/api/${answer.slug}/deployment.yaml`)).toContain('replicas: 0');
    // Asking again proposes the same commit: nothing new.
    const again = await deployBranch(store, request(), { agent: 'agent-3' });
    expect(again.commit).toBe(commit);
    expect(git(dir, 'status', '--porcelain')).toBe('');
    expect(git(dir, 'fsck', '--strict')).toBe('');
  });

  it('a hand-corrupted grants.yaml gives an error naming the file and field', async () => {
    const { dir, store } = await makeWorkspaceRepo();
    const text = readFileSync(join(dir, 'grants.yaml'), 'utf8').replace('mode: auto', 'mode: yolo');
    writeFileSync(join(dir, 'grants.yaml'), text);
    git(dir, 'commit', '-qam', 'hand edit');
    const err = await deployBranch(store, request(), { agent: 'agent-7' }).catch((e) => e);
    expect(err).toBeInstanceOf(RecordFileError);
    expect(err.message).toMatch(/^grants\.yaml is not valid: grants\.0\.mode: /);
  });
});
