// The objects a commit writes, put where git looks for them.
//
// A commit of a few objects (a deploy writes 6-10) writes them loose, as git does. A commit of many
// (a re-render writes one per changed file) writes them as one pack, as git keeps a push of that many
// (transfer.unpackLimit): creating a file in each of the 256 fan-out folders cost ~0.5 ms a file on
// the ext4 disks measured, ten times a file in one folder, so a re-render of 1,000 spent a third of
// its time creating loose objects.
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { gitObjectId } from '../records/index.js';

/** From this many objects on, a commit's objects go in one pack (git's transfer.unpackLimit is 100). */
export const PACK_FROM = 64;

/** A wide tree (a folder of a thousand previews) is two-fifths hashes: deflating it barely pays. */
const STORED_TREE_BYTES = 16 * 1024;

type WrittenType = 'commit' | 'tree' | 'blob';
const PACK_TYPE: Readonly<Record<WrittenType, number>> = { commit: 1, tree: 2, blob: 3 };

interface Held {
  readonly oid: string;
  readonly type: WrittenType;
  /** A blob's text is kept as the caller's string: encoded only to be deflated, in a reused buffer. */
  readonly content: Buffer | string;
}

/**
 * Collects a commit's objects and puts them on disk in `finish`, which must return before anything
 * (a ref, a push) points at them; `discard` drops what was not finished. Past PACK_FROM objects each
 * is deflated as it comes and written to a pack file aside, so a re-render of 10,000 holds none of
 * them in memory.
 */
export class ObjectWriter {
  /** Every object written, in order: what a push of the commit must send. */
  readonly oids: string[] = [];
  #held: Held[] = [];
  #pack: PackFileAside | undefined;
  readonly #seen = new Set<string>();
  static #seq = 0;

  constructor(readonly gitdir: string) {}

  write(type: 'tree' | 'commit', content: Buffer, oid = gitObjectId(type, content)): string {
    return this.#add({ oid, type, content });
  }

  writeText(text: string, oid: string): string {
    return this.#add({ oid, type: 'blob', content: text });
  }

