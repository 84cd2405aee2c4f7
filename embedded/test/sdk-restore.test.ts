/**
 * SDK restore through the embedded runtime: every type backed up with the SDK comes back through
 * `client.restore` into an in-memory sink, byte for byte equal to what `lifeboat restore` writes
 * into a folder; partial restores by type, conversation, date range and item; links are checked
 * and every blob's hash is verified on the device.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fetchHttp, RestoreNames, type HttpPort, type RestoreItem, type RestoreSink } from '@lifeboat/client-sdk';
import { contentStoreOf, type Snapshot } from '@lifeboat/engine/core';
import { demoContacts, demoDeviceInfo, demoMessages } from '../src/demo-data';
import { restoreToFolder } from '../src/restore/folder-restore';
import { useTestRuntime } from './helpers/test-runtime';

// The runtime's clock can be moved ahead, so a restore plan's links expire in the middle of a restore.
let skew = 0;
const t = useTestRuntime('sdk-restore', { tokenSecret: 'sdk-restore-secret', clock: { now: () => Date.now() + skew } });
let snapshot: Snapshot;
const contacts = demoContacts({ contacts: 120, seed: 5 });
const messages = demoMessages({ messages: 400, conversations: 5, seed: 9 });
const media = [
  { sourceId: 'Documents/notes.txt', name: 'notes.txt', mimeType: 'text/plain', bytes: new TextEncoder().encode('groceries: milk, eggs\n') },
  { sourceId: 'Audio/memo.bin', name: 'memo.bin', mimeType: 'application/octet-stream', bytes: Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) % 251) },
];
const client = (http?: HttpPort) => t.client('rhea', { deviceId: 'p', ...(http ? { http } : {}) });

/** A sink that lays items out as the folder restore does, in memory. */
function folderLikeSink(): { sink: RestoreSink; files: Map<string, Buffer>; opened: RestoreItem[] } {
  const files = new Map<string, Buffer>();
  const opened: RestoreItem[] = [];
  // The folder restore's file names: the same mapping, asked in the same order.
  const names = { chats: new RestoreNames(), media: new RestoreNames() };
  const safe = (type: 'chats' | 'media', id: string, display = id) => names[type].nameFor(id, display).name;
  const append = (name: string, bytes: Uint8Array) => files.set(name, Buffer.concat([files.get(name) ?? Buffer.alloc(0), bytes]));
  return {
    files,
    opened,
    sink: {
      open(item) {
        opened.push(item);
        const parts: Uint8Array[] = [];
        return {
          write: (bytes) => void parts.push(bytes.slice()),
          close: () => {
            const bytes = Buffer.concat(parts);
            if (item.type === 'contacts') append('contacts.ndjson', Buffer.concat([bytes, Buffer.from('\n')]));
            else if (item.type === 'deviceInfo') append('device-info.json', bytes);
            else if (item.type === 'chats') {
              const conversation = String((JSON.parse(bytes.toString('utf8')) as { conversationId: string }).conversationId);
              append(`chats/${safe('chats', conversation)}.ndjson`, Buffer.concat([bytes, Buffer.from('\n')]));
            } else append(`${item.type}/${safe('media', item.sourceId, item.meta?.name)}`, bytes);
          },
        };
      },
    },
  };
}

function readTree(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(root, p), readFileSync(p));
    }
  };
  walk(root);
  return out;
}

beforeAll(async () => {
  const c = client();
  const started = await c.startBackup({
    types: ['contacts', 'chats', 'deviceInfo', 'media'],
    sources: { contacts, chats: messages, deviceInfo: demoDeviceInfo(), media },
  });
  const job = await c.waitForJob(started.jobId, { intervalMs: 20 });
  expect(job.status).toBe('completed');
  snapshot = await c.getSnapshot(job.snapshotId as string);
});

