import type { CallOptions } from './common';

/**
 * Short-lived links through which a device downloads one blob's plaintext without other
 * credentials: a v4 signed URL on Firebase, a signed token on the embedded server's
 * `GET /download/{token}`. A link names one user's blob and expires; the bytes behind it are the
 * blob's plaintext (decrypted and decompressed), whose SHA-256 is the blob's name.
 */
export interface DownloadLinks {
  link(request: { uid: string; blob: string; expiresAt: number }, options?: CallOptions): Promise<string>;
}
