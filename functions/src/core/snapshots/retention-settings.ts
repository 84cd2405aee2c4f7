/**
 * Per-user retention policies. A user's policy is a small JSON object in the blob store at
 * `settings/{uid}/retention-policy` (beside the wrapped data keys, outside the blob namespace GC
 * sweeps); a user without one gets the runtime's default (`DEFAULT_RETENTION` unless configured).
 */
import type { BlobStore, CallOptions, JobStore } from '../../ports';
import { encodeStoredJson, readStoredJson, settingsKey } from '../stored-json';
import { applyRetention, DEFAULT_RETENTION, RetentionPolicy, type ApplyRetentionOptions, type RetentionPlan } from './retention';

const POLICY = 'retention-policy';

/** The user's stored policy, or null when they have none. */
export function loadRetentionPolicy(blobs: BlobStore, uid: string, options: CallOptions = {}): Promise<RetentionPolicy | null> {
  return readStoredJson(blobs, settingsKey(uid, POLICY), RetentionPolicy, `stored retention policy of ${uid} is invalid`, options);
}

/** Stores (replaces) the user's policy; `null` removes it, so the default applies again. */
export async function saveRetentionPolicy(blobs: BlobStore, uid: string, policy: RetentionPolicy | null, options: CallOptions = {}): Promise<void> {
  if (policy === null) {
    await blobs.delete(settingsKey(uid, POLICY), options);
    return;
  }
  await blobs.put(settingsKey(uid, POLICY), encodeStoredJson(RetentionPolicy.parse(policy)), options);
}

export interface EffectiveRetentionPolicy {
  policy: RetentionPolicy;
  /** True when the user has no policy of their own and the runtime's default applies. */
  isDefault: boolean;
}

/** The policy that applies to a user: their own, else the runtime's default, else {@link DEFAULT_RETENTION}. */
export async function effectiveRetentionPolicy(deps: { blobs: BlobStore; retention?: RetentionPolicy }, uid: string): Promise<EffectiveRetentionPolicy> {
  const own = await loadRetentionPolicy(deps.blobs, uid);
  return own ? { policy: own, isDefault: false } : { policy: deps.retention ?? DEFAULT_RETENTION, isDefault: true };
}

/**
 * Applies the policy that applies to the user ({@link effectiveRetentionPolicy}). Every caller
 * (finalize, the daily Firebase run, the CLI) goes through here, so none can apply the
 * deployment default over a user's own policy.
 */
export async function applyUserRetention(
  deps: { store: JobStore; blobs: BlobStore; retention?: RetentionPolicy },
  uid: string,
  options: ApplyRetentionOptions = {},
): Promise<RetentionPlan> {
  return applyRetention(deps.store, uid, (await effectiveRetentionPolicy(deps, uid)).policy, options);
}
