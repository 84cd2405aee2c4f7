/**
 * Contacts and chats recipe chunks (docs/protocol.md, "Chunk formats"; the SDK's
 * `record-delta.ts`): lines `{"$ref": chunkId, "except": [names]}` or `{"$ref": chunkId, "only":
 * [names]}` stand for records the user's earlier chunk `chunkId` of the same type holds (a
 * contact's id; a chat message's `[conversationId, id]`, with the media items fetched for it).
 * `processChunk` copies those records' manifest items from that chunk's stored result (same
 * blobs, same digests: nothing is stored again) and runs the strategy on the remaining lines only.
 */
import { z } from 'zod';
import type { ContentStore } from '../content-store';
import type { EngineDeps } from '../deps';
import { codeOf, hasCode, lifeboatError } from '../errors';
import { ChunkResult, Sha256Hex, type BackupType, type ChunkIndexEntry, type ManifestItem } from '../model';
import { reuseChunkIndex } from '../snapshots/gc-lease';

/**
 * The record an item belongs to, as reference lines name it: a contact's id (its vCard photo,
 * `contact:{id}:photo`, too); a chat message's `conversationId` and id joined by U+0000, and the
 * media fetched for it (`chat:{conversationId}:{id}:{field}`, strategies/chats.ts) as
 * `conversationId:id`. Null for an item no line can name (a chat line without a conversation).
 */
function nameOf(item: ManifestItem): { name: string; media: boolean } | null {
  if (item.type === 'media') {
    const { sourceId } = item;
    const field = sourceId.lastIndexOf(':');
    if (sourceId.startsWith('chat:')) return { name: sourceId.slice(5, field), media: true };
    if (sourceId.startsWith('contact:')) return { name: sourceId.slice(8, field), media: false };
    return null;
  }
  if (item.type === 'chats') return item.conversationId === undefined ? null : { name: `${item.conversationId}\u0000${item.sourceId}`, media: false };
  return { name: item.sourceId, media: false };
}

/** The types whose chunks may be recipes. */
export const RECIPE_TYPES: ReadonlySet<BackupType> = new Set(['contacts', 'chats']);

const RefName = z.union([z.string(), z.tuple([z.string(), z.string()])]);
const RefLine = z.union([
  z.strictObject({ $ref: Sha256Hex, except: z.array(RefName) }),
  z.strictObject({ $ref: Sha256Hex, only: z.array(RefName).min(1) }),
]);
export type RefLine = z.infer<typeof RefLine>;

const REF_PREFIX = new TextEncoder().encode('{"$ref":');

function startsWithRef(bytes: Uint8Array, at: number): boolean {
  for (let i = 0; i < REF_PREFIX.byteLength; i++) if (bytes[at + i] !== REF_PREFIX[i]) return false;
  return true;
}

/** The reference lines of a recipe chunk, and its other lines as they were. */
export function splitRefLines(bytes: Uint8Array): { refs: RefLine[]; rest: Uint8Array } {
  const refs: RefLine[] = [];
  const kept: Array<[number, number]> = [];
  let start = 0;
  let line = 1;
  while (start < bytes.byteLength) {
    let end = bytes.indexOf(0x0a, start);
    end = end === -1 ? bytes.byteLength : end + 1;
    if (startsWithRef(bytes, start)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(new TextDecoder().decode(bytes.subarray(start, end)));
      } catch {
        parsed = null;
      }
      const ref = RefLine.safeParse(parsed);
      // A reference the server cannot read would drop records silently: the chunk is refused.
      if (!ref.success) throw lifeboatError('invalid-argument', `line ${line} is not a valid reference line`, { retryable: false });
      refs.push(ref.data);
    } else {
      kept.push([start, end]);
    }
    start = end;
    line += 1;
  }
  if (refs.length === 0) return { refs, rest: bytes };
  const rest = new Uint8Array(kept.reduce((n, [a, b]) => n + (b - a), 0));
  let at = 0;
  for (const [a, b] of kept) {
    rest.set(bytes.subarray(a, b), at);
    at += b - a;
  }
  return { refs, rest };
}

/** What the lines naming one chunk select from it: an item is copied when any line selects it. */
interface Selection {
  /** Some line names this chunk with `except`: every record but the ones all such lines list. */
  except: Set<string> | null;
  /** Names listed by `only` lines. */
  only: Set<string>;
}

