/**
 * Restore through the SDK: fetch a restore plan (the selected manifest items and one short-lived
 * link per blob), download each blob once, check its SHA-256 against its name, cut packed items
 * out by their NDJSON line, and hand every item's bytes to a host-provided sink. The bytes are
 * the stored ones, exactly what `lifeboat restore` writes into a folder. Memory holds one blob at
 * a time.
 */
import { abortedError, BackupClientError } from './errors';
import type { HttpPort } from './http';
import { sha256Hex } from './sha256';
import type { BackupType } from './types';

/** One item of a restore plan (a manifest line). */
export interface RestoreItem {
  type: BackupType;
  sourceId: string;
  /** Content hash of the item's blob; null for an item the backup skipped. */
  blob: string | null;
  part?: number;
  blobSize?: number;
  /** Media stored in parts: the sink gets the parts of one file in order, through one writer. */
  segment?: { index: number; offset: number; fileSize: number };
  originalSize: number;
  storedSize: number;
  transforms: string[];
  skipReason?: string;
  conversationId?: string;
  at?: string;
}

/** Where one item's bytes go: a file, a database row, a message store. */
export interface RestoreWriter {
  write(bytes: Uint8Array): void | Promise<void>;
  close(): void | Promise<void>;
}

/** The host's side of a restore: it opens a writer per item it wants (null to skip it). */
export interface RestoreSink {
  open(item: RestoreItem): RestoreWriter | null | Promise<RestoreWriter | null>;
}

export interface RestoreProgress {
  itemsDone: number;
  itemsTotal: number;
  bytesDownloaded: number;
  blobsDone: number;
  blobsTotal: number;
}

export interface RestoreOptions {
  snapshotId: string;
  sink: RestoreSink;
  /** Only these types. @default all */
  types?: BackupType[];
  /** Chats: only these conversations. @default all */
  conversations?: string[];
  /** Chats: only messages at or after this time (epoch ms or ISO). @default no bound */
  from?: number | string;
  /** Chats: only messages before this time (epoch ms or ISO). @default no bound */
  to?: number | string;
  /** Only these items (source ids). @default all */
  itemIds?: string[];
  onProgress?: (progress: RestoreProgress) => void;
  signal?: AbortSignal;
}

export interface RestoreResult {
  snapshotId: string;
  items: number;
  byType: Partial<Record<BackupType, number>>;
  /** Items the backup skipped, with their reasons (no bytes to restore). */
  skipped: Array<{ type: BackupType; sourceId: string; reason: string | null }>;
  bytesDownloaded: number;
}

interface Plan {
  snapshotId: string;
  items: RestoreItem[];
  downloads: Record<string, { url: string; size: number | null }>;
  expiresAt: number;
}

export interface RestoreDeps {
  call: <T>(name: string, data: unknown, signal?: AbortSignal) => Promise<T>;
  http: HttpPort;
}

function splitLines(bytes: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.byteLength; i++) {
    if (bytes[i] === 0x0a) {
      lines.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < bytes.byteLength) lines.push(bytes.subarray(start));
  return lines;
}

async function download(deps: RestoreDeps, hash: string, url: string, signal: AbortSignal | undefined): Promise<Uint8Array> {
  const res = await deps.http.request({ method: 'GET', url, headers: {}, ...(signal ? { signal } : {}) });
  if (res.status !== 200) {
    throw new BackupClientError(res.status === 403 ? 'backup/permission-denied' : res.status === 404 ? 'backup/not-found' : 'backup/unavailable', `download of blob ${hash} failed: HTTP ${res.status}`, { status: res.status });
  }
  // The blob's name is the SHA-256 of its plaintext: anything else is damage in storage or transit.
  if (sha256Hex(res.body) !== hash) throw new BackupClientError('backup/data-loss', `blob ${hash} arrived with different bytes (hash mismatch)`);
  return res.body;
}

export async function restoreSnapshot(deps: RestoreDeps, options: RestoreOptions): Promise<RestoreResult> {
  const { signal } = options;
  const plan = await deps.call<Plan>(
    'getRestorePlan',
    {
      snapshotId: options.snapshotId,
      ...(options.types ? { types: options.types } : {}),
      ...(options.conversations ? { conversations: options.conversations } : {}),
      ...(options.from !== undefined ? { from: options.from } : {}),
      ...(options.to !== undefined ? { to: options.to } : {}),
      ...(options.itemIds ? { itemIds: options.itemIds } : {}),
    },
    signal,
  );
  const result: RestoreResult = { snapshotId: plan.snapshotId, items: 0, byType: {}, skipped: [], bytesDownloaded: 0 };
  const progress: RestoreProgress = {
    itemsDone: 0,
    itemsTotal: plan.items.length,
    bytesDownloaded: 0,
    blobsDone: 0,
    blobsTotal: Object.keys(plan.downloads).length,
  };
  let cached = null as { hash: string; bytes: Uint8Array; lines: Uint8Array[] | null } | null;
  // Parts of one large media file share a writer, opened at its first part, closed at its last.
  let open = null as { sourceId: string; writer: RestoreWriter | null } | null;

  for (const item of plan.items) {
    if (signal?.aborted) throw abortedError();
    if (!item.blob) {
      result.skipped.push({ type: item.type, sourceId: item.sourceId, reason: item.skipReason ?? null });
      progress.itemsDone += 1;
      options.onProgress?.({ ...progress });
      continue;
    }
    if (cached?.hash !== item.blob) {
      const link = plan.downloads[item.blob];
      if (!link) throw new BackupClientError('backup/internal', `restore plan has no link for blob ${item.blob}`);
      cached = { hash: item.blob, bytes: await download(deps, item.blob, link.url, signal), lines: null };
      progress.bytesDownloaded += cached.bytes.byteLength;
      progress.blobsDone += 1;
    }
    let bytes = cached.bytes;
    if (item.part !== undefined) {
      cached.lines ??= splitLines(cached.bytes);
      const line = cached.lines[item.part];
      if (!line) throw new BackupClientError('backup/data-loss', `pack ${item.blob} has no record ${item.part} [item ${item.sourceId}]`);
      bytes = line;
    }
    const continuing = item.segment && item.segment.index > 0 && open?.sourceId === item.sourceId;
    const writer = continuing ? (open?.writer ?? null) : await options.sink.open(item);
    if (writer) await writer.write(bytes);
    const last = !item.segment || item.segment.offset + bytes.byteLength >= item.segment.fileSize;
    if (last) {
      if (writer) await writer.close();
      open = null;
      if (writer) {
        result.items += 1;
        result.byType[item.type] = (result.byType[item.type] ?? 0) + 1;
      }
    } else {
      open = { sourceId: item.sourceId, writer };
    }
    progress.itemsDone += 1;
    options.onProgress?.({ ...progress });
  }
  result.bytesDownloaded = progress.bytesDownloaded;
  return result;
}
