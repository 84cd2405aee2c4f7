/**
 * End-to-end encryption: the device encrypts every chunk before it leaves, so the server stores
 * bytes it cannot read (docs/invariants.md, "End-to-end encryption").
 *
 * - Key: scrypt(passphrase, salt) with N = 2^15, r = 8, p = 1 (32 MiB of memory, a fraction of
 *   a second on a phone; the cost sits in the stored parameters, so it can be raised for new
 *   users without breaking old ones). The salt is random per user and kept by the server
 *   (`initEndToEndParams`, create-if-absent), so every device of the user derives the same key.
 * - Key check: HMAC-SHA256(key, label) is stored beside the salt; a wrong passphrase is refused
 *   with `backup/wrong-passphrase` before anything is uploaded or restored.
 * - Chunks: AES-256-GCM (aes-gcm.ts) under a key derived from the passphrase key, with a
 *   convergent nonce, HMAC-SHA256(nonce key, type ‖ SHA-256(plaintext)) cut to 96 bits. The same
 *   plaintext always gives the same ciphertext, so unchanged chunks keep their ids and dedup
 *   still works; different plaintexts get different nonces (a synthetic-IV construction). The
 *   trade-off: the server can see that two chunks are equal, never what they hold.
 * - Layout: `LBE1` (4 bytes), the nonce (12 bytes), ciphertext and GCM tag (16 bytes). The
 *   associated data is `LBE1` and the chunk's type, so a chunk passed off as another type fails.
 *
 * @noble/hashes for scrypt, HMAC and SHA-256; AES-GCM through Web Crypto where the platform has
 * it, else @noble/ciphers (React Native's Hermes), with the same bytes either way, so a backup
 * made on one restores on the other; `crypto.getRandomValues` only for the random key, salts and
 * wrapping nonce, when a user is set up or changes the passphrase (on React Native,
 * react-native-get-random-values provides it). Nothing Node-only.
 */
import type { E2eParams as ProtocolE2eParams } from '@lifeboat/protocol';
import type { ApiCall } from './callable';
import { hmac } from '@noble/hashes/hmac';
import { scryptAsync } from '@noble/hashes/scrypt';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, concatBytes as concat, hexToBytes } from '@noble/hashes/utils';
import { platformAesGcm, type AesGcm, type AesGcmKey } from './aes-gcm';
import { BackupClientError } from './errors';
import { isInMemory, type ChunkReader, type UploadChunk } from './media-file';
import { sha256Hex } from './sha256';
import type { BackupType } from './types';
import { utf8Bytes, utf8Text } from './utf8';

/** End-to-end encryption of a client's backups. */
export interface EndToEndOptions {
  /**
   * The user's passphrase. It never leaves the device; lose it and the end-to-end backups are
   * lost (the server cannot decrypt them). Compared after Unicode NFKC normalization.
   */
  passphrase: string;
}

/**
 * What the server stores for the user (`getEndToEndParams` / `initEndToEndParams` /
 * `changeEndToEndParams`: the protocol's `E2eParams`). Version 1: the key is the passphrase's
 * scrypt output. Version 2 (new users, and any user after a passphrase change): the scrypt output
 * unwraps `wrappedKey`, so a new passphrase re-wraps the same key and every snapshot stays readable.
 */
export type E2eParams = ProtocolE2eParams;

/** Parameters with a wrapped key: what new users get and what a passphrase change writes. */
export type WrappedE2eParams = Extract<E2eParams, { version: 2 }>;

/** The key derivation's name and cost, and the user's salt. */
export type E2eKdf = E2eParams['kdf'];

/** The KDF cost new users get. */
export const E2E_KDF_COST = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });

/** Bytes a chunk grows by when encrypted: magic, nonce, GCM tag. */
export const E2E_OVERHEAD_BYTES = 4 + 12 + 16;

const MAGIC = 'LBE1';
const label = (name: string) => utf8Bytes(`lifeboat-e2e/1 ${name}`);
/** The wrapped key's associated data, built when used: nothing runs at import time (utf8.ts). */
const wrapAad = () => utf8Bytes('lifeboat-e2e/2 wrapped-key');

/** The user's end-to-end key, checked against the stored key-check value. */
export class E2eKey {
  private constructor(
    private readonly aesKey: AesGcmKey,
    private readonly nonceKey: Uint8Array,
    /** The key the chunk keys come from; kept to re-wrap it under a new passphrase. */
    private readonly master: Uint8Array,
    /** The AES-GCM implementation this key uses, also for re-wrapping. */
    private readonly aes: AesGcm,
  ) {}

