/**
 * The per-user garbage-collection lease (docs/invariants.md, "Garbage collection"). A GC run
 * writes `leases/{uid}/gc/{runId}` (create-if-absent, with its expiry in metadata) before it looks
 * at the user's jobs; a backup step that may reuse an existing blob checks for a live lease after
 * its job is active and before it reuses anything. Each side writes its own mark and then reads
 * the other's, so at least one of them sees the other: either GC sees the active job and defers,
 * or the step sees the lease and waits (a retryable `unavailable`).
 *
 * Leases are short and renewed while their run works ({@link HeldGcLease}): a run that crashes or
 * is killed blocks its user's backups for at most one lease, and a run that cannot renew stops
 * deleting before its lease can lapse.
 */
import { randomUUID } from 'node:crypto';
import type { BlobInfo, BlobStore, CallOptions, Clock, JobStore, Logger } from '../../ports';
import type { ChunkIndexEntry } from '../model';
import { lifeboatError, messageOf } from '../errors';

/**
 * How long a lease is honoured without renewal: the longest a crashed or killed run blocks its
 * user's backups. A live run renews it every third of this. @default 60 seconds
 */
export const DEFAULT_GC_LEASE_MS = 60_000;

/**
 * How soon a step turned away by a lease is asked to try again (`retryAfterMs`), or when the
 * lease ends if that is sooner: a run usually ends, and releases its lease, within seconds, so
 * the caller polls instead of waiting for the expiry; a crashed run's lease ends within a minute.
 * @default 5 seconds
 */
export const GC_RETRY_AFTER_MS = 5_000;

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

/**
 * Moves a lease's expiry to `expiresAt` by overwriting it (an atomic put: a reader sees the old
 * expiry or the new one, never no lease).
 */
