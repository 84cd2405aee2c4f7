/**
 * BlobStore on a local folder. Layout under the root:
 *
 * - `objects/<key>`: one file per object. The file starts with a small header (`LBO1`, a 4-byte
 *   big-endian length, then the metadata as JSON) followed by the object's bytes. Keeping the
 *   metadata inside the object file means one rename publishes bytes and metadata together, so a
 *   reader never sees one without the other, and nothing besides objects shows up in listings.
 * - `tmp/`: puts are written here first (same filesystem), fsynced, then renamed into place (or,
 *   for create-if-absent, hard-linked: `link` fails with EEXIST atomically, so of racing puts
 *   exactly one wins). Temp files older than an hour are leftovers of dead writers and are removed
 *   when a store is constructed.
 *
 * A key cannot be both an object and a folder of other keys (`a` and `a/b`): a put that would
 * need that is refused with `failed-precondition`.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync, type Dirent } from 'node:fs';
import { open, link, mkdir, readdir, rename, rm, rmdir, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { lifeboatError } from '@lifeboat/engine/core';
import {
  assertBlobKey,
  assertBlobPrefix,
  isBlobKeySegment,
  resolveRange,
  throwIfAborted,
  type BlobInfo,
  type BlobStore,
  type CallOptions,
  type GetOptions,
  type PutOptions,
  type PutResult,
} from '@lifeboat/engine/ports';

const MAGIC = Buffer.from('LBO1', 'latin1');
const PREFIX_BYTES = 8;
const MAX_HEADER_BYTES = 1024 * 1024;
const STALE_TEMP_MS = 60 * 60 * 1000;
const PUBLISH_ATTEMPTS = 5;
const CLASH_CODES: ReadonlySet<string> = new Set(['EEXIST', 'EISDIR', 'ENOTDIR', 'ENOTEMPTY', 'EPERM']);

function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function encodeHeader(metadata: Record<string, string> | undefined): Buffer {
  const clean: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {})) {
    if (typeof value !== 'string') throw lifeboatError('invalid-argument', `metadata ${name} must be a string`);
    clean[name] = value;
  }
  const json = Buffer.from(JSON.stringify(clean), 'utf8');
  if (json.byteLength > MAX_HEADER_BYTES) throw lifeboatError('invalid-argument', 'metadata is too large');
  const prefix = Buffer.alloc(PREFIX_BYTES);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32BE(json.byteLength, 4);
  return Buffer.concat([prefix, json]);
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

async function readExactly(handle: FileHandle, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let read = 0;
  while (read < length) {
    const { bytesRead } = await handle.read(buffer, read, length - read, position + read);
    if (bytesRead === 0) break;
    read += bytesRead;
  }
  return read === length ? buffer : buffer.subarray(0, read);
}

interface ObjectHeader {
  metadata: Record<string, string>;
  /** Where the object's bytes start in the file. */
  dataOffset: number;
  size: number;
}

async function readHeader(handle: FileHandle, key: string): Promise<ObjectHeader> {
  const corrupt = () => lifeboatError('data-loss', `blob ${key} has a damaged header`);
  const { size: fileSize } = await handle.stat();
  const prefix = await readExactly(handle, PREFIX_BYTES, 0);
  if (prefix.byteLength < PREFIX_BYTES || !prefix.subarray(0, 4).equals(MAGIC)) throw corrupt();
  const length = prefix.readUInt32BE(4);
  if (length > MAX_HEADER_BYTES || PREFIX_BYTES + length > fileSize) throw corrupt();
  let metadata: unknown;
  try {
    metadata = JSON.parse((await readExactly(handle, length, PREFIX_BYTES)).toString('utf8'));
  } catch (err) {
    throw lifeboatError('data-loss', `blob ${key} has a damaged header`, { cause: err });
  }
  if (typeof metadata !== 'object' || metadata === null) throw corrupt();
  const dataOffset = PREFIX_BYTES + length;
  return { metadata: metadata as Record<string, string>, dataOffset, size: fileSize - dataOffset };
}

