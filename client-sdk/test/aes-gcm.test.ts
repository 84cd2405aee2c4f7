/**
 * The two AES-256-GCM implementations of the SDK (Web Crypto and @noble/ciphers) give the same
 * bytes: a published test vector, every size around the block boundaries both ways, refusals of
 * damaged input, and the end-to-end key (chunks, wrapped keys, passphrase changes) made with one
 * and used with the other. Also which one the SDK picks when `crypto.subtle` is missing.
 */
import { webcrypto } from 'node:crypto';
import { hmac } from '@noble/hashes/hmac';
import { scryptAsync } from '@noble/hashes/scrypt';
import { sha256 } from '@noble/hashes/sha2';
import { nobleAesGcm, platformAesGcm, webCryptoAesGcm, type AesGcm } from '../src/aes-gcm';
import { E2eKey, newE2eParams, type E2eParams } from '../src/e2e-encryption';
import { sha256Hex } from '../src/sha256';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const web = webCryptoAesGcm(webcrypto.subtle as SubtleCrypto);
const both: Array<[string, AesGcm]> = [['web-crypto', web], ['noble', nobleAesGcm]];

/** Deterministic bytes, so a failure names a reproducible input. */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('AES-256-GCM implementations', () => {
  // McGrew and Viega, "The Galois/Counter Mode of Operation", test case 16 (256-bit key, AAD).
  const vector = {
    key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308',
    nonce: 'cafebabefacedbaddecaf888',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    plaintext: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    sealed: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662' + '76fc6ece0f4e1768cddf8853bb2d551b',
  };

  it.each(both)('%s gives the published test vector', async (_name, aes) => {
    const key = await aes.importKey(hex(vector.key));
    expect(toHex(await key.seal(hex(vector.nonce), hex(vector.plaintext), hex(vector.aad)))).toBe(vector.sealed);
    expect(toHex(await key.open(hex(vector.nonce), hex(vector.sealed), hex(vector.aad)))).toBe(vector.plaintext);
  });

  it('seals the same bytes both ways, and each opens what the other sealed, at every size near a block edge', async () => {
    const raw = bytes(32, 1);
    const [w, n] = [await web.importKey(raw), await nobleAesGcm.importKey(raw)];
    for (const size of [0, 1, 15, 16, 17, 31, 32, 33, 255, 4096, 65_536 + 7]) {
      const nonce = bytes(12, size + 2);
      const plaintext = bytes(size, size + 3);
      const aad = bytes(size % 40, size + 4);
      const byWeb = await w.seal(nonce, plaintext, aad);
      const byNoble = await n.seal(nonce, plaintext, aad);
      expect(byNoble.byteLength).toBe(size + 16);
      expect(toHex(byNoble)).toBe(toHex(byWeb));
      expect(toHex(await n.open(nonce, byWeb, aad))).toBe(toHex(plaintext));
      expect(toHex(await w.open(nonce, byNoble, aad))).toBe(toHex(plaintext));
    }
  });

  it.each(both)('%s refuses a flipped bit, another AAD, another nonce, another key and a cut tag', async (_name, aes) => {
    const raw = bytes(32, 5);
    const key = await aes.importKey(raw);
    const nonce = bytes(12, 6);
    const aad = new TextEncoder().encode('LBE1contacts');
    const sealed = await key.seal(nonce, bytes(100, 7), aad);
    const flipped = sealed.slice();
    flipped[10] = (flipped[10] ?? 0) ^ 0x01;
    await expect(key.open(nonce, flipped, aad)).rejects.toThrow();
    await expect(key.open(nonce, sealed, new TextEncoder().encode('LBE1chats'))).rejects.toThrow();
    await expect(key.open(bytes(12, 8), sealed, aad)).rejects.toThrow();
    await expect((await aes.importKey(bytes(32, 9))).open(nonce, sealed, aad)).rejects.toThrow();
    await expect(key.open(nonce, sealed.subarray(0, sealed.byteLength - 1), aad)).rejects.toThrow();
    // The key was copied on import: changing the caller's buffer changes nothing.
    raw.fill(0);
    expect(toHex(await key.seal(nonce, bytes(100, 7), aad))).toBe(toHex(sealed));
  });

  it('picks Web Crypto when crypto.subtle is there and @noble/ciphers when it is not', () => {
    expect(platformAesGcm().name).toBe('web-crypto');
    const original = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
    try {
      Object.defineProperty(globalThis, 'crypto', { configurable: true, value: { getRandomValues: (a: Uint8Array) => webcrypto.getRandomValues(a) } });
      expect(globalThis.crypto.subtle).toBeUndefined();
      expect(platformAesGcm().name).toBe('noble');
      // A polyfill whose subtle only hashes.
      Object.defineProperty(globalThis, 'crypto', { configurable: true, value: { subtle: { digest: webcrypto.subtle.digest.bind(webcrypto.subtle) } } });
      expect(platformAesGcm().name).toBe('noble');
    } finally {
      if (original) Object.defineProperty(globalThis, 'crypto', original);
    }
    expect(platformAesGcm().name).toBe('web-crypto');
  });
});

