/**
 * Per-user data keys wrapped by a master key (envelope encryption). Each user's 32-byte data key
 * is random, stored only wrapped (AES-256-GCM under the master key, bound to the user's id) at
 * `keys/{uid}/data-key`, and cached unwrapped in memory. Rotating the master key re-wraps these
 * small documents; no blob is rewritten.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { BlobStore, CallOptions, KeyRing } from '../../ports';
import { readAll } from '../../ports/blob-store';
import { hasCode, lifeboatError } from '../errors';

export interface MasterKey {
  /** Short public name of the key (first 16 hex of its SHA-256), stored beside what it wraps. */
  id: string;
  key: Uint8Array;
}

/** A master key from 32 raw bytes; refuses anything else. */
export function masterKey(key: Uint8Array): MasterKey {
  if (key.byteLength !== 32) throw lifeboatError('invalid-argument', `a master key is 32 bytes, got ${key.byteLength}`);
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 16), key };
}

/** Parses a master key written as 64 hex characters or base64 of 32 bytes. */
export function parseMasterKey(text: string): MasterKey {
  const t = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  return masterKey(new Uint8Array(bytes));
}

const WrappedKeyDoc = z.object({
  version: z.literal(1),
  masterKeyId: z.string(),
  nonce: z.string(),
  wrapped: z.string(),
  createdAt: z.number().int(),
});
type WrappedKeyDoc = z.infer<typeof WrappedKeyDoc>;

/** What replaces a wrapped key that was destroyed (crypto-shredding): no key bytes, wrapped or not. */
const DestroyedKeyDoc = z.strictObject({ version: z.literal(1), destroyedAt: z.number().int() });
type DestroyedKeyDoc = z.infer<typeof DestroyedKeyDoc>;

const StoredKeyDoc = z.union([WrappedKeyDoc, DestroyedKeyDoc]);

const isDestroyed = (doc: WrappedKeyDoc | DestroyedKeyDoc): doc is DestroyedKeyDoc => 'destroyedAt' in doc;

export function dataKeyLocation(uid: string): string {
  return `keys/${uid}/data-key`;
}

/** The uid of a `keys/{uid}/data-key` location, null for any other key. */
export function uidOfDataKey(key: string): string | null {
  return key.startsWith('keys/') && key.endsWith('/data-key') && key.length > 'keys//data-key'.length ? key.slice('keys/'.length, -'/data-key'.length) : null;
}

export interface WrappedKeyRingOptions {
  /** Wraps new keys and re-wrapped ones. */
  current: MasterKey;
  /** Older master keys, to unwrap keys not yet re-wrapped. @default none */
  previous?: readonly MasterKey[];
  now?: () => number;
}

export class WrappedKeyRing implements KeyRing {
  private readonly cache = new Map<string, Promise<Uint8Array>>();
  private readonly masters: Map<string, MasterKey>;

  constructor(
    private readonly blobs: BlobStore,
    private readonly options: WrappedKeyRingOptions,
  ) {
    this.masters = new Map([options.current, ...(options.previous ?? [])].map((m) => [m.id, m]));
  }

  dataKey(uid: string, options: CallOptions = {}): Promise<Uint8Array> {
    let pending = this.cache.get(uid);
    if (!pending) {
      pending = this.loadOrCreate(uid, options);
      this.cache.set(uid, pending);
      // A failed load (storage down) must not stick: the next call tries again.
      pending.catch(() => this.cache.delete(uid));
    }
    return pending;
  }

  /**
   * Crypto-shredding (the KeyRing contract): the wrapped key is overwritten by a tombstone in one
   * atomic put, so the key is gone from the store at once, and this process forgets its copy.
   * Other processes' copies live until they restart (a Cloud Functions instance, a second
   * embedded process): they can still encrypt or read with it, never fetch it again.
   */
  async destroyDataKey(uid: string, options: CallOptions = {}): Promise<void> {
    const tombstone: DestroyedKeyDoc = { version: 1, destroyedAt: this.options.now?.() ?? Date.now() };
    await this.blobs.put(dataKeyLocation(uid), new TextEncoder().encode(JSON.stringify(tombstone)), options);
    this.cache.delete(uid);
  }

  /**
   * Re-wraps every data key not wrapped by the current master key. Returns how many changed.
   * Run it after making a new master key current and listing the old one in `previous`.
   */
  async rewrapAll(options: CallOptions = {}): Promise<number> {
    let changed = 0;
    for await (const info of this.blobs.list('keys/', options)) {
      const uid = uidOfDataKey(info.key);
      if (uid !== null && (await this.rewrap(uid, options)) === 'rewrapped') changed += 1;
    }
    return changed;
  }