export async function renewGcLease(blobs: BlobStore, lease: GcLease, expiresAt: number, options: CallOptions = {}): Promise<void> {
  await blobs.put(lease.key, new Uint8Array(0), { ...options, metadata: { expiresAt: String(expiresAt) } });
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
 * @throws LifeboatError `unavailable` (retryable, `details.reason: 'gc-in-progress'`,
 *   `retryAfterMs` per {@link GC_RETRY_AFTER_MS}, `leaseExpiresAt`) while a GC run of the user
 *   holds a live lease.
 */
export async function assertNoGarbageCollection(deps: { blobs: BlobStore; clock: Clock }, uid: string, options: CallOptions = {}): Promise<void> {
  const now = deps.clock.now();
  const live = await liveGcLeases(deps.blobs, uid, now, options);
  if (live.length > 0) {
    const until = Math.max(...live.map((l) => l.expiresAt));
    throw lifeboatError('unavailable', `garbage collection of this user's blobs is running; retry shortly (its lease ends by ${new Date(until).toISOString()} unless renewed)`, {
      retryable: true,
      details: { reason: 'gc-in-progress', retryAfterMs: Math.min(GC_RETRY_AFTER_MS, Math.max(0, until - now)), leaseExpiresAt: until },
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

export interface HeldGcLeaseOptions extends CallOptions {
  /** Lifetime of the lease from each write. @default DEFAULT_GC_LEASE_MS */
  ttlMs?: number;
  /** Told when the lease is lost. @default none */
  logger?: Logger;
}

/**
 * A GC run's lease, kept alive while the run works. It is renewed every third of its lifetime, by
 * a timer (so long reads and lists are covered) and by {@link keep}, which the run calls between
 * steps (so a fake clock in tests renews it too). Deleting is safe only while {@link isHeld}: the
 * lease has not been lost and ends more than a quarter of its lifetime from now (room for clock
 * skew between the run and backup steps).
 *
 * Why renewal keeps the fence (docs/invariants.md, "Garbage collection"): a renewal counts only if
 * its write finished before the previous expiry, less the margin. Then at every moment from the
 * first write to the last delete some write of the lease is live for every reader, so no step can
 * find the user without a lease while the run may still delete. A renewal that fails or finishes
 * late marks the lease lost and the run deletes nothing more; a late write only makes backups wait
 * longer, which is safe.
 */
export class HeldGcLease {
  /** Renewal interval: a third of the lifetime. */
  readonly renewEveryMs: number;
  /** Deleting stops this long before the expiry: a quarter of the lifetime. */
  readonly marginMs: number;
  private renewedAt: number;
  private lostReason: string | null = null;
  private renewing: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private released = false;

  private constructor(
    private readonly deps: { blobs: BlobStore; clock: Clock },
    private readonly lease: GcLease,
    private readonly ttlMs: number,
    private readonly logger: Logger | undefined,
    writtenAt: number,
  ) {
    this.renewEveryMs = Math.floor(ttlMs / 3);
    this.marginMs = Math.floor(ttlMs / 4);
    this.renewedAt = writtenAt;
  }

  /** Writes a new lease for one run of `uid` (see {@link acquireGcLease}). */
  static async acquire(deps: { blobs: BlobStore; clock: Clock }, uid: string, options: HeldGcLeaseOptions = {}): Promise<HeldGcLease> {
    const ttlMs = options.ttlMs ?? DEFAULT_GC_LEASE_MS;
    if (!(ttlMs >= 3)) throw lifeboatError('invalid-argument', `a GC lease must last at least a few milliseconds, got ${ttlMs}`);
    const now = deps.clock.now();
    const lease = await acquireGcLease(deps.blobs, uid, now, ttlMs, options.signal ? { signal: options.signal } : {});
    return new HeldGcLease(deps, lease, ttlMs, options.logger, now);
  }

  get key(): string {
    return this.lease.key;
  }

  /** When the last accepted write of the lease expires. */
  get expiresAt(): number {
    return this.lease.expiresAt;
  }

  /** Why the lease can no longer be relied on (a renewal failed or came late); null while it holds. */
  get lost(): string | null {
    return this.lostReason;
  }

  /** True while deleting is safe: the lease is not lost and lasts longer than the margin. */
  isHeld(): boolean {
    return this.lostReason === null && !this.released && this.deps.clock.now() < this.lease.expiresAt - this.marginMs;
  }

  /** Renews the lease if a third of its lifetime passed since the last renewal; resolves {@link isHeld}. */
  async keep(): Promise<boolean> {
    if (this.lostReason === null && !this.released && this.deps.clock.now() - this.renewedAt >= this.renewEveryMs) await this.renew();
    return this.isHeld();
  }

  /** Renews every third of the lifetime until released or lost (the timer does not keep a process alive). */
  startHeartbeat(): void {
    if (this.released || this.timer) return;
    const beat = () => {
      this.timer = setTimeout(() => {
        void this.renew().then(() => {
          if (!this.released && this.lostReason === null) beat();
        });
      }, this.renewEveryMs);
      (this.timer as { unref?: () => void }).unref?.();
    };
    beat();
  }

  /** Writes a new expiry now; one renewal at a time. Never rejects: a failure marks the lease lost. */
  renew(): Promise<void> {
    this.renewing ??= this.write().finally(() => {
      this.renewing = null;
    });
    return this.renewing;
  }

  private async write(): Promise<void> {
    if (this.released || this.lostReason !== null) return;
    const deadline = this.lease.expiresAt - this.marginMs;
    const startedAt = this.deps.clock.now();
    if (startedAt >= deadline) return this.lose(`not renewed in time (it ended at ${new Date(this.lease.expiresAt).toISOString()})`);
    const expiresAt = startedAt + this.ttlMs;
    try {
      await renewGcLease(this.deps.blobs, this.lease, expiresAt);
    } catch (err) {
      return this.lose(`renewal failed: ${messageOf(err)}`);
    }
    // Only a write that landed while the previous one still held keeps the lease unbroken.
    if (this.deps.clock.now() >= deadline) return this.lose('renewal finished too late to be relied on');
    this.lease.expiresAt = expiresAt;
    this.renewedAt = startedAt;
  }

  private lose(reason: string): void {
    this.lostReason = reason;
    this.logger?.warn(`gc lease lost: ${reason}`, { key: this.lease.key });
  }

  /** Stops renewing, waits for a renewal in flight (so it cannot write the lease again), then deletes it. */
  async release(): Promise<void> {
    this.released = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.renewing;
    await releaseGcLease(this.deps.blobs, this.lease);
  }
}
