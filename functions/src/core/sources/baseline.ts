/**
 * The baseline a backup compares against (its diffs, and with `incrementalOnly` what it carries
 * forward): the newest snapshot of the same user and device, holding the type, created before
 * the job was (or in the same millisecond). The one definition of a snapshot's parent: fixed by the job's creation time, not
 * "newest now", so every chunk of a job and its finalize see the same parent even when another
 * backup (another device's, say) completes meanwhile; and per device, so a tablet's backup is
 * never the baseline of the phone's.
 */
import type { JobStore } from '../../ports';
import type { ContentStore } from '../content-store';
import { compareUtcIso } from '../utc-iso';
import type { BackupJob, BackupType, ManifestItem, Snapshot } from '../model';
import { loadManifest } from '../snapshots/load-manifest';

/**
 * The newest snapshot of the job's user and device created before the job that holds `type`
 * (any of the job's types when omitted), or null.
 */
export async function parentSnapshotOf(
  store: JobStore,
  job: Pick<BackupJob, 'uid' | 'deviceId' | 'createdAt' | 'id' | 'types'>,
  type?: BackupType,
): Promise<Snapshot | null> {
  const wanted = type ? [type] : job.types;
  let cursor: string | undefined;
  do {
    const page = await store.listSnapshots({ uid: job.uid, limit: 50, ...(cursor ? { cursor } : {}) });
    const found = page.items.find(
      (s) => s.createdAt <= job.createdAt && s.jobId !== job.id && s.deviceId === job.deviceId && s.types.some((t) => wanted.includes(t)),
    );
    if (found) return found;
    cursor = page.nextCursor;
  } while (cursor);
  return null;
}

/**
 * Manifests are immutable (content-addressed), so a parsed one can be shared by every chunk of a
 * job in this process. A few are kept: one per job running here at once is the common case.
 */
const CACHE_SIZE = 4;
const manifests = new Map<string, Promise<ManifestItem[]>>();

export function parentItems(content: ContentStore, parent: Snapshot): Promise<ManifestItem[]> {
  const key = `${parent.uid}/${parent.manifestRef}`;
  let items = manifests.get(key);
  if (!items) {
    items = loadManifest(content, parent).then((m) => m.items);
    // A failed load is not cached: the step's retry reads it again.
    items.catch(() => manifests.delete(key));
    manifests.set(key, items);
    while (manifests.size > CACHE_SIZE) manifests.delete(manifests.keys().next().value as string);
  }
  return items;
}

/** Per conversation, the latest `at` of the parent's stored chat items. */
export function chatWatermarks(items: readonly ManifestItem[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of items) {
    if (item.type !== 'chats' || item.blob === null || item.conversationId === undefined || item.at === undefined) continue;
    const current = out.get(item.conversationId);
    if (current === undefined || compareUtcIso(item.at, current) > 0) out.set(item.conversationId, item.at);
  }
  return out;
}
