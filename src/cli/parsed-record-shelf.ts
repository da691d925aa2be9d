// The deploy's parsed records, kept for the next deploy: one JSON file per record (by kind and blob
// id) in a folder of the user's cache that belongs to one build of the leader bundle, so a record
// is only ever read back by the code that validated it. Kept as the code cache is (a folder 0700,
// files 0600, in the user's own cache): whoever can write there can already change the code run.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ParsedRecordShelf, RecordKind } from '../records/index.js';

/** More files than this and the shelf is emptied: it refills with what deploys read. */
const MAX_FILES = 2000;
const BLOB_ID = /^[0-9a-f]{40}$/;

export function parsedRecordShelf(dir: string): ParsedRecordShelf {
  const file = (kind: RecordKind, id: string) => join(dir, `${kind}.${id}.json`);
  return {
    get(kind, id) {
      if (!BLOB_ID.test(id)) return undefined;
      try {
        return JSON.parse(readFileSync(file(kind, id), 'utf8')) as unknown;
      } catch {
        return undefined;
      }
    },
    put(kind, id, value) {
      if (!BLOB_ID.test(id)) return;
      try {
        if (mkdirSync(dir, { recursive: true, mode: 0o700 }) !== undefined) dropOtherBuilds(dir);
        const target = file(kind, id);
        const aside = `${target}.${process.pid}.tmp`;
        writeFileSync(aside, JSON.stringify(value), { mode: 0o600 });
        renameSync(aside, target);
        if (readdirSync(dir).length > MAX_FILES) rmSync(dir, { recursive: true, force: true });
      } catch {
        // A shelf that cannot be written (a read-only home) only costs the next deploy its parsing.
      }
    },
  };
}

/** A new build's shelf replaces the ones of the builds before it. */
function dropOtherBuilds(dir: string): void {
  const parent = dirname(dir);
  for (const other of readdirSync(parent)) if (other !== basename(dir)) rmSync(join(parent, other), { recursive: true, force: true });
}
