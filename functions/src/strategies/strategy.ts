import type { ContentStore } from '../core/content-store';
import type { BackupOptions, BackupType, ManifestItem } from '../core/model';
import { assertDepthWithinLimit, boundedReason, RECORD_LIMITS, recordLimitReason, skippedByDevice } from '../core/record-limits';
import type { MediaFetcher } from '../ports/media-fetcher';

/** The memory a step runs in. */
export interface MemoryBudget {
  /** The process's memory: the function's memory on Firebase (the instance is killed past it). */
  limitBytes: number;
  /** What the process holds before a step's own work: runtime, modules, clients, another task. */
  baselineBytes: number;
}

/** What a strategy may use while it processes one chunk. */
export interface StrategyContext {
  uid: string;
  jobId: string;
  options: BackupOptions;
  /** Where the strategy stores the blobs its items reference. */
  content: ContentStore;
  signal?: AbortSignal;
  /**
   * Fetches media that chat messages refer to, under an SSRF policy (see media-fetch.ts).
   * @default none: `https` references are recorded on the manifest, not fetched
   */
  fetchMedia?: MediaFetcher;
  /**
   * With `incrementalOnly`: the latest time (ISO UTC) per conversation in the job's parent
   * snapshot. Messages at or before it that were not edited or deleted since are left out; the
   * snapshot carries them forward from the parent. @default none: every message is stored
   */
  chatWatermarks?: () => Promise<ReadonlyMap<string, string>>;
  /**
   * The memory the step runs in: image decodes that would not fit it keep the original
   * (media-memory.ts). @default DEFAULT_MEMORY_BUDGET, a 256 MiB Cloud Function
   */
  memory?: MemoryBudget;
}

/**
 * Turns one raw chunk of a type into stored blobs and manifest items. A bad item never fails the
 * chunk: it becomes an item with a `skipReason`. A strategy throws only for what retrying may fix
 * (storage unavailable) or for a defect.
 */
export interface Strategy {
  readonly type: BackupType;
  /**
   * A short string that changes when an option that changes the stored output changes (media
   * quality, say). Part of the chunk index key: the same bytes under other options are processed
   * again rather than reused.
   */
  strategyKey(options: BackupOptions): string;
  processChunk(bytes: Uint8Array, context: StrategyContext): Promise<ManifestItem[]>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8, or returns null for invalid bytes (the caller records the reason). */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * JSON with object keys sorted, so equal records serialize to equal bytes (and dedup). The
 * serializer recurses, so a value nested past the record limit is refused (`invalid-argument`)
 * before it starts: strategies check the limit first and skip such a record (issue 16).
 */
export function canonicalJson(value: unknown): string {
  assertDepthWithinLimit(value);
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

/** One record's JSON, parsed under the record limits, or why it cannot be stored. */
export type ParsedRecord =
  | { ok: true; value: unknown }
  | {
      ok: false;
      /** `limit`: over a record limit; `not-json`: `detail` is the parser's message; `device-skipped`: the device's stand-in. */
      kind: 'limit' | 'not-json' | 'device-skipped';
      reason: string;
      detail?: string;
      value?: unknown;
    };

/**
 * Parses one record's text (`byteLength` bytes, without its newline) under the record limits
 * (core/record-limits.ts): too large is refused unread; not JSON, nested too deep, or a
 * device's `{"$skipped": …}` stand-in each give their reason. `JSON.parse` itself is not
 * recursive in V8, so any depth parses.
 */
export function parseRecord(text: string, byteLength: number): ParsedRecord {
  const tooLarge = recordLimitReason(byteLength);
  if (tooLarge) return { ok: false, kind: 'limit', reason: tooLarge };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, kind: 'not-json', reason: `not JSON (${(err as Error).message})`, detail: (err as Error).message };
  }
  const tooDeep = recordLimitReason(0, value);
  if (tooDeep) return { ok: false, kind: 'limit', reason: tooDeep, value };
  const skipped = skippedByDevice(value);
  if (skipped !== null) return { ok: false, kind: 'device-skipped', reason: `left out by its sender: ${skipped}`, value };
  return { ok: true, value };
}

/** A string field of a parsed record, for naming a skipped item; undefined when absent or empty. */
export function stringField(value: unknown, field: string): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const v = (value as Record<string, unknown>)[field];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/**
 * The one item that stands for the records of a chunk past the count it may hold (records
 * `first`..`last`, 1-based, `originalSize` bytes in all). @default unit `lines`
 */
export function overCountItem(type: BackupType, first: number, last: number, originalSize: number, unit: 'lines' | 'cards' = 'lines'): ManifestItem {
  return {
    type, sourceId: `${unit}:${first}-${last}`, blob: null, originalSize, storedSize: 0, transforms: [],
    skipReason: `${unit} ${first}..${last}: over the ${RECORD_LIMITS.maxRecordsPerChunk} records one chunk may hold`,
  };
}

export { boundedReason };