/** Opens an object file for reading; null when there is no object (a folder is not one). */
async function openObject(file: string): Promise<FileHandle | null> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return null;
    throw err;
  }
  if ((await handle.stat()).isFile()) return handle;
  await handle.close();
  return null;
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Makes a rename or link durable; some platforms cannot fsync a directory, which they tolerate. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    await handle?.close();
  }
}

async function* cancellable(source: Readable, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  try {
    for await (const piece of source) {
      throwIfAborted(signal);
      yield piece as Uint8Array;
    }
  } finally {
    source.destroy();
  }
}

/** Sorts directory entries so a depth-first walk yields full keys in lexicographic order. */
function walkOrder(entries: Dirent[]): { name: string; folder: boolean }[] {
  return entries
    .filter((entry) => (entry.isFile() || entry.isDirectory()) && isBlobKeySegment(entry.name))
    .map((entry) => ({ name: entry.name, folder: entry.isDirectory(), sortKey: entry.isDirectory() ? `${entry.name}/` : entry.name }))
    .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
}

/** {@link BlobStore} on a local folder; see the module comment for the layout. */
export class FolderBlobStore implements BlobStore {
  private readonly objectsDir: string;
  private readonly tmpDir: string;

  constructor(root: string) {
    this.objectsDir = join(root, 'objects');
    this.tmpDir = join(root, 'tmp');
    mkdirSync(this.objectsDir, { recursive: true });
    mkdirSync(this.tmpDir, { recursive: true });
    this.removeStaleTemps();
  }

