// Parsed records by blob id. A blob id names its bytes, so a file seen once at any commit never
// needs reading, parsing or validating again in this process: a long-lived server (serve, mcp)
// lists 10,000 previews from the trees alone once it has seen them. Cached values are frozen, as
// every reader shares them.
import type { z } from 'zod';

const LIMIT = 50_000;
const bySchema = new WeakMap<z.ZodType, Map<string, unknown>>();
let size = 0;
const order: { schema: z.ZodType; id: string }[] = [];

export function cachedRecord<S extends z.ZodType>(schema: S, id: string): z.output<S> | undefined {
  return bySchema.get(schema)?.get(id) as z.output<S> | undefined;
}

export function rememberRecord<S extends z.ZodType>(schema: S, id: string, value: z.output<S>): z.output<S> {
  let cache = bySchema.get(schema);
  if (!cache) bySchema.set(schema, (cache = new Map()));
  if (cache.has(id)) return cache.get(id) as z.output<S>;
  deepFreeze(value);
  cache.set(id, value);
  order.push({ schema, id });
  if (++size > LIMIT) {
    // The oldest quarter goes at once, so the bookkeeping stays cheap.
    for (const old of order.splice(0, LIMIT / 4)) {
      if (bySchema.get(old.schema)?.delete(old.id)) size--;
    }
  }
  return value;
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const inner of Object.values(value)) deepFreeze(inner);
}
