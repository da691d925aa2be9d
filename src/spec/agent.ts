import { z } from 'zod';

/** Who asks: an agent id from the caller's configuration (MCP server, CLI flag), never from a request. */
export const AgentIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/, { message: 'agent id must be 1-128 letters, digits, ".", "_", "@" or "-"' });
