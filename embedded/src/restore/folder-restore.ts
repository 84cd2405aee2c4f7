/**
 * Restores a snapshot into a folder, streaming item by item, and whole blobs (media) piece by
 * piece (memory bounded by the largest pack of records):
 *
 * - `contacts.ndjson`: the stored (normalized) contact records, byte for byte, one per line;
 *   `contacts.vcf`: the same contacts as vCard 3.0;
 * - `device-info.json`: the stored device info;
 * - `chats/<conversation>.ndjson`: stored messages per conversation, byte for byte;
 * - `media/[<album>/]<name>`: each media file (a large one joined from its parts) under the name
 *   the app gave it, in its album's folder, with its modified time (else its creation or capture
 *   time) as the file's mtime; a file backed up without a name goes under its source id;
 * - `skipped.ndjson`: items the backup recorded as skipped, with their reasons;
 * - `restore-report.json`: what was written, what failed and why, and the file name of every id
 *   that is not its own file name.
 *
 * The folder must be new or empty: a restore never overwrites files. It keeps going past damage,
 * as restic does: an item whose blob is missing or corrupt, a large file whose parts do not make
 * the file, or a file that cannot be written is reported in `failed` (a partial restore; the CLI
 * exits 3), and a failed media file is deleted rather than left with the wrong bytes. Conversation
 * and media ids become file names through `RestoreNames` (client-sdk/src/restore-names.ts):
 * injective, at most 120 bytes, checked for clashes within the restore. A media file's own name
 * is kept when it is a safe file name and no other file of its folder took it; otherwise it gets
 * a readable prefix of it and a short hash of its id (`IMG_0001~3f1c….JPG`). Album folders and
 * the files outside any album share the names of `media/`, so a folder never clashes with a file.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { RestoreNames } from '@lifeboat/client-sdk';
import { codeOf, fileKeyOf, hasCode, isOpaqueItem, lifeboatError, messageOf, restoredBytes, restoreItems, type BackupType, type ContentStore, type ContentStream, type ItemMeta, type ManifestItem, type RestoreFilter, type Snapshot } from '@lifeboat/engine/core';
import { formatVCard } from '@lifeboat/engine/strategies';
import { codeOfFileError, OutputFolder, type OutputFile } from './output-file';

/** An item whose data is not in the folder, and why. */
export interface FailedItem {
  type: BackupType;
  sourceId: string;
  /** Chats: the message's conversation. */
  conversationId?: string;
  /** The file the item belongs in, when it has one of its own or shares one. */
  file?: string;
  /** An engine error code: `not-found` (blob missing), `data-loss` (corrupt), or the write's (`resource-exhausted`, …). */
  code: string;
  reason: string;
}

/** A file that could not be written in full: the items in it are not all restored. */
export interface FailedFile {
  file: string;
  code: string;
  reason: string;
  /** Items written to it before it failed (some of them may be cut off). */
  itemsWritten: number;
  /** Items meant for it after it failed: not restored, and not listed one by one in `failed`. */
  itemsLost: number;
}

export interface FolderRestoreSummary {
  snapshotId: string;
  dir: string;
  /** Items restored, by type (a large file counts once). */
  items: Partial<Record<BackupType, number>>;
  /** Items the backup skipped (listed in `skipped.ndjson`). */
  skipped: number;
  /** Items that could not be restored; non-empty means a partial restore. */
  failed: FailedItem[];
  /** Files that failed while shared items were written to them (`contacts.ndjson`, a chat file). */
  failedFiles: FailedFile[];
  /** True when anything failed: the CLI exits 3. */
  partial: boolean;
  /** Ids (conversations, media source ids) whose file name is not the id itself. */
  names: Array<{ type: 'chats' | 'media'; id: string; file: string }>;
  files: string[];
  /** Restored files whose time could not be set, with why (their bytes are restored). */
  warnings: string[];
}

