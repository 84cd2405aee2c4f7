/**
 * Restore through the SDK: fetch a restore plan (the selected manifest items and one short-lived
 * link per blob), download each blob once, check its SHA-256 against its name, cut packed items
 * out by their NDJSON line, and hand every item's bytes to a host-provided sink. The bytes are
 * the stored ones, exactly what `lifeboat restore` writes into a folder. Memory holds the blob in
 * use and a few recent small ones (`RecentBlobs`, at most 16 MiB). A large media file's parts reach the sink in `segment.offset` order, whatever order the
 * manifest lists them in.
 *
 * End-to-end snapshots (docs/invariants.md, "End-to-end encryption"): the plan lists one opaque
 * item per chunk. The SDK decrypts the chunk with the client's passphrase and hands each record
 * inside it to the same sink, as an item of the same shape (`sourceId`, `part`, `conversationId`,
 * `at`, `segment`, transform `e2e-opaque`): the bytes are the records as the device sent them
 * (the server never normalized them), and the item, conversation and date filters apply on the
 * device after decryption.
 */
import type { ManifestItem } from '@lifeboat/protocol';
import { inFileOrder, splitLines } from './protocol';
import type { ApiCall } from './callable';
import { abortedError, BackupClientError, type BackupErrorCode } from './errors';
import { endProblem, partProblem, type PartSegment } from './file-parts';
import { RecentBlobs } from './recent-blobs';
import { loadE2eKey, type E2eKey, type EndToEndOptions } from './e2e-encryption';
import type { HttpPort } from './http';
import { nobleHasher, sha256HexWith, type Hasher } from './hasher';
import type { BackupType, MediaMeta } from './types';
import { utf8Text } from './utf8';

/**
 * One item of a restore plan: a manifest line (the protocol's `ManifestItem`). `segment`: media
 * stored in parts, whose parts the sink gets in order through one writer. `meta`: what the app
 * said about a media file when it was backed up (its name, type, times and album); a sink writing
 * files can name them with `RestoreNames.nameFor(item.sourceId, item.meta?.name)`, which keeps the
 * name when it is a safe file name and unique.
 */
export type RestoreItem = ManifestItem;

/** Where one item's bytes go: a file, a database row, a message store. */
export interface RestoreWriter {
  write(bytes: Uint8Array): void | Promise<void>;
  /** The item is complete. */
  close(): void | Promise<void>;
  /**
   * The item failed after its writer was opened (a later part of a large file is missing or
   * corrupt, or the restore stopped): discard what was written. Without it `close` is called,
   * and the item is listed in `result.failed`. @default close
   */
  abort?(error: Error): void | Promise<void>;
}

/** The host's side of a restore: it opens a writer per item it wants (null to skip it). */
export interface RestoreSink {
  open(item: RestoreItem): RestoreWriter | null | Promise<RestoreWriter | null>;
}

export interface RestoreProgress {
  itemsDone: number;
  /** Items the restore will hand over; null while unknown (a filter on items over a segmented snapshot). */
  itemsTotal: number | null;
  bytesDownloaded: number;
  blobsDone: number;
  /** Distinct blobs to download; null when the server does not know it up front (segmented snapshots). */
  blobsTotal: number | null;
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
  /** Items per restore-plan page: each page is asked for when the restore gets to it, so its links are fresh. @default 2000 */
  pageSize?: number;
  onProgress?: (progress: RestoreProgress) => void;
  signal?: AbortSignal;
}

export interface RestoreResult {
  snapshotId: string;
  items: number;
  byType: Partial<Record<BackupType, number>>;
  /** Items the backup skipped, with their reasons (no bytes to restore). */
  skipped: Array<{ type: BackupType; sourceId: string; reason: string | null }>;
  /**
   * Items whose data could not be restored, with the reason: a missing blob (`backup/not-found`),
   * a corrupt one or a large file whose parts do not make the file (`backup/data-loss`). The
   * restore goes on past them; a non-empty list is a partial restore. A large file counts once.
   */
  failed: RestoreFailure[];
  bytesDownloaded: number;
}

