// rendered/ and bootstrap/ must be exactly what x1deploy renders from the records: a hand edit
// there would reach the cluster without passing the request's validation, grants or budgets.
import { type GitopsStore, RepoSnapshot } from '../records/index.js';
import { GENERATED_DIRS as GENERATED_ROOTS, renderedDir } from '../layout/index.js';
import { renderGenerated } from '../render/index.js';
import { RENDER_COMMAND, type VerifyProblem } from './problems.js';
import { deployFileParts, type Specs } from './specs.js';

/** Each generated file that differs from a fresh render, is missing, or should not be there. */
export async function renderDrift(store: GitopsStore, commit: string, specs: Specs): Promise<VerifyProblem[]> {
  if (!specs.workspace) return []; // reported as invalid-spec: nothing can be rendered
  const apps = await new RepoSnapshot(store, commit).apps();
  const desired = renderGenerated(specs.workspace, apps, [...specs.records.values()]);
  // An invalid record renders nothing: its folder is its invalid-spec problem, not drift on top.
  const unrenderable = [...specs.deployTexts.keys()]
    .filter((path) => !specs.records.has(path))
    .map((path) => {
      const { app, slug } = deployFileParts(path)!;
      return `${renderedDir(app, slug)}/`;
    });

  const existing = (await Promise.all(GENERATED_ROOTS.map((root) => store.listFiles(commit, root)))).flat();
  const texts = await Promise.all(existing.map((path) => store.readFile(commit, path)));
  const problems: VerifyProblem[] = [];
  const fix = `run "${RENDER_COMMAND}" and commit the result`;
  existing.forEach((path, i) => {
    if (unrenderable.some((dir) => path.startsWith(dir))) return;
    const want = desired.get(path);
    if (want === undefined) {
      problems.push({
        kind: 'render-drift',
        path,
        message: `is not rendered from any record (x1deploy owns this folder); ${fix} to remove it`,
      });
    } else if (texts[i] !== want) {
      problems.push({
        kind: 'render-drift',
        path,
        message: `differs from what x1deploy renders from the records (edited by hand, or its spec changed without a render); ${fix}`,
      });
    }
  });
  const present = new Set(existing);
  for (const path of desired.keys()) {
    if (!present.has(path))
      problems.push({ kind: 'render-drift', path, message: `is missing: x1deploy renders it from the records; ${fix}` });
  }
  return problems;
}
