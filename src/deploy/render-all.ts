// `x1deploy render`: re-render every branch deploy, the workspace objects and the engine bootstrap
// from the records, removing generated files no record produces any more. One commit, or none
// when nothing changed.
import { GENERATED_DIRS } from '../layout/index.js';
import { gitObjectId, type GitopsStore } from '../records/index.js';
import { generatedFiles } from '../render/index.js';
import { systemCommitter, withFreshTip } from '../transaction/index.js';

export interface RenderAllResult {
  readonly commit: string | undefined;
  readonly branchDeploys: number;
}

export async function renderAll(store: GitopsStore, options: { readonly now?: Date } = {}): Promise<RenderAllResult> {
  return withFreshTip(store, async (snapshot) => {
    const workspace = await snapshot.workspace();
    const records = await snapshot.allDeployRecords();

    // Files are compared as they are rendered, and only the text of a file that changed is kept:
    // at 10,000 previews every rendered file at once was most of the memory a re-render took.
    // A file whose id the store cannot tell is kept (the commit leaves it alone if it is equal).
    const { store: reads, commit: tip } = snapshot;
    const existing = new Map<string, string | undefined>();
    for (const root of GENERATED_DIRS) {
      const ids = reads.fileIds ? await reads.fileIds(tip, root) : new Map((await reads.listFiles(tip, root)).map((path) => [path, undefined]));
      for (const [path, id] of ids) existing.set(path, id);
    }
    const changes = new Map<string, string | null>();
    for (const [path, text] of generatedFiles(workspace, await snapshot.apps(), records)) {
      const id = existing.get(path);
      existing.delete(path);
      if (id === undefined || id !== gitObjectId('blob', text)) changes.set(path, text);
    }
    // What no record renders any more goes.
    for (const path of existing.keys()) changes.set(path, null);

    const commit = await store.commit({
      parent: snapshot.commit,
      changes,
      message: `Re-render ${records.length} branch deploys\n\nx1deploy render regenerated ${GENERATED_DIRS.map((r) => `${r}/`).join(' and ')} from the records.`,
      author: systemCommitter('render', options.now ?? new Date()),
    });
    return { commit, branchDeploys: records.length };
  });
}
