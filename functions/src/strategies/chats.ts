/**
 * Chats: NDJSON, one message per line. Each valid line is validated and its timestamps normalized
 * to ISO UTC; the chunk's messages are grouped by conversation, and each conversation's messages
 * are stored as one NDJSON pack blob sorted by (sentAt, id), so a conversation restores as one
 * ordered file. Each manifest item points at its message's line in its conversation's pack and
 * carries its conversation, its latest time (`at`: sentAt or a later editedAt) and the line's
 * SHA-256 (`digest`), from which the next backup takes its watermarks and diffs. A malformed line
 * is recorded with its line number and reason; the rest of the chunk is stored.
 *
 * With `incrementalOnly`, messages at or before their conversation's watermark that were not
 * edited since (and are not tombstones) are left out: the snapshot carries them forward.
 * Media the messages refer to (`imageUrl`, …) is read from the user's own blobs
 * (`lifeboat://blobs/{sha256}`) or fetched through `fetchMedia` and stored by the media
 * pipeline, one `media` item per reference; a reference that cannot be had is a skipped item.
 */
import { z } from 'zod';
import { messageOf } from '../core/errors';
import { compareUtcIso } from '../core/utc-iso';
import { sha256Hex } from '../core/hash';
import type { ManifestItem } from '../core/model';
import { LIFEBOAT_BLOB_URL } from './media-fetch';
import { maxMediaBytes, storeMediaFile } from './media';
import { RECORD_LIMITS } from '../core/record-limits';
import { boundedReason, canonicalJson, decodeUtf8, overCountItem, parseRecord, stringField, type Strategy, type StrategyContext } from './strategy';

// Normalized instants keep a four-digit year, so they stay valid ISO strings that sort in time
// order (past 9999, `toISOString` switches to `+275760-…`).
const MIN_EPOCH_MS = -62_167_219_200_000; // 0000-01-01T00:00:00.000Z
const MAX_EPOCH_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

const ISO_PARTS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * The UTC form `YYYY-MM-DDTHH:MM:SS.fff…Z` of an ISO date-time with offset or of epoch
 * milliseconds; null when the instant falls outside years 0000..9999. Digits past milliseconds
 * are kept (an offset is whole minutes, so the fraction never changes).
 */
export function toUtcIso(value: string | number): string | null {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= MIN_EPOCH_MS && value <= MAX_EPOCH_MS ? new Date(value).toISOString() : null;
  }
  const m = ISO_PARTS.exec(value);
  if (!m) return null;
  const part = (i: number) => Number(m[i] ?? '0');
  // setUTCFullYear, because Date.UTC reads years 0..99 as 1900..1999.
  const local = new Date(0);
  local.setUTCFullYear(part(1), part(2) - 1, part(3));
  local.setUTCHours(part(4), part(5), part(6), 0);
  const offsetMinutes = m[8] === undefined ? 0 : (m[8] === '-' ? -1 : 1) * (part(9) * 60 + part(10));
  const seconds = local.getTime() - offsetMinutes * 60_000;
  if (!(seconds >= MIN_EPOCH_MS && seconds <= MAX_EPOCH_MS)) return null;
  return `${new Date(seconds).toISOString().slice(0, 19)}.${(m[7] ?? '').padEnd(3, '0')}Z`;
}


const INSTANT_ERROR = 'must be an ISO 8601 date-time with a UTC offset, or integer epoch milliseconds, within years 0000..9999';

const Instant = z
  .union([z.iso.datetime({ offset: true, error: INSTANT_ERROR }), z.number().int({ error: INSTANT_ERROR })], { error: INSTANT_ERROR })
  .transform((value, ctx) => {
    const iso = toUtcIso(value);
    if (iso === null) {
      ctx.issues.push({ code: 'custom', message: INSTANT_ERROR, input: value });
      return z.NEVER;
    }
    return iso;
  });

const identifier = z.string().min(1).max(256);
const url = z.string().refine((s) => URL.canParse(s), { error: 'must be a URL' });

/** Known fields are checked (timestamps normalized to ISO UTC); unknown ones are kept. */
export const ChatMessage = z.looseObject({
  id: identifier,
  conversationId: identifier,
  senderId: identifier,
  sentAt: Instant,
  text: z.string().max(100_000),
  imageUrl: url.optional(),
  videoUrl: url.optional(),
  audioUrl: url.optional(),
  fileUrl: url.optional(),
  editedAt: Instant.optional(),
  /** A tombstone: the message was deleted in the app. */
  deleted: z.boolean().optional(),
});
export type ChatMessage = z.output<typeof ChatMessage>;
export type ChatMessageInput = z.input<typeof ChatMessage>;

