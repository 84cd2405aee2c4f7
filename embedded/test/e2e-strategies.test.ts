/**
 * End to end for the four backup types at once through the embedded runtime: a device sends
 * contacts, chats, photos and device info through the SDK while the server reads more chats from
 * the app's own store (SQLite chat source), then a second, `incrementalOnly` run sends only what
 * changed; the second snapshot alone restores everything. Also a vCard file, as a device that
 * exports its address book would send it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createBackupClient, type BackupJob, type MediaFile } from '@lifeboat/client-sdk';
import { contentStoreOf, loadManifest, sha256Hex, type ManifestItem, type Snapshot } from '@lifeboat/engine/core';
import { silentLogger } from '@lifeboat/engine/ports';
import { SqliteChatSource } from '../src/adapters/sqlite-chat-source';
import { createToken } from '../src/auth/tokens';
import { restoreToFolder } from '../src/restore/folder-restore';
import { startEmbeddedRuntime, type EmbeddedRuntime } from '../src/runtime';

const SECRET = 'e2e-strategies-secret';
let dir: string;
let runtime: EmbeddedRuntime;
let appChats: SqliteChatSource;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-e2e-strategies-'));
  // No media hosts: https references are refused by policy, lifeboat:// ones are read locally.
  runtime = await startEmbeddedRuntime({ dataDir: dir, port: 0, logger: silentLogger, tokenSecret: SECRET, mediaHosts: [], schedulerIntervalMs: 0, gcAfterBackup: false });
  appChats = runtime.deps.chatSource as SqliteChatSource;
});

afterAll(async () => {
  await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
});

const token = (uid: string) => createToken(SECRET, { uid });
const client = (uid: string) => createBackupClient({ baseUrl: runtime.url, getToken: () => token(uid), deviceId: `${uid}-phone` });

async function photo(seed: number): Promise<Uint8Array> {
  const width = 320;
  const height = 240;
  const px = Buffer.alloc(width * height * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * seed + (i >> 10) * 31) % 256;
  return new Uint8Array(await sharp(px, { raw: { width, height, channels: 3 } }).withExif({ IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 0/1' } }).jpeg({ quality: 95 }).toBuffer());
}

async function snapshotOf(job: BackupJob): Promise<{ snapshot: Snapshot; items: ManifestItem[] }> {
  const snapshot = await runtime.deps.store.getSnapshot(job.snapshotId ?? '');
  if (!snapshot) throw new Error(`job ${job.id} has no snapshot: ${JSON.stringify(job.lastError)}`);
  return { snapshot, items: (await loadManifest(contentStoreOf(runtime.deps), snapshot)).items };
}

const msg = (id: string, conversationId: string, minute: number, extra: Record<string, unknown> = {}) => ({
  id, conversationId, senderId: 'dana', sentAt: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(), text: `text ${id}`, ...extra,
});
const contact = (id: string, extra: Record<string, unknown> = {}) => ({
  id, name: { given: `Given ${id}`, family: 'Family', display: `Given ${id} Family` }, phones: [{ label: 'mobile', number: '07700 900' + id.slice(-3).padStart(3, '0') }], ...extra,
});
const deviceInfo = { model: 'Pixel 9', os: 'android', osVersion: '15', appVersion: '2.0.0', locale: 'en-GB' };

describe('embedded runtime end to end: all four types, then incrementalOnly', () => {
  it('backs up contacts, device chats, server chats, media and device info; the incremental run stores only changes and restores the whole set', async () => {
    const dana = client('dana');
    appChats.putConversation('app-1', { participants: ['dana', 'erik'] });
    appChats.putConversation('app-2', { participants: ['erik', 'fay'] }); // not dana's: never read
    appChats.putMessages([msg('s1', 'app-1', 1), msg('s2', 'app-1', 2), msg('x1', 'app-2', 3)]);

    const photos: MediaFile[] = [
      { sourceId: 'DCIM/1.jpg', name: '1.jpg', bytes: await photo(3) },
      { sourceId: 'DCIM/2.jpg', name: '2.jpg', bytes: await photo(5) },
      { sourceId: 'Docs/a.txt', name: 'a.txt', bytes: new TextEncoder().encode('plain text\n') },
    ];
    const contacts1 = ['c001', 'c002', 'c003', 'c004'].map((id) => contact(id));
    const chats1 = [msg('m1', 'conv-a', 10), msg('m2', 'conv-a', 11), msg('m3', 'conv-b', 12), msg('m4', 'conv-b', 13)];
    const options = { wifiOnly: false, serverChats: true, phoneRegion: 'GB' };

    const first = await dana.startBackup({
      types: ['contacts', 'chats', 'media', 'deviceInfo'],
      options,
      sources: { contacts: contacts1, chats: chats1, media: photos, deviceInfo },
    });
    const job1 = await dana.waitForJob(first.jobId, { intervalMs: 20 });
    expect(job1).toMatchObject({ status: 'completed', lastError: null, sourcesDone: ['chats'] });
    const one = await snapshotOf(job1);
    const byType = (items: ManifestItem[], type: string) => items.filter((i) => i.type === type && i.blob !== null);
    expect(byType(one.items, 'chats').map((i) => `${i.conversationId}/${i.sourceId}`).sort()).toEqual(
      ['app-1/s1', 'app-1/s2', 'conv-a/m1', 'conv-a/m2', 'conv-b/m3', 'conv-b/m4'],
    );
    expect(byType(one.items, 'contacts')).toHaveLength(4);
    expect(byType(one.items, 'media').map((i) => i.sourceId).sort()).toEqual(['DCIM/1.jpg', 'DCIM/2.jpg', 'Docs/a.txt']);
    expect(byType(one.items, 'deviceInfo')).toHaveLength(1);
    expect(one.snapshot.changes?.contacts).toMatchObject({ parentId: null, added: 4 });

    // Second run: incrementalOnly. The device sends one new photo (not the old ones), its whole
    // chat history with an edit, a deletion and new messages (one referring to the first run's
    // photo in the user's own store, one to a host that is not allowed), and its contacts with
    // one changed, one removed and one added; the app's store got a new message.
    const storedPhoto = byType(one.items, 'media').find((i) => i.sourceId === 'DCIM/1.jpg')?.blob as string;
    appChats.putMessages([msg('s3', 'app-1', 40)]);
    const chats2 = [
      msg('m1', 'conv-a', 10),
      msg('m2', 'conv-a', 11, { text: 'edited', editedAt: '2026-01-02T00:00:00Z' }),
      msg('m3', 'conv-b', 12, { text: '', deleted: true, editedAt: '2026-01-02T00:00:00Z' }),
      msg('m4', 'conv-b', 13),
      msg('m5', 'conv-b', 50, { imageUrl: `lifeboat://blobs/${storedPhoto}` }),
      msg('m6', 'conv-c', 51, { imageUrl: 'https://evil.example.net/x.jpg' }),
    ];
    const contacts2 = [contact('c001'), contact('c002', { note: 'changed' }), contact('c004'), contact('c005')];
    const second = await dana.startBackup({
      types: ['contacts', 'chats', 'media', 'deviceInfo'],
      options: { ...options, incrementalOnly: true },
      sources: { contacts: contacts2, chats: chats2, media: [{ sourceId: 'DCIM/3.jpg', name: '3.jpg', bytes: await photo(7) }], deviceInfo },
    });
    const job2 = await dana.waitForJob(second.jobId, { intervalMs: 20 });
    expect(job2).toMatchObject({ status: 'completed', lastError: null });
    const two = await snapshotOf(job2);
    expect(two.snapshot.parentId).toBe(one.snapshot.id);
    expect(two.snapshot.changes).toEqual({
      // m5, m6, s3 new; m2 edited; m3 deleted; m1, m4, s1, s2 carried forward.
      chats: { parentId: one.snapshot.id, added: 3, changed: 1, removed: 1, unchanged: 0, carried: 4 },
      contacts: { parentId: one.snapshot.id, added: 1, changed: 1, removed: 1, unchanged: 2, carried: 0 },
      // 3.jpg and m5's reference to 1.jpg (a new item naming an existing blob); the rest carried.
      media: { parentId: one.snapshot.id, added: 2, changed: 0, removed: 0, unchanged: 0, carried: 3 },
      deviceInfo: { parentId: one.snapshot.id, added: 0, changed: 0, removed: 0, unchanged: 1, carried: 0 },
    });
    // Referenced media: the own-store blob is reused, the disallowed host is refused and recorded.
    const m5 = two.items.find((i) => i.sourceId === 'chat:conv-b:m5:imageUrl');
    expect(m5).toMatchObject({ blob: storedPhoto, transforms: ['referenced blob'] });
    expect(two.items.find((i) => i.sourceId === 'chat:conv-c:m6:imageUrl')?.skipReason).toBe('could not fetch imageUrl: host evil.example.net is not on the allow-list');
    // The old photos were not sent again: carried items name the first run's blobs.
    expect(byType(two.items, 'media').find((i) => i.sourceId === 'DCIM/2.jpg')).toEqual(byType(one.items, 'media').find((i) => i.sourceId === 'DCIM/2.jpg'));

    // The second snapshot restores everything on its own, each message in its latest version.
    const to = join(dir, 'restore-2');
    const summary = await restoreToFolder(contentStoreOf(runtime.deps), two.snapshot, to);
    expect(summary.items).toMatchObject({ contacts: 4, deviceInfo: 1 });
    const lines = (f: string) => readFileSync(join(to, 'chats', f), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const restored = readdirSync(join(to, 'chats')).sort().flatMap((f) => lines(f).map((m) => `${String(m['conversationId'])}/${String(m['id'])}:${String(m['text'])}${m['deleted'] ? ' (deleted)' : ''}`));
    expect(restored.sort()).toEqual([
      'app-1/s1:text s1', 'app-1/s2:text s2', 'app-1/s3:text s3',
      'conv-a/m1:text m1', 'conv-a/m2:edited',
      'conv-b/m3: (deleted)', 'conv-b/m4:text m4', 'conv-b/m5:text m5',
      'conv-c/m6:text m6',
    ]);
    expect(readdirSync(join(to, 'media')).length).toBe(5); // 1.jpg, 2.jpg, a.txt, 3.jpg, m5's reference
    const contactsRestored = readFileSync(join(to, 'contacts.ndjson'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { id: string; phones: Array<{ e164?: string }> });
    expect(contactsRestored.map((c) => c.id).sort()).toEqual(['c001', 'c002', 'c004', 'c005']);
    // phoneRegion GB: the national numbers got their E.164 form.
    expect(contactsRestored.find((c) => c.id === 'c005')?.phones[0]?.e164).toBe('+447700900005');
  });

  it('accepts a vCard file as contacts (photo stored as a media blob, a bad card recorded) ', async () => {
    const jpeg = await photo(2);
    const vcf = [
      'BEGIN:VCARD', 'VERSION:3.0', 'UID:vc-1', 'N:Hopper;Grace;;;', 'FN:Grace Hopper', 'item1.TEL:+1 415 555 0100', 'item1.X-ABLabel:_$!<Mobile>!$_',
      `PHOTO;ENCODING=b;TYPE=JPEG:${Buffer.from(jpeg).toString('base64')}`, 'END:VCARD',
      'BEGIN:VCARD', 'VERSION:2.1', 'N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Gr=C3=BC=C3=9Fe;Anna;;;', 'TEL;CELL:07700 900123', 'END:VCARD',
      'BEGIN:VCARD', 'VERSION:3.0', 'NOTE:nobody', 'END:VCARD',
    ].join('\r\n') + '\r\n';
    const bytes = new TextEncoder().encode(vcf);
    const call = async (name: string, data: unknown) => {
      const res = await fetch(`${runtime.url}/${name}`, { method: 'POST', headers: { authorization: `Bearer ${token('victor')}`, 'content-type': 'application/json' }, body: JSON.stringify({ data }) });
      const body = (await res.json()) as { result?: Record<string, unknown>; error?: unknown };
      if (!body.result) throw new Error(`${name}: ${JSON.stringify(body.error)}`);
      return body.result;
    };
    const { job } = (await call('createBackupJob', { deviceId: 'victor-phone', types: ['contacts'], options: { wifiOnly: false, phoneRegion: 'GB' } })) as { job: BackupJob };
    const chunk = { id: sha256Hex(bytes), type: 'contacts', size: bytes.byteLength, items: 3 };
    await call('registerChunks', { jobId: job.id, chunks: [chunk] });
    const { uploadUrl } = (await call('beginChunkUpload', { jobId: job.id, chunkId: chunk.id })) as { uploadUrl: string };
    const put = await fetch(uploadUrl, { method: 'PUT', headers: { 'content-range': `bytes 0-${bytes.byteLength - 1}/${bytes.byteLength}` }, body: bytes });
    expect(put.status).toBe(200);
    await call('commitUpload', { jobId: job.id, chunkCount: 1 });
    const done = await client('victor').waitForJob(job.id, { intervalMs: 20 });
    expect(done).toMatchObject({ status: 'completed', progress: { processedItems: 4, skippedItems: 1 } });
    const { items } = await snapshotOf(done);
    expect(items.map((i) => [i.type, i.sourceId.replace(/^vcard-[0-9a-f]+/, 'vcard-…'), i.skipReason ?? null])).toEqual([
      ['contacts', 'vc-1', null],
      ['contacts', 'vcard-…', null],
      ['contacts', 'card:3', 'card 3: no name, phone, e-mail or organization'],
      ['media', 'contact:vc-1:photo', null],
    ]);
    const to = join(dir, 'restore-vcf');
    await restoreToFolder(contentStoreOf(runtime.deps), (await runtime.deps.store.getSnapshot(done.snapshotId ?? '')) as Snapshot, to);
    const stored = readFileSync(join(to, 'contacts.ndjson'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(stored[0]).toMatchObject({ id: 'vc-1', phones: [{ label: 'mobile', e164: '+14155550100' }], photo: { blob: sha256Hex(jpeg), mimeType: 'image/jpeg' } });
    expect(stored[1]).toMatchObject({ name: { family: 'Grüße', given: 'Anna' }, phones: [{ e164: '+447700900123' }] });
    expect(readFileSync(join(to, 'contacts.vcf'), 'utf8')).toContain('FN:Grace Hopper');
  });
});

describe('SQLite chat source', () => {
  it('pages a user\'s messages in (conversation, id) order with a stable cursor, and only theirs', async () => {
    appChats.putConversation('z-1', { participants: ['gus'] });
    appChats.putConversation('z-0', { participants: ['gus', 'hal'] });
    appChats.putConversation('z-2', { participants: ['hal'] });
    appChats.putMessages([msg('b', 'z-1', 1), msg('a', 'z-1', 2), msg('c', 'z-0', 3), msg('d', 'z-2', 4), msg('e', 'z-0', 5)]);
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await appChats.listMessages('gus', { limit: 2, ...(after ? { after } : {}) });
      seen.push(...page.messages.map((m) => `${String(m['conversationId'])}/${String(m['id'])}`));
      after = page.nextCursor;
      pages += 1;
    } while (after);
    expect(seen).toEqual(['z-0/c', 'z-0/e', 'z-1/a', 'z-1/b']);
    expect(pages).toBe(2);
    // The same cursor gives the same page: a crashed page task reads it again identically.
    const first = await appChats.listMessages('gus', { limit: 2 });
    expect(await appChats.listMessages('gus', { limit: 2, after: first.nextCursor as string })).toEqual(await appChats.listMessages('gus', { limit: 2, after: first.nextCursor as string }));
    await expect(appChats.listMessages('gus', { limit: 2, after: 'forged' })).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(appChats.listMessages('gus', { limit: 0 })).rejects.toMatchObject({ code: 'invalid-argument' });
    expect(() => new SqliteChatSource(runtime.db, { participantsField: "x') OR 1=1 --" })).toThrow(/plain field name/);
  });
});

