// Naming the pull request's target: a branch (main, origin/main), a tag or a commit id of the same
// repo, and where the pull request forked from it.
import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import git from 'isomorphic-git';
import { NotAGitopsRepoError, openBareStore, readWholeIndex } from '../gitops/index.js';
import { commitTrees } from './tree.js';
import type { Checkout } from './verify.js';
import type { VerifyProblem } from './problems.js';
import type { PullRequestBase } from './pull-request.js';
import { X1Error } from '../errors/index.js';

export class UnknownBaseError extends X1Error {
  constructor(ref: string, dir: string) {
    super(
      'invalid',
      `--base ${ref} is not a branch, tag or commit of ${dir}; fetch it first (in CI: check out with fetch-depth: 0 and pass origin/<target branch>)`,
    );
  }
}

/**
 * The checked-out commit of a local clone and a store to read it with. CI checks a pull request
 * out as a detached merge commit, which a branch store cannot open; verify only reads, so any
 * commit will do.
 */
export async function openCheckout(dir: string): Promise<Checkout> {
  const head = await git.resolveRef({ fs, dir, ref: 'HEAD' }).catch(() => {
    throw new NotAGitopsRepoError(dir, 'is not a git repository with a checked-out commit');
  });
  const branch = (await git.currentBranch({ fs, dir, fullname: false })) ?? 'HEAD';
  const gitdir = join(dir, '.git');
  return { store: openBareStore(gitdir, branch), trees: commitTrees(gitdir), head };
}

/**
 * The file system as verify sees it: statusMatrix writes its refreshed stat cache back to .git/index,
 * and verify writes nothing (the pull request check mounts the checkout read-only). isomorphic-git
 * reads only a whole index, so a split one (git's split-index, which x1deploy keeps for a large
 * repo) is shown to it merged.
 */
const indexNotWritten = {
  promises: new Proxy(fs.promises, {
    get(target, name: keyof typeof fs.promises) {
      const isIndex = (path: unknown) => typeof path === 'string' && /[\\/]\.git[\\/]index$/.test(path);
      if (name === 'writeFile') {
        return async (...args: Parameters<typeof fs.promises.writeFile>) => {
          if (isIndex(args[0])) return;
          return target.writeFile(...args);
        };
      }
      if (name === 'readFile') {
        return async (...args: Parameters<typeof fs.promises.readFile>) => {
          if (!isIndex(args[0])) return target.readFile(...args);
          const whole = await readWholeIndex(dirname(args[0] as string));
          if (whole === undefined) throw Object.assign(new Error(`ENOENT: no such file, open '${String(args[0])}'`), { code: 'ENOENT' });
          return typeof args[1] === 'string' || (typeof args[1] === 'object' && args[1]?.encoding) ? whole.toString() : whole;
        };
      }
      return target[name];
    },
  }),
};

/**
 * Files whose work-tree state differs from the checked-out commit (changed, added, deleted, or new
 * and not ignored): verify checks the commit, so a hand edit that is not committed is not checked.
 */
export async function uncommittedChanges(dir: string): Promise<VerifyProblem[]> {
  const rows = await git.statusMatrix({ fs: indexNotWritten, dir });
  // [path, HEAD, workdir, stage]: 1/1/1 is unchanged; anything else differs from the commit.
  return rows
    .filter(([, head, workdir]) => !(head === 1 && workdir === 1))
    .map(([path, head, workdir]) => ({
      kind: 'uncommitted' as const,
      path,
      message: `${head === 0 ? 'is not committed' : workdir === 0 ? 'is deleted in the work tree but not in the commit' : 'differs from the commit'}: verify checks the checked-out commit, not the work tree; commit the change (or discard it) and run verify again`,
    }));
}

export async function resolveBase(dir: string, ref: string, head: string): Promise<PullRequestBase> {
  const commit = await resolveCommit(dir, ref);
  if (commit === undefined) throw new UnknownBaseError(ref, dir);
  const [mergeBase] = (await git.findMergeBase({ fs, dir, oids: [commit, head] })) as string[];
  // Unrelated histories: compare with the target's tip itself.
  return { name: ref, commit, mergeBase: mergeBase ?? commit };
}

async function resolveCommit(dir: string, ref: string): Promise<string | undefined> {
  // name~2, name^: first parents, as git counts them.
  const [, name, suffix] = /^(.*?)((?:[~^][0-9]*)*)$/.exec(ref)!;
  let oid = await resolveName(dir, name!);
  for (const [, op, count] of suffix!.matchAll(/([~^])([0-9]*)/g)) {
    const steps = op === '~' ? Number(count || 1) : 1;
    const parentIndex = op === '^' ? Number(count || 1) - 1 : 0;
    for (let i = 0; i < steps && oid !== undefined; i++) {
      const { commit } = await git.readCommit({ fs, dir, oid });
      oid = commit.parent[op === '^' ? parentIndex : 0];
    }
  }
  return oid;
}

async function resolveName(dir: string, name: string): Promise<string | undefined> {
  const commitOf = async (oid: string) => (await git.readCommit({ fs, dir, oid })).oid;
  try {
    // An annotated tag points at a tag object; readCommit peels it to the commit.
    return await commitOf(await git.resolveRef({ fs, dir, ref: name }));
  } catch {
    if (!/^[0-9a-f]{4,40}$/i.test(name)) return undefined;
    try {
      return await commitOf(await git.expandOid({ fs, dir, oid: name.toLowerCase() }));
    } catch {
      return undefined;
    }
  }
}
