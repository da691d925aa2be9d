// x1deploy as a service: the agent tools over MCP Streamable HTTP, identity from bearer tokens.
export { serviceApp, startService, type RunningServer, type ServeOptions } from './server.js';
export { loadTokens, tokenHash, tokenTable, TokensFileError, TokensFileSchema, type Caller, type TokenTable } from './tokens.js';
export { apiRoutes, openApiDocument } from './api.js';
export { webhookHandler, type WebhookOptions } from './webhooks.js';
export { EVENT_TYPES, EventLog, transitionEvents, type CloudEvent, type EventType } from './events.js';
