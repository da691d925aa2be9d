// git's index file (.git/index), read and updated at the level of its bytes.
//
// A commit changes a few paths, so the index is patched for those paths only: entries are found by
// binary search and unchanged runs are copied as bytes. At 10,000 previews the index holds 60,000
// entries (7 MB), and copying, hashing and writing all of it cost more than the rest of a commit.
// So a large index is kept split, as git's own split-index does ('link' extension): the entries
// live in a shared index file (sharedindex.<id>) written now and then, and .git/index holds only
// the entries changed since, with bitmaps of the shared entries they replace or delete. git reads
// and writes this form itself, and its settings for it (core.splitIndex,
// splitIndex.maxPercentChange) are honoured.

import * as fs from 'node:fs';
import { readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { X1Error } from '../errors/index.js';

/** An entry to write: its path and its on-disk (version 2) form. */
export interface IndexEntry {
  readonly path: Buffer;
  readonly bytes: Buffer;
}

/** Entries sorted by path, cut from one buffer: entry i spans bytes starts[i] to starts[i + 1]. */
interface EntryTable {
  readonly buf: Buffer;
  readonly starts: Uint32Array;
}

/** What .git/index says on top of the shared index it links to. */
interface SplitDelta {
  /** The shared index's id (its trailing checksum), which names its file. */
  readonly sharedId: string;
  /** 1 where the shared entry is gone. */
  readonly deleted: Uint8Array;
  /** Shared entries replaced, by position, in their written form (no name: the shared one's holds). */
  readonly replaced: Map<number, Buffer>;
  /** Entries the shared index does not have, sorted by path and stage. */
  readonly added: IndexEntry[];
}

/** An index as read or last written: all its entries, or a shared index's and a delta on them. */
export interface GitIndex {
  readonly version: number;
  readonly table: EntryTable;
  readonly split?: SplitDelta;
  /** The allocation `table.buf` lives in, when an update made it (reusable once superseded). */
  readonly room?: Buffer;
}

/** How this repo wants its index written (git's settings of the same names). */
export interface IndexSettings {
  /** core.splitIndex: always split, never, or (unset) from SPLIT_FROM entries. */
  readonly split?: boolean;
  /** splitIndex.maxPercentChange: how large the delta may grow, in percent of all entries. */
  readonly maxPercentChange: number;
}

const DEFAULT_INDEX_SETTINGS: IndexSettings = { maxPercentChange: 20 };

/**
 * Below this many entries the index is written whole: a repo of a few hundred previews writes it in
 * well under a millisecond, and tools that cannot read a split index (libgit2, JGit) keep working.
 */
const SPLIT_FROM = 10_000;

const EMPTY_INDEX: GitIndex = { version: 2, table: { buf: Buffer.alloc(12), starts: Uint32Array.of(12) } };

/** The index is in a form x1deploy does not write. */
export class UnsupportedIndexError extends X1Error {
  constructor(file: string, why: string) {
    super('invalid', `${file}: ${why}; run "git update-index --index-version 2" and retry`);
  }
}

export function encodeIndexEntry(path: string, oid: string, mode: string, st: fs.BigIntStats): IndexEntry {
  const name = Buffer.from(path);
  const entry = Buffer.alloc((62 + name.length + 8) & ~7);
  const u32 = (x: bigint) => Number(x & 0xffffffffn);
  const fields = [
    st.ctimeNs / 1_000_000_000n,
    st.ctimeNs % 1_000_000_000n,
    st.mtimeNs / 1_000_000_000n,
    st.mtimeNs % 1_000_000_000n,
    st.dev,
    st.ino,
  ];
  fields.forEach((x, i) => entry.writeUInt32BE(u32(x), i * 4));
  entry.writeUInt32BE(parseInt(mode, 8), 24);
  entry.writeUInt32BE(u32(st.uid), 28);
  entry.writeUInt32BE(u32(st.gid), 32);
  entry.writeUInt32BE(u32(st.size), 36);
  entry.write(oid, 40, 'hex');
  entry.writeUInt16BE(Math.min(name.length, 0xfff), 60);
  name.copy(entry, 62);
  return { path: name, bytes: entry };
}

/**
 * Who a file is now: the index and git's config are replaced by rename when rewritten (by x1deploy
 * or git), which changes this, so a parsed copy is good while it holds.
 */
export function fileIdentity(path: string): string {
  const st = fs.statSync(path, { bigint: true, throwIfNoEntry: false });
  return st === undefined ? 'none' : identityOf(st);
}

function identityOf(st: fs.BigIntStats): string {
  return `${st.ino}:${st.size}:${st.mtimeNs}`;
}

/** The repo's index, with the shared index it links to; EMPTY_INDEX when there is none. */
export async function readIndex(gitdir: string): Promise<GitIndex> {
  const file = join(gitdir, 'index');
  const buf = await readFile(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (buf === undefined) return EMPTY_INDEX;
  const main = parseIndex(buf, file);
  if (main.link === undefined) return { version: main.version, table: main.table };
  const sharedFile = join(gitdir, `sharedindex.${main.link.sharedId}`);
  const sharedBuf = await readFile(sharedFile).catch(() => {
    throw new UnsupportedIndexError(file, `the shared index it links to (${sharedFile}) cannot be read`);
  });
  if (sharedBuf.toString('hex', sharedBuf.length - 20) !== main.link.sharedId) {
    throw new UnsupportedIndexError(file, `the shared index ${sharedFile} is not the one it links to`);
  }
  const shared = parseIndex(sharedBuf, sharedFile);
  if (shared.link !== undefined) throw new UnsupportedIndexError(sharedFile, 'a shared index links to another');
  return { version: main.version, table: shared.table, split: splitDelta(main.table, main.link, shared.table, file) };
}

/**
 * The repo's index as one whole file (a split one merged with its shared index), for readers that
 * know only that form (isomorphic-git); undefined when there is no index.
 */
export async function readWholeIndex(gitdir: string): Promise<Buffer | undefined> {
  const index = await readIndex(gitdir);
  if (index === EMPTY_INDEX) return undefined;
  const table = index.split === undefined ? index.table : mergeDelta(index.table, index.split);
  writeHeader(table, index.version);
  return Buffer.concat([table.buf, sha1(table.buf)]);
}

/** The repo's settings for its index, from its own config (git's default where unset). */
export function indexSettings(config: { readonly splitIndex?: unknown; readonly maxPercentChange?: unknown }): IndexSettings {
  const bool = (v: unknown) => {
    const s = String(v).toLowerCase();
    return ['true', 'yes', 'on', '1'].includes(s) ? true : ['false', 'no', 'off', '0'].includes(s) ? false : undefined;
  };
  const percent = Number(config.maxPercentChange);
  return {
    ...(config.splitIndex === undefined ? {} : { split: bool(config.splitIndex) }),
    maxPercentChange: config.maxPercentChange !== undefined && percent >= 0 && percent <= 100 ? percent : DEFAULT_INDEX_SETTINGS.maxPercentChange,
  };
}

// ---- reading -------------------------------------------------------------------------------------

interface Link {
  readonly sharedId: string;
  readonly deleted: readonly number[];
  readonly replaced: readonly number[];
}

function parseIndex(buf: Buffer, file: string): { version: number; table: EntryTable; link?: Link } {
  const unsupported = (why: string) => new UnsupportedIndexError(file, why);
  if (buf.length < 32 || buf.toString('latin1', 0, 4) !== 'DIRC') throw unsupported('not a git index');
  const version = buf.readUInt32BE(4);
  if (version !== 2 && version !== 3) throw unsupported(`index version ${version} is not supported`);
  const count = buf.readUInt32BE(8);
  // A typed array: a plain one of 70,000 numbers is slow to build and to read on every commit.
  const starts = new Uint32Array(count + 1);
  starts[0] = 12;
  let at = 12;
  const last = buf.length - 20;
  for (let i = 0; i < count; i++) {
    if (at + 62 > last) throw unsupported('it is truncated');
    // The path ends where its length says (a NUL ends a path of 0xfff bytes or more).
    const flags = (buf[at + 60]! << 8) | buf[at + 61]!;
    const start = at + 62 + (flags & 0x4000 ? 2 : 0);
    const length = flags & 0xfff;
    const end = length < 0xfff ? start + length : buf.indexOf(0, start);
    at += (end - at + 8) & ~7;
    starts[i + 1] = at;
  }
  // Extensions follow until the trailing checksum; an upper-case first letter marks an optional one.
  let link: Link | undefined;
  while (at + 8 <= last) {
    const sig = buf.toString('latin1', at, at + 4);
    const size = buf.readUInt32BE(at + 4);
    if (at + 8 + size > last) throw unsupported(`its "${sig}" extension is truncated`);
    if (sig === 'link') link = parseLink(buf.subarray(at + 8, at + 8 + size), unsupported);
    else if (!(sig[0]! >= 'A' && sig[0]! <= 'Z')) throw unsupported(`required index extension "${sig}" is not supported`);
    at += 8 + size;
  }
  const table = { buf: buf.subarray(0, starts[count]!), starts };
  // An all-zero id: split once, but needing no shared index now; its entries are the whole index.
  if (link !== undefined && /^0+$/.test(link.sharedId)) {
    if (link.deleted.length + link.replaced.length > 0) throw unsupported('its link extension marks entries of no shared index');
    link = undefined;
  }
  return { version, table, ...(link === undefined ? {} : { link }) };
}

function parseLink(ext: Buffer, unsupported: (why: string) => Error): Link {
  if (ext.length < 20) throw unsupported('its link extension is truncated');
  const sharedId = ext.toString('hex', 0, 20);
  if (ext.length === 20) return { sharedId, deleted: [], replaced: [] };
  const deleted = readEwah(ext, 20, unsupported);
  const replaced = readEwah(ext, deleted.end, unsupported);
  if (replaced.end !== ext.length) throw unsupported('its link extension has bytes after its bitmaps');
  return { sharedId, deleted: deleted.bits, replaced: replaced.bits };
}

/**
 * The set bits of an EWAH bitmap (git's ewah/ewah_io.c): bit count, word count, 64-bit words
 * (each run-length word, RLW, says how many words of its running bit follow, then how many literal
 * words), and where the last RLW is.
 */
function readEwah(buf: Buffer, from: number, unsupported: (why: string) => Error): { bits: number[]; end: number } {
  if (from + 8 > buf.length) throw unsupported('a bitmap in its link extension is truncated');
  const words = buf.readUInt32BE(from + 4);
  const end = from + 8 + words * 8 + 4;
  if (end > buf.length) throw unsupported('a bitmap in its link extension is truncated');
  const bits: number[] = [];
  let pos = 0;
  const word = (w: number) => [buf.readUInt32BE(from + 8 + w * 8), buf.readUInt32BE(from + 12 + w * 8)] as const;
  for (let w = 0; w < words; ) {
    const [hi, lo] = word(w++);
    const runLength = (lo >>> 1) + (hi & 1) * 2 ** 31;
    const literals = hi >>> 1;
    // Set bits name entries, so a run of ones longer than any index is garbage, not a bitmap.
    if (lo & 1) {
      if (runLength * 64 > 0xffffffff) throw unsupported('a bitmap in its link extension is malformed');
      for (let k = 0; k < runLength * 64; k++) bits.push(pos++);
    } else pos += runLength * 64;
    if (w + literals > words) throw unsupported('a bitmap in its link extension is malformed');
    for (let k = 0; k < literals; k++, pos += 64) {
      const [h, l] = word(w++);
      for (let c = 0; c < 32; c++) if ((l >>> c) & 1) bits.push(pos + c);
      for (let c = 0; c < 32; c++) if ((h >>> c) & 1) bits.push(pos + 32 + c);
    }
  }
  return { bits, end };
}

/** The delta a split .git/index holds: its first entries replace shared ones, the rest are added. */
function splitDelta(main: EntryTable, link: Link, shared: EntryTable, file: string): SplitDelta {
  const broken = (why: string) => new UnsupportedIndexError(file, `its split index is inconsistent (${why})`);
  const sharedCount = shared.starts.length - 1;
  const mainCount = main.starts.length - 1;
  const deleted = new Uint8Array(sharedCount);
  for (const i of link.deleted) {
    if (i >= sharedCount) throw broken('a deleted entry is past the shared index');
    deleted[i] = 1;
  }
  if (link.replaced.length > mainCount) throw broken('more replaced entries than entries');
  const replaced = new Map<number, Buffer>();
  link.replaced.forEach((i, k) => {
    if (i >= sharedCount || deleted[i]) throw broken('a replaced entry is past the shared index or also deleted');
    const bytes = entryAt(main, k);
    if (nameOf(bytes).length !== 0) throw broken('a replacing entry has a name');
    replaced.set(i, bytes);
  });
  const added: IndexEntry[] = [];
  for (let k = link.replaced.length; k < mainCount; k++) {
    const bytes = entryAt(main, k);
    const path = nameOf(bytes);
    if (path.length === 0) throw broken('an added entry has no name');
    added.push({ path, bytes });
  }
  added.sort(byPathAndStage);
  return { sharedId: link.sharedId, deleted, replaced, added };
}

function entryAt(table: EntryTable, i: number): Buffer {
  return table.buf.subarray(table.starts[i]!, table.starts[i + 1]!);
}

/** Where the path of the entry at byte `at` starts and ends. */
function nameAt(buf: Buffer, at: number): [number, number] {
  const flags = buf.readUInt16BE(at + 60);
  const start = at + 62 + (flags & 0x4000 ? 2 : 0);
  const length = flags & 0xfff;
  return [start, length < 0xfff ? start + length : buf.indexOf(0, start)];
}

function nameOf(entry: Buffer): Buffer {
  const [start, end] = nameAt(entry, 0);
  return entry.subarray(start, end);
}

const stageOf = (entry: Buffer) => (entry.readUInt16BE(60) >> 12) & 3;

function byPathAndStage(a: IndexEntry, b: IndexEntry): number {
  return Buffer.compare(a.path, b.path) || stageOf(a.bytes) - stageOf(b.bytes);
}

/** The first entry whose path is not below `path` (git sorts entries by path bytes). */
function lowerBound(table: EntryTable, path: Buffer): number {
  let lo = 0;
  let hi = table.starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const [start, end] = nameAt(table.buf, table.starts[mid]!);
    if (table.buf.compare(path, 0, path.length, start, end) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function pathIs(table: EntryTable, i: number, path: Buffer): boolean {
  const [start, end] = nameAt(table.buf, table.starts[i]!);
  return table.buf.compare(path, 0, path.length, start, end) === 0;
}

/** The shared entries at `path` itself and, with `below`, under `path/`, as [from, to) ranges. */
function rangesOf(table: EntryTable, path: Buffer, below: boolean): [number, number][] {
  const count = table.starts.length - 1;
  const from = lowerBound(table, path);
  let to = from;
  while (to < count && pathIs(table, to, path)) to++;
  const ranges: [number, number][] = [[from, to]];
  // Entries under path/ sort between path/ and path0 ('0' follows '/').
  if (below) ranges.push([lowerBound(table, Buffer.concat([path, SLASH])), lowerBound(table, Buffer.concat([path, ZERO]))]);
  return ranges;
}

const SLASH = Buffer.from('/');
const ZERO = Buffer.from('0');

// ---- writing -------------------------------------------------------------------------------------

/** The index.lock held for the update: the new index is written to it and renamed into place. */
export interface IndexLock {
  commitTo(target: string, content: readonly Buffer[]): Promise<fs.BigIntStats>;
}

/**
 * Update the index: the entries at or under `removed` dropped, and `added` replacing any entry of
 * the same path (every stage of it, so a conflict left there is resolved too). Optional extensions
 * (caches git rebuilds, like the cache-tree that would now be stale) are dropped; an index git could
 * not do without is refused rather than damaged. Returns the index as written, for the next commit.
 * A split `index` is updated in place, so after a failed update it must be read again.
 */
export async function updateIndex(
  gitdir: string,
  index: GitIndex,
  lock: IndexLock,
  removed: readonly string[],
  added: readonly IndexEntry[],
  settings: IndexSettings,
  spare?: Buffer,
): Promise<{ readonly index: GitIndex; readonly id: string }> {
  const sharedCount = index.table.starts.length - 1;
  // Unset, git's rule: an index split stays split; a whole one splits once it is large.
  const split = settings.split ?? (index.split !== undefined || sharedCount + added.length >= SPLIT_FROM);
  if (!split && index.split === undefined) return writeWhole(gitdir, index, lock, removed, added, spare);
  const delta = applyToDelta(index.table, index.split ?? emptyDelta(sharedCount), removed, added);
  const deltaCount = delta.replaced.size + delta.added.length;
  const total = effectiveCount(delta, sharedCount);
  // A whole index becoming split, or one going back to whole, or a delta grown past its share.
  const reshare = index.split === undefined || !split || deltaCount * 100 > settings.maxPercentChange * Math.max(total, 1);
  if (!reshare) return writeSplit(gitdir, index.version, index.table, delta, lock);
  const merged = mergeDelta(index.table, delta);
  writeHeader(merged, index.version);
  if (!split) {
    const stat = await lock.commitTo(join(gitdir, 'index'), [merged.buf, sha1(merged.buf)]);
    return { index: { version: index.version, table: merged }, id: identityOf(stat) };
  }
  const sharedId = await writeShared(gitdir, merged, index.split?.sharedId);
  return writeSplit(gitdir, index.version, merged, emptyDelta(merged.starts.length - 1, sharedId), lock);
}

function emptyDelta(sharedCount: number, sharedId = ''): SplitDelta {
  return { sharedId, deleted: new Uint8Array(sharedCount), replaced: new Map(), added: [] };
}

function effectiveCount(delta: SplitDelta, sharedCount: number): number {
  return sharedCount - setPositions(delta.deleted).length + delta.added.length;
}

/** Where a flag array is 1 (a native scan: the array has an entry per shared index entry). */
function setPositions(flags: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = flags.indexOf(1); i >= 0; i = flags.indexOf(1, i + 1)) out.push(i);
  return out;
}

/**
 * The delta with the change applied. Its bitmaps are changed in place (copying them would cost
 * milliseconds a commit at 10,000 previews), so a caller whose write then fails must read the index
 * again. Entries are dropped and added in one pass each, not spliced one at a time: an init or a
 * re-render adds tens of thousands.
 */
function applyToDelta(shared: EntryTable, delta: SplitDelta, removed: readonly string[], added: readonly IndexEntry[]): SplitDelta {
  const { deleted, replaced, added: before } = delta;
  const gone = new Uint8Array(before.length);
  let anyGone = false;
  const dropBetween = (from: Buffer, to: Buffer) => {
    const end = firstAtOrAfter(before, to);
    for (let i = firstAtOrAfter(before, from); i < end; i++) {
      gone[i] = 1;
      anyGone = true;
    }
  };
  const drop = (path: Buffer, below: boolean) => {
    for (const [from, to] of rangesOf(shared, path, below)) {
      for (let i = from; i < to; i++) {
        deleted[i] = 1;
        replaced.delete(i);
      }
    }
    dropBetween(path, Buffer.concat([path, NUL]));
    if (below) dropBetween(Buffer.concat([path, SLASH]), Buffer.concat([path, ZERO]));
  };
  for (const path of removed) drop(Buffer.from(path), true);
  const fresh: IndexEntry[] = [];
  for (const entry of added) {
    const [[from, to]] = rangesOf(shared, entry.path, false) as [[number, number]];
    drop(entry.path, false);
    // One stage-0 entry in the shared index: replaced in place. Anything else: dropped and added.
    if (to - from === 1 && stageOf(entryAt(shared, from)) === 0) {
      deleted[from] = 0;
      replaced.set(from, nameless(entry.bytes));
    } else fresh.push(entry);
  }
  if (!anyGone && fresh.length === 0) return delta;
  const kept = anyGone ? before.filter((_, i) => !gone[i]) : before;
  fresh.sort(byPathAndStage);
  // The two sorted lists merged: each fresh entry goes where a binary search of the rest puts it.
  const merged: IndexEntry[] = [];
  let at = 0;
  for (const entry of fresh) {
    for (const end = firstAtOrAfter(kept, entry.path, at); at < end; at++) merged.push(kept[at]!);
    merged.push(entry);
  }
  for (; at < kept.length; at++) merged.push(kept[at]!);
  return { ...delta, added: merged };
}

/** The first added entry (from `lo` on) whose path is not below `path`. */
function firstAtOrAfter(entries: readonly IndexEntry[], path: Buffer, lo = 0): number {
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (Buffer.compare(entries[mid]!.path, path) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const NUL = Buffer.from([0]);

/** An entry as a split index writes a replacement: its name left out (git requires it so). */
function nameless(entry: Buffer): Buffer {
  const flags = entry.readUInt16BE(60);
  const fixed = 62 + (flags & 0x4000 ? 2 : 0);
  const out = Buffer.alloc((fixed + 8) & ~7);
  entry.copy(out, 0, 0, fixed);
  out.writeUInt16BE(flags & 0xf000, 60);
  return out;
}

/** A nameless replacement given the name of the entry it replaces. */
function named(replacement: Buffer, name: Buffer): Buffer {
  const flags = replacement.readUInt16BE(60);
  const fixed = 62 + (flags & 0x4000 ? 2 : 0);
  const out = Buffer.alloc((fixed + name.length + 8) & ~7);
  replacement.copy(out, 0, 0, fixed);
  out.writeUInt16BE((flags & 0xf000) | Math.min(name.length, 0xfff), 60);
  name.copy(out, fixed);
  return out;
}

/** Every entry of a shared index with its delta applied, in order, as one table. */
function mergeDelta(shared: EntryTable, delta: SplitDelta): EntryTable {
  const pieces: Buffer[] = [];
  const count = shared.starts.length - 1;
  let j = 0;
  const addUpTo = (name: Buffer | undefined, stage: number) => {
    // Added entries sorting before the shared one go first; one of the same path and stage wins.
    while (j < delta.added.length) {
      const e = delta.added[j]!;
      const order = name === undefined ? -1 : Buffer.compare(e.path, name) || stageOf(e.bytes) - stage;
      if (order > 0) return false;
      pieces.push(e.bytes);
      j++;
      if (order === 0) return true;
    }
    return false;
  };
  for (let i = 0; i < count; i++) {
    if (delta.deleted[i]) continue;
    const entry = entryAt(shared, i);
    const name = nameOf(entry);
    if (addUpTo(name, stageOf(entry))) continue;
    const replacement = delta.replaced.get(i);
    pieces.push(replacement === undefined ? entry : named(replacement, name));
  }
  addUpTo(undefined, 0);
  const starts = new Uint32Array(pieces.length + 1);
  let size = 12;
  pieces.forEach((p, k) => {
    starts[k] = size;
    size += p.length;
  });
  starts[pieces.length] = size;
  const buf = Buffer.allocUnsafeSlow(size);
  buf.fill(0, 0, 12);
  let at = 12;
  for (const p of pieces) at += p.copy(buf, at);
  return { buf, starts };
}

/** A table's header, in the 12 bytes it keeps for one. */
function writeHeader(table: EntryTable, version: number): void {
  table.buf.write('DIRC', 0, 'latin1');
  table.buf.writeUInt32BE(version, 4);
  table.buf.writeUInt32BE(table.starts.length - 1, 8);
}

/** Header and entries as one buffer (the header's 12 bytes are written here). */
function withHeader(version: number, count: number, entries: readonly Buffer[]): Buffer {
  const size = entries.reduce((n, b) => n + b.length, 12);
  if (size > 0xffffffff) throw new Error('the index would exceed 4 GB');
  const out = Buffer.allocUnsafe(size);
  out.write('DIRC', 0, 'latin1');
  out.writeUInt32BE(version, 4);
  out.writeUInt32BE(count, 8);
  let at = 12;
  for (const e of entries) at += e.copy(out, at);
  return out;
}

function sha1(...parts: Buffer[]): Buffer {
  const hash = createHash('sha1');
  for (const p of parts) hash.update(p);
  return hash.digest();
}

/**
 * Write the shared index (written aside and renamed: git may be reading the old one) and remove
 * shared indexes nothing links to any more. The one just superseded is kept a while, for a reader
 * that read .git/index a moment ago; git's own expire after two weeks.
 */
async function writeShared(gitdir: string, table: EntryTable, superseded: string | undefined): Promise<string> {
  const body = table.buf;
  const checksum = sha1(body);
  const id = checksum.toString('hex');
  const file = join(gitdir, `sharedindex.${id}`);
  const aside = `${file}.${process.pid}.tmp`;
  await writeFile(aside, Buffer.concat([body, checksum]));
  await rename(aside, file);
  const now = Date.now();
  if (superseded !== undefined) await utimes(join(gitdir, `sharedindex.${superseded}`), now / 1000, now / 1000).catch(() => undefined);
  for (const name of await readdir(gitdir)) {
    if (!name.startsWith('sharedindex.') || name === `sharedindex.${id}` || name === `sharedindex.${superseded}`) continue;
    const info = await stat(join(gitdir, name)).catch(() => undefined);
    if (info !== undefined && now - info.mtimeMs > SHARED_INDEX_GRACE_MS) await unlink(join(gitdir, name)).catch(() => undefined);
  }
  return id;
}

const SHARED_INDEX_GRACE_MS = 10 * 60_000;

/** Write .git/index as the delta on its shared index. */
async function writeSplit(
  gitdir: string,
  version: number,
  shared: EntryTable,
  delta: SplitDelta,
  lock: IndexLock,
): Promise<{ readonly index: GitIndex; readonly id: string }> {
  const positions = [...Uint32Array.from(delta.replaced.keys()).sort()];
  const link = Buffer.concat([Buffer.from(delta.sharedId, 'hex'), writeEwah(setPositions(delta.deleted)), writeEwah(positions)]);
  const header = Buffer.alloc(8);
  header.write('link', 0, 'latin1');
  header.writeUInt32BE(link.length, 4);
  const entries = [...positions.map((i) => delta.replaced.get(i)!), ...delta.added.map((e) => e.bytes)];
  const body = withHeader(version, entries.length, [...entries, header, link]);
  const stat = await lock.commitTo(join(gitdir, 'index'), [body, sha1(body)]);
  return { index: { version, table: shared, split: delta }, id: identityOf(stat) };
}

/** An EWAH bitmap of the given ascending bit positions: runs of empty words, then literal words. */
function writeEwah(bits: readonly number[]): Buffer {
  const wordCount = bits.length === 0 ? 0 : Math.floor(bits[bits.length - 1]! / 64) + 1;
  const literal = new Uint32Array(wordCount * 2); // [lo, hi] per word
  for (const b of bits) literal[Math.floor(b / 64) * 2 + (b % 64 >= 32 ? 1 : 0)]! |= 1 << b % 32;
  const out: number[] = [];
  let lastRlw = 0;
  let w = 0;
  do {
    let zeros = 0;
    while (w < wordCount && literal[w * 2] === 0 && literal[w * 2 + 1] === 0 && zeros < 0xffffffff) {
      w++;
      zeros++;
    }
    let literals = 0;
    while (w + literals < wordCount && (literal[(w + literals) * 2] !== 0 || literal[(w + literals) * 2 + 1] !== 0) && literals < 0x7fffffff) literals++;
    lastRlw = out.length / 2;
    out.push(((literals << 1) | Math.floor(zeros / 2 ** 31)) >>> 0, ((zeros % 2 ** 31) * 2) >>> 0);
    for (let k = 0; k < literals; k++, w++) out.push(literal[w * 2 + 1]! >>> 0, literal[w * 2]! >>> 0);
  } while (w < wordCount);
  const buf = Buffer.alloc(8 + out.length * 4 + 4);
  buf.writeUInt32BE(bits.length === 0 ? 0 : bits[bits.length - 1]! + 1, 0);
  buf.writeUInt32BE(out.length / 2, 4);
  out.forEach((v, k) => buf.writeUInt32BE(v, 8 + k * 4));
  buf.writeUInt32BE(lastRlw, 8 + out.length * 4);
  return buf;
}

/**
 * The whole form: entries are found by binary search and the unchanged runs copied as bytes, so
 * beyond one copy, one hash and one write of the file the cost follows the change.
 */
async function writeWhole(
  gitdir: string,
  index: GitIndex,
  lock: IndexLock,
  removed: readonly string[],
  added: readonly IndexEntry[],
  spare: Buffer | undefined,
): Promise<{ readonly index: GitIndex; readonly id: string }> {
  const table = index.table;
  const count = table.starts.length - 1;
  const drop = new Uint8Array(count);
  for (const path of removed) for (const [from, to] of rangesOf(table, Buffer.from(path), true)) drop.fill(1, from, to);
  const inserts = [...added]
    .sort((a, b) => Buffer.compare(a.path, b.path))
    .map((e) => {
      const [[from, to]] = rangesOf(table, e.path, false) as [[number, number]];
      drop.fill(1, from, to);
      return { at: from, bytes: e.bytes };
    });
  const out: Buffer[] = [Buffer.alloc(12)];
  // Where each entry of the new index starts, found as the pieces are laid out. The walk jumps
  // from one insert or drop to the next; the starts of each run between are copied in one go
  // (a step per entry through closures cost 8 ms a commit at 10,000 previews).
  if (table.buf.length + inserts.reduce((n, e) => n + e.bytes.length, 0) > 0xffffffff) throw new Error('the index would exceed 4 GB');
  const starts = new Uint32Array(count + inserts.length + 1);
  let written = 0;
  let offset = 12;
  let i = 0;
  let next = 0;
  for (;;) {
    const insertAt = next < inserts.length ? inserts[next]!.at : count;
    const dropAt = i < count ? drop.indexOf(1, i) : -1;
    const stop = Math.min(insertAt, dropAt < 0 ? count : dropAt);
    if (i < stop) {
      const from = table.starts[i]!;
      const to = table.starts[stop]!;
      out.push(table.buf.subarray(from, to));
      starts.set(table.starts.subarray(i, stop), written);
      const shift = offset - from;
      if (shift !== 0) for (let j = written, end = written + stop - i; j < end; j++) starts[j] = starts[j]! + shift;
      written += stop - i;
      offset += to - from;
      i = stop;
    }
    if (next < inserts.length && inserts[next]!.at === i) {
      // New entries go before the entry they sort ahead of (or replace, when it is dropped).
      const bytes = inserts[next++]!.bytes;
      out.push(bytes);
      starts[written++] = offset;
      offset += bytes.length;
    } else if (i < count && drop[i]) i++;
    else if (i >= count) break;
  }
  starts[written] = offset;
  out[0]!.write('DIRC', 0, 'latin1');
  out[0]!.writeUInt32BE(index.version, 4);
  out[0]!.writeUInt32BE(written, 8);
  // Laid out in `spare` (the allocation of the index before this one) when it fits: a fresh 5 MB
  // buffer per commit at 10,000 previews costs more in page faults than the copy itself.
  const room = spare !== undefined && spare.length >= offset && spare !== index.room ? spare : Buffer.allocUnsafeSlow(Math.ceil(offset * 1.25) + 4096);
  let at = 0;
  for (const piece of out) at += piece.copy(room, at);
  const body = room.subarray(0, offset);
  const stat = await lock.commitTo(join(gitdir, 'index'), [body, sha1(body)]);
  return { index: { version: index.version, table: { buf: body, starts: starts.subarray(0, written + 1) }, room }, id: identityOf(stat) };
}
