/**
 * The `downloadBlob` function: the plain handler over a fake request/response and the engine on
 * in-memory fakes with encryption on (so a stored blob's bytes differ from what a restore needs),
 * the links the production DownloadLinks hands out, and the deployed function's trigger.
 */
import { randomBytes } from 'node:crypto';
import { contentStoreOf, createDownloadToken, parseMasterKey, sha256Hex, WrappedKeyRing, verifyDownloadToken } from '../../src/core';
import { blobKey } from '../../src/core/keys';
import { readAll } from '../../src/ports/blob-store';
import { downloadBlobFunction, handleDownloadRequest, type DownloadRequest, type DownloadResponse } from '../../src/firebase/functions/download-blob';
import { DOWNLOAD_FUNCTION_NAME, downloadBaseUrl, downloadSecret, functionDownloadLinks } from '../../src/firebase/runtime/download-links';
import { createHarness } from '../fakes/engine-harness';
import { encodeLegacyBlob } from '../fakes/legacy-blob';
import { loadFunctionsEnv } from './function-env';

loadFunctionsEnv();

const SECRET = 'a'.repeat(64);

/** A response recording what the handler writes; `write` reports backpressure every other call. */
class FakeResponse {
  status = 0;
  headers: Record<string, string> = {};
  /** Headers set before the head, merged into it (as Node's `setHeader` does). */
  preset: Record<string, string> = {};
  chunks: Buffer[] = [];
  ended = false;
  destroyed: Error | null = null;
  drains = 0;
  /** `close` listeners still registered: a download must not pile them up. */
  closeListeners = 0;
  private listeners: Array<() => void> = [];

  writeHead(status: number, headers: Record<string, string>) {
    this.status = status;
    this.headers = { ...this.preset, ...headers };
    return this;
  }

  setHeader(name: string, value: string) {
    this.preset[name] = value;
    return this;
  }

  write(chunk: Uint8Array): boolean {
    if (this.ended) throw new Error('write after end');
    this.chunks.push(Buffer.from(chunk));
    if (this.chunks.length % 2 === 0) {
      setImmediate(() => {
        this.drains++;
        for (const l of this.listeners.splice(0)) l();
      });
      return false;
    }
    return true;
  }

  once(event: string, listener: () => void) {
    if (event === 'drain') this.listeners.push(listener);
    if (event === 'close') this.closeListeners += 1;
    return this;
  }

  removeListener(event: string, listener: () => void) {
    if (event === 'drain') this.listeners = this.listeners.filter((l) => l !== listener);
    if (event === 'close') this.closeListeners -= 1;
    return this;
  }

  end(body?: string) {
    if (body !== undefined) this.chunks.push(Buffer.from(body));
    this.ended = true;
    return this;
  }

  destroy(error?: Error) {
    this.destroyed = error ?? new Error('destroyed');
    return this;
  }

  body(): Buffer {
    return Buffer.concat(this.chunks);
  }

  json(): { error: { status: string; message: string; details: { code: string } } } {
    return JSON.parse(this.body().toString('utf8'));
  }
}

async function encryptedHarness() {
  const h = createHarness();
  h.deps.keyRing = new WrappedKeyRing(h.blobs, { current: parseMasterKey(SECRET) });
  // Compressible and over one 256 KiB piece, so the codec and the backpressure loop both matter.
  const plaintext = Buffer.concat([Buffer.alloc(300_000, 'x'), randomBytes(50_000)]);
  const { hash } = await contentStoreOf(h.deps).put('alice', plaintext);
  return { h, plaintext, hash };
}

async function serve(h: ReturnType<typeof createHarness>, req: DownloadRequest, origins: readonly string[] = []) {
  const res = new FakeResponse();
  await handleDownloadRequest(req, res as unknown as DownloadResponse, h.deps, SECRET, origins);
  return res;
}

