// The rules mutation testing found unpinned: which versions a rollback supersedes, what a build
// failure touches, the default rollback target, what counts as the same request, and grant edits
// that must leave other agents' grants alone. Plus the pure plans of build passes and rollbacks.
import { describe, expect, it } from 'vitest';
import { buildJobName, planBuildPass, type BuildObservation, type BuildTarget } from '../src/build/index.js';
import { planRollback, rollbackBranch, rollbackTarget, RollbackRefusedError } from '../src/deploy/index.js';
import { DeniedError, errorText, InvalidRequestError } from '../src/errors/index.js';
import {
  addGrant,
  authorize,
  BranchPatternSchema,
  branchMatches,
  emptyGrantsFile,
  NothingToRevokeError,
  revokeGrants,
  type GrantsFile,
} from '../src/grants/index.js';
import {
  deployRecordPath,
  parseProposalBranch,
  parseRepoPath,
  proposalBranchName,
  renderedDir,
  repoPathString,
} from '../src/layout/index.js';
import {
  appWildcardSecretName,
  branchSlug,
  defaultBuildNamespace,
  fillNameTemplate,
  isDns1035Label,
  isDnsSubdomain,
  defaultCacheRepo,
  hexHash,
  imageRef,
  imageRepository,
  isDnsLabel,
  perHostTlsSecretName,
  pinnedImageRef,
} from '../src/spec/index.js';
import { UnknownBranchDeployError, type DeployRecord, type GitopsStore, type Version, type VersionSpec } from '../src/records/index.js';
import {
  addVersion,
  branchStatus,
  firstVersion,
  previousBuiltVersion,
  recordBuild,
  recordBuildFailure,
  rollbackTo,
  sameRequest,
} from '../src/versions/index.js';
import { defaultWorkspaceConfig } from '../src/workspace/index.js';
import { at, base, digest, next, sha, spec } from './support/version-fixtures.js';

const SHA = sha('a');
const built = (c: string, minute: number) => ({ digest: digest(c), built_at: at(minute), now: at(minute) });
const statuses = (r: DeployRecord) => r.versions.map((v) => v.status);

/** v1 live (built a), v2 live (built b, v1 superseded), v3 and v4 pending. */
function fourVersions(): DeployRecord {
  let r = firstVersion(base, next('a')).record;
  r = recordBuild(r, 1, built('a', 1));
  r = addVersion(r, next('b', spec, 2)).record;
  r = recordBuild(r, 2, built('b', 3));
  r = addVersion(r, next('c', spec, 4)).record;
  r = addVersion(r, next('e', spec, 5)).record;
  return r;
}

