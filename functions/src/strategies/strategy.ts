import type { ContentStore } from '../core/content-store';
import type { BackupOptions, BackupType, ManifestItem } from '../core/model';
import type { MediaFetcher } from '../ports/media-fetcher';
import type { MemoryBudget } from './media-memory';

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

/** JSON with object keys sorted, so equal records serialize to equal bytes (and dedup). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}
