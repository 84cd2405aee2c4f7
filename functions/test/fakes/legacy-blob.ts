/**
 * The version 1 (`LBB1`) blob encoder as it was before blobs were segmented, kept to write old
 * blobs in tests: readers must keep reading them (core/blob-codec.ts).
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';

export function encodeLegacyBlob(plaintext: Uint8Array, options: { compress?: boolean; key?: Uint8Array } = {}): Uint8Array {
  let flags = 0;
  let payload: Uint8Array = plaintext;
  if (options.compress ?? true) {
    const gz = gzipSync(plaintext, { level: 6 });
    if (gz.byteLength < plaintext.byteLength) {
      payload = gz;
      flags |= 0b01;
    }
  }
  if (options.key) flags |= 0b10;
  const header = new Uint8Array([0x4c, 0x42, 0x42, 0x31, flags]);
  if (options.key) {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', options.key, nonce);
    cipher.setAAD(header);
    payload = Buffer.concat([nonce, cipher.update(payload), cipher.final(), cipher.getAuthTag()]);
  }
  return Buffer.concat([header, payload]);
}
