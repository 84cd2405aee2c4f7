/** SHA-256 through `node:crypto` (OpenSSL, native speed): the Node entry's default hasher. */
import { createHash } from 'node:crypto';
import type { Hasher } from '../hasher';

export function nodeHasher(): Hasher {
  return {
    name: 'node:crypto',
    sha256() {
      const hash = createHash('sha256');
      return {
        update: (bytes) => {
          hash.update(bytes);
        },
        digestHex: () => hash.digest('hex'),
      };
    },
  };
}
