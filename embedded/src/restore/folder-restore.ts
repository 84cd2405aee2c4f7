/**
 * Restores a snapshot into a folder, streaming item by item, and whole blobs (media) piece by
 * piece (memory bounded by the largest pack of records):
 *
 * - `contacts.ndjson`: the stored (normalized) contact records, byte for byte, one per line;
 *   `contacts.vcf`: the same contacts as vCard 3.0;
 * - `device-info.json`: the stored device info;
 * - `chats/<conversationId>.ndjson`: stored messages per conversation, byte for byte;
 * - `skipped.ndjson`: items the backup recorded as skipped, with their reasons;
 * - `restore-report.json`: what was written.
 *
 * The folder must be new or empty: a restore never overwrites files.
 */
import { createWriteStream, promises as fsp, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { isOpaqueItem, lifeboatError, restoredBytes, restoreItems, type BackupType, type ContentStore, type RestoreFilter, type Snapshot } from '@lifeboat/functions/core';
import { formatVCard } from '@lifeboat/functions/strategies';

export interface FolderRestoreSummary {
  snapshotId: string;
  dir: string;
  items: Partial<Record<BackupType, number>>;
  skipped: number;
  files: string[];
}

const SAFE_NAME = /^[A-Za-z0-9._-]{1,200}$/;

/** Conversation ids become file names: keep safe ones, encode the rest. */
function fileNameFor(conversationId: string): string {
  return SAFE_NAME.test(conversationId) && !conversationId.startsWith('.') ? conversationId : `id-${Buffer.from(conversationId).toString('base64url')}`;
}

export async function restoreToFolder(content: ContentStore, snapshot: Snapshot, dir: string, filter: RestoreFilter = {}): Promise<FolderRestoreSummary> {
  await fsp.mkdir(dir, { recursive: true });
  if ((await fsp.readdir(dir)).length > 0) {
    throw lifeboatError('failed-precondition', `${dir} is not empty: restore into a new or empty folder`);
  }
  const streams = new Map<string, WriteStream>();
  const out = async (name: string, data: Uint8Array | string): Promise<void> => {
    let stream = streams.get(name);
    if (!stream) {
      if (name.includes('/')) await fsp.mkdir(join(dir, name, '..'), { recursive: true });
      stream = createWriteStream(join(dir, name), { flags: 'wx' });
      streams.set(name, stream);
    }
    if (!stream.write(data)) await new Promise<void>((r) => stream?.once('drain', () => r()));
  };
  const summary: FolderRestoreSummary = { snapshotId: snapshot.id, dir, items: {}, skipped: 0, files: [] };
  const newline = new Uint8Array([0x0a]);
  try {
    for await (const restored of restoreItems(content, snapshot, filter)) {
      const { item, stream } = restored;
      if (isOpaqueItem(item)) {
        // The server never had the key: only the device, with the passphrase, can read these.
        throw lifeboatError('failed-precondition', `snapshot ${snapshot.id} is end-to-end encrypted: restore it through the SDK with the passphrase`);
      }
      // Records (contacts, messages, device info) are small: read whole. Files stream below.
      const bytes = restored.bytes ?? (item.type === 'media' ? null : await restoredBytes(restored));
      if (!item.blob) {
        summary.skipped += 1;
        await out('skipped.ndjson', `${JSON.stringify({ type: item.type, sourceId: item.sourceId, reason: item.skipReason ?? null })}\n`);
        continue;
      }
      summary.items[item.type] = (summary.items[item.type] ?? 0) + 1;
      if (!bytes) {
        const name = `${item.type}/${fileNameFor(item.sourceId)}`;
        for await (const piece of stream ?? []) await out(name, piece);
        // An empty file still gets its (empty) file.
        if (!streams.has(name)) await out(name, new Uint8Array(0));
        continue;
      }
      switch (item.type) {
        case 'contacts':
          await out('contacts.ndjson', bytes);
          await out('contacts.ndjson', newline);
          await out('contacts.vcf', formatVCard(JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>));
          break;
        case 'deviceInfo':
          await out('device-info.json', bytes);
          break;
        case 'chats': {
          const message = JSON.parse(new TextDecoder().decode(bytes)) as { conversationId?: unknown };
          await out(`chats/${fileNameFor(String(message.conversationId ?? 'unknown'))}.ndjson`, bytes);
          await out(`chats/${fileNameFor(String(message.conversationId ?? 'unknown'))}.ndjson`, newline);
          break;
        }
        default:
          await out(`${item.type}/${fileNameFor(item.sourceId)}`, bytes);
      }
    }
  } finally {
    await Promise.all([...streams.values()].map((s) => new Promise<void>((r) => s.end(() => r()))));
  }
  summary.files = [...streams.keys()].sort();
  await fsp.writeFile(join(dir, 'restore-report.json'), `${JSON.stringify(summary, null, 2)}\n`, { flag: 'wx' });
  summary.files.push('restore-report.json');
  return summary;
}
