/**
 * Packs a device's records into chunks named by the SHA-256 of their bytes. Deterministic, so an
 * unchanged data set gives the same chunk ids and uploads nothing: records are sorted (contacts by
 * id, chat messages by conversation, time and id) and a chunk ends after a record whose id hashes
 * to 0 modulo 32 (content-defined boundaries: one changed record changes one chunk, one added
 * record at most two), or before it would pass its size limit. Media: see media-file.ts.
 */
import { BackupClientError } from './errors';
import { RECORD_LIMITS, serializeRecord, skippedRecordJson, SKIPPED_MARKER } from './record-limits';
import { nobleHasher, sha256HexWith, type Hasher } from './hasher';
import type { BackupType } from './types';
import { utf8Bytes } from './utf8';

export interface Chunk {
  id: string;
  type: BackupType;
  size: number;
  items: number;
  bytes: Uint8Array;
  /**
   * Contacts and chats chunks: each line's record key (a contact's id; a message's
   * `conversationId` and id joined by U+0000) and digest (`recordDigest`), for record-level deltas.
   */
  records?: Array<[string, string]>;
  /** Media: the file the chunk holds, for per-file progress. */
  file?: MediaChunkFile;
}

/** The media file a chunk holds (or a part of): what per-file progress names. */
export interface MediaChunkFile {
  sourceId: string;
  name: string;
  /** Bytes of the whole file. */
  size: number;
}

/** A contact as the app has it: any JSON object with a string `id`; the server normalizes it. */
export interface ContactRecord {
  readonly id: string;
}

/**
 * A chat message as the app has it: these three drive the chunk order; the server checks the rest
 * (`senderId`, `text`, media URLs, `editedAt`, `deleted`) and keeps any other JSON fields.
 * `sentAt` is an ISO 8601 date-time with offset or epoch milliseconds.
 */
