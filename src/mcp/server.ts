// `x1deploy mcp`: the tools over MCP (stdio). The low-level server is used so that invalid input
// comes back as a tool error listing every field problem in the library's own words, and so that
// errors never carry stack traces or secret values.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { DeniedError, InvalidRequestError } from '../deploy/errors.js';
import { isUserFacing } from '../user-facing-errors.js';
import { TOOLS, toolInputJsonSchema, type ToolContext } from './tools.js';

export function createMcpServer(context: ToolContext, version: string): Server {
  const server = new Server({ name: 'x1deploy', version }, { capabilities: { tools: {} } });

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: TOOLS.map((tool) => ({ name: tool.name, description: tool.description, inputSchema: toolInputJsonSchema(tool) as never })),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const tool = TOOLS.find((t) => t.name === request.params.name);
    if (!tool) return toolError({ error: `unknown tool ${request.params.name}; the tools are ${TOOLS.map((t) => t.name).join(', ')}` });
    try {
      const { structured, sentence } = await tool.call(context, request.params.arguments ?? {});
      return { content: [{ type: 'text', text: sentence }], structuredContent: structured };
    } catch (err) {
      return errorResult(err);
    }
  });
  return server;
}

function toolError(structured: Record<string, unknown>, text = String(structured.error ?? structured.reason)): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }], structuredContent: structured };
}

function errorResult(err: unknown): CallToolResult {
  if (err instanceof InvalidRequestError) {
    const text = `Invalid request:\n${err.issues.map((i) => `- ${i.path}: ${i.message}`).join('\n')}`;
    return toolError({ error: 'invalid request', issues: err.issues }, text);
  }
  if (err instanceof DeniedError) return toolError({ denied: true, reason: err.reason }, `Denied: ${err.reason}`);
  if (isUserFacing(err)) return toolError({ error: err.message });
  // Unexpected: say so without internals; the operator finds details in the server's stderr.
  process.stderr.write(`x1deploy mcp: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return toolError({
    error: 'internal error in x1deploy; nothing was written. Try again, or ask the workspace operator to check the x1deploy logs.',
  });
}