describe('version rules', () => {
  it('a rollback supersedes every pending version, above and below the target', () => {
    const r = fourVersions();
    expect(statuses(r)).toEqual(['superseded', 'live', 'pending-build', 'pending-build']);
    const rolled = rollbackTo(r, 1, at(9));
    expect(statuses(rolled)).toEqual(['live', 'superseded', 'superseded', 'superseded']);
    expect(rolled.current_version).toBe(1);
    expect(rolled.versions[0]!.deployed_at).toBe(at(9));
    // The digest and the build time stay the ones the build recorded.
    expect(rolled.versions[0]!.built_at).toBe(at(1));
  });

  it('a build going live supersedes older pending versions only, never newer ones', () => {
    const r = fourVersions();
    const v3live = recordBuild(r, 3, built('c', 6));
    expect(statuses(v3live)).toEqual(['superseded', 'superseded', 'live', 'pending-build']);
  });

  it('a rollback refuses a version without a digest', () => {
    expect(() => rollbackTo(fourVersions(), 3, at(9))).toThrow(/no image digest/);
  });

  it('a failed build marks only that version failed, keeps the others and the current version', () => {
    const r = fourVersions();
    const failed = recordBuildFailure(r, 4, 'exit 1');
    expect(statuses(failed)).toEqual(['superseded', 'live', 'pending-build', 'failed']);
    expect(failed.versions[3]!.failure).toBe('exit 1');
    expect(failed.versions.filter((v) => v.failure !== undefined)).toHaveLength(1);
    expect(failed.current_version).toBe(2);
    expect(failed.status).toBe('live');
  });

  it('the default rollback target is the newest built version below the current one', () => {
    const r = fourVersions();
    expect(previousBuiltVersion(r)?.number).toBe(1);
    expect(rollbackTarget(r, undefined)).toBe(1);
    // Nothing current yet: the newest built version of all.
    const { current_version: _, ...noCurrent } = r;
    expect(previousBuiltVersion({ ...noCurrent, status: 'pending' } as DeployRecord)?.number).toBe(2);
    const onlyOne = recordBuild(firstVersion(base, next('a')).record, 1, built('a', 1));
    expect(previousBuiltVersion(onlyOne)).toBeUndefined();
    expect(() => rollbackTarget(onlyOne, undefined)).toThrow(RollbackRefusedError);
  });

  it('an explicit rollback target must exist, be built and not be current', () => {
    const r = fourVersions();
    expect(rollbackTarget(r, 1)).toBe(1);
    expect(() => rollbackTarget(r, 9)).toThrow(/has no version 9; its versions are 1-4/);
    expect(() => rollbackTarget(r, 3)).toThrow(/was never built \(pending-build\)/);
    expect(() => rollbackTarget(r, 2)).toThrow(/already the current version/);
  });

  it('the same request is the same commit and the same spec, whatever the key order or time', () => {
    const v = (c: string, s: VersionSpec, minute: number) => firstVersion(base, next(c, s, minute)).version;
    const a: Version = v('a', { dockerfile: 'Dockerfile', ports: [8080], env: { A: '1', B: '2' } }, 0);
    const sameReordered: Version = v('a', { env: { B: '2', A: '1' }, ports: [8080], dockerfile: 'Dockerfile' }, 7);
    expect(sameRequest(a, sameReordered)).toBe(true);
    expect(sameRequest(a, v('b', a.spec, 0))).toBe(false);
    expect(sameRequest(a, v('a', { ...a.spec, env: { A: '1', B: '3' } }, 0))).toBe(false);
    expect(sameRequest(a, v('a', { ...a.spec, ports: [8081] }, 0))).toBe(false);
  });

  it('the same request again changes nothing; after a failure it is a new version', () => {
    const r = firstVersion(base, next('a')).record;
    expect(addVersion(r, next('a', spec, 3)).changed).toBe(false);
    const failed = recordBuildFailure(r, 1, 'boom');
    const retried = addVersion(failed, next('a', spec, 3));
    expect(retried.changed).toBe(true);
    expect(retried.version.number).toBe(2);
  });

  it('an env-only change of a built commit reuses its digest and goes live at once', () => {
    const r = recordBuild(firstVersion(base, next('a')).record, 1, built('a', 1));
    const changed = addVersion(r, next('a', { ...spec, env: { MODE: 'x' } }, 2));
    expect(changed.version).toMatchObject({ number: 2, status: 'live', digest: digest('a') });
    expect(changed.record.current_version).toBe(2);
  });
});

describe('grant edits leave other agents alone', () => {
  const now = '2026-01-01T00:00:00.000Z';
  const later = '2026-01-02T00:00:00.000Z';
  function twoAgents(): GrantsFile {
    let file = emptyGrantsFile();
    file = addGrant(file, { agent: 'agent-1', app: 'api', branches: 'feat/*', mode: 'auto', by: 'owner', now }).file;
    file = addGrant(file, { agent: 'agent-2', app: 'api', branches: 'feat/*', mode: 'review', by: 'owner', now }).file;
    file = addGrant(file, { agent: 'agent-1', app: 'web', branches: '*', mode: 'review', by: 'owner', now }).file;
    return file;
  }

  it("changing one agent's mode revokes only that agent's grant", () => {
    const edit = addGrant(twoAgents(), { agent: 'agent-1', app: 'api', branches: 'feat/*', mode: 'review', by: 'boss', now: later });
    expect(edit.changed).toBe(true);
    const active = edit.file.grants.filter((g) => g.revoked_at === undefined).map((g) => `${g.agent} ${g.app} ${g.mode}`);
    expect(active.sort()).toEqual(['agent-1 api review', 'agent-1 web review', 'agent-2 api review']);
    expect(edit.file.grants.find((g) => g.agent === 'agent-2')).toEqual(twoAgents().grants[1]);
    expect(edit.summary).toBe("boss changed agent-1's grant for api on feat/* from auto to review");
  });

  it('granting what is held already changes nothing', () => {
    const file = twoAgents();
    const edit = addGrant(file, { agent: 'agent-2', app: 'api', branches: 'feat/*', mode: 'review', by: 'owner', now: later });
    expect(edit).toMatchObject({ changed: false, file });
  });

  it("revoking one agent's grants for an app touches no other agent and no other app", () => {
    const edit = revokeGrants(twoAgents(), { agent: 'agent-1', app: 'api', by: 'boss', now: later });
    const byKey = Object.fromEntries(edit.file.grants.map((g) => [`${g.agent} ${g.app}`, g.revoked_at]));
    expect(byKey).toEqual({ 'agent-1 api': later, 'agent-2 api': undefined, 'agent-1 web': undefined });
    expect(authorize(edit.file, 'agent-2', 'api', 'feat/a')).toMatchObject({ allowed: true, mode: 'review' });
    expect(authorize(edit.file, 'agent-1', 'api', 'feat/a').allowed).toBe(false);
  });

  it('revoking with a pattern revokes that grant only, and revoking what is not held says what is', () => {
    let file = twoAgents();
    file = addGrant(file, { agent: 'agent-1', app: 'api', branches: 'release/**', mode: 'auto', by: 'owner', now }).file;
    const edit = revokeGrants(file, { agent: 'agent-1', app: 'api', branches: 'release/**', by: 'boss', now: later });
    expect(edit.file.grants.filter((g) => g.revoked_at !== undefined).map((g) => g.branches)).toEqual(['release/**']);
    // Revoking it again is "already so": no change, no error.
    expect(revokeGrants(edit.file, { agent: 'agent-1', app: 'api', branches: 'release/**', by: 'boss', now: later })).toMatchObject({
      changed: false,
      file: edit.file,
      summary: "agent-1's grant for api on release/** is revoked already; nothing changed",
    });
    // A pattern never held is an error that says what is held.
    expect(() => revokeGrants(edit.file, { agent: 'agent-1', app: 'api', branches: 'hotfix/*', by: 'boss', now: later })).toThrow(
      new NothingToRevokeError({ agent: 'agent-1', app: 'api', branches: 'hotfix/*', by: 'boss', now: later }, ['feat/*']),
    );
    expect(() => revokeGrants(edit.file, { agent: 'agent-3', app: 'api', by: 'boss', now: later })).toThrow(
      /agent-3 holds no active grant for api$/,
    );
  });
});