const MEDIA_FIELDS = ['imageUrl', 'videoUrl', 'audioUrl', 'fileUrl'] as const;

/** The message's latest time: an edit (or a deletion, which apps stamp as an edit) after sending. */
export function messageTime(message: Pick<ChatMessage, 'sentAt' | 'editedAt'>): string {
  return message.editedAt !== undefined && compareUtcIso(message.editedAt, message.sentAt) > 0 ? message.editedAt : message.sentAt;
}

/** True when an incremental backup must store the message: new, edited or deleted since the watermark. */
export function changedSince(message: ChatMessage, watermark: string | undefined): boolean {
  if (watermark === undefined || message.deleted === true) return true;
  return compareUtcIso(messageTime(message), watermark) > 0;
}

/**
 * One manifest item per media reference of a stored message. Each file is fetched and processed
 * on its own (one in memory at a time); the same URL twice in a chunk is fetched once.
 */
async function referencedMedia(messages: ChatMessage[], context: StrategyContext): Promise<ManifestItem[]> {
  const items: ManifestItem[] = [];
  const seen = new Map<string, Omit<ManifestItem, 'sourceId'>>();
  const { uid, content, signal, fetchMedia, options } = context;
  for (const message of messages) {
    for (const field of MEDIA_FIELDS) {
      const url = message[field];
      if (url === undefined) continue;
      const sourceId = `chat:${message.conversationId}:${message.id}:${field}`;
      const known = seen.get(url);
      if (known) {
        items.push({ ...known, sourceId });
        continue;
      }
      let item: ManifestItem;
      const blob = LIFEBOAT_BLOB_URL.exec(url)?.[1];
      try {
        if (blob) {
          // Already in the user's own store: read to check it exists and matches its name.
          const bytes = await content.get(uid, blob, signal ? { signal } : {});
          item = { type: 'media', sourceId, blob, blobSize: bytes.byteLength, originalSize: bytes.byteLength, storedSize: bytes.byteLength, transforms: ['referenced blob'] };
        } else if (!fetchMedia) {
          item = { type: 'media', sourceId, blob: null, originalSize: 0, storedSize: 0, transforms: [], skipReason: `${field} not fetched: no media fetcher configured` };
        } else {
          const fetched = await fetchMedia.fetch(url, { maxBytes: maxMediaBytes(options), ...(signal ? { signal } : {}) });
          item = await storeMediaFile(fetched.bytes, sourceId, context);
          item = { ...item, transforms: ['fetched', ...item.transforms] };
        }
      } catch (err) {
        if (signal?.aborted) throw err;
        item = { type: 'media', sourceId, blob: null, originalSize: 0, storedSize: 0, transforms: [], skipReason: `could not fetch ${field}: ${messageOf(err)}` };
      }
      const { sourceId: _ignored, ...shared } = item;
      seen.set(url, shared);
      items.push(item);
    }
  }
  return items;
}

/** Splits at `\n` bytes (never part of a multi-byte UTF-8 sequence), so one bad line spoils only itself. */
function splitLines(bytes: Uint8Array): Array<{ bytes: Uint8Array; size: number }> {
  const lines: Array<{ bytes: Uint8Array; size: number }> = [];
  let start = 0;
  for (let i = 0; i < bytes.byteLength; i++) {
    if (bytes[i] !== 0x0a) continue;
    lines.push({ bytes: bytes.subarray(start, i), size: i - start + 1 });
    start = i + 1;
  }
  if (start < bytes.byteLength) lines.push({ bytes: bytes.subarray(start), size: bytes.byteLength - start });
  return lines;
}

interface Accepted {
  index: number;
  message: ChatMessage;
  originalSize: number;
}

/** True when `next` replaces `kept` as the copy of a repeated message: it was edited later, or ties. */
function supersedes(next: ChatMessage, kept: ChatMessage): boolean {
  if (next.editedAt === undefined) return kept.editedAt === undefined;
  return kept.editedAt === undefined || compareUtcIso(next.editedAt, kept.editedAt) >= 0;
}

const bySentAtThenId = (a: Accepted, b: Accepted): number =>
  compareUtcIso(a.message.sentAt, b.message.sentAt) || (a.message.id < b.message.id ? -1 : a.message.id > b.message.id ? 1 : 0);

