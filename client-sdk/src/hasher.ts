/**
 * The SHA-256 the SDK names chunks with and checks restored blobs against: an injected port, so a
 * platform with a native SHA-256 can use it (about ten times the pure-JS speed on a phone's
 * files). The default is `@noble/hashes` (pure JS, runs anywhere); `@lifeboat/client-sdk/node`
 * uses `node:crypto`; client-sdk/README.md, "Hashing", shows React Native's options.
 */
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import { BackupClientError } from './errors';

/** One SHA-256 computation, fed piece by piece. */
export interface Sha256Hash {
  update(bytes: Uint8Array): void;
  /** The digest as 64 lower-case hex characters; the hash is not used after. */
  digestHex(): string;
}

/**
 * Makes SHA-256 computations.
 *
 * Contract: standard SHA-256 (FIPS 180-4), synchronous, streaming: `update` may be called any
 * number of times with pieces of any size (the SDK feeds a large file 1 MiB at a time, so a
 * hasher must not need the whole input at once), and must not keep a reference to a piece after
 * it returns (the SDK reuses its read buffer). The SDK checks a hasher once, on the first use,
 * against a known digest, and refuses one that is wrong (`backup/invalid-argument`).
 */
export interface Hasher {
  /** Names the implementation in logs and benchmarks. */
  readonly name: string;
  sha256(): Sha256Hash;
}

/** Pure-JS SHA-256 (`@noble/hashes`): the default, for any runtime. */
export const nobleHasher: Hasher = Object.freeze({
  name: 'noble (pure JS)',
  sha256(): Sha256Hash {
    const hash = sha256.create();
    return {
      update: (bytes) => {
        hash.update(bytes);
      },
      digestHex: () => bytesToHex(hash.digest()),
    };
  },
});

/** The SHA-256 of some bytes, in one call. */
export function sha256HexWith(hasher: Hasher, ...pieces: Uint8Array[]): string {
  const hash = hasher.sha256();
  for (const piece of pieces) hash.update(piece);
  return hash.digestHex();
}

// SHA-256("abc") split in two pieces: a hasher that gets either the algorithm or streaming wrong fails it.
const CHECK_INPUT = [new Uint8Array([0x61]), new Uint8Array([0x62, 0x63])];
const CHECK_DIGEST = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
const checked = new WeakSet<Hasher>();

/**
 * The hasher, checked against a known digest on its first use.
 * @throws BackupClientError `backup/invalid-argument` when it fails or gives the wrong digest.
 */
export function checkedHasher(hasher: Hasher): Hasher {
  if (checked.has(hasher)) return hasher;
  let digest: string;
  try {
    digest = sha256HexWith(hasher, ...CHECK_INPUT);
  } catch (err) {
    throw new BackupClientError('backup/invalid-argument', `hasher ${hasher.name} failed its check: ${(err as Error).message}`, { cause: err });
  }
  if (digest !== CHECK_DIGEST) throw new BackupClientError('backup/invalid-argument', `hasher ${hasher.name} is not a streaming SHA-256: SHA-256("abc") came out ${digest}`);
  checked.add(hasher);
  return hasher;
}