describe('planRollback', () => {
  const workspace = defaultWorkspaceConfig();
  const record = { ...fourVersions(), app: 'api', slug: 'feat-x-aaaaaaaa' };
  const who = { agent: 'agent-1', now: at(9) };

  it('plans the record and its render in the mode the grant gives, without writing', () => {
    for (const mode of ['auto', 'review'] as const) {
      const plan = planRollback(
        { workspace, record, authorization: { allowed: true, mode, grant: {} as never } },
        { app: 'api', branch: 'feat/x' },
        who,
      );
      expect(plan.change.mode).toBe(mode);
      expect(plan.answer).toMatchObject({
        version: 1,
        previous_version: 2,
        mode,
        image_ref: `reg/ws/demo/app-api:${sha('a')}@${digest('a')}`,
      });
      expect([...plan.change.changes.keys()]).toContain(deployRecordPath('api', record.slug));
      expect([...plan.change.changes.keys()]).toContain(`${renderedDir('api', record.slug)}/deployment.yaml`);
      expect(plan.change.message).toMatch(/^Roll back api feat\/x to version 1 \(from 2\)/);
      expect(plan.change.message).toContain('X1-Agent: agent-1');
    }
  });

  it('says in the commit which version, from which, at which commit, and who asked', () => {
    const plan = planRollback(
      { workspace, record, authorization: { allowed: true, mode: 'auto', grant: {} as never } },
      { app: 'api', branch: 'feat/x', to: 1 },
      who,
    );
    expect(plan.change.message.split('\n').slice(0, 3)).toEqual([
      'Roll back api feat/x to version 1 (from 2)',
      '',
      `agent-1 made version 1 (${sha('a').slice(0, 12)}) current again; its image is served by digest, no rebuild.`,
    ]);
    const nothingServed = { ...record, current_version: undefined, status: 'pending' as const };
    const fromNothing = planRollback(
      { workspace, record: nothingServed as DeployRecord, authorization: { allowed: true, mode: 'auto', grant: {} as never } },
      { app: 'api', branch: 'feat/x', to: 2 },
      who,
    );
    expect(fromNothing.answer.previous_version).toBeNull();
    expect(fromNothing.change.message.split('\n')[0]).toBe('Roll back api feat/x to version 2');
    const onlyPending = firstVersion(base, next('a')).record;
    expect(() => rollbackTarget(onlyPending, undefined)).toThrow('api feat/x has no built version before now to roll back to');
    expect(() => rollbackTarget(recordBuild(onlyPending, 1, built('a', 1)), undefined)).toThrow(
      'api feat/x has no built version before version 1 to roll back to',
    );
  });

  it('refuses without a grant, and for a branch it does not know', () => {
    const state = { workspace, record, authorization: { allowed: false as const, reason: 'no grant' } };
    expect(() => planRollback(state, { app: 'api', branch: 'feat/x' }, who)).toThrow(DeniedError);
    const granted = { ...state, authorization: { allowed: true as const, mode: 'auto' as const, grant: {} as never } };
    expect(() => planRollback({ ...granted, record: undefined }, { app: 'api', branch: 'feat/x' }, who)).toThrow(UnknownBranchDeployError);
    expect(() => planRollback(granted, { app: 'api', branch: 'feat/other' }, who)).toThrow(UnknownBranchDeployError);
  });
});

