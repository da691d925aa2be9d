// Parsed records by blob id. A blob id names its bytes, so a file seen once at any commit never
// needs reading, parsing or validating again in this process: a long-lived server (serve, mcp)
// lists 10,000 previews from the trees alone once it has seen them. Cached values are frozen, as
// every reader shares them.
//
// A one-shot process (the CLI's deploy) may also keep them on a shelf that outlives it: a cold
// deploy otherwise parses and validates the same dozen records (the workspace, the grants, every
// app) that the last one did, which was a fifth of its time.
import type { z } from 'zod';

/** The kinds of record, each read by one schema: the shelf's namespaces. */
export type RecordKind = 'workspace' | 'grants' | 'app' | 'deploy';

/**
 * Parsed records kept across processes, by kind and blob id. Whatever it holds is taken as
 * validated: only one written by this same build (the CLI's shelf is keyed by its bundle) may be
 * read back.
 */
export interface ParsedRecordShelf {
  get(kind: RecordKind, id: string): unknown;
  put(kind: RecordKind, id: string, value: unknown): void;
}

const LIMIT = 50_000;
const bySchema = new WeakMap<z.ZodType, Map<string, unknown>>();
let size = 0;
const order: { schema: z.ZodType; id: string }[] = [];
let shelf: ParsedRecordShelf | undefined;

/** Keep parsed records on `next` too, for the rest of this process (undefined: in memory only). */
export function keepParsedRecordsOn(next: ParsedRecordShelf | undefined): void {
  shelf = next;
}

export function cachedRecord<S extends z.ZodType>(kind: RecordKind, schema: S, id: string): z.output<S> | undefined {
  const seen = bySchema.get(schema)?.get(id) as z.output<S> | undefined;
  if (seen !== undefined || shelf === undefined) return seen;
  const kept = shelf.get(kind, id) as z.output<S> | undefined;
  return kept === undefined ? undefined : remember(schema, id, kept);
}

export function rememberRecord<S extends z.ZodType>(kind: RecordKind, schema: S, id: string, value: z.output<S>): z.output<S> {
  const kept = remember(schema, id, value);
  shelf?.put(kind, id, kept);
  return kept;
}

function remember<S extends z.ZodType>(schema: S, id: string, value: z.output<S>): z.output<S> {
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
