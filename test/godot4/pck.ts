/**
 * A Godot resource pack (PCK, format version 3, Godot 4.4+) holding plain files, enough for a
 * GDScript project made of text resources (project.godot, .tscn, .gd) that the web template loads
 * with `--main-pack`. No encryption, no import step.
 *
 * Layout: a 104-byte header padded to FILE_BASE, the files (each padded to FILE_ALIGN bytes), then
 * the directory. Offsets in the directory are relative to the file base (flag REL_FILEBASE).
 */
import { createHash } from 'crypto';

const MAGIC = 0x43504447; // "GDPC" read as a little-endian u32
const PACK_FORMAT_VERSION = 3;
const ENGINE_VERSION = [4, 6, 0];
const PACK_REL_FILEBASE = 1 << 1;
const HEADER_SIZE = 4 * 6 + 8 + 8 + 16 * 4; // magic, version, major, minor, patch, flags, base, dir, reserved
const FILE_BASE = 112; // the header rounded up to 16, as Godot's own packer lays it out
const FILE_ALIGN = 32;

const align = (n: number, to: number) => Math.ceil(n / to) * to;

/** Packs `files` (paths relative to `res://`, without the prefix) into a PCK. */
export function writePck(files: Record<string, string | Uint8Array>): Buffer {
  const entries = Object.entries(files).map(([path, content]) => {
    if (path.startsWith('res://') || path.startsWith('/')) throw new Error(`writePck: give "${path}" relative to res://`);
    return { path, data: typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content) };
  });

  const blobs: Buffer[] = [];
  const directory: Buffer[] = [u32(entries.length)];
  let offset = 0;
  for (const { path, data } of entries) {
    const name = Buffer.from(path + '\0', 'utf8');
    const nameField = Buffer.alloc(align(name.length, 4));
    name.copy(nameField);
    const md5 = createHash('md5').update(data).digest();
    directory.push(u32(nameField.length), nameField, u64(offset), u64(data.length), md5, u32(0));
    const padded = Buffer.alloc(align(data.length, FILE_ALIGN));
    data.copy(padded);
    blobs.push(padded);
    offset += padded.length;
  }

  const header = Buffer.alloc(FILE_BASE);
  let at = 0;
  for (const v of [MAGIC, PACK_FORMAT_VERSION, ...ENGINE_VERSION, PACK_REL_FILEBASE]) at = header.writeUInt32LE(v, at);
  at = header.writeBigUInt64LE(BigInt(FILE_BASE), at);
  header.writeBigUInt64LE(BigInt(FILE_BASE + offset), at); // the directory follows the files
  if (HEADER_SIZE > FILE_BASE) throw new Error('writePck: header overlaps the file base');
  return Buffer.concat([header, ...blobs, ...directory]);
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

function u64(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
}