describe('planBuildPass', () => {
  const ws = { ...defaultWorkspaceConfig(), build: { ...defaultWorkspaceConfig().build } };
  const target = (slug: string, c: string, number: number, minute: number): BuildTarget => ({
    app: 'api',
    branch: slug,
    slug,
    repo: 'https://git.example.com/a/api',
    version: { ...firstVersion(base, next(c, spec, minute)).version, number },
  });
  const plan = (targets: BuildTarget[], seen: [BuildTarget, BuildObservation][], concurrency = 2) =>
    planBuildPass(ws, targets, new Map(seen.map(([t, o]) => [buildJobName(t), o])), concurrency).map((a) =>
      a.kind === 'waiting'
        ? `${a.target.slug} v${a.target.version.number} waiting ${a.why}`
        : a.kind === 'record'
          ? `${a.target.slug} v${a.target.version.number} record ${a.event}`
          : `${a.target.slug} v${a.target.version.number} ${a.kind}`,
    );

  it('starts Jobs up to the concurrency limit, counting the ones already running', () => {
    const [a, b, c] = [target('a', 'a', 1, 0), target('b', 'b', 1, 1), target('c', 'c', 1, 2)];
    expect(plan([a, b, c], [[c, { job: 'running' }]], 2)).toEqual(['a v1 start', 'b v1 waiting concurrency', 'c v1 running']);
    expect(plan([a, b, c], [], 2)).toEqual(['a v1 start', 'b v1 start', 'c v1 waiting concurrency']);
  });

  it("records a finished Job's digest or failure, and what the registry already has", () => {
    const [a, b, c] = [target('a', 'a', 1, 0), target('b', 'b', 1, 1), target('c', 'c', 1, 2)];
    const actions = planBuildPass(
      ws,
      [a, b, c],
      new Map<string, BuildObservation>([
        [buildJobName(a), { job: 'finished', digest: digest('a') }],
        [buildJobName(b), { job: 'finished', reason: 'exit 1' }],
        [buildJobName(c), { job: 'none', registryDigest: digest('c') }],
      ]),
      1,
    );
    expect(actions.map((x) => (x.kind === 'record' ? [x.event, x.outcome] : x.kind))).toEqual([
      ['built', { ok: true, digest: digest('a') }],
      ['failed', { ok: false, reason: 'exit 1' }],
      ['found', { ok: true, digest: digest('c') }],
    ]);
  });

  it("builds only a branch's newest pending version, and skips older ones once it went live", () => {
    const newer = target('a', 'b', 2, 5);
    const older = target('a', 'a', 1, 0);
    expect(plan([newer, older], [])).toEqual(['a v2 start', 'a v1 waiting newer-version']);
    expect(plan([newer, older], [[newer, { job: 'finished', digest: digest('b') }]])).toEqual(['a v2 record built']);
  });

  it('a second version of the same image waits for the Job pushing it; an unbuildable one is recorded failed', () => {
    const a = target('a', 'a', 1, 0);
    const sameImage = target('b', 'a', 1, 1);
    expect(plan([a, sameImage], [])).toEqual(['a v1 start', 'b v1 waiting same-image']);
    const noRepo = { ...target('c', 'c', 1, 2), repo: undefined };
    expect(plan([noRepo], [])).toEqual(['c v1 record failed']);
  });
});