export interface ChatRecord {
  readonly id: string;
  readonly conversationId: string;
  readonly sentAt: string | number;
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


/** FNV-1a, 32 bits, over the UTF-16 code units of a string. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The digest a record layout keeps of a record's line (record-delta.ts): 64 bits tell an edit. */
function recordDigest(line: Uint8Array, hasher: Hasher): string {
  return sha256HexWith(hasher, line).slice(0, 16);
}

/** The parts one after another; `length` is their total size. */
export function concat(parts: readonly Uint8Array[], length = parts.reduce((n, p) => n + p.byteLength, 0)): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

function makeChunk(type: BackupType, bytes: Uint8Array, items: number, hasher: Hasher): Chunk {
  return { id: sha256HexWith(hasher, bytes), type, size: bytes.byteLength, items, bytes };
}

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A record with its JSON text (no newline): its own, or the stand-in for one over a limit. */
interface Serialized<T> {
  record: T;
  json: string;
}

/**
 * The record's JSON, or, for a record over a limit (record-limits.ts: too deep, too large, not
 * serializable), the stand-in line that the server records as the item's skip with the reason,
 * naming the record by `keys`. Either way the backup goes on.
 */
function serialize<T>(record: T, keys: readonly string[]): Serialized<T> {
  const line = serializeRecord(record);
  return { record, json: line.ok ? line.json : skippedRecordJson(record, line.reason, keys) };
}

/**
 * Packs sorted records into NDJSON chunks of `type`: a chunk ends after a record whose `key`
 * hashes to 0 modulo BOUNDARY_MODULUS, or before a record that would take it past `maxChunkBytes`
 * or past the records one chunk may hold (`RECORD_LIMITS.maxRecordsPerChunk`, the server's too).
 * Adjacent records with the same key stay in one chunk (size and count permitting), so the server,
 * which settles repeated ids within a chunk, sees every copy together.
 */
function packRecords<T>(records: ReadonlyArray<Serialized<T>>, key: (record: T) => string, maxChunkBytes: number, type: BackupType, hasher: Hasher, recordKey?: (record: T) => string): Chunk[] {
  const chunks: Chunk[] = [];
  let parts: Uint8Array[] = [];
  let digests: Array<[string, string]> = [];
  let size = 0;
  const cut = () => {
    if (parts.length === 0) return;
    chunks.push({ ...makeChunk(type, concat(parts, size), parts.length, hasher), ...(recordKey ? { records: digests } : {}) });
    parts = [];
    digests = [];
    size = 0;
  };
  let boundaryAfter: string | null = null;
  for (const { record, json } of records) {
    const k = key(record);
    if (boundaryAfter !== null && boundaryAfter !== k) cut();
    const line = utf8Bytes(`${json}\n`);
    if (size + line.byteLength > maxChunkBytes || parts.length >= RECORD_LIMITS.maxRecordsPerChunk) cut();
    parts.push(line);
    if (recordKey) digests.push([recordKey(record), recordDigest(line, hasher)]);
    size += line.byteLength;
    boundaryAfter = fnv1a32(k) % BOUNDARY_MODULUS === 0 ? k : null;
  }
  cut();
  return chunks;
}

/** Lifeboat's reserved fields: a record carrying one would be read as a reference or a stand-in. */
function reservedField(record: object): string | null {
  if (Object.hasOwn(record, '$ref')) return '$ref';
  if (Object.hasOwn(record, SKIPPED_MARKER)) return SKIPPED_MARKER;
  return null;
}

export async function contactChunks(source: RecordSource<ContactRecord>, maxChunkBytes: number, hasher: Hasher = nobleHasher): Promise<Chunk[]> {
  const records: Array<Serialized<ContactRecord>> = [];
  let index = 0;
  for await (const record of source) {
    if (!record || typeof record !== 'object' || typeof record.id !== 'string' || record.id === '') {
      throw new BackupClientError('backup/invalid-argument', `contact #${index} has no string id`);
    }
    // A line starting `{"$ref":` is a reference to an earlier chunk's records (record-delta.ts).
    const reserved = reservedField(record);
    if (reserved) throw new BackupClientError('backup/invalid-argument', `contact ${record.id} has a "${reserved}" field, which Lifeboat reserves`);
    records.push(serialize(record, ['id']));
    index += 1;
  }
  // Code-unit order, not locale order: the same on every device.
  records.sort((a, b) => byCodeUnits(a.record.id, b.record.id));
  return packRecords(records, (r) => r.id, maxChunkBytes, 'contacts', hasher, (r) => r.id);
}

/**
 * Orders `sentAt` values the same way on every device: numbers (epoch ms) by value before
 * strings, strings by code units. The server normalizes both forms; the device only needs an
 * order that does not change while the data does not.
 */
function compareSentAt(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return byCodeUnits(a, b);
}

/**
 * Chat messages as NDJSON chunks, sorted by (conversationId, sentAt, id) so a conversation's
 * messages sit together in time order, with boundaries on the message id hash. Only the fields
 * the chunker needs are checked here; the server validates the rest and records what it refuses.
 */
export async function chatChunks(source: RecordSource<ChatRecord>, maxChunkBytes: number, hasher: Hasher = nobleHasher): Promise<Chunk[]> {
  const records: Array<Serialized<ChatRecord>> = [];
  let index = 0;
  for await (const record of source) {
    if (!record || typeof record !== 'object' || typeof record.id !== 'string' || record.id === '') {
      throw new BackupClientError('backup/invalid-argument', `chat message #${index} has no string id`);
    }
    if (typeof record.conversationId !== 'string' || record.conversationId === '') {
      throw new BackupClientError('backup/invalid-argument', `chat message #${index} has no string conversationId`);
    }
    const reserved = reservedField(record);
    if (reserved) throw new BackupClientError('backup/invalid-argument', `chat message ${record.id} has a "${reserved}" field, which Lifeboat reserves`);
    const { sentAt } = record;
    if (typeof sentAt !== 'string' && !(typeof sentAt === 'number' && Number.isFinite(sentAt))) {
      throw new BackupClientError('backup/invalid-argument', `chat message #${index} has no sentAt (a string or a finite number)`);
    }
    records.push(serialize(record, ['id', 'conversationId']));
    index += 1;
  }
  // Copies of one message (an edit next to the original) tie on the key: their JSON decides, so
  // the order never depends on the order the app listed them in. Each record's JSON is made
  // once, before the sort, not at every comparison.
  records.sort(({ record: a, json: aj }, { record: b, json: bj }) =>
    byCodeUnits(a.conversationId, b.conversationId) || compareSentAt(a.sentAt, b.sentAt) || byCodeUnits(a.id, b.id) || byCodeUnits(aj, bj));
  return packRecords(records, (r) => r.id, maxChunkBytes, 'chats', hasher, (r) => `${r.conversationId}\u0000${r.id}`);
}

export async function deviceInfoChunk(source: DeviceInfoRecord | (() => DeviceInfoRecord | Promise<DeviceInfoRecord>), hasher: Hasher = nobleHasher): Promise<Chunk> {
  const info = typeof source === 'function' ? await source() : source;
  if (!info || typeof info !== 'object') throw new BackupClientError('backup/invalid-argument', 'deviceInfo must be an object');
  return makeChunk('deviceInfo', utf8Bytes(serialize(info, []).json), 1, hasher);
}
