// Granting and revoking are pure edits of grants.yaml; the caller commits the result.
import type { Grant, GrantMode, GrantsFile } from './grants-file.js';
import { X1Error } from '../errors/index.js';

export interface GrantRequest {
  readonly agent: string;
  readonly app: string;
  readonly branches: string;
  /** Absent: the mode the agent already holds for this pattern, or review for a new grant. */
  readonly mode?: GrantMode;
  readonly by: string;
  readonly now: string;
}

/** What a new grant gets when the owner names no mode: a person reviews every deploy. */
export const DEFAULT_GRANT_MODE: GrantMode = 'review';

export type GrantEdit = { readonly file: GrantsFile; readonly changed: boolean; readonly summary: string };

export function addGrant(file: GrantsFile, req: GrantRequest): GrantEdit {
  const same = (g: Grant) => g.agent === req.agent && g.app === req.app && g.branches === req.branches && g.revoked_at === undefined;
  const existing = file.grants.find(same);
  // Granting again without a mode keeps the mode held: it never downgrades an auto grant.
  const mode = req.mode ?? existing?.mode ?? DEFAULT_GRANT_MODE;
  if (existing?.mode === mode) {
    return {
      file,
      changed: false,
      summary: `${req.agent} already holds ${mode === 'auto' ? 'an' : 'a'} ${mode} grant for ${req.app} on ${req.branches}; nothing changed`,
    };
  }
  const grant: Grant = { agent: req.agent, app: req.app, branches: req.branches, mode, granted_by: req.by, granted_at: req.now };
  // A changed mode replaces the active grant: the old one is revoked, so the history stays.
  const grants = file.grants.map((g) => (same(g) ? { ...g, revoked_at: req.now, revoked_by: req.by } : g));
  const summary = existing
    ? `${req.by} changed ${req.agent}'s grant for ${req.app} on ${req.branches} from ${existing.mode} to ${mode}`
    : `${req.by} granted ${req.agent} ${mode} deploys of ${req.app} on ${req.branches}`;
  return { file: { ...file, grants: [...grants, grant] }, changed: true, summary };
}

export interface RevokeRequest {
  readonly agent: string;
  readonly app: string;
  /** Only the grant with this pattern; all of the agent's grants for the app when absent. */
  readonly branches?: string;
  readonly by: string;
  readonly now: string;
}

export class NothingToRevokeError extends X1Error {
  constructor(req: RevokeRequest, held: readonly string[]) {
    super(
      'invalid',
      `${req.agent} holds no active grant for ${req.app}${req.branches ? ` on ${req.branches}` : ''}` +
        (held.length ? `; its active grants for ${req.app} cover ${held.join(', ')}` : ''),
    );
  }
}

export function revokeGrants(file: GrantsFile, req: RevokeRequest): GrantEdit {
  const target = (g: Grant) =>
    g.agent === req.agent && g.app === req.app && g.revoked_at === undefined && (req.branches === undefined || g.branches === req.branches);
  const hits = file.grants.filter(target);
  // Revoking what is revoked already is "already so", like granting what is held: no change, no error.
  const revokedBefore = file.grants.filter(
    (g) =>
      g.agent === req.agent &&
      g.app === req.app &&
      g.revoked_at !== undefined &&
      (req.branches === undefined || g.branches === req.branches),
  );
  if (hits.length === 0 && revokedBefore.length > 0) {
    return {
      file,
      changed: false,
      summary: `${req.agent}'s grant for ${req.app}${req.branches ? ` on ${req.branches}` : ''} is revoked already; nothing changed`,
    };
  }
  if (hits.length === 0) {
    const held = file.grants.filter((g) => g.agent === req.agent && g.app === req.app && g.revoked_at === undefined).map((g) => g.branches);
    throw new NothingToRevokeError(req, held);
  }
  const grants = file.grants.map((g) => (target(g) ? { ...g, revoked_at: req.now, revoked_by: req.by } : g));
  return {
    file: { ...file, grants },
    changed: true,
    summary: `${req.by} revoked ${req.agent}'s grant${hits.length > 1 ? 's' : ''} for ${req.app} on ${hits.map((g) => g.branches).join(', ')}`,
  };
}