const refKey = (n: z.infer<typeof RefName>): string => (typeof n === 'string' ? n : `${n[0]}\u0000${n[1]}`);

/**
 * A referenced chunk's result. One that is gone or corrupt was lost after registration checked it
 * (GC defers to the running job, so only damage does that): the chunk fails for good, and its
 * entry is dropped so that the device's next backup finds the reference `unresolved` and sends
 * the records whole (docs/invariants.md, "Dedup").
 */
async function referencedResult(deps: Pick<EngineDeps, 'store'>, content: ContentStore, uid: string, chunkId: string, entry: ChunkIndexEntry): Promise<ChunkResult> {
  try {
    return ChunkResult.parse(JSON.parse(new TextDecoder().decode(await content.get(uid, entry.resultRef))));
  } catch (err) {
    // Anything but a lost or damaged result (storage down) is retried as it is.
    if (!hasCode(err, 'not-found') && codeOf(err) !== 'data-loss' && !(err instanceof SyntaxError) && !(err instanceof z.ZodError)) throw err;
    await deps.store.deleteChunkIndex(uid, [entry.key]);
    throw lifeboatError(
      'failed-precondition',
      `the chunk refers to chunk ${chunkId}, whose stored result ${entry.resultRef} is ${hasCode(err, 'not-found') ? 'gone' : 'damaged'}: its index entry is dropped, so the device's next backup sends these records whole`,
      { retryable: false, cause: err, details: { chunkId, resultRef: entry.resultRef } },
    );
  }
}

/**
 * The manifest items the references stand for, from the referenced chunks' results under `key`.
 * A referenced chunk the user no longer has, or whose result is lost, is a permanent error:
 * `registerChunks` checked both and GC defers to the running job, so it can only mean a damaged
 * store (`referencedResult`).
 *
 * Linear in the reference lines plus the referenced results' items: the lines naming one chunk
 * are merged into one selection and each result is walked once, so a record named by several lines
 * is copied once (issue 16: repeated lines multiplied the items).
 */
export async function referencedItems(
  deps: Pick<EngineDeps, 'store' | 'blobs' | 'clock'>,
  content: ContentStore,
  uid: string,
  refs: readonly RefLine[],
  key: (chunkId: string) => string,
): Promise<ManifestItem[]> {
  const selections = new Map<string, Selection>();
  for (const ref of refs) {
    let selection = selections.get(ref.$ref);
    if (!selection) {
      selection = { except: null, only: new Set() };
      selections.set(ref.$ref, selection);
    }
    if ('only' in ref) {
      for (const n of ref.only) selection.only.add(refKey(n));
    } else {
      const names = new Set(ref.except.map(refKey));
      // Excluded only when every `except` line excludes it.
      const previous = selection.except;
      // Walks this line's names, never the ones gathered so far: linear in the lines.
      selection.except = previous === null ? names : new Set([...names].filter((n) => previous.has(n)));
    }
  }
  const chunkIds = [...selections.keys()];
  const entries = await reuseChunkIndex(deps, uid, chunkIds.map(key));
  const out: ManifestItem[] = [];
  const seenResults = new Set<string>();
  for (const [i, chunkId] of chunkIds.entries()) {
    const entry = entries[i];
    if (!entry) throw lifeboatError('failed-precondition', `the chunk refers to chunk ${chunkId}, which this user no longer has`, { retryable: false });
    // Two chunk ids with one result cannot happen (a result names its chunk); read each once anyway.
    if (seenResults.has(entry.resultRef)) continue;
    seenResults.add(entry.resultRef);
    const result = await referencedResult(deps, content, uid, chunkId, entry);
    const selection = selections.get(chunkId) as Selection;
    // A chat message's media is named `conversationId:id`.
    const selected = (name: string): boolean => selection.only.has(name) || (selection.except !== null && !selection.except.has(name));
    const mediaName = (name: string) => name.replace('\u0000', ':');
    const selectedMedia = new Set<string>();
    for (const name of selection.only) selectedMedia.add(mediaName(name));
    const exceptMedia = selection.except === null ? null : new Set([...selection.except].map(mediaName));
    for (const item of result.items) {
      const named = nameOf(item);
      // An item no line can name is not carried over: the record it came from was not valid.
      if (named === null) continue;
      const isSelected = named.media ? selectedMedia.has(named.name) || (exceptMedia !== null && !exceptMedia.has(named.name)) : selected(named.name);
      if (isSelected) out.push(item);
    }
  }
  return out;
}