/** An item the restore could not deliver. */
export interface RestoreFailure {
  type: BackupType;
  sourceId: string;
  conversationId?: string;
  code: BackupErrorCode;
  reason: string;
}

export interface RestoreDeps {
  call: ApiCall;
  http: HttpPort;
  /** Checks every downloaded blob's SHA-256. @default nobleHasher */
  hasher?: Hasher;
  /** Decrypts end-to-end snapshots. @default none: restoring one fails with `backup/passphrase-required` */
  endToEnd?: EndToEndOptions;
}

/** Marks an item whose blob is a chunk the device encrypted (the server's `E2E_OPAQUE`). */
export const E2E_OPAQUE = 'e2e-opaque';

/** The records of a decrypted chunk, as restore items over their bytes (the chunk formats of docs/protocol.md). */
function openedChunk(type: BackupType, blob: string, plaintext: Uint8Array): Array<{ item: RestoreItem; bytes: Uint8Array }> {
  const base = (sourceId: string, bytes: Uint8Array): RestoreItem => ({
    type,
    sourceId,
    blob,
    originalSize: bytes.byteLength,
    storedSize: bytes.byteLength,
    transforms: [E2E_OPAQUE],
  });
  const bad = (what: string) => new BackupClientError('backup/data-loss', `end-to-end ${type} chunk ${blob}: ${what}`);
  if (type === 'deviceInfo') return [{ item: base('deviceInfo', plaintext), bytes: plaintext }];
  if (type === 'media') {
    if (plaintext.byteLength < 8 || utf8Text(plaintext.subarray(0, 4)) !== 'LBM1') throw bad('not a media envelope');
    const headLength = new DataView(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength).getUint32(4, false);
    const header = JSON.parse(utf8Text(plaintext.subarray(8, 8 + headLength))) as Record<string, unknown> & { sourceId?: unknown; segment?: RestoreItem['segment'] };
    if (typeof header.sourceId !== 'string') throw bad('envelope has no sourceId');
    const bytes = plaintext.subarray(8 + headLength);
    // The server never read this header: the file's meta comes from it here, as it would from the manifest.
    const meta: MediaMeta = {};
    for (const field of ['name', 'mimeType', 'takenAt', 'createdAt', 'modifiedAt', 'album'] as const) {
      const value = header[field];
      if (typeof value === 'string' && value !== '') meta[field] = value;
    }
    return [{ item: { ...base(header.sourceId, bytes), ...(header.segment ? { segment: header.segment } : {}), ...(Object.keys(meta).length > 0 ? { meta } : {}) }, bytes }];
  }
  return splitLines(plaintext).map((line, part) => {
    let record: { id?: unknown; conversationId?: unknown; sentAt?: unknown; editedAt?: unknown };
    try {
      record = JSON.parse(utf8Text(line)) as typeof record;
    } catch {
      throw bad(`line ${part} is not JSON`);
    }
    if (typeof record.id !== 'string') throw bad(`line ${part} has no id`);
    const item: RestoreItem = { ...base(record.id, line), part };
    if (type === 'chats') {
      if (typeof record.conversationId === 'string') item.conversationId = record.conversationId;
      const at = instant(record.editedAt ?? record.sentAt);
      if (at !== null) item.at = new Date(at).toISOString();
    }
    return { item, bytes: line };
  });
}

function instant(value: unknown): number | null {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? ms : null;
}

/** The plan's item, conversation and date filters, applied on the device to a decrypted record. */
function selects(item: RestoreItem, options: RestoreOptions): boolean {
  if (options.itemIds && !options.itemIds.includes(item.sourceId)) return false;
  if (item.type !== 'chats') return true;
  if (options.conversations && (item.conversationId === undefined || !options.conversations.includes(item.conversationId))) return false;
  const time = item.at === undefined ? Number.NaN : Date.parse(item.at);
  const from = options.from === undefined ? null : instant(options.from);
  const to = options.to === undefined ? null : instant(options.to);
  if (from !== null && !(time >= from)) return false;
  if (to !== null && !(time < to)) return false;
  return true;
}