describe('more version rules', () => {
  it('a build going live supersedes the older pending versions, and never a failed one', () => {
    let r = firstVersion(base, next('a')).record;
    r = recordBuildFailure(r, 1, 'exit 1');
    r = addVersion(r, next('b', spec, 1)).record;
    r = addVersion(r, next('c', spec, 2)).record;
    const live = recordBuild(r, 3, built('c', 3));
    expect(statuses(live)).toEqual(['failed', 'superseded', 'live']);
    expect(live.versions[0]!.failure).toBe('exit 1');
  });

  it('branchStatus: live with a current version, failed when the newest failed, else pending', () => {
    const pending = firstVersion(base, next('a')).record;
    expect(branchStatus({ versions: pending.versions })).toBe('pending');
    expect(branchStatus({ versions: recordBuildFailure(pending, 1, 'x').versions })).toBe('failed');
    expect(branchStatus({ versions: pending.versions, current_version: 1 })).toBe('live');
    expect(branchStatus({ versions: [] })).toBe('pending');
  });

  it('an env-only change keeps the build time of the digest it reuses, the newest build of that commit', () => {
    let r = recordBuild(firstVersion(base, next('a')).record, 1, built('a', 1));
    r = addVersion(r, next('a', { ...spec, env: { X: '1' } }, 2)).record;
    // Rebuilt (another digest) as a new version of the same commit.
    r = addVersion(r, next('a', { ...spec, env: { X: '2' } }, 3)).record;
    const rebuilt = { ...r, versions: r.versions.map((v) => (v.number === 3 ? { ...v, digest: digest('f'), built_at: at(4) } : v)) };
    const changed = addVersion(rebuilt, next('a', { ...spec, env: { X: '3' } }, 5));
    expect(changed.version).toMatchObject({ digest: digest('f'), built_at: at(4), deployed_at: at(5) });
    const first = addVersion(
      recordBuild(firstVersion(base, next('a')).record, 1, built('a', 1)),
      next('a', { ...spec, env: { Y: '1' } }, 7),
    );
    expect(first.version.built_at).toBe(at(1));
  });

  it('a rollback to a version that does not exist or was never built says so', () => {
    expect(() => rollbackTo(fourVersions(), 9, at(9))).toThrow(/version 9 has no image digest/);
    const hand = { ...fourVersions() };
    const noBuiltAt = { ...hand, versions: hand.versions.map((v) => (v.number === 1 ? { ...v, built_at: undefined } : v)) } as DeployRecord;
    expect(rollbackTo(noBuiltAt, 1, at(9)).versions[0]!.built_at).toBe(at(9));
  });

  it('without a current version, the default target is the newest built version of all', () => {
    const r = fourVersions();
    const allBuilt = {
      ...r,
      current_version: undefined,
      versions: r.versions.map((v) => ({ ...v, digest: digest(String(v.number)), status: 'superseded' as const })),
    } as DeployRecord;
    expect(previousBuiltVersion(allBuilt)?.number).toBe(4);
  });
});

describe('denial reasons say what the agent holds', () => {
  const now = '2026-01-01T00:00:00.000Z';
  const later = '2026-01-02T00:00:00.000Z';
  let file = emptyGrantsFile();
  file = addGrant(file, { agent: 'a1', app: 'api', branches: 'feat/*', mode: 'auto', by: 'o', now }).file;
  file = addGrant(file, { agent: 'a1', app: 'api', branches: 'fix/*', mode: 'review', by: 'o', now }).file;
  file = addGrant(file, { agent: 'a2', app: 'api', branches: 'release/**', mode: 'auto', by: 'o', now }).file;
  file = revokeGrants(file, { agent: 'a2', app: 'api', by: 'o', now: later }).file;
  file = addGrant(file, { agent: 'a2', app: 'web', branches: '*', mode: 'auto', by: 'o', now }).file;
  file = addGrant(file, { agent: 'a3', app: 'web', branches: 'old/*', mode: 'auto', by: 'o', now }).file;
  file = revokeGrants(file, { agent: 'a3', app: 'web', by: 'o', now: later }).file;

  it.each([
    ['a1', 'api', 'main', 'agent a1 has no deploy grant for app api on branch main; its grants for api cover feat/*, fix/*'],
    [
      'a2',
      'api',
      'release/1',
      `agent a2 has no deploy grant for app api on branch release/1; its grant for release/** was revoked at ${later}`,
    ],
    ['a2', 'api', 'main', 'agent a2 has no deploy grant for app api on branch main; it holds grants for web only'],
    ['a3', 'web', 'main', 'agent a3 has no deploy grant for app web on branch main; it holds no deploy grants'],
    ['a9', 'api', 'main', 'agent a9 has no deploy grant for app api on branch main; it holds no deploy grants'],
  ])('%s %s %s', (agent, app, branch, reason) => {
    expect(authorize(file, agent, app, branch)).toEqual({ allowed: false, reason });
  });

  it('says how to start when there is no grants.yaml', () => {
    expect(authorize(undefined, 'a1', 'api', 'main')).toEqual({
      allowed: false,
      reason: 'grants.yaml is missing, so no agent may deploy; an owner grants a1 with "x1deploy grant"',
    });
  });

  it('summarises a revoke of several grants in the plural, and a denied revoke lists what is held', () => {
    const edit = revokeGrants(file, { agent: 'a1', app: 'api', by: 'boss', now: later });
    expect(edit.summary).toBe("boss revoked a1's grants for api on feat/*, fix/*");
    const one = revokeGrants(file, { agent: 'a1', app: 'api', branches: 'fix/*', by: 'boss', now: later });
    expect(one.summary).toBe("boss revoked a1's grant for api on fix/*");
    expect(() => revokeGrants(file, { agent: 'a1', app: 'api', branches: 'hot/*', by: 'boss', now: later })).toThrow(
      'a1 holds no active grant for api on hot/*; its active grants for api cover feat/*, fix/*',
    );
  });

  it('says an unchanged grant is held already, with the right article', () => {
    expect(addGrant(file, { agent: 'a1', app: 'api', branches: 'feat/*', by: 'o', now: later }).summary).toBe(
      'a1 already holds an auto grant for api on feat/*; nothing changed',
    );
    expect(addGrant(file, { agent: 'a1', app: 'api', branches: 'fix/*', by: 'o', now: later }).summary).toBe(
      'a1 already holds a review grant for api on fix/*; nothing changed',
    );
  });

  it('refuses a pattern picomatch cannot compile, and matches the same pattern the same way twice', () => {
    expect(BranchPatternSchema.safeParse('feat/[').success).toBe(true);
    expect(BranchPatternSchema.safeParse('!feat/*').success).toBe(false);
    expect(branchMatches('feat/*', 'feat/a')).toBe(true);
    expect(branchMatches('feat/*', 'feat/a')).toBe(true);
    expect(branchMatches('feat/*', 'fix/a')).toBe(false);
  });
});

