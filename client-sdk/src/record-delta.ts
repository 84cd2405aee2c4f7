/**
 * Record-level deltas for contacts and chats (docs/strategies.md, "What an edit costs"). Dedup is
 * per chunk, so one edited contact (or a few new messages at the end of a conversation) would
 * send a whole chunk of about 32 records again. Instead the device keeps the layout of its last
 * committed backup of the type (each chunk's id and its records' digests) and, for a chunk the
 * server cannot have, sends a *recipe chunk*: reference lines naming records the server already
 * holds in an earlier chunk, then the changed records.
 *
 *     {"$ref":"<chunk id>","except":["c017"]}     every contact of that chunk but c017
 *     {"$ref":"<chunk id>","only":["c020","c021"]} just these
 *     {"id":"c017", ...}                            a changed contact, as usual
 *
 * Chat messages are named by `[conversationId, id]` pairs in the lists (ids are unique per
 * conversation only).
 *
 * A recipe chunk is a chunk like any other: named by the SHA-256 of its own bytes, checked on
 * upload, processed once, deduplicated by id. The server copies the referenced records' manifest
 * items from the referenced chunk's stored result, so nothing is read twice and nothing is
 * re-stored. `registerChunks` refuses a recipe whose references it no longer has (`unresolved`),
 * and the device sends that chunk whole instead.
 *
 * The layout need not be current: a chunk the server has is known by its id whatever the layout
 * says, and a recipe whose references the server lacks is `unresolved` at registration (checked
 * after the GC fence; GC then defers to the job), so an outdated or lost layout costs bytes, never
 * records. A resumed run plans against the layout its first run used (`deltaBases` in the ledger).
 */
import { concat, type Chunk } from './chunker';
import type { KeyValueStore } from './ports';
import { nobleHasher, sha256HexWith, type Hasher } from './hasher';
import { utf8Bytes } from './utf8';

/** How a recipe chunk was built, so the same chunk can be built again from the same records. */
export interface Recipe {
  /** The reference lines, in order. */
  refs: RefLine[];
  /** Keys of the records sent whole, after the references, in the chunk's order. */
  inline: string[];
}

/** A record in a reference line: a contact's id, or a chat message's `[conversationId, id]`. */
export type RefName = string | [string, string];

export type RefLine = { $ref: string; except: RefName[] } | { $ref: string; only: RefName[] };

/** The types whose chunks may be recipes. */
export type DeltaType = 'contacts' | 'chats';

export interface LayoutChunk {
  /** Id of the chunk of all its records, as the chunker builds it. */
  logical: string;
  /** Id of what was registered for it: the logical chunk, or a recipe chunk. */
  wire: string;
  /** The chunk's records: key (see `Chunk.records`) and the first 16 hex digits of the SHA-256 of its line. */
  records: Array<[string, string]>;
  recipe?: Recipe;
}

/** The layout of one type in one committed backup of this device. */
export interface RecordLayout {
  version: 1;
  jobId: string;
  chunks: LayoutChunk[];
}

/** What to register for a contacts or chats chunk. */
export interface PlannedChunk {
  /** The bytes to send if the server lacks them. */
  chunk: Chunk;
  /** The logical chunk, sent instead when the server cannot resolve `chunk`'s references. */
  logical: Chunk;
  /** Wire ids of the chunks `chunk` refers to; empty for a logical chunk. */
  refs: string[];
  layout: LayoutChunk;
}

/** A recipe is sent only when it is at most this share of the logical chunk's bytes. */
const MAX_RECIPE_SHARE = 0.5;


/**
 * The chunk's lines (each with its newline) by record key, or null when a key repeats (the server
 * settles repeated records within a chunk, so such a chunk always goes whole).
 */
function linesByKey(chunk: Chunk, records: ReadonlyArray<readonly [string, string]>): Map<string, Uint8Array> | null {
  const out = new Map<string, Uint8Array>();
  let start = 0;
  let index = 0;
  for (let i = 0; i < chunk.bytes.byteLength; i++) {
    if (chunk.bytes[i] !== 0x0a) continue;
    const record = records[index];
    if (record) {
      if (out.has(record[0])) return null;
      out.set(record[0], chunk.bytes.subarray(start, i + 1));
    }
    index += 1;
    start = i + 1;
  }
  return index === records.length ? out : null;
}

