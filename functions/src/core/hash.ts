import { createHash } from 'node:crypto';

/** SHA-256 of bytes as lower-case hex, the name of every chunk and blob. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
