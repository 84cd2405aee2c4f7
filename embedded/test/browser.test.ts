/**
 * A web client for real: Debian's chromium (driven by playwright-core) opens a page served from
 * another port than the embedded server, loads the SDK's browser bundle (esbuild) and backs up and
 * restores through it, across origins: callables (preflighted POSTs), resumable uploads
 * (preflighted PUTs with Content-Range) and downloads. The server allows that page's origin only
 * (`allowedOrigins`, as LIFEBOAT_ALLOWED_ORIGINS on both runtimes): the same code on a page of
 * another origin is refused, its upload included, and nothing is changed. Skips, loudly, where
 * chromium is not installed (`apt-get install -y chromium`; .ci/run installs it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { sha256Hex } from '../../client-sdk/src/sha256';
import { uploadKey } from '@lifeboat/engine/core';
import { silentLogger } from '@lifeboat/engine/ports';
import { createToken } from '../src/auth/tokens';
import { startEmbeddedRuntime, type EmbeddedRuntime } from '../src/runtime';

/** Debian's chromium, or the one LIFEBOAT_CHROMIUM names. */
function chromiumPath(): string | null {
  const named = process.env['LIFEBOAT_CHROMIUM'];
  if (named) return existsSync(named) ? named : null;
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (existsSync(candidate)) return candidate;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

const CHROMIUM = chromiumPath();
if (!CHROMIUM) {
  process.stdout.write('\n*** browser test SKIPPED: no chromium (apt-get install -y chromium, or set LIFEBOAT_CHROMIUM) ***\n\n');
}

/** Serves a blank page and the SDK bundle, standing in for the app's web host. */
async function pageServer(sdk: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    if (req.url === '/sdk.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(sdk);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title><script src="/sdk.js"></script><p>app</p>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const SECRET = 'browser-test-secret';
/** The server under test, started once the allowed page's origin is known. */
const t = {
  runtime: undefined as unknown as EmbeddedRuntime,
  token: (uid: string) => createToken(SECRET, { uid }),
};

const contacts = Array.from({ length: 30 }, (_, i) => ({ id: `w${i}`, name: { display: `Web Contact ${i}` }, emails: [{ address: `web${i}@example.com` }] }));

/** What the page runs: a whole backup and restore through the SDK, as a web app would. */
async function backupAndRestore(page: Page, baseUrl: string, token: string): Promise<{ jobId: string; status: string; restored: Record<string, string>; failed: number } | { error: string }> {
  return page.evaluate(
    async ({ baseUrl, token, contacts }) => {
      const sdk = (window as unknown as { LifeboatSDK: typeof import('@lifeboat/client-sdk') }).LifeboatSDK;
      try {
        // Transport retries are short: a refused origin fails fast instead of backing off for 30 s.
        const client = sdk.createBackupClient({ baseUrl, getToken: () => token, deviceId: 'browser', maxChunkBytes: 1024, retry: { delaysMs: [100], maxWaitMs: 1000 } });
        const { jobId } = await client.startBackup({ types: ['contacts'], options: { wifiOnly: false }, sources: { contacts } });
        const job = await client.waitForJob(jobId, { intervalMs: 200, maxIntervalMs: 500 });
        const restored: Record<string, string> = {};
        const result = await client.restore({
          snapshotId: job.snapshotId as string,
          sink: {
            open(item) {
              const parts: Uint8Array[] = [];
              return {
                write: (bytes: Uint8Array) => void parts.push(bytes),
                close: () => {
                  restored[item.sourceId] = new TextDecoder().decode(new Uint8Array(parts.flatMap((p) => [...p])));
                },
              };
            },
          },
        });
        return { jobId, status: job.status, restored, failed: result.failed.length };
      } catch (err) {
        return { error: String((err as Error).message ?? err) };
      }
    },
    { baseUrl, token, contacts },
  );
}

(CHROMIUM ? describe : describe.skip)('a web page of another origin (chromium)', () => {
  let browser: Browser;
  let good: { server: Server; origin: string };
  let bad: { server: Server; origin: string };
  let dir = '';

  beforeAll(async () => {
    const bundle = (require(join(__dirname, '..', '..', 'client-sdk', 'scripts', 'browser-bundle.js')) as { browserBundle(): Promise<string> }).browserBundle;
    const sdk = await bundle();
    good = await pageServer(sdk);
    bad = await pageServer(sdk);
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-browser-'));
    t.runtime = await startEmbeddedRuntime({ port: 0, logger: silentLogger, gcAfterBackup: false, tokenSecret: SECRET, dataDir: join(dir, 'data'), allowedOrigins: [good.origin] });
    browser = await chromium.launch({ executablePath: CHROMIUM as string, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    good?.server.close();
    bad?.server.close();
    await t.runtime?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('backs up and restores through the SDK from an allowed origin', async () => {
    const page = await browser.newPage();
    await page.goto(good.origin);
    const outcome = await backupAndRestore(page, t.runtime.url, t.token('web-user'));
    expect(outcome).not.toHaveProperty('error');
    const { status, restored, failed } = outcome as { status: string; restored: Record<string, string>; failed: number };
    expect([status, failed]).toEqual(['completed', 0]);
    expect(Object.keys(restored).sort()).toEqual(contacts.map((c) => c.id).sort());
    for (const c of contacts) expect(JSON.parse(restored[c.id] as string)).toMatchObject({ id: c.id, name: { display: c.name.display } });
    await page.close();
  }, 120_000);

  it('refuses a page of another origin: its calls and its upload, changing nothing', async () => {
    const page = await browser.newPage();
    await page.goto(bad.origin);
    const outcome = await backupAndRestore(page, t.runtime.url, t.token('intruder'));
    expect(outcome).toEqual({ error: expect.stringMatching(/fetch|network/i) });
    expect((await t.runtime.deps.store.listJobs({ uid: 'intruder' })).items).toEqual([]);

    // An upload session opened by the owner's app (no origin), PUT to from the refused page.
    const owner = 'session-owner';
    const call = async (name: string, data: unknown) => {
      const res = await fetch(`${t.runtime.url}/${name}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.token(owner)}` }, body: JSON.stringify({ data }) });
      return ((await res.json()) as { result: any }).result;
    };
    const bytes = new TextEncoder().encode(`${JSON.stringify({ id: 'x1', name: { display: 'X' } })}\n`);
    const chunkId = sha256Hex(bytes);
    const { job } = await call('createBackupJob', { deviceId: 'phone', types: ['contacts'] });
    await call('registerChunks', { jobId: job.id, chunks: [{ id: chunkId, type: 'contacts', size: bytes.byteLength, items: 1 }] });
    const { uploadUrl } = await call('beginChunkUpload', { jobId: job.id, chunkId });
    const put = await page.evaluate(
      async ({ url, body }) => {
        try {
          const res = await fetch(url, { method: 'PUT', headers: { 'content-range': `bytes 0-${body.length - 1}/${body.length}` }, body: new Uint8Array(body) });
          return `status ${res.status}`;
        } catch (err) {
          return `refused: ${(err as Error).message}`;
        }
      },
      { url: uploadUrl as string, body: [...bytes] },
    );
    expect(put).toMatch(/^refused: /);
    expect(await t.runtime.deps.blobs.exists(uploadKey(owner, job.id, chunkId))).toBe(false);
    // The same PUT from the owner's app (no Origin) goes through: the session itself was fine.
    const direct = await fetch(uploadUrl as string, { method: 'PUT', headers: { 'content-range': `bytes 0-${bytes.byteLength - 1}/${bytes.byteLength}` }, body: bytes });
    expect(direct.status).toBe(200);
    await page.close();
  }, 120_000);

  it('answers the allowed origin\'s preflight and names it, and refuses another origin\'s with 403', async () => {
    const preflight = (origin: string) =>
      fetch(`${t.runtime.url}/createBackupJob`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    const ok = await preflight(good.origin);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(good.origin);
    expect(ok.headers.get('access-control-allow-headers')).toContain('content-range');
    const refused = await preflight(bad.origin);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('LIFEBOAT_ALLOWED_ORIGINS');
  });
});
