// `x1deploy render`: re-render every branch deploy, the workspace objects and the engine bootstrap
// from the records, removing generated files no record produces any more. One commit, or none
// when nothing changed.
import { GENERATED_DIRS } from '../layout/index.js';
import { type GitopsStore } from '../records/index.js';
import { renderGenerated } from '../render/index.js';
import { systemCommitter, withFreshTip } from '../transaction/index.js';

export interface RenderAllResult {
  readonly commit: string | undefined;
  readonly branchDeploys: number;
}

export async function renderAll(store: GitopsStore, options: { readonly now?: Date } = {}): Promise<RenderAllResult> {
  return withFreshTip(store, async (snapshot) => {
    const workspace = await snapshot.workspace();
    const records = await snapshot.allDeployRecords();
    const desired = renderGenerated(workspace, await snapshot.apps(), records);

    const changes = new Map<string, string | null>();
    for (const root of GENERATED_DIRS) {
      for (const path of await store.listFiles(snapshot.commit, root)) if (!desired.has(path)) changes.set(path, null);
    }
    for (const [path, text] of desired) changes.set(path, text);

    const commit = await store.commit({
      parent: snapshot.commit,
      changes,
      message: `Re-render ${records.length} branch deploys\n\nx1deploy render regenerated ${GENERATED_DIRS.map((r) => `${r}/`).join(' and ')} from the records.`,
      author: systemCommitter('render', options.now ?? new Date()),
    });
    return { commit, branchDeploys: records.length };
  });
}
