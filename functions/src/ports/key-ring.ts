import type { CallOptions } from './common';

/**
 * Per-user data keys for encryption at rest. Implementations keep the keys wrapped (encrypted) by
 * a master key that lives outside the store (a Firebase secret, an env var or key file embedded).
 */
export interface KeyRing {
  /** The user's 32-byte AES-256 data key, created on first use; the same bytes on every call. */
  dataKey(uid: string, options?: CallOptions): Promise<Uint8Array>;
}
