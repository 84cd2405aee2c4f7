import type { CallOptions } from './common';

/**
 * Per-user data keys for encryption at rest. Implementations keep the keys wrapped (encrypted) by
 * a master key that lives outside the store (a Firebase secret, an env var or key file embedded).
 */
export interface KeyRing {
  /**
   * The user's 32-byte AES-256 data key, created on first use; the same bytes on every call.
   * @throws LifeboatError `failed-precondition` once the key was destroyed ({@link destroyDataKey}),
   *   until the user's deletion is over and its tombstone removed.
   */
  dataKey(uid: string, options?: CallOptions): Promise<Uint8Array>;
  /**
   * Re-wraps the user's data key under the current master key when another one wraps it (after a
   * rotation); idempotent; `absent` also for a destroyed key. Absent on rings whose keys are not
   * wrapped by a master key.
   */
  rewrap?(uid: string, options?: CallOptions): Promise<'rewrapped' | 'current' | 'absent'>;
  /** The public id of the master key new and re-wrapped keys are wrapped under. */
  readonly currentKeyId?: string;
  /**
   * Crypto-shredding: replaces the user's wrapped data key with a tombstone in one atomic write
   * and forgets any copy held in memory, so every blob and manifest encrypted under it is
   * unreadable at once, wherever it is stored. No key is created for the user while the tombstone
   * is there (`deleteUserData` removes it last). Idempotent.
   */
  destroyDataKey(uid: string, options?: CallOptions): Promise<void>;
}
