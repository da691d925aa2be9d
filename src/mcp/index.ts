// The MCP shell: the agent's tools over the library.
export { createMcpServer } from './server.js';
export { jsonSchemaOf, TOOLS, type ToolAnswer, type ToolCallRecord, type ToolContext, type ToolDefinition } from './tools.js';
