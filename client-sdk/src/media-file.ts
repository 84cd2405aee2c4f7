/**
 * Media files as upload chunks, streamed: a file is read piece by piece twice (once to hash its
 * chunks, once to upload the chunks the server is missing), so memory holds one piece whatever
 * the file's size. A file that fits one chunk (`LBM1` envelope + the file, at most
 * `maxChunkBytes`, 16 MiB by default) is one chunk, which the server may re-encode (images); a larger one is split
 * into parts of at most `partBytes` each, every part its own envelope with a `segment` header,
 * stored as is and concatenated again on restore (docs/media.md, "Large files").
 */
import { BackupClientError } from './errors';
import { nobleHasher, type Hasher } from './hasher';
import { encodeMediaEnvelope, encodeMediaEnvelopeHead, type MediaEnvelopeHeader, type MediaSegment } from './media-envelope';
import type { FileSource, OpenedFile } from './ports';
import type { Chunk, MediaChunkFile, RecordSource } from './chunker';

export type { MediaChunkFile };
import type { BackupType } from './types';

/**
 * What every media item says about itself. The server recognizes images by their bytes; the rest
 * goes into the snapshot with the file and comes back on restore (`RestoreItem.meta`): a folder
 * restore writes the file under its `name`, in its `album`'s folder, with its `modifiedAt`.
 * Times are ISO 8601 (`2024-05-01T12:34:56+02:00`, or local as a camera records it); a bad one
 * is refused before anything is sent (`backup/invalid-argument`).
 */
interface MediaFileFields {
  /** The file's stable id in the app (asset id, path); the manifest lists the file under it. */
  readonly sourceId: string;
  /** The file's name as the app shows it (`IMG_0001.HEIC`). */
  readonly name: string;
  readonly mimeType?: string;
  /** Capture time, ISO 8601. */
  readonly takenAt?: string;
  /** When the file was created on the device, ISO 8601. */
  readonly createdAt?: string;
  /** When the file was last modified on the device, ISO 8601. */
  readonly modifiedAt?: string;
  /** The album or folder the file is in (`Camera`, `WhatsApp Images`). */
  readonly album?: string;
}

/** A photo, video, audio clip or other file to back up, with its bytes in memory. */
export interface MediaFile extends MediaFileFields {
  readonly bytes: Uint8Array;
}

/**
 * A file to back up by path: the client's `fileSource` opens it and reads it piece by piece, so
 * it is never held in memory whatever its size.
 */
export interface MediaFileRef extends MediaFileFields {
  readonly path: string;
}

/** What `sources.media` lists: files in memory or by path. */
export type MediaItem = MediaFile | MediaFileRef;

const byPath = (item: MediaItem): item is MediaFileRef => typeof (item as Partial<MediaFileRef>).path === 'string';

