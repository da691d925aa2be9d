// The agent's tools. Each input schema is generated from the zod schema the library validates
// with, so the MCP tool, the CLI and the library can never disagree about a field.
import { z } from 'zod';
import {
  deployBranch,
  listBranchDeploys,
  rollbackBranch,
  RollbackRequestSchema,
  branchDeployStatus,
  BranchRefSchema,
} from '../deploy/index.js';
import type { GitopsStore } from '../records/index.js';
import type { ReviewPort } from '../review/index.js';
import { AppNameSchema, deployRequestSchema } from '../spec/index.js';

export interface ToolContext {
  readonly store: GitopsStore;
  /** From the server's configuration: an agent cannot act as another. */
  readonly agent: string;
  readonly review?: ReviewPort;
}

export interface ToolAnswer {
  readonly structured: Record<string, unknown>;
  readonly sentence: string;
}

export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly input: z.ZodType;
  readonly call: (context: ToolContext, input: unknown) => Promise<ToolAnswer>;
}

const ListInputSchema = z.strictObject({ app: AppNameSchema.optional() });

export const TOOLS: readonly ToolDefinition[] = [
  {
    name: 'deploy_branch',
    description:
      'Deploy a branch of an app as a live preview in the workspace. Records a new version, renders its manifests and commits them to the gitops repo. The image is built from commit_sha; until then a new preview runs nothing, and a running one keeps its last built version. Returns the preview URL, the version and the image reference, or {denied, reason}.',
    input: deployRequestSchema(),
    async call({ store, agent, review }, input) {
      const { answer, commit } = await deployBranch(store, input, { agent, review });
      const where = !commit
        ? 'already deployed, nothing changed'
        : answer.gitops_branch
          ? `proposed for review on gitops branch ${answer.gitops_branch}; it goes live when merged`
          : 'committed to the gitops repo';
      return {
        structured: { ...answer, gitops_commit: commit ?? null },
        sentence: `${answer.app} ${answer.branch} version ${answer.version} (${answer.status}): ${where}. Preview: ${answer.url}`,
      };
    },
  },
  {
    name: 'branch_deploy_status',
    description:
      "A branch deploy's state: its URL, which version serves, each version's status, and for a failed build the reason and the last lines of its log.",
    input: BranchRefSchema,
    async call({ store }, input) {
      const status = await branchDeployStatus(store, input as z.output<typeof BranchRefSchema>);
      const serving = status.current_version === null ? 'nothing built yet' : `version ${status.current_version}`;
      const newest = status.versions[0]!;
      const failure = newest.failure ? ` Latest build failed: ${newest.failure.split('\n')[0]}` : '';
      return {
        structured: { ...status },
        sentence: `${status.app} ${status.branch} is ${status.status}, serving ${serving}; newest is version ${newest.number} (${newest.status}).${failure} ${status.url}`,
      };
    },
  },
  {
    name: 'list_branch_deploys',
    description: 'The branch deploys of the workspace (or of one app): app, branch, URL, newest version and its status.',
    input: ListInputSchema,
    async call({ store }, input) {
      const { app } = input as z.output<typeof ListInputSchema>;
      const deploys = await listBranchDeploys(store, { app });
      return {
        structured: { deploys },
        sentence: deploys.length === 0 ? 'No branch deploys.' : `${deploys.length} branch deploy${deploys.length === 1 ? '' : 's'}.`,
      };
    },
  },
  {
    name: 'rollback_branch',
    description:
      'Serve an earlier built version of a branch deploy again (default: the previous built one). No rebuild: the image is pinned by digest. Needs the same grant as deploy_branch.',
    input: RollbackRequestSchema,
    async call({ store, agent }, input) {
      const { answer } = await rollbackBranch(store, input as z.output<typeof RollbackRequestSchema>, { agent });
      return {
        structured: { ...answer },
        sentence: `${answer.app} ${answer.branch} serves version ${answer.version} again (was ${answer.previous_version ?? 'none'})${answer.gitops_branch ? `, proposed for review on ${answer.gitops_branch}` : ''}. ${answer.url}`,
      };
    },
  },
];

/** The JSON schema an MCP client sees for a tool's input. */
export function toolInputJsonSchema(tool: ToolDefinition): Record<string, unknown> {
  const { $schema: _drop, ...schema } = z.toJSONSchema(tool.input, { io: 'input' }) as Record<string, unknown>;
  return schema;
}
