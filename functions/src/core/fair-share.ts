/**
 * Fair share of processing (issue 12): one user's large backup must not take every processing
 * task while other users' small backups wait behind it. Each user may have at most `perUser`
 * `processChunk` tasks running at once; a task that finds the user's slots taken is not run but
 * enqueued again with a short, growing delay (its id derived from the work and the number of
 * times it waited), so the queue moves on to other users' tasks. Cloud Tasks has no per-key
 * concurrency, hence slots of our own.
 *
 * Slots are small objects `leases/{uid}/processing/{k}` (k < perUser), taken create-if-absent
 * with an expiry of a task's dispatch deadline and deleted when the task ends; a slot whose holder
 * died is taken over once it expired. Two tasks taking over one expired slot at once may both
 * run (the second's delete can remove the first's new slot): the cap is a fairness bound that
 * holds but for such a rare race, never a correctness one (processing stays idempotent).
 *
 * Cost: a slot is one create and one delete per processed chunk (Cloud Storage operations);
 * a waiting task is one more invocation per wait, with the delay doubling up to `maxDelaySeconds`.
 */
import { z } from 'zod';
import type { BlobStore, CallOptions } from '../ports';
import type { EngineDeps } from './deps';
import { hasCode } from './errors';
import { encodeStoredJson, readStoredJson } from './stored-json';

export interface FairShare {
  /** Processing tasks one user may run at once; 0 turns fair share off. */
  perUser: number;
  /** A slot's life: the longest a task runs (its dispatch deadline). @default 540 */
  slotSeconds?: number;
  /** The first wait of a task that found no slot. @default 1 */
  delaySeconds?: number;
  /** The longest wait (the delay doubles per wait up to this). @default 30 */
  maxDelaySeconds?: number;
}

const Slot = z.object({ holder: z.string(), expiresAt: z.number() });

export function slotKey(uid: string, k: number): string {
  return `leases/${uid}/processing/${k}`;
}

/** A slot this task holds, released by `release`. */
export interface HeldSlot {
  key: string;
  holder: string;
  release(): Promise<void>;
}

/**
 * Takes one of the user's slots for `holder`, or resolves null when all are held (and not expired).
 */
export async function takeSlot(deps: { blobs: BlobStore; clock: { now(): number } }, uid: string, holder: string, share: FairShare, options: CallOptions = {}): Promise<HeldSlot | null> {
  const lifeMs = (share.slotSeconds ?? 540) * 1000;
  for (let k = 0; k < share.perUser; k++) {
    const key = slotKey(uid, k);
    const body = () => encodeStoredJson({ holder, expiresAt: deps.clock.now() + lifeMs });
    if ((await deps.blobs.put(key, body(), { ...options, ifAbsent: true })).created) return held(deps.blobs, key, holder);
    const current = await readStoredJson(deps.blobs, key, Slot, `processing slot ${key} is invalid`, options).catch((err: unknown) => {
      // A slot that does not parse is nobody's: take it over.
      if (hasCode(err, 'data-loss')) return { holder: '', expiresAt: 0 };
      throw err;
    });
    if (current && current.expiresAt > deps.clock.now()) continue;
    // Expired (its holder died) or gone since the put: take it over.
    await deps.blobs.delete(key, options);
    if ((await deps.blobs.put(key, body(), { ...options, ifAbsent: true })).created) return held(deps.blobs, key, holder);
  }
  return null;
}

function held(blobs: BlobStore, key: string, holder: string): HeldSlot {
  return {
    key,
    holder,
    async release() {
      // Only our own: a slot taken over after ours expired is someone else's now.
      const current = await readStoredJson(blobs, key, Slot, `processing slot ${key} is invalid`).catch(() => null);
      if (current?.holder === holder) await blobs.delete(key);
    },
  };
}

/** The wait before a task that found no slot runs again: doubling from `delaySeconds`, ±50 % jitter. */
export function deferralDelaySeconds(share: FairShare, deferrals: number, random: () => number = Math.random): number {
  const base = Math.min(share.maxDelaySeconds ?? 30, (share.delaySeconds ?? 1) * 2 ** Math.min(Math.max(0, deferrals - 1), 10));
  return Math.max(0.1, base * (0.5 + random()));
}

/** The fair share in force: off unless the runtime sets one. */
export function fairShareOf(deps: Pick<EngineDeps, 'fairShare'>): FairShare | null {
  return deps.fairShare && deps.fairShare.perUser > 0 ? deps.fairShare : null;
}