describe('derived names', () => {
  const ws = { registry: 'reg.example.com:5000', workspace: { id: 'acme' } };

  it('names images, caches and TLS secrets from the workspace', () => {
    expect(imageRepository(ws, 'api')).toBe('reg.example.com:5000/ws/acme/app-api');
    expect(imageRef(ws, 'api', SHA)).toBe(`reg.example.com:5000/ws/acme/app-api:${SHA}`);
    expect(defaultCacheRepo(ws)).toBe('reg.example.com:5000/ws/acme/cache');
    expect(pinnedImageRef('r/a:1', undefined)).toBe('r/a:1');
    expect(pinnedImageRef('r/a:1', digest('d'))).toBe(`r/a:1@${digest('d')}`);
    expect(perHostTlsSecretName('api', 'feat-x')).toBe('api-feat-x-tls');
    expect(appWildcardSecretName('api')).toBe('api-previews-tls');
  });

  it('puts builds in ws-<id>-builds, cut and hashed to stay a 63-character label', () => {
    expect(defaultBuildNamespace('acme')).toBe('ws-acme-builds');
    const fits = 'a'.repeat(63 - 'ws--builds'.length);
    expect(defaultBuildNamespace(fits)).toBe(`ws-${fits}-builds`);
    const long = `${'b'.repeat(50)}-${'c'.repeat(9)}`;
    const name = defaultBuildNamespace(long);
    expect(name).toHaveLength(63 - 9 + 9);
    expect(name).toMatch(/^ws-b+-[0-9a-f]{8}-builds$/);
    expect(name.endsWith(`-${hexHash(long, 8)}-builds`)).toBe(true);
    expect(isDnsLabel(name)).toBe(true);
    expect(defaultBuildNamespace(`${long}x`)).not.toBe(name);
  });

  it('hashes in hex, cut to the length asked for', () => {
    expect(hexHash('x1deploy', 10)).toBe('635b45ab01'); // printf x1deploy | sha256sum
    expect(hexHash('x1deploy', 4)).toBe('635b');
  });
});

describe('layout edge cases', () => {
  it.each(['apps//app.yaml', 'apps/./app.yaml', './grants.yaml', 'rendered/api/./x.yaml', 'apps/api/branches/s/../deploy.yaml'])(
    '%s is not a layout path',
    (path) => {
      expect(parseRepoPath(path)).toEqual({ kind: 'other', path });
    },
  );

  it.each([
    ['apps/api/other.yaml', 'stray'],
    ['apps/api/app.yaml/x', 'stray'],
    ['apps/api/branches/s/other.yaml', 'stray'],
    ['apps/api/other/s/deploy.yaml', 'stray'],
    ['rendered/_workspace/a/b.yaml', 'stray'],
    ['rendered/_workspace/a/b/c.yaml', 'stray'],
    ['bootstrap/jobs/a/b.yaml', 'stray'],
    ['bootstrap/other/x.yaml', 'stray'],
  ])('%s is %s', (path, kind) => {
    expect(parseRepoPath(path).kind).toBe(kind);
  });
});