export const chatsStrategy: Strategy = {
  type: 'chats',
  // v2: items carry conversationId, at and digest. Incremental results list only changed
  // messages, so they are indexed apart from full ones.
  strategyKey: (options) => (options.incrementalOnly ? 'v2:i' : 'v2'),
  async processChunk(bytes, context) {
    const { uid, content, signal } = context;
    const lines = splitLines(bytes);
    const items: Array<ManifestItem | undefined> = new Array<ManifestItem | undefined>(lines.length);
    const skip = (index: number, sourceId: string, reason: string, conversationId?: string) => {
      items[index] = {
        type: 'chats', sourceId, blob: null, originalSize: lines[index]?.size ?? 0, storedSize: 0,
        transforms: [], skipReason: boundedReason(`line ${index + 1}: ${reason}`),
        // Named by its conversation too where the line has one, like the messages it sits among.
        ...(conversationId !== undefined ? { conversationId } : {}),
      };
    };

    // Keyed by conversation and id: apps that number messages per conversation reuse ids across
    // conversations, and those are different messages.
    const accepted = new Map<string, Accepted>();
    // Lines past the count one chunk may hold are one skipped item (core/record-limits.ts).
    const max = RECORD_LIMITS.maxRecordsPerChunk;
    for (const [index, line] of lines.entries()) {
      if (index >= max) break;
      // Too large is refused before it is decoded.
      const text = line.bytes.byteLength > RECORD_LIMITS.maxRecordBytes ? '' : decodeUtf8(line.bytes);
      if (text === null) {
        skip(index, `line:${index + 1}`, 'not valid UTF-8');
        continue;
      }
      const record = parseRecord(text, line.bytes.byteLength);
      if (!record.ok) {
        skip(index, stringField(record.value, 'id') ?? `line:${index + 1}`, record.reason, stringField(record.value, 'conversationId'));
        continue;
      }
      const json = record.value;
      const parsed = ChatMessage.safeParse(json);
      if (!parsed.success) {
        skip(index, stringField(json, 'id') ?? `line:${index + 1}`, z.prettifyError(parsed.error).replace(/\n\s*/g, ' '), stringField(json, 'conversationId'));
        continue;
      }
      const message = parsed.data;
      const key = JSON.stringify([message.conversationId, message.id]);
      const kept = accepted.get(key);
      const candidate = { index, message, originalSize: line.size };
      if (kept && !supersedes(message, kept.message)) {
        skip(index, message.id, 'duplicate message id');
        continue;
      }
      if (kept) skip(kept.index, kept.message.id, 'duplicate message id');
      accepted.set(key, candidate);
    }
    if (lines.length > max) {
      items.length = max;
      items.push(overCountItem('chats', max + 1, lines.length, lines.slice(max).reduce((n, l) => n + l.size, 0)));
    }

    const watermarks = context.options.incrementalOnly && context.chatWatermarks ? await context.chatWatermarks() : null;
    const conversations = new Map<string, Accepted[]>();
    for (const entry of accepted.values()) {
      // Unchanged since the parent snapshot: no item here, carried forward at finalize.
      if (watermarks && !changedSince(entry.message, watermarks.get(entry.message.conversationId))) continue;
      const list = conversations.get(entry.message.conversationId);
      if (list) list.push(entry);
      else conversations.set(entry.message.conversationId, [entry]);
    }
    const encoder = new TextEncoder();
    const conversationIds = [...conversations.keys()].sort();
    for (const conversationId of conversationIds) {
      const messages = (conversations.get(conversationId) ?? []).sort(bySentAtThenId);
      const packLines = messages.map((m) => encoder.encode(`${canonicalJson(m.message)}\n`));
      const pack = new Uint8Array(packLines.reduce((n, l) => n + l.byteLength, 0));
      let at = 0;
      for (const l of packLines) {
        pack.set(l, at);
        at += l.byteLength;
      }
      const stored = await content.put(uid, pack, signal ? { signal } : {});
      messages.forEach(({ index, message, originalSize }, part) => {
        const line = packLines[part] ?? new Uint8Array();
        items[index] = {
          type: 'chats',
          sourceId: message.id,
          blob: stored.hash,
          blobSize: stored.size,
          part,
          originalSize,
          // Messages share the pack; each carries its share of the stored bytes so totals add up.
          storedSize: Math.round((stored.storedSize * (packLines[part]?.byteLength ?? 0)) / pack.byteLength),
          transforms: ['validated', 'grouped-by-conversation', ...(message.deleted === true ? ['tombstone'] : message.editedAt !== undefined ? ['edited'] : [])],
          conversationId: message.conversationId,
          at: messageTime(message),
          digest: sha256Hex(line.subarray(0, line.byteLength - 1)),
        };
      });
    }
    const stored = [...conversations.values()].flat().map((a) => a.message);
    const media = await referencedMedia(stored, context);
    return [...items.filter((item): item is ManifestItem => item !== undefined), ...media];
  },
};

export { compareUtcIso };
