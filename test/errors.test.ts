// The error taxonomy: every error a user may see is an X1Error with a kind, and one mapping turns
// kinds into exit codes and into the structured answer every surface gives.
import { describe, expect, it } from 'vitest';
import * as build from '../src/build/index.js';
import * as cluster from '../src/cluster/index.js';
import * as deploy from '../src/deploy/index.js';
import {
  DeniedError,
  errorAnswer,
  errorText,
  exitCodeFor,
  INTERNAL_ERROR_MESSAGE,
  InvalidRequestError,
  kindOf,
  UsageError,
  X1Error,
  type ErrorKind,
} from '../src/errors/index.js';
import * as gitops from '../src/gitops/index.js';
import * as grants from '../src/grants/index.js';
import * as install from '../src/install/index.js';
import * as reap from '../src/reap/index.js';
import * as records from '../src/records/index.js';
import * as registry from '../src/registry/index.js';
import * as render from '../src/render/index.js';
import * as scm from '../src/scm/index.js';
import * as traffic from '../src/traffic/index.js';
import * as transaction from '../src/transaction/index.js';
import * as verify from '../src/verify/index.js';

const kinds: [ErrorKind, number][] = [
  ['invalid', 1],
  ['denied', 3],
  ['conflict', 1],
  ['unavailable', 1],
  ['internal', 2],
];

describe('error taxonomy', () => {
  it.each(kinds)('%s exits %i', (kind, code) => {
    expect(exitCodeFor(new X1Error(kind, 'x'))).toBe(code);
    expect(kindOf(new X1Error(kind, 'x'))).toBe(kind);
  });

  it('anything that is not an X1Error is internal, exit 2, and its message is not shown', () => {
    const err = new TypeError('cannot read properties of undefined (token=abc)');
    expect(kindOf(err)).toBe('internal');
    expect(exitCodeFor(err)).toBe(2);
    expect(errorAnswer(err)).toEqual({ error: INTERNAL_ERROR_MESSAGE, kind: 'internal' });
    expect(errorText('a string thrown')).toBe(INTERNAL_ERROR_MESSAGE);
  });

  it('an internal error never claims that nothing was written', () => {
    expect(INTERNAL_ERROR_MESSAGE).not.toMatch(/nothing was written/);
    expect(INTERNAL_ERROR_MESSAGE).toMatch(/may or may not have landed/);
  });

  it('answers invalid input by field, a denial with its reason, and anything else with its message and kind', () => {
    const issues = [{ path: 'ports.0', message: 'must be 1-65535' }];
    expect(errorAnswer(new InvalidRequestError(issues))).toEqual({ error: 'invalid request', kind: 'invalid', issues });
    expect(errorAnswer(new InvalidRequestError(issues, 'invalid workspace settings'))).toMatchObject({
      error: 'invalid workspace settings',
    });
    expect(errorText(new InvalidRequestError(issues))).toBe('invalid request:\n  - ports.0: must be 1-65535');
    expect(errorAnswer(new DeniedError('no grant'))).toEqual({ denied: true, kind: 'denied', reason: 'no grant' });
    expect(errorText(new DeniedError('no grant'))).toBe('denied: no grant');
    expect(errorAnswer(new UsageError('choose one'))).toEqual({ error: 'choose one', kind: 'invalid' });
    expect(errorAnswer(new transaction.TooManyConflictsError(3))).toMatchObject({ kind: 'conflict' });
  });

  it('names each error by its class, without each class spelling it', () => {
    expect(new records.StaleHeadError('a'.repeat(40), 'b'.repeat(40)).name).toBe('StaleHeadError');
    expect(new deploy.RollbackRefusedError('no').name).toBe('RollbackRefusedError');
  });

  it('every error class the modules export is an X1Error of the kind its meaning asks for', () => {
    const modules = { build, cluster, deploy, gitops, grants, install, reap, records, registry, render, scm, traffic, transaction, verify };
    const expected: Record<string, ErrorKind> = {
      NotBuildableError: 'invalid',
      ClusterError: 'unavailable',
      NoClusterConfigError: 'unavailable',
      RollbackRefusedError: 'invalid',
      SlugCollisionError: 'invalid',
      ObjectNameCollisionError: 'invalid',
      NotAGitopsRepoError: 'invalid',
      RepoNotEmptyError: 'invalid',
      RepoLockedError: 'conflict',
      InvalidChangePathError: 'invalid',
      UncommittedChangesError: 'conflict',
      CheckedOutBranchChangedError: 'conflict',
      UnsupportedIndexError: 'invalid',
      RemoteUnavailableError: 'unavailable',
      NothingToRevokeError: 'invalid',
      JobsNotEnabledError: 'invalid',
      JobsConfigError: 'invalid',
      TrafficError: 'unavailable',
      RecordFileError: 'invalid',
      NotInitializedError: 'invalid',
      UnknownBranchDeployError: 'invalid',
      StaleHeadError: 'conflict',
      RegistryError: 'unavailable',
      BranchListingError: 'unavailable',
      GitHubRequestError: 'unavailable',
      InvalidCommentMarkerError: 'internal',
      EtagCacheFileError: 'invalid',
      TooManyConflictsError: 'conflict',
      UnknownBaseError: 'invalid',
    };
    const found: Record<string, ErrorKind> = {};
    for (const mod of Object.values(modules)) {
      for (const [name, value] of Object.entries(mod)) {
        if (typeof value !== 'function' || !(value.prototype instanceof Error)) continue;
        expect(value.prototype instanceof X1Error, `${name} is an X1Error`).toBe(true);
        found[name] = kindOfClass(value as new (...args: never[]) => X1Error);
      }
    }
    expect(found).toEqual(expected);
  });
});

/** The kind an error class gives its instances (constructed with throwaway arguments). */
function kindOfClass(cls: new (...args: never[]) => X1Error): ErrorKind {
  const argsFor: Record<string, unknown[]> = {
    StaleHeadError: ['a'.repeat(40), 'b'.repeat(40)],
    RecordFileError: ['f', ['p']],
    NothingToRevokeError: [{ agent: 'a', app: 'b', by: 'o', now: '' }, []],
    ObjectNameCollisionError: ['n', 'a', 'b', { app: 'c', branch: 'd' }],
    BranchListingError: ['r', 'empty', 'd'],
    JobsConfigError: [['x']],
    TooManyConflictsError: [3],
    UncommittedChangesError: ['/repo', ['a']],
  };
  const args = (argsFor[cls.name] ?? ['x', 'y', 'z']) as never[];
  return new cls(...args).kind;
}