export interface FolderRestoreProgress {
  /** Items handled so far: restored, skipped or failed. */
  items: number;
  /** Bytes of item data written. */
  bytes: number;
  failed: number;
}

export interface FolderRestoreOptions {
  /** Called after each item (progress bars). @default none */
  onProgress?: (progress: FolderRestoreProgress) => void;
  signal?: AbortSignal;
}

/** Shared files (a conversation, contacts) kept open at once; the least recently used is closed beyond it. */
const MAX_OPEN_FILES = 64;
const newline = new Uint8Array([0x0a]);
const decoder = new TextDecoder();

export async function restoreToFolder(
  content: ContentStore,
  snapshot: Snapshot,
  dir: string,
  filter: RestoreFilter = {},
  options: FolderRestoreOptions = {},
): Promise<FolderRestoreSummary> {
  await fsp.mkdir(dir, { recursive: true });
  if ((await fsp.readdir(dir)).length > 0) {
    throw lifeboatError('failed-precondition', `${dir} is not empty: restore into a new or empty folder`);
  }
  const summary: FolderRestoreSummary = { snapshotId: snapshot.id, dir, items: {}, skipped: 0, failed: [], failedFiles: [], partial: false, names: [], files: [], warnings: [] };
  const progress: FolderRestoreProgress = { items: 0, bytes: 0, failed: 0 };
  const names = { chats: new RestoreNames(), media: new RestoreNames() };
  const folder = new OutputFolder(dir, MAX_OPEN_FILES);
  const append = (name: string, ...pieces: Array<Uint8Array | string>) => folder.append(name, ...pieces);
  const fail = (item: ManifestItem, code: string, reason: string, file?: string) => {
    summary.failed.push({
      type: item.type,
      sourceId: item.sourceId,
      ...(item.conversationId !== undefined ? { conversationId: item.conversationId } : {}),
      ...(file !== undefined ? { file } : {}),
      code,
      reason,
    });
    progress.failed += 1;
  };
  const fileNames = new Map<string, string>();
  /** Each album's folder (named in `media/`, beside the files outside albums) and its own names. */
  const albums = new Map<string, { folder: string; names: RestoreNames }>();
  const fileNameOf = (type: 'chats' | 'media', id: string, meta?: ItemMeta): string => {
    const known = fileNames.get(`${type}/${id}`);
    if (known !== undefined) return known;
    let folder: string = type;
    let folderNames = names[type];
    if (type === 'media' && meta?.album !== undefined) {
      let album = albums.get(meta.album);
      if (!album) {
        // A key no source id can be (ids never hold NUL), so an album never takes a file's name.
        album = { folder: `media/${names.media.nameFor(`\u0000album\u0000${meta.album}`, meta.album).name}`, names: new RestoreNames() };
        albums.set(meta.album, album);
      }
      folder = album.folder;
      folderNames = album.names;
    }
    const { name, encoded } = folderNames.nameFor(id, type === 'media' ? (meta?.name ?? id) : id);
    const file = `${folder}/${name}${type === 'chats' ? '.ndjson' : ''}`;
    fileNames.set(`${type}/${id}`, file);
    if (encoded || folder !== type) summary.names.push({ type, id, file });
    return file;
  };
  /** Gives a restored media file the time the device had on it. */
  const setTimes = async (name: string, meta: ItemMeta | undefined) => {
    const when = fileTimeOf(meta);
    if (when === null) return;
    try {
      await fsp.utimes(join(dir, name), when, when);
    } catch (err) {
      summary.warnings.push(`${name}: its time could not be set (${(err as Error).message})`);
    }
  };
  const restored = (item: ManifestItem) => {
    summary.items[item.type] = (summary.items[item.type] ?? 0) + 1;
  };

  const discarded = new Set<string>();
  /** Fails a media file: deletes what was written of it and reports the item. */
  const failMedia = async (item: ManifestItem, file: OutputFile, name: string, code: string, reason: string) => {
    await file.discard();
    discarded.add(name);
    fail(item, code, reason, name);
  };
  const writeFailure = (file: OutputFile, name: string) => {
    const err = file.error as NodeJS.ErrnoException;
    return { code: codeOfFileError(err), reason: `writing ${name} failed: ${err.message}` };
  };

  // The large media file being joined from its parts, and the files that failed or were skipped
  // (their later parts are passed over: one report per file).
  let open = null as { key: string; item: ManifestItem; name: string; file: OutputFile; written: number } | null;
  const doneFiles = new Set<string>();
  /** A file whose parts stopped before its end (restoreItems checked them, so only a selection can cut one). */
  const cutShort = async () => {
    if (!open) return;
    const { item, file, name, written } = open;
    open = null;
    await failMedia(item, file, name, 'data-loss', `${item.sourceId} ended after ${written} of ${item.segment?.fileSize} bytes`);
  };

  try {
    for await (const restoredItem of restoreItems(content, snapshot, filter, options.signal)) {
      const { item, failure } = restoredItem;
      const key = item.segment ? fileKeyOf(item) : null;
      if (open && open.key !== key) await cutShort();
      progress.items += 1;
      if (isOpaqueItem(item)) {
        // The server never had the key: only the device, with the passphrase, can read these.
        throw lifeboatError('failed-precondition', `snapshot ${snapshot.id} is end-to-end encrypted: restore it through the SDK with the passphrase`);
      }
      if (key !== null && doneFiles.has(key)) {
        options.onProgress?.({ ...progress });
        continue;
      }
      if (failure) {
        if (key !== null) doneFiles.add(key);
        if (open) {
          const { file, name } = open;
          open = null;
          await failMedia(item, file, name, failure.code, failure.message);
        } else {
          fail(item, failure.code, failure.message, item.type === 'media' ? fileNameOf('media', item.sourceId, item.meta) : undefined);
        }
        options.onProgress?.({ ...progress });
        continue;
      }
      if (!item.blob) {
        // A file over the size limit is skipped part by part: one line for the file.
        if (key !== null) doneFiles.add(key);
        summary.skipped += 1;
        await append('skipped.ndjson', `${JSON.stringify({ type: item.type, sourceId: item.sourceId, reason: item.skipReason ?? null })}\n`);
        options.onProgress?.({ ...progress });
        continue;
      }
      // Records (contacts, messages, device info) are small: read whole. Media streams below.
      let bytes: Uint8Array | null = restoredItem.bytes;
      if (!bytes && item.type !== 'media') {
        try {
          bytes = await restoredBytes(restoredItem);
        } catch (err) {
          if (!isDataFailure(err)) throw err;
          fail(item, codeOf(err), messageOf(err));
          options.onProgress?.({ ...progress });
          continue;
        }
      }
      if (bytes) progress.bytes += bytes.byteLength;
      switch (item.type) {
        case 'contacts': {
          let vcard: string;
          try {
            vcard = formatVCard(JSON.parse(decoder.decode(bytes as Uint8Array)) as Record<string, unknown>);
          } catch (err) {
            fail(item, 'data-loss', `the stored record is not a contact: ${(err as Error).message}`);
            break;
          }
          // contacts.ndjson holds the contact; the vCard copy failing is reported in failedFiles.
          if (await append('contacts.ndjson', bytes as Uint8Array, newline)) restored(item);
          await append('contacts.vcf', vcard);
          break;
        }
        case 'deviceInfo':
          if (await append('device-info.json', bytes as Uint8Array)) restored(item);
          break;
        case 'chats': {
          const name = fileNameOf('chats', item.conversationId ?? conversationOf(bytes as Uint8Array));
          if (await append(name, bytes as Uint8Array, newline)) restored(item);
          break;
        }
        default: {
          // Media: a file per item, closed as soon as it is complete, so descriptors stay few.
          if (!item.segment) {
            const name = fileNameOf('media', item.sourceId, item.meta);
            const file = await folder.file(name);
            const damage = await copy(restoredItem.stream, bytes, file);
            await file.close();
            if (damage) {
              await failMedia(item, file, name, damage.code, damage.reason);
            } else if (file.error) {
              const { code, reason } = writeFailure(file, name);
              await failMedia(item, file, name, code, reason);
            } else {
              await setTimes(name, item.meta);
              restored(item);
            }
            break;
          }
          if (!open) {
            const name = fileNameOf('media', item.sourceId, item.meta);
            open = { key: key as string, item, name, file: await folder.file(name), written: 0 };
          }
          const current = open;
          const before = current.file.bytes;
          const damage = await copy(restoredItem.stream, bytes, current.file);
          if (damage) {
            // A part found damaged while it streamed: the file fails, its later parts are passed over.
            open = null;
            doneFiles.add(current.key);
            await failMedia(current.item, current.file, current.name, damage.code, damage.reason);
            break;
          }
          current.written += current.file.bytes - before;
          const complete = current.written >= item.segment.fileSize;
          if (complete) await current.file.close();
          if (current.file.error) {
            open = null;
            doneFiles.add(current.key);
            const { code, reason } = writeFailure(current.file, current.name);
            await failMedia(current.item, current.file, current.name, code, reason);
          } else if (complete) {
            open = null;
            await setTimes(current.name, current.item.meta);
            restored(item);
          }
        }
      }
      options.onProgress?.({ ...progress });
    }
    await cutShort();
  } finally {
    await open?.file.discard();
    for (const f of await folder.closeAll()) {
      summary.failedFiles.push({ file: f.name, code: codeOfFileError(f.error), reason: f.error.message, itemsWritten: f.items, itemsLost: f.lost });
    }
  }
  summary.files = folder.created.filter((name) => !discarded.has(name)).sort();
  summary.partial = summary.failed.length > 0 || summary.failedFiles.length > 0;
  await fsp.writeFile(join(dir, 'restore-report.json'), `${JSON.stringify(summary, null, 2)}\n`, { flag: 'wx' });
  summary.files.push('restore-report.json');
  return summary;
}

