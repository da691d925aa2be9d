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
  readonly content: Buffer;
}

interface PackEntry {
  readonly oid: string;
  /** The entry as it sits in the pack: its type-and-size header, then the deflated content. */
  readonly bytes: Buffer;
}

/**
 * Collects a commit's objects and puts them on disk in `finish`, which must return before anything
 * (a ref, a push) points at them. Past PACK_FROM objects each is deflated as it comes, and only
 * its deflated bytes are held.
 */
export class ObjectWriter {
  /** Every object written, in order: what a push of the commit must send. */
  readonly oids: string[] = [];
  #held: Held[] = [];
  #packed: PackEntry[] | undefined;
  readonly #seen = new Set<string>();
  static #seq = 0;

  constructor(
    readonly gitdir: string,
    private readonly packFrom = PACK_FROM,
  ) {}

  write(type: 'tree' | 'commit', content: Buffer, oid = gitObjectId(type, content)): string {
    return this.#add({ oid, type, content });
  }

  writeText(text: string, oid: string): string {
    return this.#add({ oid, type: 'blob', content: Buffer.from(text, 'utf8') });
  }

  #add(object: Held): string {
    this.oids.push(object.oid);
    if (this.#seen.has(object.oid)) return object.oid;
    this.#seen.add(object.oid);
    if (this.#packed) this.#packed.push(packEntry(object));
    else {
      this.#held.push(object);
      if (this.#held.length >= this.packFrom) {
        this.#packed = this.#held.map(packEntry);
        this.#held = [];
      }
    }
    return object.oid;
  }

  /** Every object on disk: loose, or one pack and its index. Safe to call again. */
  finish(): void {
    if (this.#packed) {
      if (this.#packed.length > 0) writePack(join(this.gitdir, 'objects', 'pack'), this.#packed, ObjectWriter.#seq++);
      this.#packed = [];
    }
    for (const object of this.#held) writeLoose(this.gitdir, object, ObjectWriter.#seq++);
    this.#held = [];
  }
}

function levelFor({ type, content }: Held): number {
  // Level 1 is git's own default for loose objects (core.looseCompression): speed over size.
  return type === 'tree' && content.length > STORED_TREE_BYTES ? 0 : 1;
}

/** Output sized to the object: zlib's default 16 KiB chunk per small object is garbage that piles up. */
function deflated(data: Buffer, level: number): Buffer {
  return deflateSync(data, { level, chunkSize: Math.max(64, data.length + 64) });
}

function writeLoose(gitdir: string, object: Held, seq: number): void {
  const folder = join(gitdir, 'objects', object.oid.slice(0, 2));
  const file = join(folder, object.oid.slice(2));
  const tmp = join(folder, `tmp_obj_${process.pid}_${seq}`);
  const header = Buffer.from(`${object.type} ${object.content.length}\0`, 'latin1');
  const data = deflated(Buffer.concat([header, object.content]), levelFor(object));
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
function packEntry(object: Held): PackEntry {
  const header: number[] = [];
  let size = object.content.length;
  let byte = (PACK_TYPE[object.type] << 4) | (size & 0x0f);
  size = Math.floor(size / 16);
  while (size > 0) {
    header.push(byte | 0x80);
    byte = size & 0x7f;
    size = Math.floor(size / 128);
  }
  header.push(byte);
  return { oid: object.oid, bytes: Buffer.concat([Buffer.from(header), deflated(object.content, levelFor(object))]) };
}

/**
 * A version 2 pack and its version 2 index, as git writes them: the pack first, then the index that
 * makes it visible (git and x1deploy find packs through their .idx files), each written aside and
 * renamed, so a crash leaves at most an unindexed pack that nothing reads.
 */
function writePack(packDir: string, entries: readonly PackEntry[], seq: number): void {
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(entries.length, 8);
  const parts: Buffer[] = [header];
  const located: { oid: string; offset: number; crc: number }[] = [];
  let offset = header.length;
  for (const entry of entries) {
    located.push({ oid: entry.oid, offset, crc: crc32(entry.bytes) });
    parts.push(entry.bytes);
    offset += entry.bytes.length;
  }
  const hash = createHash('sha1');
  for (const part of parts) hash.update(part);
  const checksum = hash.digest();
  parts.push(checksum);

  fs.mkdirSync(packDir, { recursive: true });
  const name = `pack-${checksum.toString('hex')}`;
  const tmp = join(packDir, `tmp_pack_${process.pid}_${seq}`);
  fs.writeFileSync(`${tmp}.pack`, Buffer.concat(parts));
  fs.writeFileSync(`${tmp}.idx`, packIndex(located, checksum));
  fs.renameSync(`${tmp}.pack`, join(packDir, `${name}.pack`));
  fs.renameSync(`${tmp}.idx`, join(packDir, `${name}.idx`));
}

/** Index version 2: fan-out, sorted ids, CRC-32s, offsets (large ones in a table of their own), checksums. */
function packIndex(located: { oid: string; offset: number; crc: number }[], packChecksum: Buffer): Buffer {
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
  createHash('sha1').update(out.subarray(0, trailer + 20)).digest().copy(out, trailer + 20);
  return out;
}