  /** The current master key's public id (what `rewrap` wraps under). */
  get currentKeyId(): string {
    return this.options.current.id;
  }

  /**
   * Re-wraps one user's data key under the current master key if another wraps it: idempotent
   * (a key already under the current one is left alone), so a re-run or a retried page is free.
   * @throws LifeboatError `failed-precondition` when the key is wrapped by a master key that is not configured.
   */
  async rewrap(uid: string, options: CallOptions = {}): Promise<'rewrapped' | 'current' | 'absent'> {
    const location = dataKeyLocation(uid);
    const doc = await this.read(location, options);
    // A destroyed key (its user's data deleted) has nothing to re-wrap: it stays a tombstone.
    if (!doc || isDestroyed(doc)) return 'absent';
    if (doc.masterKeyId === this.options.current.id) return 'current';
    const key = this.unwrap(uid, doc);
    await this.blobs.put(location, this.encode(this.wrap(uid, key)), options);
    return 'rewrapped';
  }

  /** The master key id a user's data key is wrapped under, or null when the user has none. */
  async wrappedUnder(uid: string, options: CallOptions = {}): Promise<string | null> {
    const doc = await this.read(dataKeyLocation(uid), options);
    return doc && !isDestroyed(doc) ? doc.masterKeyId : null;
  }

  private async loadOrCreate(uid: string, options: CallOptions): Promise<Uint8Array> {
    const location = dataKeyLocation(uid);
    const existing = await this.read(location, options);
    // A destroyed key is refused by unwrap; the create below is if-absent, so never over a tombstone.
    if (existing) return this.unwrap(uid, existing);
    const key = new Uint8Array(randomBytes(32));
    const { created } = await this.blobs.put(location, this.encode(this.wrap(uid, key)), { ...options, ifAbsent: true });
    if (created) return key;
    // Another process created the user's key first: theirs is the key.
    const winner = await this.read(location, options);
    if (!winner) throw lifeboatError('unavailable', `data key of ${uid} vanished while being created`);
    return this.unwrap(uid, winner);
  }

  private async read(location: string, options: CallOptions): Promise<WrappedKeyDoc | DestroyedKeyDoc | null> {
    try {
      const text = new TextDecoder().decode(await readAll(await this.blobs.get(location, options)));
      return StoredKeyDoc.parse(JSON.parse(text));
    } catch (err) {
      if (hasCode(err, 'not-found')) return null;
      if (err instanceof z.ZodError || err instanceof SyntaxError) {
        throw lifeboatError('data-loss', `the wrapped data key at ${location} is corrupt`, { cause: err });
      }
      throw err;
    }
  }

  private encode(doc: WrappedKeyDoc): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(doc));
  }

  private wrap(uid: string, key: Uint8Array): WrappedKeyDoc {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.options.current.key, nonce);
    cipher.setAAD(Buffer.from(`lifeboat-data-key:${uid}`));
    const wrapped = Buffer.concat([cipher.update(key), cipher.final(), cipher.getAuthTag()]);
    return { version: 1, masterKeyId: this.options.current.id, nonce: nonce.toString('base64'), wrapped: wrapped.toString('base64'), createdAt: this.options.now?.() ?? Date.now() };
  }

  private unwrap(uid: string, doc: WrappedKeyDoc | DestroyedKeyDoc): Uint8Array {
    if (isDestroyed(doc)) {
      throw lifeboatError('failed-precondition', `the data key of ${uid} was destroyed: the user's data is deleted and cannot be read or added to until its deletion is over`, { retryable: false });
    }
    const master = this.masters.get(doc.masterKeyId);
    if (!master) {
      throw lifeboatError(
        'failed-precondition',
        `the data key of ${uid} is wrapped by master key ${doc.masterKeyId}, which is not configured (current: ${this.options.current.id})`,
      );
    }
    const wrapped = Buffer.from(doc.wrapped, 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', master.key, Buffer.from(doc.nonce, 'base64'));
      decipher.setAAD(Buffer.from(`lifeboat-data-key:${uid}`));
      decipher.setAuthTag(wrapped.subarray(wrapped.byteLength - 16));
      return new Uint8Array(Buffer.concat([decipher.update(wrapped.subarray(0, wrapped.byteLength - 16)), decipher.final()]));
    } catch (err) {
      throw lifeboatError('data-loss', `the data key of ${uid} does not unwrap with master key ${master.id}`, { cause: err });
    }
  }
}
