/**
 * Per-user retention policies. A user's policy is a small JSON object in the blob store at
 * `settings/{uid}/retention-policy` (beside the wrapped data keys, outside the blob namespace GC
 * sweeps); a user without one gets the runtime's default (`DEFAULT_RETENTION` unless configured).
 */
import type { BlobStore, CallOptions } from '../../ports';
import { encodeStoredJson, readStoredJson, settingsKey } from '../stored-json';
import { RetentionPolicy } from './retention';

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
