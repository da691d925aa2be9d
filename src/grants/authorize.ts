// Who may deploy what: an active grant must match (agent, app, branch). The reason of a denial
// names what is missing and what the agent does hold, so the agent knows whom to ask for what.
import { branchMatches } from './branch-pattern.js';
import type { Grant, GrantMode, GrantsFile } from './grants-file.js';

export type Authorization =
  { readonly allowed: true; readonly mode: GrantMode; readonly grant: Grant } | { readonly allowed: false; readonly reason: string };

/** When several active grants match, auto wins: an owner who granted auto meant it. */
export function authorize(grants: GrantsFile | undefined, agent: string, app: string, branch: string): Authorization {
  if (!grants)
    return { allowed: false, reason: `grants.yaml is missing, so no agent may deploy; an owner grants ${agent} with "x1deploy grant"` };
  const forApp = grants.grants.filter((g) => g.agent === agent && g.app === app);
  const active = forApp.filter((g) => g.revoked_at === undefined);
  const matching = active.filter((g) => branchMatches(g.branches, branch));
  const grant = matching.find((g) => g.mode === 'auto') ?? matching[0];
  if (grant) return { allowed: true, mode: grant.mode, grant };

  const base = `agent ${agent} has no deploy grant for app ${app} on branch ${branch}`;
  if (active.length > 0) {
    return { allowed: false, reason: `${base}; its grants for ${app} cover ${active.map((g) => g.branches).join(', ')}` };
  }
  const revoked = forApp.filter((g) => g.revoked_at !== undefined && branchMatches(g.branches, branch));
  if (revoked.length > 0) {
    const r = revoked[revoked.length - 1]!;
    return { allowed: false, reason: `${base}; its grant for ${r.branches} was revoked at ${r.revoked_at}` };
  }
  const otherApps = [...new Set(grants.grants.filter((g) => g.agent === agent && g.revoked_at === undefined).map((g) => g.app))];
  return {
    allowed: false,
    reason: otherApps.length > 0 ? `${base}; it holds grants for ${otherApps.join(', ')} only` : `${base}; it holds no deploy grants`,
  };
}
