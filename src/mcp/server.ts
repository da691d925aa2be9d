// `x1deploy mcp`: the tools over MCP (stdio). The low-level server is used so that invalid input
// comes back as a tool error listing every field problem in the library's own words, and so that
// errors never carry stack traces or secret values.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { errorAnswer, kindOf } from '../errors/index.js';
import { jsonSchemaOf, TOOLS, workspaceLimits, type ToolCallRecord, type ToolContext } from './tools.js';

export function createMcpServer(context: ToolContext, version: string): Server {
  const server = new Server({ name: 'x1deploy', version }, { capabilities: { tools: {} } });

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    // The workspace's own limits, so a client sees replicas' real maximum before it asks.
    const limits = await workspaceLimits(context.store);
    return {
      tools: TOOLS.map((tool) => ({
        name: tool.name,
        title: tool.title,
        description: tool.description,
        inputSchema: jsonSchemaOf(tool.input(limits), 'input') as never,
        outputSchema: jsonSchemaOf(tool.output, 'output') as never,
        annotations: { title: tool.title, ...tool.annotations },
      })),
    };
  });

  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const tool = TOOLS.find((t) => t.name === request.params.name);
    if (!tool) {
      const error = `unknown tool ${request.params.name}; the tools are ${TOOLS.map((t) => t.name).join(', ')}`;
      return toolError({ error, kind: 'invalid' }, error);
    }
    const started = performance.now();
    const record = (outcome: ToolCallRecord['outcome'], structured?: Record<string, unknown>) =>
      context.onCall?.({ tool: tool.name, outcome, seconds: (performance.now() - started) / 1000, ...(structured ? { structured } : {}) });
    try {
      const { structured, sentence } = await tool.call(context, request.params.arguments ?? {});
      record('ok', structured);
      // The sentence for a person, then the same JSON as the structured content (MCP: for clients that read text only).
      return {
        content: [
          { type: 'text', text: sentence },
          { type: 'text', text: JSON.stringify(structured) },
        ],
        structuredContent: structured,
      };
    } catch (err) {
      record(kindOf(err));
      return errorResult(err);
    }
  });
  return server;
}

/**
 * A failed call: the sentence, then the error answer as JSON text. No structuredContent: it would
 * have to match the tool's output schema, which describes success (clients validate it).
 */
function toolError(structured: Record<string, unknown>, text: string): CallToolResult {
  return {
    isError: true,
    content: [
      { type: 'text', text },
      { type: 'text', text: JSON.stringify(structured) },
    ],
  };
}

/** Every failure as the taxonomy answers it: the same structured answer as the CLI's --json. */
function errorResult(err: unknown): CallToolResult {
  const answer = errorAnswer(err);
  if (kindOf(err) === 'internal') {
    // Unexpected: say so without internals; the operator finds details in the server's stderr.
    process.stderr.write(`x1deploy mcp: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  if ('denied' in answer) return toolError({ ...answer }, `Denied: ${answer.reason}`);
  if ('issues' in answer) {
    return toolError({ ...answer }, `Invalid request:\n${answer.issues.map((i) => `- ${i.path}: ${i.message}`).join('\n')}`);
  }
  return toolError({ ...answer }, answer.error);
}