/** Reads a streamed chunk's bytes by range (chunk coordinates: envelope header, then file bytes). */
export interface ChunkReader {
  /** `into`: a scratch buffer the result may be read into (see OpenedFile.read). */
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** A chunk whose bytes stay in the file until they are sent. */
export interface StreamedChunk {
  id: string;
  type: BackupType;
  size: number;
  items: number;
  /** The file the chunk is (a part of), for per-file progress. */
  file?: MediaChunkFile;
  /** Opens the file again for upload; fails if it changed size since it was hashed. */
  open(): Promise<ChunkReader>;
}


/** What the client uploads: bytes in memory, or a streamed file chunk. */
export type UploadChunk = Chunk | StreamedChunk;

/**
 * The server's largest chunk, and the largest media file sent as one chunk (envelope included):
 * 16 MiB. Larger files go in parts, so the server never holds a large chunk (a 256 MiB Cloud
 * Function has about 100 MiB for its step) while photos up to 16 MiB stay whole, which the server
 * may re-encode (docs/media.md, "Memory").
 */
export const MAX_MEDIA_CHUNK_BYTES = 16 * 1024 * 1024;
/** @default size of each part of a file over `maxChunkBytes`: 8 MiB, one default upload piece. */
export const DEFAULT_MEDIA_PART_BYTES = 8 * 1024 * 1024;
/** The server's default `maxMediaSizeMB`. */
export const DEFAULT_MAX_MEDIA_SIZE_MB = 500;

export interface MediaChunkOptions {
  /** Opens `path` items; required when any item has a path. */
  fileSource?: FileSource;
  /** A file whose envelope fits this is one chunk. @default MAX_MEDIA_CHUNK_BYTES (16 MiB) */
  maxChunkBytes?: number;
  /** Largest part of a bigger file, envelope included. @default DEFAULT_MEDIA_PART_BYTES */
  partBytes?: number;
  /** Bytes per read while hashing. @default 1 MiB */
  readBytes?: number;
  /**
   * Files larger than this are not read at all: one empty part names them, and the server
   * records them as skipped (`larger than N MB`), as it would after receiving every byte.
   * @default DEFAULT_MAX_MEDIA_SIZE_MB MiB
   */
  maxFileBytes?: number;
  /** The SHA-256 that names the chunks (hasher.ts). @default nobleHasher */
  hasher?: Hasher;
  /** Called as each file is read and hashed: the file and its bytes hashed so far. @default none */
  onHashed?: (file: MediaChunkFile, bytesHashed: number) => void;
}

const MIB = 1024 * 1024;
const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** An OpenedFile over bytes already in memory, so both kinds of item share one code path. */
function memoryFile(bytes: Uint8Array): OpenedFile {
  return {
    size: bytes.byteLength,
    read: async (offset, length) => bytes.subarray(offset, Math.min(offset + length, bytes.byteLength)),
    close: async () => undefined,
  };
}

/** One chunk of a file: its envelope head and the file range behind it. */
interface Piece {
  head: Uint8Array;
  fileOffset: number;
  length: number;
}

/** Where the file's chunks start and end: one whole-file chunk, or parts of at most partBytes. */
function layout(header: MediaEnvelopeHeader, fileSize: number, maxChunkBytes: number, partBytes: number): Piece[] {
  const whole = encodeMediaEnvelopeHead(header, fileSize);
  if (whole.byteLength + fileSize <= maxChunkBytes) return [{ head: whole, fileOffset: 0, length: fileSize }];
  const pieces: Piece[] = [];
  for (let offset = 0, index = 0; offset < fileSize; index++) {
    const segment: MediaSegment = { index, offset, fileSize };
    // The head names the part's length: size it for the longest part, then for the length that
    // leaves, which has no more digits, so head + body never passes partBytes.
    const guess = Math.min(fileSize - offset, partBytes);
    const room = partBytes - encodeMediaEnvelopeHead(header, guess, segment).byteLength;
    if (room <= 0) throw new BackupClientError('backup/invalid-argument', `mediaPartBytes ${partBytes} leaves no room for ${header.sourceId}'s envelope`);
    const length = Math.min(fileSize - offset, room);
    pieces.push({ head: encodeMediaEnvelopeHead(header, length, segment), fileOffset: offset, length });
    offset += length;
  }
  return pieces;
}

async function readExactly(file: OpenedFile, offset: number, length: number, sourceId: string, into?: Uint8Array): Promise<Uint8Array> {
  const bytes = await file.read(offset, length, into);
  if (bytes.byteLength !== length) {
    throw new BackupClientError('backup/failed-precondition', `media file ${sourceId} ended at byte ${offset + bytes.byteLength}, expected ${offset + length}: it changed while it was read`);
  }
  return bytes;
}

/** Reads a chunk's bytes by range out of its head and the file. */
function pieceReader(piece: Piece, file: OpenedFile, sourceId: string): ChunkReader {
  const headLength = piece.head.byteLength;
  return {
    async read(offset, length, into) {
      if (offset >= headLength) return readExactly(file, piece.fileOffset + offset - headLength, length, sourceId, into);
      const out = into && into.byteLength >= length ? into.subarray(0, length) : new Uint8Array(length);
      const fromHead = Math.min(length, headLength - offset);
      out.set(piece.head.subarray(offset, offset + fromHead), 0);
      if (length > fromHead) {
        // The file's bytes are read straight behind the head, into the same buffer.
        const rest = out.subarray(fromHead);
        const bytes = await readExactly(file, piece.fileOffset, length - fromHead, sourceId, rest);
        // A source that ignored `into` returned its own bytes: copy them behind the head.
        if (bytes.buffer !== rest.buffer || bytes.byteOffset !== rest.byteOffset) out.set(bytes, fromHead);
      }
      return out;
    },
    close: () => file.close(),
  };
}

/** Longest sourceId, name or album the server keeps. */
const MAX_NAME_CHARS = 1024;
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?$/;

/** An ISO 8601 date and time the server takes (offset or local), with a day its month has. */
export function isIsoDateTime(value: string): boolean {
  const match = ISO_DATE_TIME.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function validate(file: MediaItem, index: number, fileSource: FileSource | undefined): void {
  if (!file || typeof file !== 'object' || typeof file.sourceId !== 'string' || file.sourceId === '' || file.sourceId.length > MAX_NAME_CHARS) {
    throw new BackupClientError('backup/invalid-argument', `media file #${index} has no string sourceId of 1 to ${MAX_NAME_CHARS} characters`);
  }
  if (typeof file.name !== 'string' || file.name.length > MAX_NAME_CHARS) throw new BackupClientError('backup/invalid-argument', `media file ${file.sourceId} has no string name of at most ${MAX_NAME_CHARS} characters`);
  if (file.mimeType !== undefined && (typeof file.mimeType !== 'string' || file.mimeType.length > 255)) {
    throw new BackupClientError('backup/invalid-argument', `media file ${file.sourceId}: mimeType must be a string of at most 255 characters`);
  }
  if (file.album !== undefined && (typeof file.album !== 'string' || file.album.length > MAX_NAME_CHARS)) {
    throw new BackupClientError('backup/invalid-argument', `media file ${file.sourceId}: album must be a string of at most ${MAX_NAME_CHARS} characters`);
  }
  for (const field of ['takenAt', 'createdAt', 'modifiedAt'] as const) {
    const value = file[field];
    if (value !== undefined && (typeof value !== 'string' || !isIsoDateTime(value))) {
      throw new BackupClientError('backup/invalid-argument', `media file ${file.sourceId}: ${field} ${JSON.stringify(value)} is not an ISO 8601 date and time (2024-05-01T12:34:56+02:00)`);
    }
  }
  if (byPath(file)) {
    if (!fileSource) throw new BackupClientError('backup/invalid-argument', `media file ${file.sourceId} has a path but the client has no fileSource`);
  } else if (!((file as Partial<MediaFile>).bytes instanceof Uint8Array)) {
    throw new BackupClientError('backup/invalid-argument', `media file ${file.sourceId} has neither bytes (a Uint8Array) nor a path`);
  }
}

async function openFile(fileSource: FileSource, path: string, sourceId: string): Promise<OpenedFile> {
  try {
    return await fileSource.open(path);
  } catch (err) {
    throw new BackupClientError('backup/not-found', `media file ${sourceId}: cannot open ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The chunks of every media item, sorted by sourceId (parts in file order). Reads each file once
 * to hash its chunks, piece by piece; the returned chunks read it again when uploaded. Items in
 * memory that fit one chunk keep their bytes (`Chunk`); the rest are `StreamedChunk`s.
 */
export async function mediaChunks(source: RecordSource<MediaItem>, options: MediaChunkOptions = {}): Promise<UploadChunk[]> {
  const maxChunkBytes = options.maxChunkBytes ?? MAX_MEDIA_CHUNK_BYTES;
  const partBytes = options.partBytes ?? DEFAULT_MEDIA_PART_BYTES;
  const readBytes = options.readBytes ?? MIB;
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_MEDIA_SIZE_MB * MIB;
  const hasher = options.hasher ?? nobleHasher;
  if (maxChunkBytes > MAX_MEDIA_CHUNK_BYTES || partBytes > maxChunkBytes) {
    throw new BackupClientError('backup/invalid-argument', `media chunks must be at most ${MAX_MEDIA_CHUNK_BYTES} bytes and parts no larger than a chunk`);
  }
  const chunks: Array<{ sourceId: string; chunk: UploadChunk }> = [];
  const seen = new Set<string>();
  let index = 0;
  for await (const file of source) {
    validate(file, index, options.fileSource);
    if (seen.has(file.sourceId)) throw new BackupClientError('backup/invalid-argument', `media sourceId ${file.sourceId} appears twice`);
    seen.add(file.sourceId);
    index += 1;
    const header: MediaEnvelopeHeader = {
      sourceId: file.sourceId,
      name: file.name,
      ...(file.mimeType !== undefined ? { mimeType: file.mimeType } : {}),
      ...(file.takenAt !== undefined ? { takenAt: file.takenAt } : {}),
      ...(file.createdAt !== undefined ? { createdAt: file.createdAt } : {}),
      ...(file.modifiedAt !== undefined ? { modifiedAt: file.modifiedAt } : {}),
      ...(file.album !== undefined ? { album: file.album } : {}),
    };
    const add = (chunk: UploadChunk) => chunks.push({ sourceId: file.sourceId, chunk });
    const inMemory = byPath(file) ? null : file.bytes;
    const reopen = async () => (byPath(file) ? openFile(options.fileSource as FileSource, file.path, file.sourceId) : memoryFile(file.bytes));
    const opened = await reopen();
    const size = opened.size;
    const described: MediaChunkFile = { sourceId: file.sourceId, name: file.name, size };
    try {
      if (size > maxFileBytes) {
        add({ ...eager('media', encodeMediaEnvelope(header, new Uint8Array(0), { index: 0, offset: 0, fileSize: size }), hasher), file: described });
        continue;
      }
      const pieces = layout(header, size, maxChunkBytes, partBytes);
      if (inMemory && pieces.length === 1) {
        add({ ...eager('media', encodeMediaEnvelope(header, inMemory), hasher), file: described });
        options.onHashed?.(described, size);
        continue;
      }
      // One scratch buffer for the whole hashing read: hashed, then overwritten by the next read.
      const scratch = new Uint8Array(Math.min(readBytes, size));
      let hashed = 0;
      options.onHashed?.(described, 0);
      for (const piece of pieces) {
        const hash = hasher.sha256();
        hash.update(piece.head);
        for (let at = 0; at < piece.length; at += readBytes) {
          const length = Math.min(readBytes, piece.length - at);
          hash.update(await readExactly(opened, piece.fileOffset + at, length, file.sourceId, scratch));
          hashed += length;
          options.onHashed?.(described, hashed);
        }
        add({
          id: hash.digestHex(),
          type: 'media',
          size: piece.head.byteLength + piece.length,
          items: 1,
          file: described,
          open: async () => {
            const again = await reopen();
            if (again.size !== size) {
              await again.close();
              throw new BackupClientError('backup/failed-precondition', `media file ${file.sourceId} changed size since it was hashed (${size} -> ${again.size}); back it up again`);
            }
            return pieceReader(piece, again, file.sourceId);
          },
        });
      }
    } finally {
      await opened.close();
    }
  }
  // Stable: a file's parts stay in file order.
  chunks.sort((a, b) => byCodeUnits(a.sourceId, b.sourceId));
  return chunks.map((c) => c.chunk);
}

function eager(type: BackupType, bytes: Uint8Array, hasher: Hasher): Chunk {
  const hash = hasher.sha256();
  hash.update(bytes);
  return { id: hash.digestHex(), type, size: bytes.byteLength, items: 1, bytes };
}

/** Whether a chunk's bytes are in memory. */
export function isInMemory(chunk: UploadChunk): chunk is Chunk {
  return 'bytes' in chunk && chunk.bytes instanceof Uint8Array;
}
