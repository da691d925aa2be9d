// Objects in a repo's packfiles, read where they lie. Any repo git has gc'd, and every clone, keeps
// its objects packed; isomorphic-git reads a pack by loading the whole .pack into memory, which cost
// a cold deploy on a 1,000-preview repo ~100 ms of its ~300. Here the pack index (.idx, version 2)
// is searched through its fan-out table, and only the object's own bytes (and its delta bases) are
// read from the .pack.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { X1Error } from '../errors/index.js';

export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag';

export interface GitObject {
  readonly type: ObjectType;
  readonly data: Buffer;
}

const TYPES: Readonly<Record<number, ObjectType>> = { 1: 'commit', 2: 'tree', 3: 'blob', 4: 'tag' };
const OFS_DELTA = 6;
const REF_DELTA = 7;
/** git's own limit on delta chains (pack.depth) is 50; a deeper one is a damaged pack. */
const MAX_CHAIN = 1000;
/** Resolved delta bases kept per reader: a tree read after its neighbour often shares its base. */
const BASE_CACHE = 256;
/** The first read of an object: its header and, for most objects (deltas are small), all of it. */
const FIRST_READ = 4096;

interface PackIndex {
  readonly pack: string;
  readonly idx: Buffer;
  readonly count: number;
  /** The pack, opened at its first read and kept open (closed when the packs are looked at again). */
  fd?: number;
}

/** A pack or its index that is not what git writes. */
export class DamagedPackError extends X1Error {
  constructor(file: string, why: string) {
    super('invalid', `${file}: ${why}; run "git fsck" in the gitops repo, and fetch or restore what it reports missing`);
  }
}

export class PackedObjects {
  readonly #packDir: string;
  #packs: PackIndex[] | undefined;
  readonly #bases = new Map<string, GitObject>();

  /** `elsewhere` finds a delta's base that is not in the same pack (a loose object, or another pack). */
  constructor(
    gitdir: string,
    private readonly elsewhere: (oid: string) => GitObject | undefined,
  ) {
    this.#packDir = join(gitdir, 'objects', 'pack');
  }

  /** The object, or undefined when no pack holds it. */
  read(oid: string): GitObject | undefined {
    let found = this.#find(oid);
    if (found === undefined) {
      this.#reload();
      found = this.#find(oid);
    }
    return found ? this.#objectAt(found.pack, found.offset, 0) : undefined;
  }

  #find(oid: string): { pack: PackIndex; offset: number } | undefined {
    const key = Buffer.from(oid, 'hex');
    for (const pack of this.#loaded()) {
      const offset = offsetIn(pack, key);
      if (offset !== undefined) return { pack, offset };
    }
    return undefined;
  }

  /** Packs come and go (a fetch adds one, gc merges them): a miss looks again before it is one. */
  #reload(): void {
    // A read still resolving a delta may hold one of these packs: it opens the file again.
    for (const pack of this.#packs ?? []) {
      if (pack.fd !== undefined) fs.closeSync(pack.fd);
      pack.fd = undefined;
    }
    this.#packs = undefined;
    this.#bases.clear();
  }

  #loaded(): PackIndex[] {
    if (this.#packs === undefined) {
      let names: string[] = [];
      try {
        names = fs.readdirSync(this.#packDir).filter((n) => n.endsWith('.idx'));
      } catch {
        // No pack folder: nothing is packed.
      }
      this.#packs = names.map((name) => loadIndex(join(this.#packDir, name)));
    }
    return this.#packs;
  }

  #objectAt(pack: PackIndex, offset: number, depth: number): GitObject {
    if (depth > MAX_CHAIN) throw new DamagedPackError(pack.pack, `a delta chain is longer than ${MAX_CHAIN}`);
    const cacheKey = `${pack.pack}:${offset}`;
    const cached = this.#bases.get(cacheKey);
    if (cached) return cached;
    // One read for most objects: the header (type, size, a delta's base) and what usually follows it.
    let chunk = readAt(pack, offset, FIRST_READ);
    let at = 0;
    let byte = chunk[at++]!;
    const kind = (byte >> 4) & 7;
    let size = byte & 15;
    for (let shift = 4; byte & 0x80; shift += 7) {
      if (at >= chunk.length) throw new DamagedPackError(pack.pack, `the object at ${offset} is cut short`);
      byte = chunk[at++]!;
      size += (byte & 0x7f) * 2 ** shift;
    }
    let base: GitObject | undefined;
    if (kind === OFS_DELTA) {
      byte = chunk[at++]!;
      let back = byte & 0x7f;
      while (byte & 0x80) {
        byte = chunk[at++]!;
        back = (back + 1) * 128 + (byte & 0x7f);
      }
      base = this.#objectAt(pack, offset - back, depth + 1);
    } else if (kind === REF_DELTA) {
      const baseId = chunk.toString('hex', at, at + 20);
      at += 20;
      base = this.#readBase(baseId, pack, depth + 1);
      if (base === undefined) throw new DamagedPackError(pack.pack, `the delta base ${baseId} is missing`);
    } else if (TYPES[kind] === undefined) {
      throw new DamagedPackError(pack.pack, `the object at ${offset} has unknown type ${kind}`);
    }
    // Deflate adds at most a few bytes per 16 KiB to what it cannot compress.
    const most = size + (size >> 9) + 64;
    if (chunk.length - at < most && chunk.length === FIRST_READ) chunk = readAt(pack, offset, at + most);
    const data = inflated(chunk.subarray(at), size, pack.pack, offset);
    const object = base ? { type: base.type, data: applyDelta(base.data, data, pack.pack) } : { type: TYPES[kind]!, data };
    if (this.#bases.size >= BASE_CACHE) this.#bases.delete(this.#bases.keys().next().value!);
    this.#bases.set(cacheKey, object);
    return object;
  }

  #readBase(oid: string, from: PackIndex, depth: number): GitObject | undefined {
    const offset = offsetIn(from, Buffer.from(oid, 'hex'));
    return offset === undefined ? this.elsewhere(oid) : this.#objectAt(from, offset, depth);
  }
}