  /**
   * Derives the key and refuses a wrong passphrase (`backup/wrong-passphrase`).
   * @param aes the AES-GCM implementation. @default Web Crypto if present, else @noble/ciphers
   */
  static async derive(passphrase: string, params: E2eParams, aes: AesGcm = platformAesGcm()): Promise<E2eKey> {
    const fromPassphrase = await deriveMaster(passphrase, params.kdf);
    if (!equalBytes(hmac(sha256, fromPassphrase, label('key-check')), hexToBytes(params.keyCheck))) {
      throw new BackupClientError('backup/wrong-passphrase', 'the end-to-end passphrase is wrong: it does not match the one this account was set up with');
    }
    const master = params.version === 1 ? fromPassphrase : await unwrapKey(fromPassphrase, params.wrappedKey, aes);
    return E2eKey.fromMaster(master, aes);
  }

  private static async fromMaster(master: Uint8Array, aes: AesGcm): Promise<E2eKey> {
    const aesKey = await aes.importKey(hmac(sha256, master, label('aes-256-gcm')));
    return new E2eKey(aesKey, hmac(sha256, master, label('nonce')), master, aes);
  }

  /** Which AES-GCM implementation this key runs on. */
  get implementation(): AesGcm['name'] {
    return this.aes.name;
  }

  /**
   * Version 2 parameters that give this same key under `passphrase` (a fresh salt), checked by
   * deriving the key back from them before they are returned.
   */
  async wrapFor(passphrase: string, random: (n: number) => Uint8Array = randomBytes): Promise<WrappedE2eParams> {
    const params = await wrappedParams(passphrase, this.master, random, this.aes);
    const back = await E2eKey.derive(passphrase, params, this.aes);
    if (!equalBytes(back.master, this.master)) throw new BackupClientError('backup/internal', 're-wrapped end-to-end key does not unwrap to the same key');
    return params;
  }

  async encrypt(type: BackupType, plaintext: Uint8Array): Promise<Uint8Array> {
    const nonce = hmac(sha256, this.nonceKey, concat(utf8Bytes(`${type}\u0000`), sha256(plaintext))).subarray(0, 12);
    return concat(utf8Bytes(MAGIC), nonce, await this.aesKey.seal(nonce, plaintext, aad(type)));
  }

  /** `backup/data-loss` when the bytes are not an intact chunk of this type under this key. */
  async decrypt(type: BackupType, ciphertext: Uint8Array): Promise<Uint8Array> {
    if (ciphertext.byteLength < E2E_OVERHEAD_BYTES || utf8Text(ciphertext.subarray(0, 4)) !== MAGIC) {
      throw new BackupClientError('backup/data-loss', 'not an end-to-end encrypted chunk');
    }
    try {
      return await this.aesKey.open(ciphertext.subarray(4, 16), ciphertext.subarray(16), aad(type));
    } catch (cause) {
      throw new BackupClientError('backup/data-loss', `an end-to-end ${type} chunk does not decrypt (damaged, or not this account's)`, { cause });
    }
  }
}

/**
 * New parameters for a user: a random key, wrapped under this passphrase with a random salt.
 * @param aes the AES-GCM implementation. @default Web Crypto if present, else @noble/ciphers
 */
export function newE2eParams(passphrase: string, random: (n: number) => Uint8Array = randomBytes, aes: AesGcm = platformAesGcm()): Promise<WrappedE2eParams> {
  return wrappedParams(passphrase, random(32), random, aes);
}

async function wrappedParams(passphrase: string, master: Uint8Array, random: (n: number) => Uint8Array, aes: AesGcm): Promise<WrappedE2eParams> {
  const kdf = { name: 'scrypt' as const, ...E2E_KDF_COST, salt: bytesToHex(random(16)) };
  const fromPassphrase = await deriveMaster(passphrase, kdf);
  const nonce = random(12);
  const sealed = await (await wrappingKey(fromPassphrase, aes)).seal(nonce, master, wrapAad());
  return { version: 2, kdf, keyCheck: bytesToHex(hmac(sha256, fromPassphrase, label('key-check'))), wrappedKey: bytesToHex(concat(nonce, sealed)) };
}

/** The AES-GCM key that wraps the user's key, from the passphrase's scrypt output. */
function wrappingKey(fromPassphrase: Uint8Array, aes: AesGcm): Promise<AesGcmKey> {
  return aes.importKey(hmac(sha256, fromPassphrase, label('wrap')));
}

async function unwrapKey(fromPassphrase: Uint8Array, wrappedKey: string, aes: AesGcm): Promise<Uint8Array> {
  const bytes = hexToBytes(wrappedKey);
  const wrapKey = await wrappingKey(fromPassphrase, aes);
  try {
    return await wrapKey.open(bytes.subarray(0, 12), bytes.subarray(12), wrapAad());
  } catch (cause) {
    throw new BackupClientError('backup/data-loss', 'the stored end-to-end key does not unwrap (damaged parameters)', { cause });
  }
}

