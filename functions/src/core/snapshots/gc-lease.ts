/**
 * The per-user garbage-collection lease (docs/invariants.md, "Garbage collection"). A GC run
 * writes `leases/{uid}/gc/{runId}` (create-if-absent, with its expiry in metadata) before it looks
 * at the user's jobs; a backup step that may reuse an existing blob checks for a live lease after
 * its job is active and before it reuses anything. Each side writes its own mark and then reads
 * the other's, so at least one of them sees the other: either GC sees the active job and defers,
 * or the step sees the lease and waits (a retryable `unavailable`).
 */
import { randomUUID } from 'node:crypto';
import type { BlobInfo, BlobStore, CallOptions, Clock, JobStore } from '../../ports';
import type { ChunkIndexEntry } from '../model';
import { lifeboatError } from '../errors';

/** How long a lease is honoured; a run stops deleting before its lease runs out. @default 15 minutes */
export const DEFAULT_GC_LEASE_MS = 15 * 60_000;

export interface GcLease {
  key: string;
  expiresAt: number;
}

/** Where a user's GC leases live: outside `users/{uid}/blobs/`, so a sweep never lists them. */
export function gcLeasePrefix(uid: string): string {
  return `leases/${uid}/gc/`;
}

function expiryOf(info: BlobInfo): number {
  const value = Number(info.metadata['expiresAt']);
  return Number.isFinite(value) ? value : 0;
}

/** Writes a new lease for one GC run. Runs never share a lease, so one run cannot end another's. */
export async function acquireGcLease(blobs: BlobStore, uid: string, now: number, ttlMs = DEFAULT_GC_LEASE_MS, options: CallOptions = {}): Promise<GcLease> {
  const lease = { key: `${gcLeasePrefix(uid)}${now}-${randomUUID()}`, expiresAt: now + ttlMs };
  await blobs.put(lease.key, new Uint8Array(0), { ...options, ifAbsent: true, metadata: { expiresAt: String(lease.expiresAt) } });
  return lease;
}

/** Ends a run's lease. Deleting is idempotent, so a release that is retried is harmless. */
export async function releaseGcLease(blobs: BlobStore, lease: GcLease): Promise<void> {
  await blobs.delete(lease.key);
}

/** The user's leases that have not expired (a crashed run's lease stops counting at its expiry). */
export async function liveGcLeases(blobs: BlobStore, uid: string, now: number, options: CallOptions = {}): Promise<GcLease[]> {
  const live: GcLease[] = [];
  for await (const info of blobs.list(gcLeasePrefix(uid), options)) {
    const expiresAt = expiryOf(info);
    if (expiresAt > now) live.push({ key: info.key, expiresAt });
  }
  return live;
}

/** Deletes expired leases of crashed runs; they no longer fence anything, this only tidies. */
export async function removeExpiredGcLeases(blobs: BlobStore, uid: string, now: number): Promise<number> {
  let removed = 0;
  for await (const info of blobs.list(gcLeasePrefix(uid))) {
    if (expiryOf(info) <= now) {
      await blobs.delete(info.key);
      removed += 1;
    }
  }
  return removed;
}

/**
 * The fence backups check before they reuse a stored blob or chunk-index entry. Call it only
 * once the job is active (queued, running or paused): that order is what makes the lease safe.
 *
 * @throws LifeboatError `unavailable` (retryable) while a GC run of the user holds a live lease.
 */
export async function assertNoGarbageCollection(deps: { blobs: BlobStore; clock: Clock }, uid: string, options: CallOptions = {}): Promise<void> {
  const live = await liveGcLeases(deps.blobs, uid, deps.clock.now(), options);
  if (live.length > 0) {
    const until = Math.max(...live.map((l) => l.expiresAt));
    throw lifeboatError('unavailable', `garbage collection of this user's blobs is running; retry shortly (lease ends by ${new Date(until).toISOString()})`, {
      retryable: true,
      details: { reason: 'gc-in-progress', retryAfterMs: Math.max(0, until - deps.clock.now()) },
    });
  }
}

/**
 * The only way a backup step reads the user's chunk index to reuse what an entry names: it checks
 * the GC fence ({@link assertNoGarbageCollection}) and then looks the keys up (any number, in
 * groups of 500), so no step can reuse an entry without the fence (docs/invariants.md, "Garbage
 * collection"). Call it only once the job is active, as the fence requires.
 *
 * @throws LifeboatError `unavailable` (retryable) while a GC run of the user holds a live lease.
 */
export async function reuseChunkIndex(
  deps: { store: JobStore; blobs: BlobStore; clock: Clock },
  uid: string,
  keys: readonly string[],
  options: CallOptions = {},
): Promise<(ChunkIndexEntry | null)[]> {
  if (keys.length === 0) return [];
  await assertNoGarbageCollection(deps, uid, options);
  const entries: (ChunkIndexEntry | null)[] = [];
  for (let i = 0; i < keys.length; i += 500) entries.push(...(await deps.store.getChunkIndex(uid, keys.slice(i, i + 500), options)));
  return entries;
}
