/**
 * Fair share of processing (issue 12): one user's large backup must not take every processing
 * task while other users' small backups wait behind it. Each user may have at most `perUser`
 * `processChunk` tasks running at once; a task that finds the user's slots taken is not run but
 * enqueued again with a short, growing delay (its id derived from the work and the number of
 * times it waited), so the queue moves on to other users' tasks. Cloud Tasks has no per-key
 * concurrency, hence slots of our own.
 *
 * Slots are empty objects `leases/{uid}/processing/{k}` (k < perUser) whose metadata names their
 * holder and expiry (a task's dispatch deadline), taken create-if-absent and deleted when the task
 * ends; a task lists the user's slots first, so one that must wait writes nothing. A slot whose
 * holder died is taken over once it expired. Two tasks taking over one expired slot at once may both
 * run (the second's delete can remove the first's new slot): the cap is a fairness bound that
 * holds but for such a rare race, never a correctness one (processing stays idempotent).
 *
 * Cost: a processed chunk lists its user's slots, creates one and deletes it (Cloud Storage
 * operations); a waiting task is one more invocation and one listing per wait, with the delay
 * doubling up to `maxDelaySeconds`.
 */
import type { BlobStore, CallOptions } from '../ports';

export interface FairShare {
  /** Processing tasks one user may run at once; 0 turns fair share off. */
  perUser: number;
  /** A slot's life: the longest a task runs (its dispatch deadline). @default 540 */
  slotSeconds?: number;
  /** The first wait of a task that found no slot. @default 1 */
  delaySeconds?: number;
  /** The longest wait (the delay doubles per wait up to this). @default 60 */
  maxDelaySeconds?: number;
}

/** Where a user's slots live: one object per slot. */
export function slotPrefix(uid: string): string {
  return `leases/${uid}/processing/`;
}

export function slotKey(uid: string, k: number): string {
  return `${slotPrefix(uid)}${k}`;
}

/** A slot this task holds, released by `release`. */
export interface HeldSlot {
  key: string;
  holder: string;
  release(): Promise<void>;
}

/**
 * Takes one of the user's slots for `holder`, or resolves null when all are held (and not
 * expired). One listing of the user's slots (holder and expiry are the objects' metadata), and a
 * write only when a slot is free: a task that must wait costs a read.
 */
export async function takeSlot(deps: { blobs: BlobStore; clock: { now(): number } }, uid: string, holder: string, share: FairShare, options: CallOptions = {}): Promise<HeldSlot | null> {
  const lifeMs = (share.slotSeconds ?? 540) * 1000;
  const expiries = new Map<string, number>();
  for await (const info of deps.blobs.list(slotPrefix(uid), options)) {
    // A slot without a readable expiry is as old as its object.
    const expiresAt = Number(info.metadata['expiresAt']);
    expiries.set(info.key, Number.isFinite(expiresAt) ? expiresAt : (info.createdAt ?? 0) + lifeMs);
  }
  const now = deps.clock.now();
  const take = async (key: string) => {
    const { created } = await deps.blobs.put(key, new Uint8Array(0), { ...options, ifAbsent: true, metadata: { holder, expiresAt: String(now + lifeMs) } });
    return created ? held(deps.blobs, key, holder) : null;
  };
  for (let k = 0; k < share.perUser; k++) {
    const key = slotKey(uid, k);
    const expiresAt = expiries.get(key);
    if (expiresAt === undefined) {
      const slot = await take(key);
      if (slot) return slot;
    } else if (expiresAt <= now) {
      // Its holder died (or overran its deadline): take it over.
      await deps.blobs.delete(key, options);
      const slot = await take(key);
      if (slot) return slot;
    }
  }
  return null;
}

function held(blobs: BlobStore, key: string, holder: string): HeldSlot {
  return {
    key,
    holder,
    async release() {
      // Only our own: a slot taken over after ours expired is someone else's now.
      if ((await blobs.stat(key))?.metadata['holder'] === holder) await blobs.delete(key);
    },
  };
}

/** The wait before a task that found no slot runs again: doubling from `delaySeconds`, ±50 % jitter. */
export function deferralDelaySeconds(share: FairShare, deferrals: number, random: () => number = Math.random): number {
  const base = Math.min(share.maxDelaySeconds ?? 60, (share.delaySeconds ?? 1) * 2 ** Math.min(Math.max(0, deferrals - 1), 10));
  return Math.max(0.1, base * (0.5 + random()));
}

/** The fair share in force: off unless the runtime sets one. */
export function fairShareOf(deps: { fairShare?: FairShare }): FairShare | null {
  return deps.fairShare && deps.fairShare.perUser > 0 ? deps.fairShare : null;
}
