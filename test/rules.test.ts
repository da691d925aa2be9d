// The rules mutation testing found unpinned: which versions a rollback supersedes, what a build
// failure touches, the default rollback target, what counts as the same request, and grant edits
// that must leave other agents' grants alone. Plus the pure plans of build passes and rollbacks.
import { describe, expect, it } from 'vitest';
import { buildJobName, planBuildPass, type BuildObservation, type BuildTarget } from '../src/build/index.js';
import { planRollback, rollbackTarget, RollbackRefusedError } from '../src/deploy/index.js';
import { DeniedError } from '../src/errors/index.js';
import { addGrant, authorize, emptyGrantsFile, NothingToRevokeError, revokeGrants, type GrantsFile } from '../src/grants/index.js';
import { deployRecordPath, renderedDir } from '../src/layout/index.js';
import { UnknownBranchDeployError, type DeployRecord, type Version, type VersionSpec } from '../src/records/index.js';
import {
  addVersion,
  firstVersion,
  previousBuiltVersion,
  recordBuild,
  recordBuildFailure,
  rollbackTo,
  sameRequest,
} from '../src/versions/index.js';
import { defaultWorkspaceConfig } from '../src/workspace/index.js';

const spec: VersionSpec = { dockerfile: 'Dockerfile', ports: [8080] };
const sha = (c: string) => c.repeat(40);
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const at = (minute: number) => `2026-01-01T00:${String(minute).padStart(2, '0')}:00.000Z`;
const next = (c: string, s: VersionSpec = spec, minute = 0) => ({
  commit_sha: sha(c),
  spec: s,
  image_ref: `reg/ws/demo/app-api:${sha(c)}`,
  requested_by: 'agent-1',
  now: at(minute),
});
const base = {
  apiVersion: 'x1deploy.dev/v1' as const,
  kind: 'BranchDeploy' as const,
  app: 'api',
  branch: 'feat/x',
  slug: 'feat-x-aaaaaaaa',
  url: 'https://feat-x-aaaaaaaa.api.demo.preview.localhost',
  created_at: at(0),
};
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
    expect(() => revokeGrants(edit.file, { agent: 'agent-1', app: 'api', branches: 'release/**', by: 'boss', now: later })).toThrow(
      new NothingToRevokeError({ agent: 'agent-1', app: 'api', branches: 'release/**', by: 'boss', now: later }, ['feat/*']),
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