describe('error messages', () => {
  it('InvalidRequestError and DeniedError carry readable messages', () => {
    const two = new InvalidRequestError([
      { path: 'a', message: 'x' },
      { path: 'b', message: 'y' },
    ]);
    expect(two.message).toBe('invalid request: a: x; b: y');
    expect(errorText(two)).toBe('invalid request:\n  - a: x\n  - b: y');
    expect(new DeniedError('no grant').message).toBe('no grant');
  });
});

describe('rollbackBranch input', () => {
  it('refuses a malformed request before it reads the repo', async () => {
    const untouchable = new Proxy({} as GitopsStore, {
      get: () => {
        throw new Error('the store must not be read');
      },
    });
    await expect(rollbackBranch(untouchable, { app: 'api', branch: 'feat/x', to: 0 }, { agent: 'agent-1' })).rejects.toMatchObject({
      name: 'InvalidRequestError',
      issues: [{ path: 'to' }],
    });
    await expect(rollbackBranch(untouchable, { app: 'api', branch: 'feat/x' }, { agent: 'bad agent' })).rejects.toMatchObject({
      issues: [{ path: 'agent' }],
    });
  });
});

describe('names, pinned', () => {
  it('a DNS label is at most 63 characters, a subdomain 253, every label valid', () => {
    expect(isDnsLabel('a'.repeat(63))).toBe(true);
    expect(isDnsLabel('a'.repeat(64))).toBe(false);
    expect(isDns1035Label(`a${'1'.repeat(62)}`)).toBe(true);
    expect(isDns1035Label(`a${'1'.repeat(63)}`)).toBe(false);
    const host = Array.from({ length: 4 }, () => 'a'.repeat(63)).join('.');
    expect(isDnsSubdomain(host.slice(0, 253))).toBe(true);
    expect(isDnsSubdomain(`${host.slice(0, 253)}a`)).toBe(false);
    expect(isDnsSubdomain('ok.Not-OK')).toBe(false);
  });

  // Slugs are stored in deploy.yaml and in object names: they must never change. The hashes here
  // were computed apart from x1deploy: base32 (RFC 4648, lower case) of sha256(branch), 8 characters.
  it.each([
    ['feat/x', 'feat-x-pg2myvkl'],
    ['feat-x', 'feat-x'],
    ['Feature/ÄÖ', 'feature-ao-ljofx2b7'],
    ['x'.repeat(200), `${'x'.repeat(63 - 4 - 9)}-viqmeprs`],
  ])('branchSlug(api, %s) is %s', (branch, slug) => {
    expect(branchSlug('api', branch)).toBe(slug);
  });

  it('keeps a clean branch name exactly at the budget, and folds runs of other characters into one "-"', () => {
    const atBudget = 'b'.repeat(63 - 'api-'.length);
    expect(branchSlug('api', atBudget)).toBe(atBudget);
    expect(branchSlug('api', `${atBudget}b`)).not.toBe(`${atBudget}b`);
    expect(branchSlug('api', 'feat//x')).toMatch(/^feat-x-[a-z2-7]{8}$/);
  });

  it('cuts a long build namespace where the id has "--" without leaving a "-" before the hash', () => {
    const id = `${'a'.repeat(42)}--${'b'.repeat(16)}`; // the cut lands right after the "--"
    const name = defaultBuildNamespace(id);
    expect(name).not.toMatch(/--[0-9a-f]{8}-builds$/);
    expect(isDnsLabel(name)).toBe(true);
  });

  it('fills name templates', () => {
    expect(fillNameTemplate('{app}-{slug}-db-{workspace}-{app}', { app: 'api', slug: 's', workspace: 'w' })).toBe('api-s-db-w-api');
    expect(fillNameTemplate('{other}', { app: 'api', slug: 's', workspace: 'w' })).toBe('{other}');
  });
});

