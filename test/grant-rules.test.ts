// Grants as pure rules: branch patterns, who may deploy, and owners' edits of grants.yaml.
import { describe, expect, it } from 'vitest';
import { addGrant, authorize, branchMatches, emptyGrantsFile, revokeGrants } from '../src/grants/index.js';
import { FIXED_NOW } from './support/workspace-repo.js';

const NOW = FIXED_NOW.toISOString();

describe('branch patterns', () => {
  it.each([
    ['*', 'main', true],
    ['*', 'feat/a/b', true],
    ['feat/*', 'feat/a', true],
    ['feat/*', 'feat/a/b', false],
    ['feat/*', 'feat', false],
    ['feat/*', 'feature/a', false],
    ['release/**', 'release/1', true],
    ['release/**', 'release/1/hotfix', true],
    ['release/**', 'release', false],
    ['main', 'main', true],
    ['main', 'main2', false],
    ['main', 'Main', false],
    ['feat-*', 'feat-x', true],
    ['feat-*', 'feat-x/y', false],
    ['fix/?', 'fix/1', true],
    ['fix/?', 'fix/12', false],
    ['{feat,fix}/*', 'fix/a', true],
    ['{feat,fix}/*', 'chore/a', false],
    ['agent/*/task-*', 'agent/7/task-12', true],
    ['功能/*', '功能/分支', true],
  ])('%s matches %s: %s', (pattern, branch, expected) => {
    expect(branchMatches(pattern, branch)).toBe(expected);
  });
});

describe('authorize', () => {
  let file = addGrant(emptyGrantsFile(), { agent: 'agent-7', app: 'api', branches: 'feat/*', mode: 'review', by: 'owner', now: NOW }).file;
  file = addGrant(file, { agent: 'agent-7', app: 'web', branches: '*', mode: 'auto', by: 'owner', now: NOW }).file;

  it('allows a matching active grant with its mode', () => {
    expect(authorize(file, 'agent-7', 'api', 'feat/x')).toMatchObject({ allowed: true, mode: 'review' });
    expect(authorize(file, 'agent-7', 'web', 'anything/at/all')).toMatchObject({ allowed: true, mode: 'auto' });
  });

  it('names what is missing and what the agent holds', () => {
    expect(authorize(file, 'agent-7', 'api', 'hotfix/1')).toEqual({
      allowed: false,
      reason: 'agent agent-7 has no deploy grant for app api on branch hotfix/1; its grants for api cover feat/*',
    });
    expect(authorize(file, 'agent-7', 'billing', 'main')).toMatchObject({
      reason: expect.stringContaining('it holds grants for api, web only'),
    });
    expect(authorize(file, 'agent-9', 'api', 'feat/x')).toMatchObject({ reason: expect.stringContaining('it holds no deploy grants') });
    expect(authorize(undefined, 'agent-7', 'api', 'feat/x')).toMatchObject({
      allowed: false,
      reason: expect.stringContaining('grants.yaml is missing'),
    });
  });

  it('denies after a revoke and says so', () => {
    const revoked = revokeGrants(file, { agent: 'agent-7', app: 'api', by: 'owner', now: NOW }).file;
    expect(authorize(revoked, 'agent-7', 'api', 'feat/x')).toMatchObject({
      allowed: false,
      reason: expect.stringContaining(`its grant for feat/* was revoked at ${NOW}`),
    });
  });

  it('prefers auto when an auto and a review grant both match', () => {
    const both = addGrant(file, { agent: 'agent-7', app: 'api', branches: 'feat/fast-*', mode: 'auto', by: 'owner', now: NOW }).file;
    expect(authorize(both, 'agent-7', 'api', 'feat/fast-1')).toMatchObject({ allowed: true, mode: 'auto' });
  });

  it('a changed mode replaces the active grant and keeps the old one as revoked', () => {
    const edit = addGrant(file, { agent: 'agent-7', app: 'api', branches: 'feat/*', mode: 'auto', by: 'lead', now: NOW });
    expect(edit.summary).toBe("lead changed agent-7's grant for api on feat/* from review to auto");
    expect(edit.file.grants.filter((g) => g.app === 'api')).toEqual([
      expect.objectContaining({ mode: 'review', revoked_by: 'lead' }),
      expect.objectContaining({ mode: 'auto', granted_by: 'lead' }),
    ]);
    expect(addGrant(edit.file, { agent: 'agent-7', app: 'api', branches: 'feat/*', mode: 'auto', by: 'lead', now: NOW }).changed).toBe(
      false,
    );
  });
});
