// Who is calling the service: a bearer token, looked up by its SHA-256 in a YAML list mounted from
// a Secret (never in git). The file holds hashes only, so reading it leaks no token.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { InvalidRequestError, X1Error } from '../errors/index.js';
import { AgentIdSchema, toFieldIssues } from '../spec/index.js';

const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be the hex SHA-256 of the token (64 lowercase hex digits)' });

const TokenEntrySchema = z.union([
  z.strictObject({ sha256: Sha256Schema, agent: AgentIdSchema }),
  z.strictObject({ sha256: Sha256Schema, owner: z.string().min(1).max(100) }),
  z.strictObject({ sha256: Sha256Schema, read: z.literal(true) }),
]);
export const TokensFileSchema = z.array(TokenEntrySchema).max(10_000);

/** The caller, as its token says. */
export type Caller = { readonly kind: 'agent'; readonly agent: string } | { readonly kind: 'owner'; readonly owner: string } | { readonly kind: 'read' };

export class TokensFileError extends X1Error {
  constructor(file: string, why: string) {
    super('invalid', `tokens file ${file}: ${why}; it is a YAML list of {sha256, agent} | {sha256, owner} | {sha256, read: true}`);
  }
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface TokenTable {
  /** The caller of an `Authorization` header, or undefined for a missing or unknown token. */
  identify(authorization: string | undefined): Caller | undefined;
  readonly size: number;
}

export function tokenTable(entries: z.output<typeof TokensFileSchema>): TokenTable {
  const byHash = new Map<string, Caller>();
  for (const e of entries) {
    byHash.set(e.sha256, 'agent' in e ? { kind: 'agent', agent: e.agent } : 'owner' in e ? { kind: 'owner', owner: e.owner } : { kind: 'read' });
  }
  return {
    size: byHash.size,
    identify(authorization) {
      const m = /^Bearer ([\x21-\x7e]{16,4096})$/.exec(authorization ?? '');
      return m ? byHash.get(tokenHash(m[1]!)) : undefined;
    },
  };
}

export async function loadTokens(file: string): Promise<TokenTable> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new TokensFileError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let data: unknown;
  try {
    data = parse(text, { maxAliasCount: 0 });
  } catch {
    throw new TokensFileError(file, 'is not YAML');
  }
  const parsed = TokensFileSchema.safeParse(data);
  if (!parsed.success) throw new InvalidRequestError(toFieldIssues(parsed.error), `invalid tokens file ${file}`);
  return tokenTable(parsed.data);
}