  async put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<PutResult> {
    const file = join(this.objectsDir, ...assertBlobKey(key));
    throwIfAborted(options.signal);
    const header = encodeHeader(options.metadata);
    const temp = join(this.tmpDir, `${randomUUID()}.tmp`);
    try {
      const size = await this.writeTemp(temp, header, body, options.signal);
      throwIfAborted(options.signal);
      return await this.publish(key, temp, file, size, options.ifAbsent === true);
    } finally {
      await rm(temp, { force: true });
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<AsyncIterable<Uint8Array>> {
    const file = join(this.objectsDir, ...assertBlobKey(key));
    throwIfAborted(options.signal);
    const handle = await openObject(file);
    if (!handle) throw lifeboatError('not-found', `no blob at ${key}`);
    let stream: Readable;
    try {
      const { dataOffset, size } = await readHeader(handle, key);
      const { start, end } = resolveRange(options, size);
      if (start === end) {
        await handle.close();
        return Readable.from([]);
      }
      stream = handle.createReadStream({ start: dataOffset + start, end: dataOffset + end - 1, autoClose: true });
    } catch (err) {
      await handle.close();
      throw err;
    }
    return options.signal ? Readable.from(cancellable(stream, options.signal), { objectMode: false }) : stream;
  }

  async stat(key: string, options: CallOptions = {}): Promise<BlobInfo | null> {
    const file = join(this.objectsDir, ...assertBlobKey(key));
    throwIfAborted(options.signal);
    return this.info(key, file);
  }

  async exists(key: string, options: CallOptions = {}): Promise<boolean> {
    const file = join(this.objectsDir, ...assertBlobKey(key));
    throwIfAborted(options.signal);
    try {
      return (await stat(file)).isFile();
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return false;
      throw err;
    }
  }

  async delete(key: string, options: CallOptions = {}): Promise<void> {
    const segments = assertBlobKey(key);
    throwIfAborted(options.signal);
    const file = join(this.objectsDir, ...segments);
    try {
      if (!(await stat(file)).isFile()) return;
      await rm(file, { force: true });
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw err;
    }
    await this.pruneEmptyFolders(segments.slice(0, -1));
  }

  async *list(prefix: string, options: CallOptions = {}): AsyncIterable<BlobInfo> {
    const { folders, partial } = assertBlobPrefix(prefix);
    yield* this.walk(join(this.objectsDir, ...folders), folders.join('/'), partial, options.signal);
  }

  private async *walk(dir: string, keyPrefix: string, namePrefix: string, signal: AbortSignal | undefined): AsyncGenerator<BlobInfo> {
    throwIfAborted(signal);
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw err;
    }
    for (const entry of walkOrder(entries)) {
      if (!entry.name.startsWith(namePrefix)) continue;
      const key = keyPrefix === '' ? entry.name : `${keyPrefix}/${entry.name}`;
      const path = join(dir, entry.name);
      if (entry.folder) {
        yield* this.walk(path, key, '', signal);
      } else {
        throwIfAborted(signal);
        const info = await this.info(key, path);
        if (info) yield info;
      }
    }
  }

  private async info(key: string, file: string): Promise<BlobInfo | null> {
    const handle = await openObject(file);
    if (!handle) return null;
    try {
      const { metadata, size } = await readHeader(handle, key);
      // A published object is never modified (put renames a finished temp file), so its mtime
      // is when it was written.
      return { key, size, metadata, createdAt: Math.floor((await handle.stat()).mtimeMs) };
    } finally {
      await handle.close();
    }
  }

  /** Streams the header and body to a temp file piece by piece, then fsyncs it. */
  private async writeTemp(
    temp: string,
    header: Buffer,
    body: Uint8Array | AsyncIterable<Uint8Array>,
    signal: AbortSignal | undefined,
  ): Promise<number> {
    const handle = await open(temp, 'wx');
    try {
      await writeAll(handle, header);
      let size = 0;
      if (body instanceof Uint8Array) {
        await writeAll(handle, body);
        size = body.byteLength;
      } else {
        for await (const piece of body) {
          throwIfAborted(signal);
          if (!(piece instanceof Uint8Array)) throw lifeboatError('invalid-argument', 'body pieces must be Uint8Array');
          await writeAll(handle, piece);
          size += piece.byteLength;
        }
      }
      await handle.sync();
      return size;
    } finally {
      await handle.close();
    }
  }

  /** Moves a finished temp file into place; retried when a concurrent delete pruned the folder meanwhile. */
  private async publish(key: string, temp: string, file: string, size: number, ifAbsent: boolean): Promise<PutResult> {
    const dir = dirname(file);
    for (let attempt = 1; ; attempt += 1) {
      try {
        await mkdir(dir, { recursive: true });
        if (ifAbsent) await link(temp, file);
        else await rename(temp, file);
        await syncDirectory(dir);
        return { created: true, size };
      } catch (err) {
        const code = errnoCode(err);
        if (ifAbsent && code === 'EEXIST') {
          const existing = await this.info(key, file);
          if (existing) return { created: false, size: existing.size };
          // Gone again (a concurrent delete): try once more; a folder in the way is a clash.
          if (attempt < PUBLISH_ATTEMPTS && !(await isFolder(file))) continue;
        }
        if (attempt < PUBLISH_ATTEMPTS && code === 'ENOENT') continue;
        if (code !== undefined && CLASH_CODES.has(code)) {
          throw lifeboatError('failed-precondition', `blob key ${key} clashes with an object or folder of other keys`, {
            cause: err,
          });
        }
        throw err;
      }
    }
  }

  /** Removes folders a delete left empty; one that gained an entry meanwhile stays (ENOTEMPTY). */
  private async pruneEmptyFolders(folders: string[]): Promise<void> {
    for (let depth = folders.length; depth > 0; depth -= 1) {
      try {
        await rmdir(join(this.objectsDir, ...folders.slice(0, depth)));
      } catch {
        return;
      }
    }
  }

  private removeStaleTemps(): void {
    const cutoff = Date.now() - STALE_TEMP_MS;
    for (const name of readdirSync(this.tmpDir)) {
      const path = join(this.tmpDir, name);
      try {
        if (statSync(path).mtimeMs < cutoff) rmSync(path, { force: true });
      } catch {
        // Another process removed or is replacing it: nothing to clean.
      }
    }
  }
}
