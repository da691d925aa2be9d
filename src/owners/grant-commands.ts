// x1deploy grant / revoke / grants: owners' edits of grants.yaml, one commit each.
import { type GitopsStore, stringifyRecord, RepoSnapshot } from '../records/index.js';
import { ownerCommitter, withFreshTip } from '../transaction/index.js';
import {
  addGrant,
  revokeGrants,
  type GrantEdit,
  type GrantRequest,
  type RevokeRequest,
  emptyGrantsFile,
  GrantSchema,
  type Grant,
  type GrantsFile,
} from '../grants/index.js';
import { GRANTS_FILE } from '../layout/index.js';
import { InvalidRequestError } from '../errors/index.js';

export interface GrantCommandResult {
  readonly commit: string | undefined;
  readonly summary: string;
  readonly grants: readonly Grant[];
}

async function editGrants(store: GitopsStore, by: string, now: Date, edit: (file: GrantsFile) => GrantEdit): Promise<GrantCommandResult> {
  return withFreshTip(store, async (snapshot) => {
    await snapshot.workspace();
    const result = edit((await snapshot.grants()) ?? emptyGrantsFile());
    const commit = result.changed
      ? await store.commit({
          parent: snapshot.commit,
          changes: new Map([[GRANTS_FILE, stringifyRecord(result.file)]]),
          message: `Grants: ${result.summary}\n\nX1-Owner: ${by}`,
          author: ownerCommitter(by, now),
        })
      : undefined;
    return { commit, summary: result.summary, grants: result.file.grants };
  });
}

function checkGrantFields(fields: Record<string, unknown>): void {
  const shape = GrantSchema.pick({ agent: true, app: true, branches: true, mode: true, granted_by: true });
  const parsed = shape.partial().safeParse(fields);
  if (!parsed.success) {
    throw new InvalidRequestError(parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })));
  }
}

export async function grantDeploy(store: GitopsStore, req: Omit<GrantRequest, 'now'>, now = new Date()): Promise<GrantCommandResult> {
  checkGrantFields({ agent: req.agent, app: req.app, branches: req.branches, mode: req.mode, granted_by: req.by });
  return editGrants(store, req.by, now, (file) => addGrant(file, { ...req, now: now.toISOString() }));
}

export async function revokeDeploy(store: GitopsStore, req: Omit<RevokeRequest, 'now'>, now = new Date()): Promise<GrantCommandResult> {
  checkGrantFields({ agent: req.agent, app: req.app, branches: req.branches, granted_by: req.by });
  return editGrants(store, req.by, now, (file) => revokeGrants(file, { ...req, now: now.toISOString() }));
}

export async function listGrants(store: GitopsStore): Promise<readonly Grant[]> {
  const snapshot = await RepoSnapshot.atHead(store);
  await snapshot.workspace();
  return (await snapshot.grants())?.grants ?? [];
}
