/**
 * Packs a device's records into chunks named by the SHA-256 of their bytes. Deterministic, so an
 * unchanged data set gives the same chunk ids and uploads nothing: records are sorted by id and
 * a chunk ends after a record whose id hashes to 0 modulo 32 (content-defined boundaries: one
 * changed record changes one chunk, one added record at most two), or before it would pass its
 * size limit.
 */
import { BackupClientError } from './errors';
import { sha256Hex } from './sha256';
import type { BackupType } from './types';

export interface Chunk {
  id: string;
  type: BackupType;
  size: number;
  items: number;
  bytes: Uint8Array;
}

/** A contact as the app has it: any JSON object with a string `id`; the server normalizes it. */
export interface ContactRecord {
  readonly id: string;
}

/** Device facts: these five are required; any other JSON fields are kept. */
export interface DeviceInfoRecord {
  readonly model: string;
  readonly os: string;
  readonly osVersion: string;
  readonly appVersion: string;
  readonly locale: string;
}

export type RecordSource<T> = Iterable<T> | AsyncIterable<T>;

/** Average records per chunk is this modulus. */
export const BOUNDARY_MODULUS = 32;

const encoder = new TextEncoder();

/** FNV-1a, 32 bits, over the UTF-16 code units of a string. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

function makeChunk(type: BackupType, bytes: Uint8Array, items: number): Chunk {
  return { id: sha256Hex(bytes), type, size: bytes.byteLength, items, bytes };
}

export async function contactChunks(source: RecordSource<ContactRecord>, maxChunkBytes: number): Promise<Chunk[]> {
  const records: ContactRecord[] = [];
  let index = 0;
  for await (const record of source) {
    if (!record || typeof record !== 'object' || typeof record.id !== 'string' || record.id === '') {
      throw new BackupClientError('backup/invalid-argument', `contact #${index} has no string id`);
    }
    records.push(record);
    index += 1;
  }
  // Code-unit order, not locale order: the same on every device.
  records.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  const chunks: Chunk[] = [];
  let parts: Uint8Array[] = [];
  let size = 0;
  const cut = () => {
    if (parts.length === 0) return;
    chunks.push(makeChunk('contacts', concat(parts, size), parts.length));
    parts = [];
    size = 0;
  };
  for (const record of records) {
    const line = encoder.encode(`${JSON.stringify(record)}\n`);
    if (size + line.byteLength > maxChunkBytes) cut();
    parts.push(line);
    size += line.byteLength;
    if (fnv1a32(record.id) % BOUNDARY_MODULUS === 0) cut();
  }
  cut();
  return chunks;
}

export async function deviceInfoChunk(source: DeviceInfoRecord | (() => DeviceInfoRecord | Promise<DeviceInfoRecord>)): Promise<Chunk> {
  const info = typeof source === 'function' ? await source() : source;
  if (!info || typeof info !== 'object') throw new BackupClientError('backup/invalid-argument', 'deviceInfo must be an object');
  return makeChunk('deviceInfo', encoder.encode(JSON.stringify(info)), 1);
}
