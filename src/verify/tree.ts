// The git trees verify judges, read as git stores them: modes and object ids, not just file texts,
// because a symlink or a submodule is not a file x1deploy wrote, whatever its text.
import * as fs from 'node:fs';
import git from 'isomorphic-git';
import type { VerifyProblem } from './problems.js';

export interface TreeEntry {
  readonly mode: string;
  readonly oid: string;
}

/** One path a pull request adds, changes or deletes (before/after absent: the path did not exist). */
export interface PathChange {
  readonly path: string;
  readonly before?: TreeEntry;
  readonly after?: TreeEntry;
}

/** Reads the trees of one repository's commits. */
export interface CommitTrees {
  /** Every non-folder path that differs between two commits, subtrees with equal ids skipped. */
  changes(from: string, to: string): Promise<PathChange[]>;
  /** Every entry at `commit` that is not a regular file (symlinks, submodules). */
  irregular(commit: string): Promise<{ readonly path: string; readonly mode: string }[]>;
}

/** What git writes for a regular file, executable or not. */
const REGULAR_MODES = new Set(['100644', '100755']);
const TREE_MODE = '040000';

interface RawEntry {
  readonly path: string;
  readonly mode: string;
  readonly oid: string;
  readonly type: string;
}

export function commitTrees(gitdir: string): CommitTrees {
  const cache = { fs, gitdir, cache: {} };
  const read = async (oid: string | undefined): Promise<RawEntry[]> =>
    oid === undefined ? [] : (await git.readTree({ ...cache, oid })).tree.map((e) => ({ ...e, mode: normalMode(e.mode) }));

  async function diff(from: string | undefined, to: string | undefined, prefix: string, out: PathChange[]): Promise<void> {
    const [a, b] = await Promise.all([read(from), read(to)]);
    const before = new Map(a.map((e) => [e.path, e]));
    const after = new Map(b.map((e) => [e.path, e]));
    for (const name of [...new Set([...before.keys(), ...after.keys()])].sort()) {
      const x = before.get(name);
      const y = after.get(name);
      if (x && y && x.oid === y.oid && x.mode === y.mode) continue;
      const path = prefix + name;
      const xTree = x?.mode === TREE_MODE ? x.oid : undefined;
      const yTree = y?.mode === TREE_MODE ? y.oid : undefined;
      if (xTree !== undefined || yTree !== undefined) await diff(xTree, yTree, `${path}/`, out);
      const xFile = x && x.mode !== TREE_MODE ? { mode: x.mode, oid: x.oid } : undefined;
      const yFile = y && y.mode !== TREE_MODE ? { mode: y.mode, oid: y.oid } : undefined;
      if (xFile || yFile) out.push({ path, ...(xFile ? { before: xFile } : {}), ...(yFile ? { after: yFile } : {}) });
    }
  }

  return {
    async changes(from, to) {
      const out: PathChange[] = [];
      await diff(from, to, '', out);
      return out.sort((p, q) => (p.path < q.path ? -1 : p.path > q.path ? 1 : 0));
    },
    async irregular(commit) {
      const found: { path: string; mode: string }[] = [];
      const walk = async (oid: string, prefix: string): Promise<void> => {
        for (const e of await read(oid)) {
          if (e.mode === TREE_MODE) await walk(e.oid, `${prefix}${e.path}/`);
          else if (!REGULAR_MODES.has(e.mode)) found.push({ path: prefix + e.path, mode: e.mode });
        }
      };
      await walk(commit, '');
      return found;
    },
  };
}

/** isomorphic-git spells modes without leading zeros on some paths; git's own spelling is six digits. */
function normalMode(mode: string): string {
  return mode.padStart(6, '0');
}

const KIND_OF_MODE: Record<string, string> = { '120000': 'a symbolic link', '160000': 'a submodule (gitlink)' };

/** The tree may hold only regular files: a link or a submodule would make git or the engine read something x1deploy never wrote. */
export async function irregularEntries(trees: CommitTrees, commit: string): Promise<VerifyProblem[]> {
  return (await trees.irregular(commit)).map(({ path, mode }) => ({
    kind: 'not-a-regular-file' as const,
    path,
    message: `is ${KIND_OF_MODE[mode] ?? `a git entry of mode ${mode}`}; a gitops repo holds only regular files: replace it with the file itself or remove it`,
  }));
}