/**
 * Re-wraps the user's key under `newPassphrase` (`client.changePassphrase`): derives the key with
 * the current passphrase (refusing a wrong one), wraps it anew, and replaces the stored parameters
 * only if they are still the ones it read. Nothing is re-encrypted: snapshots made before and
 * after stay readable with the new passphrase, and no longer with the old one.
 */
export async function changeE2ePassphrase(call: ApiCall, current: EndToEndOptions, newPassphrase: string, signal?: AbortSignal): Promise<void> {
  if (typeof newPassphrase !== 'string' || newPassphrase.length === 0) {
    throw new BackupClientError('backup/invalid-argument', 'the new passphrase must be a non-empty string');
  }
  const { params } = await call('getEndToEndParams', {}, signal);
  if (!params) throw new BackupClientError('backup/failed-precondition', 'end-to-end encryption was never set up for this account: nothing to re-wrap');
  // The key from the very parameters named as previous, so the check below is about those.
  const key = await E2eKey.derive(current.passphrase, params);
  await call('changeEndToEndParams', { previousKeyCheck: params.keyCheck, params: await key.wrapFor(newPassphrase) }, signal);
}


/**
 * The user's key from the passphrase: the stored parameters, or (with `setUp`, for a backup) new
 * ones stored create-if-absent, so two devices setting up at once agree on one salt.
 */
export async function loadE2eKey(call: ApiCall, options: EndToEndOptions, setUp: boolean, signal?: AbortSignal): Promise<E2eKey> {
  if (typeof options.passphrase !== 'string' || options.passphrase.length === 0) {
    throw new BackupClientError('backup/invalid-argument', 'endToEnd.passphrase must be a non-empty string');
  }
  let { params } = await call('getEndToEndParams', {}, signal);
  if (!params) {
    if (!setUp) throw new BackupClientError('backup/failed-precondition', 'end-to-end encryption was never set up for this account: nothing to decrypt');
    params = (await call('initEndToEndParams', { params: await newE2eParams(options.passphrase) }, signal)).params;
  }
  return E2eKey.derive(options.passphrase, params);
}

/**
 * The chunks as they go to the server: encrypted, named by the SHA-256 of their ciphertext. A
 * streamed (file) chunk is encrypted once here to learn its id, then again when it is uploaded:
 * the encryption is deterministic, so both runs give the same bytes, and memory holds one chunk
 * (at most `mediaPartBytes` plus its ciphertext) rather than the file.
 */
export async function encryptChunks(chunks: readonly UploadChunk[], key: E2eKey): Promise<UploadChunk[]> {
  const out: UploadChunk[] = [];
  for (const chunk of chunks) {
    if (isInMemory(chunk)) {
      const bytes = await key.encrypt(chunk.type, chunk.bytes);
      out.push({ id: sha256Hex(bytes), type: chunk.type, size: bytes.byteLength, items: chunk.items, bytes });
      continue;
    }
    const sealed = async () => key.encrypt(chunk.type, await readWhole(chunk.open(), chunk.size));
    const first = await sealed();
    const id = sha256Hex(first);
    out.push({
      id,
      type: chunk.type,
      size: first.byteLength,
      items: chunk.items,
      async open(): Promise<ChunkReader> {
        const bytes = await sealed();
        if (sha256Hex(bytes) !== id) throw new BackupClientError('backup/failed-precondition', `a ${chunk.type} file changed while it was backed up`);
        return { read: async (offset, length) => bytes.subarray(offset, Math.min(offset + length, bytes.byteLength)), close: async () => undefined };
      },
    });
  }
  return out;
}

async function readWhole(opening: Promise<ChunkReader>, size: number): Promise<Uint8Array> {
  const reader = await opening;
  try {
    const out = new Uint8Array(size);
    for (let at = 0; at < size; ) {
      const bytes = await reader.read(at, Math.min(size - at, 1024 * 1024));
      if (bytes.byteLength === 0) throw new BackupClientError('backup/failed-precondition', 'a file ended early while it was backed up');
      out.set(bytes, at);
      at += bytes.byteLength;
    }
    return out;
  } finally {
    await reader.close();
  }
}

async function deriveMaster(passphrase: string, kdf: E2eKdf): Promise<Uint8Array> {
  const { N, r, p, salt } = kdf;
  return scryptAsync(utf8Bytes(passphrase.normalize('NFKC')), hexToBytes(salt), { N, r, p, dkLen: 32, maxmem: 2 ** 30 });
}

function randomBytes(n: number): Uint8Array {
  const crypto = globalThis.crypto;
  if (!crypto?.getRandomValues) throw new BackupClientError('backup/unimplemented', 'end-to-end encryption needs crypto.getRandomValues');
  return crypto.getRandomValues(new Uint8Array(n));
}

const aad = (type: BackupType) => utf8Bytes(`${MAGIC}${type}`);

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
