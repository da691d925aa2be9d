// Who a pull request is from, as the CI that runs verify knows it (never as the pull request says):
// an agent id given outright, or the git host login of the pull request's author, looked up in
// x1deploy.yaml `identities` as it is on the target branch.
import type { Identities } from '../workspace/index.js';

export interface Identity {
  /** The agent whose grants the pull request's deploys and rollbacks use. */
  readonly agent?: string;
  /** A workspace owner: may change owner files and delete branch deploys. */
  readonly owner: boolean;
  /** x1deploy's own login: its proposals name the agent that asked (x1deploy authenticated it). */
  readonly proposer: boolean;
  /** For messages: "agent agent-7", "login alice (owner)". */
  readonly described: string;
}

export interface IdentityClaim {
  /** --agent ID: authorize the pull request as this agent. */
  readonly agent?: string;
  /** --author LOGIN: the pull request author's git host login. */
  readonly author?: string;
}

/** Undefined when verify was given no identity: then the pull request may change nothing that needs one. */
export function resolveIdentity(identities: Identities | undefined, claim: IdentityClaim): Identity | undefined {
  if (claim.agent !== undefined) return { agent: claim.agent, owner: false, proposer: false, described: `agent ${claim.agent}` };
  if (claim.author === undefined) return undefined;
  const login = claim.author.toLowerCase();
  const same = (l: string) => l.toLowerCase() === login;
  const owner = identities?.owners.some(same) ?? false;
  const proposer = identities?.proposer !== undefined && same(identities.proposer);
  const agent = identities?.agents.find((a) => same(a.login))?.agent;
  const roles = [owner ? 'owner' : '', proposer ? 'x1deploy proposer' : '', agent ? `agent ${agent}` : ''].filter(Boolean);
  return {
    ...(agent ? { agent } : {}),
    owner,
    proposer,
    described: `login ${claim.author} (${roles.length ? roles.join(', ') : 'not named in x1deploy.yaml identities'})`,
  };
}