  #add(object: Held): string {
    this.oids.push(object.oid);
    if (this.#seen.has(object.oid)) return object.oid;
    this.#seen.add(object.oid);
    if (this.#pack) this.#pack.add(object);
    else {
      this.#held.push(object);
      if (this.#held.length >= PACK_FROM) {
        this.#pack = new PackFileAside(join(this.gitdir, 'objects', 'pack'), ObjectWriter.#seq++);
        for (const held of this.#held) this.#pack.add(held);
        this.#held = [];
      }
    }
    return object.oid;
  }

  /** Every object on disk: loose, or one pack and its index. Safe to call again. */
  finish(): void {
    this.#pack?.finish();
    this.#pack = undefined;
    for (const object of this.#held) writeLoose(this.gitdir, object, ObjectWriter.#seq++);
    this.#held = [];
  }

  /** Nothing of what was not finished stays on disk (a commit that changed nothing, or failed). */
  discard(): void {
    this.#pack?.discard();
    this.#pack = undefined;
    this.#held = [];
  }
}

/**
 * Objects as one version 2 pack in memory, without an index: what a push of the few objects a
 * commit wrote sends (isomorphic-git's packObjects deflated each through a web CompressionStream,
 * which loads fetch's undici, and every object at ~1 ms).
 */
export function packInMemory(objects: readonly { readonly type: string; readonly data: Buffer }[]): Buffer {
  const parts: Buffer[] = [packHeader(objects.length)];
  for (const { type, data } of objects) {
    if (!(type in PACK_TYPE)) throw new Error(`a ${type} object is not one x1deploy writes`);
    const entry = packEntry({ oid: '', type: type as WrittenType, content: data });
    parts.push(entry.header, entry.data);
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}

/** A version 2 pack's header: its signature, version and object count. */
function packHeader(count: number): Buffer {
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(count, 8);
  return header;
}

function levelFor({ type, content }: Held): number {
  // Level 1 is git's own default for loose objects (core.looseCompression): speed over size.
  return type === 'tree' && content.length > STORED_TREE_BYTES ? 0 : 1;
}

let scratch = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * `prefix` and `content` as bytes, in one buffer reused from call to call (valid until the next).
 * A buffer per object was garbage outside V8's heap that piled up between its collections: with
 * it, and the pack's entries held, a re-render of 10,000 peaked at ~335 MB RSS; now ~290.
 */
function encoded(prefix: string, content: Buffer | string): Buffer {
  if (prefix === '' && typeof content !== 'string') return content;
  const most = prefix.length + (typeof content === 'string' ? content.length * 3 : content.length);
  if (scratch.length < most) scratch = Buffer.allocUnsafeSlow(Math.max(most, scratch.length * 2));
  let at = scratch.write(prefix, 0, 'latin1');
  at += typeof content === 'string' ? scratch.write(content, at, 'utf8') : content.copy(scratch, at);
  return scratch.subarray(0, at);
}

/** Output sized to the object: zlib's default 16 KiB chunk per small object is garbage that piles up. */
function deflated(data: Buffer, level: number): Buffer {
  return deflateSync(data, { level, chunkSize: Math.max(64, data.length + 64) });
}

function writeLoose(gitdir: string, object: Held, seq: number): void {
  const folder = join(gitdir, 'objects', object.oid.slice(0, 2));
  const file = join(folder, object.oid.slice(2));
  const tmp = join(folder, `tmp_obj_${process.pid}_${seq}`);
  const size = typeof object.content === 'string' ? Buffer.byteLength(object.content, 'utf8') : object.content.length;
  const data = deflated(encoded(`${object.type} ${size}\0`, object.content), levelFor(object));
  // Written aside and renamed, so a crash never leaves a truncated object under its real name.
  try {
    fs.writeFileSync(tmp, data);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(tmp, data);
  }
  fs.renameSync(tmp, file);
}

/** An object as a pack entry: type and size in git's variable-length header, then zlib data. */
function packEntry(object: Held): { readonly header: Buffer; readonly data: Buffer } {
  const content = encoded('', object.content);
  const header: number[] = [];
  let size = content.length;
  let byte = (PACK_TYPE[object.type] << 4) | (size & 0x0f);
  size = Math.floor(size / 16);
  while (size > 0) {
    header.push(byte | 0x80);
    byte = size & 0x7f;
    size = Math.floor(size / 128);
  }
  header.push(byte);
  return { header: Buffer.from(header), data: deflated(content, levelFor(object)) };
}

interface Located {
  readonly oid: string;
  readonly offset: number;
  readonly crc: number;
}

/** Entries are written out once this many bytes of them wait: few write calls, little held. */
const FLUSH_BYTES = 1 << 20;

/**
 * A version 2 pack being written under a temporary name (git's own `tmp_pack_` prefix, which
 * `git gc` clears if a crash leaves one), and its version 2 index. `finish` renames the pack into
 * place, then the index that makes it visible (git and x1deploy find packs through their .idx files),
 * so a crash leaves at most an unindexed pack that nothing reads.
 */
class PackFileAside {
  readonly #tmp: string;
  readonly #fd: number;
  readonly #located: Located[] = [];
  #offset = 12;
  #open = true;
  #waiting: Buffer[] = [];
  #waitingBytes = 0;

  constructor(
    private readonly packDir: string,
    seq: number,
  ) {
    fs.mkdirSync(packDir, { recursive: true });
    this.#tmp = join(packDir, `tmp_pack_${process.pid}_${seq}`);
    // One a crashed process of the same pid left would be read-only.
    this.#remove();
    this.#fd = fs.openSync(`${this.#tmp}.pack`, 'w+', 0o444);
    // The header's object count is known at the end; its place is kept.
    this.#write(Buffer.alloc(12));
  }

  add(object: Held): void {
    const { header, data } = packEntry(object);
    this.#located.push({ oid: object.oid, offset: this.#offset, crc: crc32(data, crc32(header)) });
    this.#offset += header.length + data.length;
    this.#write(header);
    this.#write(data);
  }

  #write(bytes: Buffer): void {
    this.#waiting.push(bytes);
    this.#waitingBytes += bytes.length;
    if (this.#waitingBytes >= FLUSH_BYTES) this.#flush();
  }

  #flush(): void {
    for (let at = 0; at < this.#waiting.length; at += 1024) fs.writevSync(this.#fd, this.#waiting.slice(at, at + 1024));
    this.#waiting = [];
    this.#waitingBytes = 0;
  }

  finish(): void {
    try {
      this.#flush();
      fs.writeSync(this.#fd, packHeader(this.#located.length), 0, 12, 0);
      // The checksum covers the header, known only now: the entries are read back (from the page cache).
      const hash = createHash('sha1');
      const chunk = Buffer.allocUnsafe(FLUSH_BYTES);
      for (let at = 0; at < this.#offset;) {
        const read = fs.readSync(this.#fd, chunk, 0, Math.min(chunk.length, this.#offset - at), at);
        if (read === 0) throw new Error(`${this.#tmp}.pack ended before its ${this.#offset} bytes were read back`);
        hash.update(chunk.subarray(0, read));
        at += read;
      }
      const checksum = hash.digest();
      fs.writeSync(this.#fd, checksum, 0, checksum.length, this.#offset);
      this.#close();
      const name = join(this.packDir, `pack-${checksum.toString('hex')}`);
      fs.writeFileSync(`${this.#tmp}.idx`, packIndex(this.#located, checksum), { mode: 0o444 });
      fs.renameSync(`${this.#tmp}.pack`, `${name}.pack`);
      fs.renameSync(`${this.#tmp}.idx`, `${name}.idx`);
    } catch (e) {
      this.discard();
      throw e;
    }
  }

  discard(): void {
    this.#close();
    this.#remove();
  }

  #close(): void {
    if (this.#open) fs.closeSync(this.#fd);
    this.#open = false;
  }

  #remove(): void {
    for (const file of [`${this.#tmp}.pack`, `${this.#tmp}.idx`]) fs.rmSync(file, { force: true });
  }
}

/** Index version 2: fan-out, sorted ids, CRC-32s, offsets (large ones in a table of their own), checksums. */
function packIndex(located: readonly Located[], packChecksum: Buffer): Buffer {
  const sorted = [...located].sort((a, b) => (a.oid < b.oid ? -1 : a.oid > b.oid ? 1 : 0));
  const n = sorted.length;
  const large = sorted.filter((e) => e.offset >= 0x80000000);
  const out = Buffer.alloc(8 + 256 * 4 + n * (20 + 4 + 4) + large.length * 8 + 40);
  out.writeUInt32BE(0xff744f63, 0);
  out.writeUInt32BE(2, 4);
  const fanout = 8;
  const ids = fanout + 256 * 4;
  const crcs = ids + n * 20;
  const offsets = crcs + n * 4;
  const largeOffsets = offsets + n * 4;
  let at = 0;
  for (let first = 0; first < 256; first++) {
    while (at < n && parseInt(sorted[at]!.oid.slice(0, 2), 16) <= first) at++;
    out.writeUInt32BE(at, fanout + first * 4);
  }
  let nextLarge = 0;
  sorted.forEach((e, i) => {
    out.write(e.oid, ids + i * 20, 'hex');
    out.writeUInt32BE(e.crc, crcs + i * 4);
    if (e.offset < 0x80000000) out.writeUInt32BE(e.offset, offsets + i * 4);
    else {
      out.writeUInt32BE((0x80000000 | nextLarge) >>> 0, offsets + i * 4);
      out.writeBigUInt64BE(BigInt(e.offset), largeOffsets + nextLarge++ * 8);
    }
  });
  const trailer = largeOffsets + large.length * 8;
  packChecksum.copy(out, trailer);
  createHash('sha1')
    .update(out.subarray(0, trailer + 20))
    .digest()
    .copy(out, trailer + 20);
  return out;
}
