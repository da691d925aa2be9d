import { describe, expect, it } from 'vitest';
import { type DeployRecord, type VersionSpec, DeployRecordSchema } from '../src/records/index.js';
import { addVersion, branchStatus, firstVersion, recordBuild, recordBuildFailure, servedVersion } from '../src/versions/index.js';
import { base, digest, next as nextVersion, sha, spec } from './support/version-fixtures.js';

const next = (c: string, s: VersionSpec = spec) => nextVersion(c, s, 0, 'reg/app');
const built = { digest: digest('d'), built_at: '2026-01-01T00:01:00.000Z', now: '2026-01-01T00:01:00.000Z' };

describe('version lifecycle', () => {
  it('a new branch is pending and renders with zero replicas by tag', () => {
    const { record } = firstVersion(base, next('a'));
    expect(record.status).toBe('pending');
    expect(servedVersion(record, 1)).toMatchObject({ replicas: 0, image: `reg/app:${sha('a')}` });
    DeployRecordSchema.parse(record);
  });

  it('a build makes the version live and pins the digest', () => {
    const { record } = firstVersion(base, next('a'));
    const live = recordBuild(record, 1, built);
    expect(live.current_version).toBe(1);
    expect(live.status).toBe('live');
    expect(servedVersion(live, 1)).toMatchObject({ replicas: 1, image: `reg/app:${sha('a')}@${digest('d')}` });
    DeployRecordSchema.parse(live);
  });

  it('a running branch keeps its built version while the next one is pending or failed', () => {
    const live = recordBuild(firstVersion(base, next('a')).record, 1, built);
    const pending = addVersion(live, next('b')).record;
    expect(pending.versions[1]!.status).toBe('pending-build');
    expect(servedVersion(pending, 1).version.number).toBe(1);
    const failed = recordBuildFailure(pending, 2, 'exit 1');
    expect(failed.status).toBe('live');
    expect(servedVersion(failed, 1).version.number).toBe(1);
  });

  it('the same commit and spec again changes nothing', () => {
    const { record } = firstVersion(base, next('a'));
    const again = addVersion(record, next('a'));
    expect(again.changed).toBe(false);
    expect(again.record).toBe(record);
  });

  it('a spec change of a built commit goes live at once without a build', () => {
    const live = recordBuild(firstVersion(base, next('a')).record, 1, built);
    const { record, version } = addVersion(live, next('a', { ...spec, env: { MODE: 'x' } }));
    expect(version.status).toBe('live');
    expect(version.digest).toBe(digest('d'));
    expect(record.current_version).toBe(2);
    expect(record.versions[0]!.status).toBe('superseded');
    DeployRecordSchema.parse(record);
  });

  it('a failed newest version makes a never-built branch failed', () => {
    const failed = recordBuildFailure(firstVersion(base, next('a')).record, 1, 'exit 1');
    expect(branchStatus(failed)).toBe('failed');
    // Retrying the same commit after a failure is a new version.
    expect(addVersion(failed, next('a')).changed).toBe(true);
  });

  it('the record schema refuses a current version without a digest', () => {
    const { record } = firstVersion(base, next('a'));
    const bad: DeployRecord = { ...record, current_version: 1 };
    expect(() => DeployRecordSchema.parse(bad)).toThrow(/no built image digest/);
  });
});
