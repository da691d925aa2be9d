// A commit's tree with changes laid over it, in memory: what the tree will be once the changes are
// committed. Group commit plans each request against the overlay of the requests planned before it
// in the same group, so the group's one commit is what planning them one by one would have made.
import type { FileChanges, GitopsStore } from '../records/index.js';

const isBelow = (path: string, folder: string) => path.startsWith(`${folder}/`);

export class ChangeOverlay {
  /** Changed paths: text, or null for a deleted file or folder (a folder's later writes start it afresh). */
  readonly #changes = new Map<string, string | null>();

  constructor(
    private readonly store: GitopsStore,
    readonly base: string,
  ) {}

  get changes(): FileChanges {
    return this.#changes;
  }

  get size(): number {
    return this.#changes.size;
  }

  /** Lay `changes` over the tree, as a commit of them would. */
  apply(changes: FileChanges): void {
    for (const [path, text] of changes) {
      if (text === null) {
        for (const changed of [...this.#changes.keys()]) if (isBelow(changed, path)) this.#changes.delete(changed);
      }
      this.#changes.set(path, text);
    }
  }

  /** The overlay's say on a path: text, null (gone), or undefined (as in the base commit). */
  #verdict(path: string): string | null | undefined {
    if (this.#changes.has(path)) return this.#changes.get(path);
    for (let cut = path.lastIndexOf('/'); cut > 0; cut = path.lastIndexOf('/', cut - 1)) {
      if (this.#changes.get(path.slice(0, cut)) === null) return null;
    }
    return undefined;
  }

  /** The files written below `folder` (a later deletion of a folder drops the writes below it). */
  *#writtenBelow(folder: string): Generator<string> {
    for (const [path, text] of this.#changes) if (text !== null && isBelow(path, folder)) yield path;
  }

  async readFile(path: string): Promise<string | undefined> {
    const verdict = this.#verdict(path);
    if (verdict === undefined) return this.store.readFile(this.base, path);
    return verdict ?? undefined;
  }

  /** A file's blob id: the base's for a file the overlay leaves alone; none for a staged file (no blob yet). */
  async fileId(path: string): Promise<string | undefined> {
    return this.#verdict(path) === undefined ? this.store.fileId?.(this.base, path) : undefined;
  }

  /** The files below a folder with their blob ids where they are the base's (staged files have none). */
  async fileIds(folder: string): Promise<ReadonlyMap<string, string | undefined>> {
    const base = this.store.fileIds
      ? await this.store.fileIds(this.base, folder)
      : new Map((await this.store.listFiles(this.base, folder)).map((file) => [file, undefined]));
    if (this.#changes.size === 0) return base;
    const files = new Map<string, string | undefined>();
    for (const [file, id] of base) if (this.#verdict(file) === undefined) files.set(file, id);
    for (const path of this.#writtenBelow(folder)) files.set(path, undefined);
    return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  async listFiles(folder: string): Promise<string[]> {
    return [...(await this.fileIds(folder)).keys()].sort();
  }

  async listDir(folder: string): Promise<string[]> {
    const names = new Set<string>();
    const touched = new Set<string>();
    for (const path of this.#changes.keys()) {
      if (!isBelow(path, folder)) continue;
      const name = path.slice(folder.length + 1).split('/')[0]!;
      touched.add(name);
    }
    const folderGone = this.#verdict(folder) === null;
    for (const name of folderGone ? [] : await this.store.listDir(this.base, folder)) if (!touched.has(name)) names.add(name);
    // An entry the overlay touched exists when it is a written file or a file is written below it;
    // else (only deletions) when something of the base is left in it. Checked in that order, so a
    // deploy's write below apps/<app> does not walk every preview of the app.
    for (const name of touched) {
      const entry = `${folder}/${name}`;
      const verdict = this.#verdict(entry);
      const writtenBelow = !this.#writtenBelow(entry).next().done;
      if (typeof verdict === 'string' || writtenBelow) names.add(name);
      else if (verdict === undefined && ((await this.listFiles(entry)).length > 0 || (await this.store.readFile(this.base, entry)) !== undefined)) {
        names.add(name);
      }
    }
    return [...names].sort();
  }
}
