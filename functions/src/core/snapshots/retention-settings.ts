/**
 * Per-user retention policies. A user's policy is a small JSON object in the blob store at
 * `settings/{uid}/retention-policy` (beside the wrapped data keys, outside the blob namespace GC
 * sweeps); a user without one gets the runtime's default (`DEFAULT_RETENTION` unless configured).
 */
import type { BlobStore, CallOptions } from '../../ports';
import { readAll } from '../../ports/blob-store';
import { hasCode, lifeboatError } from '../errors';
import { RetentionPolicy } from './retention';

function settingsKey(uid: string): string {
  return `settings/${uid}/retention-policy`;
}

/** The user's stored policy, or null when they have none. */
export async function loadRetentionPolicy(blobs: BlobStore, uid: string, options: CallOptions = {}): Promise<RetentionPolicy | null> {
  let bytes: Uint8Array;
  try {
    bytes = await readAll(await blobs.get(settingsKey(uid), options));
  } catch (err) {
    if (hasCode(err, 'not-found')) return null;
    throw err;
  }
  const parsed = RetentionPolicy.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
  if (!parsed.success) throw lifeboatError('data-loss', `stored retention policy of ${uid} is invalid`);
  return parsed.data;
}

/** Stores (replaces) the user's policy; `null` removes it, so the default applies again. */
export async function saveRetentionPolicy(blobs: BlobStore, uid: string, policy: RetentionPolicy | null, options: CallOptions = {}): Promise<void> {
  if (policy === null) {
    await blobs.delete(settingsKey(uid), options);
    return;
  }
  await blobs.put(settingsKey(uid), new TextEncoder().encode(JSON.stringify(RetentionPolicy.parse(policy))), options);
}