/** How a record key appears in a reference line of `type`. */
function refName(type: DeltaType, key: string): RefName {
  if (type === 'contacts') return key;
  const at = key.indexOf('\u0000');
  return [key.slice(0, at), key.slice(at + 1)];
}

function recipeChunk(type: DeltaType, recipe: Recipe, lines: Map<string, Uint8Array>, items: number, hasher: Hasher): Chunk | null {
  const parts: Uint8Array[] = recipe.refs.map((ref) => utf8Bytes(`${JSON.stringify(ref)}\n`));
  for (const id of recipe.inline) {
    const line = lines.get(id);
    if (!line) return null;
    parts.push(line);
  }
  const bytes = concat(parts);
  return { id: sha256HexWith(hasher, bytes), type, size: bytes.byteLength, items, bytes };
}

/**
 * The chunks of `type` to register, against the layout of the last committed backup (or none).
 * Deterministic: the same chunks and layout give the same plan, so a resumed run registers what
 * the killed one did.
 */
export function planRecordChunks(type: DeltaType, chunks: readonly Chunk[], previous: RecordLayout | null, hasher: Hasher = nobleHasher): PlannedChunk[] {
  const byLogical = new Map<string, LayoutChunk>();
  const byRecord = new Map<string, { chunk: LayoutChunk; digest: string }>();
  for (const entry of previous?.chunks ?? []) {
    byLogical.set(entry.logical, entry);
    for (const [id, digest] of entry.records) byRecord.set(id, { chunk: entry, digest });
  }
  return chunks.map((logical) => {
    const records = logical.records ?? [];
    const plain: PlannedChunk = { chunk: logical, logical, refs: [], layout: { logical: logical.id, wire: logical.id, records } };
    if (!previous || records.length === 0) return plain;
    const lines = linesByKey(logical, records);
    if (!lines) return plain;

    // The same records as a chunk of the last backup: register what was registered then.
    const same = byLogical.get(logical.id);
    if (same) {
      if (!same.recipe) return plain;
      const again = recipeChunk(type, same.recipe, lines, records.length, hasher);
      if (!again || again.id !== same.wire) return plain;
      return { chunk: again, logical, refs: same.recipe.refs.map((r) => r.$ref), layout: same };
    }

    // Unchanged records, grouped by the earlier chunk that holds them.
    const kept = new Map<LayoutChunk, Set<string>>();
    const inline: string[] = [];
    for (const [id, digest] of records) {
      const before = byRecord.get(id);
      if (before && before.digest === digest) {
        const ids = kept.get(before.chunk) ?? new Set<string>();
        ids.add(id);
        kept.set(before.chunk, ids);
      } else {
        inline.push(id);
      }
    }
    if (kept.size === 0) return plain;
    const refs: RefLine[] = [];
    for (const [entry, ids] of kept) {
      const except = entry.records.map(([id]) => id).filter((id) => !ids.has(id));
      refs.push(
        except.length <= ids.size
          ? { $ref: entry.wire, except: except.map((k) => refName(type, k)) }
          : { $ref: entry.wire, only: [...ids].map((k) => refName(type, k)) },
      );
    }
    const recipe: Recipe = { refs, inline };
    const chunk = recipeChunk(type, recipe, lines, records.length, hasher);
    if (!chunk || chunk.size > logical.size * MAX_RECIPE_SHARE) return plain;
    return { chunk, logical, refs: refs.map((r) => r.$ref), layout: { logical: logical.id, wire: chunk.id, records, recipe } };
  });
}

/** Reads and writes a type's layout in the client's key-value store, one key per device and type. */
export class LayoutStore {
  private readonly key: string;

  constructor(
    private readonly storage: KeyValueStore,
    deviceId: string,
    type: DeltaType,
  ) {
    this.key = `lifeboat/${type}-layout/${deviceId}`;
  }

  async get(): Promise<RecordLayout | null> {
    const text = await this.storage.getItem(this.key);
    if (!text) return null;
    try {
      const layout = JSON.parse(text) as RecordLayout;
      return layout.version === 1 && Array.isArray(layout.chunks) ? layout : null;
    } catch {
      // A damaged layout only costs a full upload.
      return null;
    }
  }

  put(layout: RecordLayout): Promise<void> {
    return this.storage.setItem(this.key, JSON.stringify(layout));
  }
}
