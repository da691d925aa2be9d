// ETags let an unchanged listing cost GitHub nothing: a conditional request answered 304 does not count
// against the rate limit. The cache must outlive the process for a daily CronJob, hence the file form.
//
// Keys are chosen by the caller and must include who asked: GitHub's ETags are per token, and an
// ETag from one token sent with another only wastes the request.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { X1Error } from '../errors/index.js';

/** One cached response: its ETag, the part of its body the caller keeps, and its Link header. */
export interface CachedResponse {
  readonly etag: string;
  readonly body: unknown;
  readonly link?: string;
}

export interface EtagCache {
  get(key: string): CachedResponse | undefined;
  set(key: string, response: CachedResponse): void;
  /** Persist what was set; called after each listing. Memory-only caches leave it out. */
  flush?(): Promise<void>;
}

export class MemoryEtagCache implements EtagCache {
  private readonly entries = new Map<string, CachedResponse>();

  get(key: string): CachedResponse | undefined {
    return this.entries.get(key);
  }

  set(key: string, response: CachedResponse): void {
    this.entries.set(key, response);
  }

  get size(): number {
    return this.entries.size;
  }
}

const FILE_VERSION = 1;

/** The cache file is unreadable or not one of ours; say where, so an operator can remove it. */
export class EtagCacheFileError extends X1Error {
  constructor(
    readonly file: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super('invalid', `the ETag cache file ${file} ${reason}; delete it (the next listing refills it at full request cost)`, options);
  }
}

/**
 * A cache kept in one JSON file, read once when opened and rewritten whole on flush (atomically: a
 * temp file renamed over it, so a killed job leaves the old file, never half a file).
 */
export class JsonFileEtagCache implements EtagCache {
  private readonly memory = new Map<string, CachedResponse>();
  private dirty = false;

  /** A missing file is an empty cache; a corrupt one is an EtagCacheFileError. */
  constructor(readonly file: string) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new EtagCacheFileError(file, 'cannot be read', { cause: error });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new EtagCacheFileError(file, 'is not valid JSON', { cause: error });
    }
    if (!isCacheFile(parsed)) throw new EtagCacheFileError(file, `is not an x1deploy ETag cache (version ${FILE_VERSION})`);
    for (const [key, entry] of Object.entries(parsed.entries)) if (isCachedResponse(entry)) this.memory.set(key, entry);
  }

  get(key: string): CachedResponse | undefined {
    return this.memory.get(key);
  }

  set(key: string, response: CachedResponse): void {
    this.memory.set(key, response);
    this.dirty = true;
  }

  async flush(): Promise<void> {
    if (!this.dirty) return;
    // Cleared before the writes: a set() while they run marks the cache dirty again.
    this.dirty = false;
    const content = JSON.stringify({ version: FILE_VERSION, entries: Object.fromEntries(this.memory) });
    const temp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(this.file), { recursive: true });
      await writeFile(temp, content, { mode: 0o600 });
      await rename(temp, this.file);
    } catch (error) {
      this.dirty = true;
      await rm(temp, { force: true });
      throw new EtagCacheFileError(this.file, 'cannot be written', { cause: error });
    }
  }
}

function isCacheFile(value: unknown): value is { version: number; entries: Record<string, unknown> } {
  if (typeof value !== 'object' || value === null) return false;
  const { version, entries } = value as { version?: unknown; entries?: unknown };
  return version === FILE_VERSION && typeof entries === 'object' && entries !== null && !Array.isArray(entries);
}

function isCachedResponse(value: unknown): value is CachedResponse {
  if (typeof value !== 'object' || value === null) return false;
  const { etag, link } = value as { etag?: unknown; link?: unknown };
  return typeof etag === 'string' && (link === undefined || typeof link === 'string') && 'body' in value;
}
