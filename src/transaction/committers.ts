// Who a commit says made it. Every commit x1deploy writes has one of these authors, so the git
// history (the audit log) tells agents, owners and x1deploy's own jobs apart by email domain.
import type { CommitAuthor } from '../records/index.js';

const seconds = (now: Date) => Math.floor(now.getTime() / 1000);
const mailbox = (id: string) => id.replace(/@/g, '.');

/** A deploy or rollback an agent asked for. */
export function agentCommitter(agent: string, now: Date): CommitAuthor {
  return { name: agent, email: `${mailbox(agent)}@agents.x1deploy`, timestamp: seconds(now) };
}

/** A change a workspace owner made (grants). */
export function ownerCommitter(owner: string, now: Date): CommitAuthor {
  return { name: owner, email: `${mailbox(owner)}@owners.x1deploy`, timestamp: seconds(now) };
}

/** x1deploy's own jobs and commands: the name and address each signs with. */
const SYSTEM = {
  init: { name: 'x1deploy', email: 'init@x1deploy' },
  render: { name: 'x1deploy', email: 'render@x1deploy' },
  install: { name: 'x1deploy', email: 'install@x1deploy' },
  build: { name: 'x1deploy-build', email: 'build@x1deploy' },
  reap: { name: 'x1deploy-reaper', email: 'reap@x1deploy' },
  /** A group commit of several callers' changes (each named in the message). */
  serve: { name: 'x1deploy-serve', email: 'serve@x1deploy' },
  /** A group commit of several processes' changes, landed by the one holding the cache clone. */
  group: { name: 'x1deploy-group', email: 'group@x1deploy' },
} as const;

export type SystemRole = keyof typeof SYSTEM;

export function systemCommitter(role: SystemRole, now: Date): CommitAuthor {
  return { ...SYSTEM[role], timestamp: seconds(now) };
}

/** The name x1deploy's job signs as (the X1-Agent trailer of its commits). */
export function systemName(role: SystemRole): string {
  return SYSTEM[role].name;
}
