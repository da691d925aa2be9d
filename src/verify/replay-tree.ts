// The apps/ records as a replay leaves them: the merge base's files with the planned changes laid
// over them, readable as a GitopsStore so the planning code reads the replay exactly as it reads a
// commit. It never writes to git.
import { X1Error } from '../errors/index.js';
import { APPS_DIR } from '../layout/index.js';
import type { FileChanges, GitopsStore } from '../records/index.js';

class ReplayOnlyError extends X1Error {
  constructor() {
    super('internal', 'verify replays changes in memory and never commits');
  }
}

export class ReplayTree implements GitopsStore {
  readonly branch = 'replay';
  /** Every file under apps/ after the changes applied so far. */
  private readonly files: Set<string>;
  /** Planned contents (null: deleted) of the paths the replay changed. */
  readonly written = new Map<string, string | null>();

  private constructor(
    private readonly base: GitopsStore,
    private readonly at: string,
    files: readonly string[],
  ) {
    this.files = new Set(files);
  }

  static async at(store: GitopsStore, commit: string): Promise<ReplayTree> {
    return new ReplayTree(store, commit, await store.listFiles(commit, APPS_DIR));
  }

  /** Lay a plan's changes under apps/ over the tree (a null on a folder deletes the whole folder). */
  apply(changes: FileChanges): void {
    for (const [path, text] of changes) {
      if (!path.startsWith(`${APPS_DIR}/`)) continue;
      if (text === null) {
        for (const file of [...this.files]) {
          if (file === path || file.startsWith(`${path}/`)) {
            this.files.delete(file);
            this.written.set(file, null);
          }
        }
      } else {
        this.files.add(path);
        this.written.set(path, text);
      }
    }
  }

  async head(): Promise<string> {
    return this.at;
  }

  async readFile(_commit: string, path: string): Promise<string | undefined> {
    if (this.written.has(path)) return this.written.get(path) ?? undefined;
    return this.base.readFile(this.at, path);
  }

  async listDir(_commit: string, path: string): Promise<string[]> {
    const prefix = `${path}/`;
    const names = new Set<string>();
    for (const file of this.files) if (file.startsWith(prefix)) names.add(file.slice(prefix.length).split('/')[0]!);
    return [...names].sort();
  }

  async listFiles(_commit: string, path: string): Promise<string[]> {
    return [...this.files].filter((f) => f.startsWith(`${path}/`)).sort();
  }

  async commit(): Promise<string | undefined> {
    throw new ReplayOnlyError();
  }

  async proposeCommit(): Promise<string | undefined> {
    throw new ReplayOnlyError();
  }

  async branchHead(): Promise<string | undefined> {
    return undefined;
  }

  async branches(): Promise<Map<string, string>> {
    return new Map();
  }
}