describe('grant edits, pinned', () => {
  const now = '2026-01-01T00:00:00.000Z';
  const later = '2026-01-02T00:00:00.000Z';

  it('a new grant without a mode is a review grant, says so, and leaves the other patterns alone', () => {
    let file = addGrant(emptyGrantsFile(), { agent: 'a1', app: 'api', branches: 'feat/*', mode: 'auto', by: 'o', now }).file;
    const edit = addGrant(file, { agent: 'a1', app: 'api', branches: 'fix/*', by: 'o', now: later });
    expect(edit.summary).toBe('o granted a1 review deploys of api on fix/*');
    file = edit.file;
    expect(file.grants.map((g) => [g.branches, g.mode, g.revoked_at])).toEqual([
      ['feat/*', 'auto', undefined],
      ['fix/*', 'review', undefined],
    ]);
  });

  it('revoking reports a change; revoking it again, or all of an app whose grants are revoked, does not', () => {
    const file = addGrant(emptyGrantsFile(), { agent: 'a1', app: 'api', branches: 'feat/*', mode: 'auto', by: 'o', now }).file;
    const revoked = revokeGrants(file, { agent: 'a1', app: 'api', by: 'o', now: later });
    expect(revoked.changed).toBe(true);
    expect(revokeGrants(revoked.file, { agent: 'a1', app: 'api', by: 'o', now: later })).toMatchObject({
      changed: false,
      summary: "a1's grant for api is revoked already; nothing changed",
    });
    // Another agent's or another app's revoked grant is not "already so" for this one.
    expect(() => revokeGrants(revoked.file, { agent: 'a2', app: 'api', by: 'o', now: later })).toThrow(NothingToRevokeError);
    expect(() => revokeGrants(revoked.file, { agent: 'a1', app: 'web', by: 'o', now: later })).toThrow(NothingToRevokeError);
  });

  it('a revoked grant on another pattern does not make a denial say "revoked"', () => {
    let file = addGrant(emptyGrantsFile(), { agent: 'a1', app: 'api', branches: 'release/**', mode: 'auto', by: 'o', now }).file;
    file = revokeGrants(file, { agent: 'a1', app: 'api', by: 'o', now: later }).file;
    expect(authorize(file, 'a1', 'api', 'main')).toEqual({
      allowed: false,
      reason: 'agent a1 has no deploy grant for app api on branch main; it holds no deploy grants',
    });
  });

  it('the first version is a change', () => {
    expect(firstVersion(base, next('a')).changed).toBe(true);
  });
});

describe('proposal branches and layout strings', () => {
  it('parses only x1deploy/<app>/<slug>', () => {
    expect(parseProposalBranch(proposalBranchName('api', 'feat-x'))).toEqual({ app: 'api', slug: 'feat-x' });
    for (const name of ['main', 'x1deploy/api', 'x1deploy/api/a/b', 'x1deploy//s', 'x1deploy/api/', 'other/x1deploy/api/s']) {
      expect(parseProposalBranch(name)).toBeUndefined();
    }
  });

  it('gives back the path of a stray or other path', () => {
    expect(repoPathString({ kind: 'stray', path: 'apps/x' })).toBe('apps/x');
    expect(repoPathString({ kind: 'other', path: 'docs/x' })).toBe('docs/x');
  });
});

describe('rollbackBranch on a real repo', () => {
  it('serves the previous built version again in one commit', async () => {
    const { makeWorkspaceRepo, request: req, git: g } = await import('./support/workspace-repo.js');
    const { deployBranch } = await import('../src/deploy/index.js');
    const { recordBuildOutcome } = await import('../src/build/index.js');
    const { dir, store } = await makeWorkspaceRepo();
    const slug = (await deployBranch(store, req(), { agent: 'agent-7' })).answer.slug;
    await recordBuildOutcome(store, { app: 'api', slug, version: 1 }, { ok: true, digest: digest('1') });
    await deployBranch(store, req({ commit_sha: sha('b') }), { agent: 'agent-7' });
    await recordBuildOutcome(store, { app: 'api', slug, version: 2 }, { ok: true, digest: digest('2') });
    const { answer, commit } = await rollbackBranch(
      store,
      { app: 'api', branch: 'feat/x' },
      { agent: 'agent-7', clock: () => new Date(at(30)) },
    );
    expect(answer).toMatchObject({
      version: 1,
      previous_version: 2,
      mode: 'auto',
      image_ref: expect.stringMatching(new RegExp(`@${digest('1')}$`)),
    });
    expect(g(dir, 'rev-parse', 'HEAD')).toBe(commit);
    expect(g(dir, 'log', '-1', '--format=%an <%ae>')).toBe('agent-7 <agent-7@agents.x1deploy>');
    expect(g(dir, 'log', '-1', '--format=%B').split('\n').slice(3, 5)).toEqual(['', 'X1-Agent: agent-7']);
  });
});