/**
 * The time a restored media file gets: when the device last modified it, else when it was
 * created or taken; null when the backup recorded none. A time without an offset is the restoring
 * machine's local time, as a camera's clock was.
 */
export function fileTimeOf(meta: ItemMeta | undefined): Date | null {
  for (const value of [meta?.modifiedAt, meta?.createdAt, meta?.takenAt]) {
    const ms = value === undefined ? Number.NaN : Date.parse(value);
    if (Number.isFinite(ms)) return new Date(ms);
  }
  return null;
}

/** Blob errors that are findings about the data: the item fails, the restore goes on. */
function isDataFailure(err: unknown): boolean {
  return hasCode(err, 'not-found') || codeOf(err) === 'data-loss';
}

/**
 * Writes an item's bytes to its file, piece by piece when it streams. Damage found on the way (a
 * segment's tag, the hash at the end, a part's length) is returned, not thrown: that item fails,
 * the restore goes on.
 */
async function copy(stream: ContentStream | null, bytes: Uint8Array | null, file: OutputFile): Promise<{ code: string; reason: string } | null> {
  if (bytes) {
    await file.write(bytes);
    return null;
  }
  try {
    for await (const piece of stream ?? []) if (!(await file.write(piece))) break;
    // An empty file still gets its (empty) file.
    await file.write(new Uint8Array(0));
    return null;
  } catch (err) {
    if (!isDataFailure(err)) throw err;
    return { code: codeOf(err), reason: messageOf(err) };
  }
}

/** The conversation of a stored chat message, for manifests written before items carried it. */
function conversationOf(bytes: Uint8Array): string {
  try {
    const id = (JSON.parse(decoder.decode(bytes)) as { conversationId?: unknown }).conversationId;
    return typeof id === 'string' && id !== '' ? id : 'unknown';
  } catch {
    return 'unknown';
  }
}