describe('SDK restore', () => {
  it('restores every type byte for byte as the folder restore writes it, with progress', async () => {
    const to = join(t.dir, 'folder');
    await restoreToFolder(contentStoreOf(t.runtime.deps), snapshot, to);
    const expected = readTree(to);
    expected.delete('restore-report.json');
    expected.delete('contacts.vcf');
    const { sink, files } = folderLikeSink();
    const progress: number[] = [];
    const result = await client().restore({ snapshotId: snapshot.id, sink, onProgress: (p) => progress.push(p.itemsDone) });
    expect(result.byType).toEqual({ contacts: 120, chats: 400, deviceInfo: 1, media: 2 });
    expect([...files.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, bytes] of expected) expect(files.get(name)?.equals(bytes)).toBe(true);
    // Under the name the app gave the file, handed to the sink in the item's meta.
    expect(files.get('media/memo.bin')?.equals(Buffer.from(media[1]?.bytes ?? []))).toBe(true);
    expect(result.failed).toEqual([]);
    expect(progress.at(-1)).toBe(result.items + result.skipped.length);
    expect(result.bytesDownloaded).toBeGreaterThan(0);
  });

  it('restores part of a snapshot: a type, a conversation, a date range, single items', async () => {
    const c = client();
    const only = folderLikeSink();
    expect((await c.restore({ snapshotId: snapshot.id, sink: only.sink, types: ['deviceInfo'] })).byType).toEqual({ deviceInfo: 1 });
    expect(JSON.parse(only.files.get('device-info.json')?.toString('utf8') ?? '')).toEqual(demoDeviceInfo());

    const conv = folderLikeSink();
    const convResult = await c.restore({ snapshotId: snapshot.id, sink: conv.sink, types: ['chats'], conversations: ['conv-02'] });
    const wanted = messages.filter((m) => m.conversationId === 'conv-02');
    expect(convResult.byType).toEqual({ chats: wanted.length });
    expect([...conv.files.keys()]).toEqual(['chats/conv-02.ndjson']);

    const from = messages[100]?.sentAt as string;
    const until = messages[150]?.sentAt as string;
    const ranged = folderLikeSink();
    const rangedResult = await c.restore({ snapshotId: snapshot.id, sink: ranged.sink, types: ['chats'], from, to: until });
    expect(rangedResult.byType).toEqual({ chats: 50 });
    const ids = [...ranged.files.values()].flatMap((b) => b.toString('utf8').trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id));
    expect(ids.sort()).toEqual(messages.slice(100, 150).map((m) => m.id).sort());

    const picked = [contacts[3]?.id, contacts[77]?.id, 'Documents/notes.txt'] as string[];
    const some = folderLikeSink();
    expect((await c.restore({ snapshotId: snapshot.id, sink: some.sink, itemIds: picked })).byType).toEqual({ contacts: 2, media: 1 });
  });

  it('restores page by page: small pages give the same bytes, and every page is asked for once', async () => {
    const real = fetchHttp();
    const tokens: Array<string | undefined> = [];
    const counting: HttpPort = {
      async request(req) {
        if (req.url.endsWith('/getRestorePlan')) tokens.push((JSON.parse(new TextDecoder().decode(req.body)) as { data: { pageToken?: string } }).data.pageToken);
        return real.request(req);
      },
    };
    const whole = folderLikeSink();
    let wholeBlobs = 0;
    const wholeResult = await client().restore({ snapshotId: snapshot.id, sink: whole.sink, onProgress: (p) => { wholeBlobs = p.blobsDone; } });
    expect(tokens).toEqual([undefined]);
    tokens.length = 0;
    const paged = folderLikeSink();
    const progress: Array<{ itemsDone: number; itemsTotal: number | null; blobsDone: number; blobsTotal: number | null }> = [];
    const pagedResult = await client(counting).restore({ snapshotId: snapshot.id, sink: paged.sink, pageSize: 7, onProgress: (p) => progress.push(p) });
    const total = 120 + 400 + 1 + 2;
    // Tokens are positions in the manifest (type, segment, item), each page asked for once.
    expect(tokens).toHaveLength(Math.ceil(total / 7));
    expect(tokens[0]).toBeUndefined();
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const token of tokens.slice(1)) expect(token).toMatch(/^[a-zA-Z]+\.[0-9]+\.[0-9]+$/);
    expect(pagedResult).toEqual(wholeResult);
    expect([...paged.files.keys()].sort()).toEqual([...whole.files.keys()].sort());
    for (const [name, bytes] of whole.files) expect(paged.files.get(name)?.equals(bytes)).toBe(true);
    // The item total is known from the first page on; a blob cut across pages is still fetched once.
    expect(new Set(progress.map((p) => p.itemsTotal))).toEqual(new Set([total]));
    expect(progress.at(-1)).toMatchObject({ itemsDone: total, blobsTotal: null });
    expect(progress.at(-1)?.blobsDone).toBe(wholeBlobs);

    // A token that is not one of the plan's, or past its end, is refused with a clear error.
    const plan = async (data: unknown) => {
      const res = await fetch(`${t.runtime.url}/getRestorePlan`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t.token('rhea')}` },
        body: JSON.stringify({ data }),
      });
      return { status: res.status, json: (await res.json()) as { error?: { message: string }; result?: { items: unknown[]; nextPageToken: string | null } } };
    };
    const firstPage = (await plan({ snapshotId: snapshot.id, pageSize: 500 })).json.result;
    expect(firstPage?.items).toHaveLength(500);
    expect((await plan({ snapshotId: snapshot.id, pageSize: 500, pageToken: firstPage?.nextPageToken })).json.result).toMatchObject({ items: { length: total - 500 }, nextPageToken: null });
    for (const bad of [{ pageToken: 'abc' }, { pageToken: 'contacts.9999.0' }, { pageToken: String(total + 1) }, { pageSize: 0 }]) {
      const refused = await plan({ snapshotId: snapshot.id, ...bad });
      expect(refused.status).toBe(400);
      expect(refused.json.error?.message).toMatch(/getRestorePlan/);
    }
  });

  it('asks for the page again when its links expired under a slow restore', async () => {
    const real = fetchHttp();
    let plans = 0;
    const counting: HttpPort = {
      async request(req) {
        if (req.url.endsWith('/getRestorePlan')) plans += 1;
        return real.request(req);
      },
    };
    let opened = 0;
    const slow = folderLikeSink();
    // The first item takes "16 minutes" to write: every link of the page has expired after it.
    const sink: RestoreSink = {
      open: (item) => {
        if (++opened === 1) skew += 16 * 60_000;
        return slow.sink.open(item);
      },
    };
    try {
      const result = await client(counting).restore({ snapshotId: snapshot.id, sink, types: ['contacts', 'deviceInfo'] });
      expect(result.byType).toEqual({ contacts: 120, deviceInfo: 1 });
    } finally {
      skew = 0;
    }
    expect(plans).toBe(2);
    // A link refused twice is not asked for a third time: forged links stay refused.
    const refusing: HttpPort = {
      async request(req) {
        if (req.url.includes('/download/')) return { status: 403, headers: {}, body: new Uint8Array() };
        return real.request(req);
      },
    };
    await expect(client(refusing).restore({ snapshotId: snapshot.id, sink: folderLikeSink().sink, types: ['deviceInfo'] })).rejects.toMatchObject({ code: 'backup/permission-denied' });
  });

  it('verifies every blob it receives: bytes changed in transit are fetched again, then the item fails as data-loss', async () => {
    const real = fetchHttp();
    const flipping = (times: number): HttpPort => {
      let flipped = 0;
      return {
        async request(req) {
          const res = await real.request(req);
          if (req.method === 'GET' && req.url.includes('/download/') && res.body.byteLength > 0 && flipped++ < times) {
            const body = res.body.slice();
            body[0] = (body[0] ?? 0) ^ 0xff;
            return { ...res, body };
          }
          return res;
        },
      };
    };
    const once = folderLikeSink();
    expect(await client(flipping(1)).restore({ snapshotId: snapshot.id, sink: once.sink, types: ['deviceInfo'] })).toMatchObject({ byType: { deviceInfo: 1 }, failed: [] });
    const always = folderLikeSink();
    const result = await client(flipping(Infinity)).restore({ snapshotId: snapshot.id, sink: always.sink, types: ['deviceInfo'] });
    expect(result).toMatchObject({ items: 0, failed: [{ type: 'deviceInfo', sourceId: 'deviceInfo', code: 'backup/data-loss' }] });
    expect(always.opened).toEqual([]);
  });

  it('refuses a forged or expired link, another user\'s snapshot, and stops on abort', async () => {
    const bad = await fetch(`${t.runtime.url}/download/lbd1.e30.AAAA`);
    expect(bad.status).toBe(403);
    const bearer = t.token('rhea');
    expect((await fetch(`${t.runtime.url}/download/${bearer}`)).status).toBe(403);
    const mallory = t.client('mallory', { deviceId: 'm' });
    await expect(mallory.restore({ snapshotId: snapshot.id, sink: folderLikeSink().sink })).rejects.toMatchObject({ code: 'backup/permission-denied' });
    const controller = new AbortController();
    let n = 0;
    const aborting: RestoreSink = { open: () => ({ write: () => undefined, close: () => { if (++n === 5) controller.abort(); } }) };
    await expect(client().restore({ snapshotId: snapshot.id, sink: aborting, signal: controller.signal })).rejects.toMatchObject({ code: 'backup/aborted' });
    expect(n).toBe(5);
  });
});
