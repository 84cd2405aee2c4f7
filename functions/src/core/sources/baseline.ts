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
import type { BackupJob, BackupType, Snapshot } from '../model';
import { snapshotWatermarks } from '../snapshots/watermarks';

/**
 * A damage mark counts for jobs created this long after it was recorded: by then its write has
 * landed (a single-document write takes well under it) and every step of such a job reads it, and
 * clocks of two servers differ by less. @default 60 seconds
 */
export const BASELINE_MARK_SETTLE_MS = 60_000;

/**
 * Whether a snapshot was known to have lost part of its manifest when the job was created
 * (`SnapshotHealth.manifestDamaged`, recorded by verify or `check --repair`): such a snapshot is
 * no baseline, since a diff or an incremental carry would need what is lost (issue 14: it made
 * every later backup of the device fail at finalize). Only a mark recorded well before the job
 * ({@link BASELINE_MARK_SETTLE_MS}) counts, so the baseline stays fixed for the whole job: a mark
 * recorded while it runs never makes its chunks and its finalize see different parents (one that
 * a later verify clears can only make finalize see the newer parent, whose carry holds everything
 * the chunks left out).
 */
function knownDamaged(snapshot: Snapshot, job: Pick<BackupJob, 'createdAt'>): boolean {
  return snapshot.health?.manifestDamaged === true && snapshot.health.checkedAt + BASELINE_MARK_SETTLE_MS < job.createdAt;
}

/**
 * The newest snapshot of the job's user and device created before the job that holds `type`
 * (any of the job's types when omitted) and was not known to be damaged then ({@link knownDamaged}),
 * or null.
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
      (s) => s.createdAt <= job.createdAt && s.jobId !== job.id && s.deviceId === job.deviceId && s.types.some((t) => wanted.includes(t)) && !knownDamaged(s, job),
    );
    if (found) return found;
    cursor = page.nextCursor;
  } while (cursor);
  return null;
}

/**
 * Watermarks are immutable (a snapshot never changes), so those of a parent can be shared by every
 * chunk of a job in this process. A few are kept: one per job running here at once is the common case.
 */
const CACHE_SIZE = 4;
const cache = new Map<string, Promise<ReadonlyMap<string, string>>>();

/** The parent's chat watermarks (`snapshotWatermarks`), cached per snapshot. */
export function parentWatermarks(content: ContentStore, parent: Snapshot): Promise<ReadonlyMap<string, string>> {
  const key = `${parent.uid}/${parent.manifestRef}`;
  let marks = cache.get(key);
  if (!marks) {
    marks = snapshotWatermarks(content, parent);
    // A failed load is not cached: the step's retry reads it again.
    marks.catch(() => cache.delete(key));
    cache.set(key, marks);
    while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  }
  return marks;
}