describe('the end-to-end key across implementations', () => {
  const text = (s: string) => new TextEncoder().encode(s);

  it('derives one key either way: same chunks, and each decrypts the other\'s', async () => {
    // Version 1 parameters at a low scrypt cost (the cost is part of the parameters), so the
    // test spends its time on the ciphers: the scrypt output is the key.
    const kdf = { name: 'scrypt' as const, N: 2 ** 10, r: 8, p: 1, salt: '3c'.repeat(16) };
    const derived = await scryptAsync(text('kelp forest'), hex(kdf.salt), { N: kdf.N, r: 8, p: 1, dkLen: 32 });
    const params: E2eParams = { version: 1, kdf, keyCheck: toHex(hmac(sha256, derived, text('lifeboat-e2e/1 key-check'))) };
    const viaNoble = await E2eKey.derive('kelp forest', params, nobleAesGcm);
    const viaWeb = await E2eKey.derive('kelp forest', params, web);
    expect([viaNoble.implementation, viaWeb.implementation]).toEqual(['noble', 'web-crypto']);
    for (const [type, body] of [['contacts', '{"id":"c1","name":"Ada"}\n'], ['chats', 'x'.repeat(70_000)], ['media', '']] as const) {
      const a = await viaNoble.encrypt(type, text(body));
      const b = await viaWeb.encrypt(type, text(body));
      expect(sha256Hex(a)).toBe(sha256Hex(b));
      expect(new TextDecoder().decode(await viaWeb.decrypt(type, a))).toBe(body);
      expect(new TextDecoder().decode(await viaNoble.decrypt(type, b))).toBe(body);
    }
    await expect(E2eKey.derive('kelp forests', params, nobleAesGcm)).rejects.toMatchObject({ code: 'backup/wrong-passphrase' });
    const sealed = await viaNoble.encrypt('chats', text('hello'));
    await expect(viaNoble.decrypt('contacts', sealed)).rejects.toMatchObject({ code: 'backup/data-loss' });
  });

  it('wraps and unwraps the key across implementations (set-up with one, passphrase change with the other)', async () => {
    const params = await newE2eParams('first tide', undefined, web);
    const viaNoble = await E2eKey.derive('first tide', params, nobleAesGcm);
    const sealed = await viaNoble.encrypt('contacts', text('{"id":"c9"}\n'));
    const rewrapped = await viaNoble.wrapFor('second tide');
    const viaWeb = await E2eKey.derive('second tide', rewrapped, web);
    expect(new TextDecoder().decode(await viaWeb.decrypt('contacts', sealed))).toBe('{"id":"c9"}\n');
    // A damaged wrapped key is data loss, not a wrong passphrase, without Web Crypto too.
    const damaged = { ...rewrapped, wrappedKey: `${rewrapped.wrappedKey.slice(0, -2)}${rewrapped.wrappedKey.endsWith('00') ? '01' : '00'}` };
    await expect(E2eKey.derive('second tide', damaged, nobleAesGcm)).rejects.toMatchObject({ code: 'backup/data-loss' });
  });
});
