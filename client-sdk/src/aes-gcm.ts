/**
 * AES-256-GCM for end-to-end encryption, on every platform the SDK runs on: Web Crypto where the
 * platform has it (browsers, Node, Electron: native and fast), else @noble/ciphers (audited, pure
 * JS) where it does not (React Native's Hermes has no `crypto.subtle`). Both produce the same
 * bytes, ciphertext then a 16-byte tag, so whatever one implementation sealed the other opens:
 * a backup made on a phone restores in a browser and the other way round.
 */
import { gcm } from '@noble/ciphers/aes';

/** One AES-256-GCM key, ready to use. */
export interface AesGcmKey {
  /** Ciphertext followed by the 16-byte tag. */
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  /** The plaintext; rejects when the tag does not match (wrong key, nonce, AAD or damaged bytes). */
  open(nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
}

/** An implementation of AES-256-GCM with 96-bit nonces and 128-bit tags. */
export interface AesGcm {
  readonly name: 'web-crypto' | 'noble';
  /** A key from its 32 raw bytes (the bytes are not kept by reference). */
  importKey(raw: Uint8Array): Promise<AesGcmKey>;
}

/**
 * Web Crypto's types want ArrayBuffer-backed views; every view the SDK passes is one (its bytes
 * come from `TextEncoder`, hashing, ciphers or the network), so this only narrows the type.
 */
const view = (bytes: Uint8Array) => bytes as Uint8Array<ArrayBuffer>;

/** AES-GCM through a Web Crypto `SubtleCrypto`. */
export function webCryptoAesGcm(subtle: SubtleCrypto): AesGcm {
  return {
    name: 'web-crypto',
    async importKey(raw) {
      const key = await subtle.importKey('raw', view(raw), 'AES-GCM', false, ['encrypt', 'decrypt']);
      const params = (nonce: Uint8Array, aad: Uint8Array): AesGcmParams => ({ name: 'AES-GCM', iv: view(nonce), additionalData: view(aad), tagLength: 128 });
      return {
        seal: async (nonce, plaintext, aad) => new Uint8Array(await subtle.encrypt(params(nonce, aad), key, view(plaintext))),
        open: async (nonce, sealed, aad) => new Uint8Array(await subtle.decrypt(params(nonce, aad), key, view(sealed))),
      };
    },
  };
}

/** AES-GCM in pure JS (@noble/ciphers), for platforms without Web Crypto. */
export const nobleAesGcm: AesGcm = {
  name: 'noble',
  async importKey(raw: Uint8Array): Promise<AesGcmKey> {
    // A copy: the caller may reuse or zero its buffer.
    const key = raw.slice();
    return {
      seal: async (nonce, plaintext, aad) => gcm(key, nonce, aad).encrypt(plaintext),
      open: async (nonce, sealed, aad) => gcm(key, nonce, aad).decrypt(sealed),
    };
  },
};

/**
 * Web Crypto when `globalThis.crypto.subtle` can import keys, else @noble/ciphers (also under a
 * polyfill whose `subtle` only hashes). Looked up on every call, so a polyfill installed after
 * the SDK loaded is still used.
 */
export function platformAesGcm(): AesGcm {
  const subtle = globalThis.crypto?.subtle;
  return typeof subtle?.importKey === 'function' ? webCryptoAesGcm(subtle) : nobleAesGcm;
}
