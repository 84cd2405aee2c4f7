/**
 * The baseline an incremental backup compares against: the user's newest snapshot created before
 * the job was. Fixed by the job's creation time, not "newest now", so every chunk of a job and
 * its finalize see the same parent even when another backup completes meanwhile.
 */
import type { JobStore } from '../../ports';
import type { ContentStore } from '../content-store';
import { compareUtcIso } from '../../strategies/chats';
import type { BackupJob, ManifestItem, Snapshot } from '../model';
import { loadManifest } from '../snapshots/load-manifest';

/** The newest snapshot of the job's user created before the job, or null. */
export async function parentSnapshotOf(store: JobStore, job: Pick<BackupJob, 'uid' | 'createdAt' | 'id'>): Promise<Snapshot | null> {
  let cursor: string | undefined;
  do {
    const page = await store.listSnapshots({ uid: job.uid, limit: 50, ...(cursor ? { cursor } : {}) });
    const found = page.items.find((s) => s.createdAt < job.createdAt && s.jobId !== job.id);
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