/** The engine's code in a refused download's JSON body (`{error: {details: {code}}}`), if any. */
function refusedCode(body: Uint8Array): string | undefined {
  try {
    const code = (JSON.parse(utf8Text(body)) as { error?: { details?: { code?: unknown } } }).error?.details?.code;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

async function download(deps: RestoreDeps, hash: string, url: string, signal: AbortSignal | undefined): Promise<Uint8Array> {
  const res = await deps.http.request({ method: 'GET', url, headers: {}, ...(signal ? { signal } : {}) });
  if (res.status !== 200) {
    // 404: the blob is gone; a `data-loss` answer: the server read it and it is damaged. Both are
    // about this blob, so the restore goes on without its items. Anything else stops the restore.
    const code: BackupErrorCode =
      res.status === 403 ? 'backup/permission-denied' : res.status === 404 ? 'backup/not-found' : refusedCode(res.body) === 'data-loss' ? 'backup/data-loss' : 'backup/unavailable';
    throw new BackupClientError(code, `download of blob ${hash} failed: HTTP ${res.status}`, { status: res.status });
  }
  // The blob's name is the SHA-256 of its plaintext: anything else is damage in storage or transit.
  if (sha256HexWith(deps.hasher ?? nobleHasher, res.body) !== hash) throw new BackupClientError('backup/data-loss', `blob ${hash} arrived with different bytes (hash mismatch)`, { details: { hashMismatch: true } });
  return res.body;
}

/** Download errors that fail the blob's items and let the restore go on. */
function isItemFailure(err: unknown): err is BackupClientError {
  return err instanceof BackupClientError && (err.code === 'backup/not-found' || err.code === 'backup/data-loss');
}

const fileKey = (item: Pick<RestoreItem, 'type' | 'sourceId'>) => `${item.type}\u0000${item.sourceId}`;

export async function restoreSnapshot(deps: RestoreDeps, options: RestoreOptions): Promise<RestoreResult> {
  const { signal } = options;
  const planPage = (pageToken: string | undefined) =>
    deps.call(
      'getRestorePlan',
      {
        snapshotId: options.snapshotId,
        ...(options.types ? { types: options.types } : {}),
        ...(options.conversations ? { conversations: options.conversations } : {}),
        ...(options.from !== undefined ? { from: options.from } : {}),
        ...(options.to !== undefined ? { to: options.to } : {}),
        ...(options.itemIds ? { itemIds: options.itemIds } : {}),
        ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
        ...(pageToken !== undefined ? { pageToken } : {}),
      },
      signal,
    );
  let pageToken: string | undefined;
  let plan = await planPage(pageToken);
  const result: RestoreResult = { snapshotId: plan.snapshotId, items: 0, byType: {}, skipped: [], failed: [], bytesDownloaded: 0 };
  const progress: RestoreProgress = {
    itemsDone: 0,
    itemsTotal: plan.totalItems,
    bytesDownloaded: 0,
    blobsDone: 0,
    blobsTotal: plan.totalBlobs,
  };
  const step = () => {
    progress.itemsDone += 1;
    options.onProgress?.({ ...progress });
  };
  let key: E2eKey | null = null;
  const blobs = new RecentBlobs<{ bytes: Uint8Array | null; failure: BackupClientError | null; lines: Uint8Array[] | null }>();
  // Parts of one large media file share a writer, opened at its first part, closed at its last
  // (pages may cut a file's parts apart: the writer stays open across them). Files that failed
  // part way are remembered, so their later parts are passed over and reported once.
  let open = null as { key: string; item: RestoreItem; writer: RestoreWriter | null; next: PartSegment } | null;
  const failedFiles = new Set<string>();

  const fail = (item: RestoreItem, code: BackupErrorCode, reason: string) => {
    result.failed.push({ type: item.type, sourceId: item.sourceId, ...(item.conversationId !== undefined ? { conversationId: item.conversationId } : {}), code, reason });
  };
  /** Ends a writer whose item failed: `abort` when the host has it, else `close`. */
  const discard = async (writer: RestoreWriter | null, error: Error) => {
    if (!writer) return;
    if (writer.abort) await writer.abort(error);
    else await writer.close();
  };
  /** Fails the large file being written: its writer is discarded and its later parts skipped. */
  const failOpen = async (code: BackupErrorCode, reason: string) => {
    const file = open;
    if (!file) return;
    open = null;
    failedFiles.add(file.key);
    fail(file.item, code, reason);
    await discard(file.writer, new BackupClientError(code, `${file.item.sourceId}: ${reason}`));
  };
  /** Writes through the host's writer; a writer that throws is discarded and the restore stops with its error. */
  const write = async (writer: RestoreWriter, bytes: Uint8Array) => {
    try {
      await writer.write(bytes);
    } catch (err) {
      if (open?.writer === writer) open = null;
      await discard(writer, err instanceof Error ? err : new Error(String(err))).catch(() => undefined);
      throw err;
    }
  };
  const counted = (item: RestoreItem) => {
    result.items += 1;
    result.byType[item.type] = (result.byType[item.type] ?? 0) + 1;
  };

  /** A blob through this page's link; a link that expired under a slow restore is asked for again, once. */
  const fetchBlob = async (hash: string): Promise<Uint8Array> => {
    const link = plan.downloads[hash];
    if (!link) throw new BackupClientError('backup/internal', `restore plan has no link for blob ${hash}`);
    try {
      return await download(deps, hash, link.url, signal);
    } catch (err) {
      if (!(err instanceof BackupClientError)) throw err;
      // Bytes changed in transit get one more try; bytes changed in storage fail the same way again.
      if (err.code === 'backup/data-loss' && err.details?.['hashMismatch'] === true) return download(deps, hash, link.url, signal);
      if (err.code !== 'backup/permission-denied') throw err;
      plan = await planPage(pageToken);
      const fresh = plan.downloads[hash];
      if (!fresh) throw new BackupClientError('backup/internal', `restore plan has no link for blob ${hash}`);
      return download(deps, hash, fresh.url, signal);
    }
  };

  /** Hands one item to the sink, checking a large file's parts as they come. */
  const deliver = async (item: RestoreItem, bytes: Uint8Array): Promise<void> => {
    if (!item.segment) {
      const writer = await options.sink.open(item);
      if (writer) {
        await write(writer, bytes);
        await writer.close();
        counted(item);
      }
      return;
    }
    const problem = partProblem(open?.next ?? null, item.segment, bytes.byteLength, item.blobSize ?? item.originalSize);
    if (problem !== null) {
      if (open) await failOpen('backup/data-loss', problem);
      else {
        failedFiles.add(fileKey(item));
        fail(item, 'backup/data-loss', problem);
      }
      return;
    }
    open ??= { key: fileKey(item), item, writer: await options.sink.open(item), next: item.segment };
    const file = open;
    if (file.writer) await write(file.writer, bytes);
    file.next = { index: item.segment.index + 1, offset: item.segment.offset + bytes.byteLength, fileSize: item.segment.fileSize };
    if (endProblem(file.next) === null) {
      open = null;
      if (file.writer) {
        await file.writer.close();
        counted(item);
      }
    }
  };

  /** One item of the plan (or a record of a decrypted chunk), its bytes, or why they cannot be had. */
  const handle = async (item: RestoreItem, bytes: Uint8Array | null, failure: BackupClientError | null): Promise<void> => {
    const file = item.segment ? fileKey(item) : null;
    // The plan lists a file's parts together: anything else next means the file stopped short.
    if (open && open.key !== file) await failOpen('backup/data-loss', endProblem(open.next) ?? 'its parts stopped');
    if (file !== null && failedFiles.has(file)) return;
    if (failure) {
      if (open) await failOpen(failure.code, failure.message);
      else {
        if (file !== null) failedFiles.add(file);
        fail(item, failure.code, failure.message);
      }
      return;
    }
    if (bytes === null) {
      if (open) await failOpen('backup/data-loss', `part ${item.segment?.index} was not stored (${item.skipReason ?? 'no blob'})`);
      else result.skipped.push({ type: item.type, sourceId: item.sourceId, reason: item.skipReason ?? null });
      return;
    }
    await deliver(item, bytes);
  };

  try {
    for (;;) {
      // The key is derived (and a wrong passphrase refused) before the sink sees an item of the
      // page; device-encrypted chunks are all of a snapshot or none of it, so that is the first page.
      if (key === null && plan.items.some((i) => i.blob !== null && i.transforms.includes(E2E_OPAQUE))) {
        if (!deps.endToEnd) {
          throw new BackupClientError('backup/passphrase-required', `snapshot ${plan.snapshotId} is end-to-end encrypted: create the client with \`endToEnd: { passphrase }\``);
        }
        key = await loadE2eKey(deps.call, deps.endToEnd, false, signal);
      }
      for (const item of inFileOrder(plan.items)) {
        if (signal?.aborted) throw abortedError();
        if (!item.blob) {
          await handle(item, null, null);
          step();
          continue;
        }
        let cached = blobs.get(item.blob);
        if (!cached) {
          try {
            cached = { bytes: await fetchBlob(item.blob), failure: null, lines: null };
            progress.bytesDownloaded += cached.bytes?.byteLength ?? 0;
          } catch (err) {
            if (!isItemFailure(err)) throw err;
            cached = { bytes: null, failure: err, lines: null };
          }
          blobs.add(item.blob, cached);
          progress.blobsDone += 1;
        }
        if (cached.bytes === null) {
          await handle(item, null, cached.failure);
          step();
          continue;
        }
        if (key && item.transforms.includes(E2E_OPAQUE)) {
          let records: Array<{ item: RestoreItem; bytes: Uint8Array }>;
          try {
            records = openedChunk(item.type, item.blob, await key.decrypt(item.type, cached.bytes));
          } catch (err) {
            if (!isItemFailure(err)) throw err;
            await handle(item, null, err);
            step();
            continue;
          }
          // The plan counted the chunk as one item: it stands for its records.
          if (progress.itemsTotal !== null) progress.itemsTotal += records.length - 1;
          for (const record of records) {
            if (signal?.aborted) throw abortedError();
            if (!selects(record.item, options)) {
              if (progress.itemsTotal !== null) progress.itemsTotal -= 1;
              continue;
            }
            // A part with no bytes stands for a file the device did not send (over maxMediaSizeMB).
            if (record.item.segment && record.bytes.byteLength === 0 && record.item.segment.fileSize > 0) {
              await handle({ ...record.item, skipReason: 'larger than maxMediaSizeMB: not sent' }, null, null);
            } else {
              await handle(record.item, record.bytes, null);
            }
            step();
          }
          continue;
        }
        let bytes = cached.bytes;
        if (item.part !== undefined) {
          cached.lines ??= splitLines(cached.bytes);
          const line = cached.lines[item.part];
          if (!line) {
            await handle(item, null, new BackupClientError('backup/data-loss', `pack ${item.blob} has no record ${item.part} [item ${item.sourceId}]`));
            step();
            continue;
          }
          bytes = line;
        }
        await handle(item, bytes, null);
        step();
      }
      if (!plan.nextPageToken) break;
      pageToken = plan.nextPageToken;
      plan = await planPage(pageToken);
    }
    if (open) await failOpen('backup/data-loss', endProblem(open.next) ?? 'its parts stopped');
  } catch (err) {
    // Whatever stops the restore (an abort, the network, the sink), no writer is left open.
    const file = open as { writer: RestoreWriter | null } | null;
    open = null;
    await discard(file?.writer ?? null, err instanceof Error ? err : new Error(String(err))).catch(() => undefined);
    throw err;
  }
  result.bytesDownloaded = progress.bytesDownloaded;
  return result;
}

export { inFileOrder };
