// The MCP shell: the agent's tools over the library.
export { createMcpServer } from './server.js';
export { TOOLS, toolInputJsonSchema, type ToolAnswer, type ToolContext, type ToolDefinition } from './tools.js';
