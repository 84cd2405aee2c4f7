/**
 * Nothing the SDK runs at import time needs what Hermes (React Native) or a browser may lack:
 * imported with `TextEncoder` and `TextDecoder` removed from `globalThis` it loads and works
 * (its UTF-8 fallback), and its browser bundle (esbuild, everything inlined) evaluates in a bare
 * sandbox with none of Node's or the DOM's globals.
 */
import { runInNewContext } from 'node:vm';
import { build, stop } from 'esbuild';
import { join } from 'node:path';
import { jobDoc } from './protocol-docs';

const SRC = join(__dirname, '..', 'src');


// esbuild's service would keep a test runner that runs in one process (one worker) from exiting.
afterAll(() => stop());
describe('the SDK without TextEncoder and TextDecoder', () => {
  it('imports, builds chunks and speaks the callable protocol on its own UTF-8', async () => {
    const saved = { TextEncoder: globalThis.TextEncoder, TextDecoder: globalThis.TextDecoder };
    const g = globalThis as { TextEncoder?: unknown; TextDecoder?: unknown };
    delete g.TextEncoder;
    delete g.TextDecoder;
    try {
      let sdk!: typeof import('../src');
      let envelopes!: typeof import('../src/media-envelope');
      jest.isolateModules(() => {
        sdk = require('../src') as typeof import('../src');
        envelopes = require('../src/media-envelope') as typeof import('../src/media-envelope');
      });
      expect(typeof globalThis.TextEncoder).toBe('undefined');
      const [contacts] = await sdk.contactChunks([{ id: 'ü-1', name: 'Zoë 😀' } as { id: string }], 1024 * 1024);
      const line = `${JSON.stringify({ id: 'ü-1', name: 'Zoë 😀' })}\n`;
      expect(Buffer.from(contacts?.bytes ?? [])).toEqual(Buffer.from(line, 'utf8'));
      const envelope = envelopes.encodeMediaEnvelope({ sourceId: 'ä', name: 'Bild ä.jpg', album: 'Ürlaub' }, new Uint8Array([1]));
      expect(Buffer.from(envelope).toString('utf8')).toContain('"album":"Ürlaub"');
      // A callable round trip: request body encoded, response decoded by the fallback.
      const requests: Uint8Array[] = [];
      const http: import('../src').HttpPort = {
        async request(req) {
          requests.push(req.body ?? new Uint8Array());
          return { status: 200, headers: {}, body: Buffer.from(JSON.stringify({ result: { job: jobDoc({ id: 'jöb', status: 'completed' }) } }), 'utf8') };
        },
      };
      const client = sdk.createBackupClient({ baseUrl: 'http://x', getToken: () => 't', deviceId: 'gerät', http });
      await expect(client.getJob('jöb')).resolves.toMatchObject({ id: 'jöb', status: 'completed' });
      expect(JSON.parse(Buffer.from(requests[0] as Uint8Array).toString('utf8'))).toEqual({ data: { jobId: 'jöb' } });
    } finally {
      Object.assign(globalThis, saved);
    }
  });
});

describe('the browser bundle', () => {
  it('builds with esbuild and evaluates in a sandbox without Node or DOM globals', async () => {
    const result = await build({ entryPoints: [join(SRC, 'index.ts')], bundle: true, platform: 'browser', format: 'iife', globalName: 'Lifeboat', minify: true, write: false, logLevel: 'silent' });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0]?.text ?? '';
    expect(code).not.toMatch(/require\(["']node:|from["']node:/);
    // Only what Hermes and every browser have: no TextEncoder/TextDecoder, Buffer, process, fetch or crypto.
    const sandbox: Record<string, unknown> = { Uint8Array, ArrayBuffer, DataView, Map, Set, WeakMap, WeakSet, Promise, Symbol, Object, Array, JSON, Math, Number, String, Error, TypeError, RangeError, Date, RegExp, BigInt, Reflect, Proxy };
    runInNewContext(`${code};this.exported = Object.keys(Lifeboat);`, sandbox);
    expect(sandbox['exported']).toEqual(expect.arrayContaining(['createBackupClient', 'nobleHasher', 'RestoreNames', 'contactChunks']));
  });
});
