/**
 * Snapshot arguments as restic takes them: a full id, a unique prefix of one (`snap_` may be left
 * out), or `latest` (the user's newest, or a device's). An ambiguous prefix is a usage error that
 * names the candidates; an id that matches nothing is `not-found` (exit 1), as is a snapshot of
 * another user than `--uid`.
 */
import { lifeboatError, type Snapshot } from '@lifeboat/engine/core';
import type { AdminStore, JobStore } from '@lifeboat/engine/ports';
import { usageError } from './cli-error';

export interface SnapshotScope {
  uid?: string;
  deviceId?: string;
}

/** Candidates named in an ambiguity error. */
const SHOWN = 5;

export async function resolveSnapshot({ store, admin }: { store: JobStore; admin: AdminStore }, ref: string, scope: SnapshotScope = {}): Promise<Snapshot> {
  if (ref === 'latest') {
    if (!scope.uid) usageError('`latest` needs --uid: whose newest snapshot?');
    let cursor: string | undefined;
    do {
      const page = await store.listSnapshots({ uid: scope.uid, limit: 100, ...(cursor ? { cursor } : {}) });
      const found = page.items.find((s) => scope.deviceId === undefined || s.deviceId === scope.deviceId);
      if (found) return found;
      cursor = page.nextCursor;
    } while (cursor);
    throw lifeboatError('not-found', `user ${scope.uid} has no snapshot${scope.deviceId === undefined ? '' : ` of device ${scope.deviceId}`}`);
  }
  const exact = await store.getSnapshot(ref);
  if (exact && (scope.uid === undefined || exact.uid === scope.uid)) return exact;
  const prefixes = ref.startsWith('snap_') ? [ref] : [ref, `snap_${ref}`];
  const ids = [...new Set((await Promise.all(prefixes.map((p) => admin.snapshotIdsStartingWith(p, SHOWN + 1, scope.uid)))).flat())].sort();
  if (ids.length > 1) {
    usageError(`snapshot id prefix ${ref} is ambiguous: it matches ${ids.slice(0, SHOWN).join(', ')}${ids.length > SHOWN ? ' and more' : ''}`);
  }
  const found = ids[0] === undefined ? null : await store.getSnapshot(ids[0]);
  if (!found) throw lifeboatError('not-found', `no snapshot ${ref}${scope.uid === undefined ? '' : ` of user ${scope.uid}`}`);
  return found;
}