/** A .idx (version 2) read whole: 28 bytes an object, ~230 KB for 8,000. */
function loadIndex(file: string): PackIndex {
  const idx = fs.readFileSync(file);
  if (idx.length < 8 + 256 * 4 + 40 || idx.readUInt32BE(0) !== 0xff744f63 || idx.readUInt32BE(4) !== 2) {
    throw new DamagedPackError(file, 'it is not a version 2 pack index');
  }
  const count = idx.readUInt32BE(8 + 255 * 4);
  if (idx.length < 8 + 256 * 4 + count * 28 + 40) throw new DamagedPackError(file, 'it is cut short');
  return { pack: file.replace(/\.idx$/, '.pack'), idx, count };
}

/** Where `key` (a binary id) starts in the pack, by the fan-out table and a binary search. */
function offsetIn({ idx, count, pack }: PackIndex, key: Buffer): number | undefined {
  const fanout = 8;
  const ids = fanout + 256 * 4;
  let lo = key[0] === 0 ? 0 : idx.readUInt32BE(fanout + (key[0]! - 1) * 4);
  let hi = idx.readUInt32BE(fanout + key[0]! * 4);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const order = idx.compare(key, 0, 20, ids + mid * 20, ids + mid * 20 + 20);
    if (order === 0) {
      const offsets = ids + count * 24;
      const small = idx.readUInt32BE(offsets + mid * 4);
      if (!(small & 0x80000000)) return small;
      const large = offsets + count * 4 + (small & 0x7fffffff) * 8;
      if (large + 8 > idx.length) throw new DamagedPackError(pack, 'a large offset points past the index');
      return idx.readUInt32BE(large) * 2 ** 32 + idx.readUInt32BE(large + 4);
    }
    if (order > 0) hi = mid;
    else lo = mid + 1;
  }
  return undefined;
}

/** Up to `length` bytes of the pack from `offset` (fewer at its end), through its open descriptor. */
function readAt(pack: PackIndex, offset: number, length: number): Buffer {
  pack.fd ??= fs.openSync(pack.pack, 'r');
  const chunk = Buffer.allocUnsafe(length);
  const got = fs.readSync(pack.fd, chunk, 0, length, offset);
  return got === length ? chunk : chunk.subarray(0, got);
}

/**
 * `stream` inflated into a buffer of about `expected` bytes (more chunks if it is larger). zlib's
 * default 16 KiB chunk per object, a slice of which is returned, made every small object hold
 * 16 KiB outside V8's heap until its next collection.
 */
export function inflatedToAbout(stream: Buffer, expected: number): Buffer {
  return inflateSync(stream, { chunkSize: Math.max(64, expected + 64) });
}

/** A zlib stream inflated to its `size` bytes (what follows it, the next object, is ignored). */
function inflated(stream: Buffer, size: number, file: string, offset: number): Buffer {
  let data: Buffer;
  try {
    data = inflatedToAbout(stream, size);
  } catch {
    throw new DamagedPackError(file, `the object at ${offset} does not inflate`);
  }
  if (data.length !== size) throw new DamagedPackError(file, `the object at ${offset} inflates to ${data.length} bytes, not ${size}`);
  return data;
}

/** git's delta: the target's bytes as copies from the base and inserted literals. */
function applyDelta(base: Buffer, delta: Buffer, file: string): Buffer {
  let at = 0;
  const varint = () => {
    let value = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = delta[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return value;
  };
  if (varint() !== base.length) throw new DamagedPackError(file, 'a delta does not fit its base');
  const out = Buffer.allocUnsafe(varint());
  let written = 0;
  while (at < delta.length) {
    const op = delta[at++]!;
    if (op & 0x80) {
      let offset = 0;
      let size = 0;
      for (let i = 0; i < 4; i++) if (op & (1 << i)) offset += delta[at++]! * 2 ** (8 * i);
      for (let i = 0; i < 3; i++) if (op & (1 << (4 + i))) size += delta[at++]! * 2 ** (8 * i);
      if (size === 0) size = 0x10000;
      if (offset + size > base.length || written + size > out.length) throw new DamagedPackError(file, 'a delta copies past its base');
      base.copy(out, written, offset, offset + size);
      written += size;
    } else if (op > 0) {
      if (at + op > delta.length || written + op > out.length) throw new DamagedPackError(file, 'a delta inserts past its end');
      delta.copy(out, written, at, at + op);
      at += op;
      written += op;
    } else {
      throw new DamagedPackError(file, 'a delta holds a reserved instruction');
    }
  }
  if (written !== out.length) throw new DamagedPackError(file, 'a delta is cut short');
  return out;
}