describe('downloadBlob handler', () => {
  it('answers the plaintext of an encrypted, compressed blob, not its stored bytes', async () => {
    const { h, plaintext, hash } = await encryptedHarness();
    const stored = Buffer.from(await readAll(await h.blobs.get(blobKey('alice', hash))));
    expect(stored.equals(plaintext)).toBe(false);
    const token = createDownloadToken(SECRET, { uid: 'alice', blob: hash, exp: h.clock.now() + 60_000 });
    const res = await serve(h, { method: 'GET', url: `/${token}`, path: `/${token}` });
    expect(res.status).toBe(200);
    expect(res.ended).toBe(true);
    expect(res.body().equals(plaintext)).toBe(true);
    expect(sha256Hex(res.body())).toBe(hash);
    expect(res.headers).toMatchObject({ 'content-length': String(plaintext.byteLength), 'x-lifeboat-sha256': hash, 'cache-control': 'private, no-store' });
    expect(res.drains).toBeGreaterThan(0);
  });

  it('takes the token from the last path segment (function name in the URL, as in the emulator)', async () => {
    const { h, plaintext, hash } = await encryptedHarness();
    const token = createDownloadToken(SECRET, { uid: 'alice', blob: hash, exp: h.clock.now() + 60_000 });
    const res = await serve(h, { method: 'GET', url: `/demo-lifeboat/us-central1/downloadBlob/${token}?x=1` });
    expect(res.status).toBe(200);
    expect(res.body().equals(plaintext)).toBe(true);
  });

  it('answers an allowed web origin with CORS naming it, refuses any other origin', async () => {
    const { h, plaintext, hash } = await encryptedHarness();
    const token = createDownloadToken(SECRET, { uid: 'alice', blob: hash, exp: h.clock.now() + 60_000 });
    const origins = ['https://app.example.com'];
    const allowed = await serve(h, { method: 'GET', url: `/${token}`, headers: { origin: 'https://app.example.com' } }, origins);
    expect(allowed.status).toBe(200);
    expect(allowed.body().equals(plaintext)).toBe(true);
    expect(allowed.headers).toMatchObject({ 'access-control-allow-origin': 'https://app.example.com', 'access-control-expose-headers': 'x-lifeboat-sha256', vary: 'Origin' });
    const preflight = await serve(h, { method: 'OPTIONS', url: `/${token}`, headers: { origin: 'https://app.example.com' } }, origins);
    expect(preflight.status).toBe(204);
    expect(preflight.headers).toMatchObject({ 'access-control-allow-origin': 'https://app.example.com', 'access-control-allow-methods': 'GET, HEAD' });
    for (const origin of ['https://evil.example', 'null']) {
      const refused = await serve(h, { method: 'GET', url: `/${token}`, headers: { origin } }, origins);
      expect([refused.status, refused.json().error.details.code, refused.headers['access-control-allow-origin']]).toEqual([403, 'permission-denied', undefined]);
      expect(refused.json().error.message).toContain('LIFEBOAT_ALLOWED_ORIGINS');
    }
    // With no origins configured, every browser is refused; apps (no Origin) are served.
    expect((await serve(h, { method: 'GET', url: `/${token}`, headers: { origin: 'https://app.example.com' } })).status).toBe(403);
    const app = await serve(h, { method: 'GET', url: `/${token}` });
    expect([app.status, app.headers['access-control-allow-origin']]).toEqual([200, undefined]);
  });

  it('HEAD answers the headers only', async () => {
    const { h, plaintext, hash } = await encryptedHarness();
    const token = createDownloadToken(SECRET, { uid: 'alice', blob: hash, exp: h.clock.now() + 60_000 });
    const res = await serve(h, { method: 'HEAD', url: `/${token}` });
    expect([res.status, res.headers['content-length'], res.body().byteLength]).toEqual([200, String(plaintext.byteLength), 0]);
  });

  it('refuses an expired, tampered, foreign-secret or missing token with 403', async () => {
    const { h, hash } = await encryptedHarness();
    const now = h.clock.now();
    const good = createDownloadToken(SECRET, { uid: 'alice', blob: hash, exp: now + 60_000 });
    const [prefix, payload, signature] = good.split('.');
    const otherUser = Buffer.from(JSON.stringify({ uid: 'mallory', blob: hash, exp: now + 60_000 })).toString('base64url');
    const tokens = [
      createDownloadToken(SECRET, { uid: 'alice', blob: hash, exp: now }),
      `${prefix}.${otherUser}.${signature}`,
      `${prefix}.${payload}.${signature}x`,
      createDownloadToken('b'.repeat(64), { uid: 'alice', blob: hash, exp: now + 60_000 }),
      '',
    ];
    for (const token of tokens) {
      const res = await serve(h, { method: 'GET', url: `/${token}` });
      expect([res.status, res.json().error.details.code]).toEqual([403, 'permission-denied']);
    }
  });

  it('answers 404 for a blob that is not stored, 405 for other methods', async () => {
    const { h } = await encryptedHarness();
    const token = createDownloadToken(SECRET, { uid: 'alice', blob: sha256Hex('absent'), exp: h.clock.now() + 60_000 });
    expect((await serve(h, { method: 'GET', url: `/${token}` })).status).toBe(404);
    const post = await serve(h, { method: 'POST', url: `/${token}` });
    expect([post.status, post.headers['allow']]).toEqual([405, 'GET, HEAD']);
  });

  it('streams a large blob segment by segment, and sends blobs of the old format chunked (no length)', async () => {
    const { h } = await encryptedHarness();
    const large = randomBytes(3_000_000);
    const { hash } = await contentStoreOf(h.deps).put('alice', large);
    const token = createDownloadToken(SECRET, { uid: 'alice', blob: hash, exp: h.clock.now() + 60_000 });
    const res = await serve(h, { method: 'GET', url: `/${token}` });
    expect([res.status, res.ended, res.headers['content-length']]).toEqual([200, true, String(large.byteLength)]);
    expect(res.body().equals(large)).toBe(true);
    expect(Math.max(...res.chunks.map((c) => c.byteLength))).toBeLessThanOrEqual(64 * 1024);
    expect(res.drains).toBeGreaterThan(10);
    expect(res.closeListeners).toBe(0);
    const old = Buffer.from('written before blobs had segments\n'.repeat(1000));
    await h.blobs.put(blobKey('alice', sha256Hex(old)), encodeLegacyBlob(old, { key: await h.deps.keyRing!.dataKey('alice') }));
    const legacy = await serve(h, { method: 'GET', url: `/${createDownloadToken(SECRET, { uid: 'alice', blob: sha256Hex(old), exp: h.clock.now() + 60_000 })}` });
    expect([legacy.status, legacy.ended, legacy.headers['content-length']]).toEqual([200, true, undefined]);
    expect(legacy.body().equals(old)).toBe(true);
  });

  it('cuts the response off when a large blob turns out corrupt part way (never a complete body)', async () => {
    const { h } = await encryptedHarness();
    const large = randomBytes(1_000_000);
    const { hash } = await contentStoreOf(h.deps).put('alice', large);
    const key = blobKey('alice', hash);
    const stored = Buffer.from(await readAll(await h.blobs.get(key)));
    stored[600_000] = (stored[600_000] ?? 0) ^ 1;
    await h.blobs.put(key, stored);
    const res = await serve(h, { method: 'GET', url: `/${createDownloadToken(SECRET, { uid: 'alice', blob: hash, exp: h.clock.now() + 60_000 })}` });
    expect(res.status).toBe(200);
    expect(res.ended).toBe(false);
    expect(res.destroyed).toMatchObject({ code: 'data-loss' });
    expect(res.body().byteLength).toBeLessThan(600_000);
  });

  it('answers 500 data-loss (not retryable; the device restores the rest) for a blob whose bytes do not match its name', async () => {
    const { h, hash } = await encryptedHarness();
    const other = await contentStoreOf(h.deps).put('alice', Buffer.from('something else'));
    // Another blob's stored bytes under this blob's name: decodes, but hashes to the other name.
    await h.blobs.put(blobKey('alice', hash), await readAll(await h.blobs.get(blobKey('alice', other.hash))));
    const token = createDownloadToken(SECRET, { uid: 'alice', blob: hash, exp: h.clock.now() + 60_000 });
    const res = await serve(h, { method: 'GET', url: `/${token}` });
    expect([res.status, res.json().error.details.code]).toEqual([500, 'data-loss']);
  });
});

