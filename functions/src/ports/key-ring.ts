import type { CallOptions } from './common';

/**
 * Per-user data keys for encryption at rest. Implementations keep the keys wrapped (encrypted) by
 * a master key that lives outside the store (a Firebase secret, an env var or key file embedded).
 */
export interface KeyRing {
  /** The user's 32-byte AES-256 data key, created on first use; the same bytes on every call. */
  dataKey(uid: string, options?: CallOptions): Promise<Uint8Array>;
  /**
   * Re-wraps the user's data key under the current master key when another one wraps it (after a
   * rotation); idempotent. Absent on rings whose keys are not wrapped by a master key.
   */
  rewrap?(uid: string, options?: CallOptions): Promise<'rewrapped' | 'current' | 'absent'>;
  /** The public id of the master key new and re-wrapped keys are wrapped under. */
  readonly currentKeyId?: string;
}