describe('download links on Firebase', () => {
  it('point at the downloadBlob function with a token the handler accepts', async () => {
    const { h, plaintext, hash } = await encryptedHarness();
    const links = functionDownloadLinks(() => downloadSecret(`${SECRET},${'c'.repeat(64)}`), () => downloadBaseUrl('', 'europe-west1', { GCLOUD_PROJECT: 'my-proj' }));
    const url = await links.link({ uid: 'alice', blob: hash, expiresAt: h.clock.now() + 60_000 });
    expect(url.startsWith('https://europe-west1-my-proj.cloudfunctions.net/downloadBlob/lbd1.')).toBe(true);
    const token = url.slice(url.lastIndexOf('/') + 1);
    expect(verifyDownloadToken(SECRET, token, h.clock.now())).toEqual({ uid: 'alice', blob: hash, exp: h.clock.now() + 60_000 });
    const res = await serve(h, { method: 'GET', url: new URL(url).pathname });
    expect(res.body().equals(plaintext)).toBe(true);
  });

  it('use LIFEBOAT_DOWNLOAD_URL when set, and refuse to guess without a project', () => {
    expect(downloadBaseUrl('https://example.com/dl/', 'us-central1', {})).toBe('https://example.com/dl');
    expect(() => downloadBaseUrl('', 'us-central1', {})).toThrow(/LIFEBOAT_DOWNLOAD_URL/);
    expect(() => downloadSecret(' , ')).toThrow(/empty/);
  });

  it('the function is a public HTTPS endpoint', () => {
    const endpoint = (downloadBlobFunction() as unknown as { __endpoint: Record<string, any> }).__endpoint;
    expect(endpoint['httpsTrigger']).toMatchObject({ invoker: ['public'] });
    expect(endpoint['timeoutSeconds']).toMatchObject({ name: 'LIFEBOAT_DOWNLOAD_BLOB_TIMEOUT_SECONDS', options: expect.objectContaining({ default: 540 }) });
    expect(DOWNLOAD_FUNCTION_NAME).toBe('downloadBlob');
  });
});
