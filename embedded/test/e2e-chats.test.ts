/**
 * End to end for chats: the embedded server on an ephemeral port, a device backing up messages of
 * several conversations (two of them malformed) through the client SDK, and every stored message
 * checked byte for byte against its normalized form.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackupClient } from '@lifeboat/client-sdk';
import { contentStoreOf, loadManifest } from '@lifeboat/engine/core';
import { silentLogger } from '@lifeboat/engine/ports';
import { canonicalJson } from '@lifeboat/engine/strategies';
import { createToken } from '../src/auth/tokens';
import { startEmbeddedRuntime, type EmbeddedRuntime } from '../src/runtime';

const SECRET = 'e2e-chats-secret';
let dir: string;
let runtime: EmbeddedRuntime;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-e2e-chats-'));
  runtime = await startEmbeddedRuntime({ dataDir: dir, port: 0, logger: silentLogger, tokenSecret: SECRET, gcAfterBackup: false });
});

afterAll(async () => {
  await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Generated {
  message: Record<string, unknown> & { id: string; conversationId: string; sentAt: string | number };
  /** The message as the server must store it: timestamps as ISO UTC. */
  expected: Record<string, unknown>;
}

/** 300 messages in 5 conversations, timestamps in all three accepted forms, media, edits, tombstones. */
function generateMessages(): Generated[] {
  const start = Date.UTC(2024, 0, 1);
  return Array.from({ length: 300 }, (_, i) => {
    const ms = start + i * 61_000 + (i % 4) * 7;
    const form = i % 3;
    // The same instant as epoch ms, as UTC, and as local time two hours ahead of UTC.
    const sentAt = form === 0 ? ms : form === 1 ? new Date(ms).toISOString() : new Date(ms + 7_200_000).toISOString().replace('Z', '+02:00');
    const message: Generated['message'] = {
      id: `msg-${String(i).padStart(4, '0')}`,
      conversationId: `conv-${i % 5}`,
      senderId: `user-${i % 4}`,
      sentAt,
      text: i % 50 === 7 ? '' : `Message ${i}: ${'ünïcödé ✓ '.repeat(i % 4)}`,
      ...(i % 17 === 0 ? { imageUrl: `https://cdn.example.com/img/${i}.jpg` } : {}),
      ...(i % 23 === 0 ? { editedAt: ms + 60_000, reactions: [{ by: 'user-1', emoji: '❤️' }] } : {}),
      ...(i % 41 === 0 ? { deleted: true } : {}),
    };
    const expected: Record<string, unknown> = { ...message, sentAt: new Date(ms).toISOString() };
    if (typeof message['editedAt'] === 'number') expected['editedAt'] = new Date(message['editedAt']).toISOString();
    return { message, expected };
  });
}

function client(uid: string) {
  const token = createToken(SECRET, { uid });
  return createBackupClient({ baseUrl: runtime.url, getToken: () => token, deviceId: `${uid}-phone` });
}

describe('embedded runtime end to end: chats', () => {
  const generated = generateMessages();
  const malformed = [
    { id: 'bad-date', conversationId: 'conv-1', senderId: 'user-1', sentAt: 'not a date', text: 'when?' },
    { id: 'bad-url', conversationId: 'conv-2', senderId: 'user-2', sentAt: Date.UTC(2024, 0, 2), text: 'look', videoUrl: 'not a url' },
  ];
  const messages = [...generated.map((g) => g.message), ...malformed];

  it('backs up messages into conversation packs whose lines match the normalized messages byte for byte', async () => {
    const erin = client('erin');
    const started = await erin.startBackup({ types: ['chats'], sources: { chats: messages } });
    expect(started.bytesUploaded).toBe(started.bytesTotal);
    const job = await erin.waitForJob(started.jobId, { intervalMs: 20 });
    expect(job).toMatchObject({ status: 'completed', phase: 'done', lastError: null });
    // 302 lines, plus one media item per image reference (18): cdn.example.com is not on this
    // server's media allow-list, so each is recorded as skipped, never fetched.
    expect(job.progress).toMatchObject({ totalItems: 302, processedItems: 320, skippedItems: 20 });

    const snapshot = await erin.getSnapshot(job.snapshotId as string);
    expect(snapshot.totals).toMatchObject({ items: 320, skippedItems: 20 });
    const content = contentStoreOf(runtime.deps);
    const all = (await loadManifest(content, snapshot)).items;
    const media = all.filter((i) => i.type === 'media');
    expect(media).toHaveLength(18);
    for (const item of media) expect(item).toMatchObject({ blob: null, skipReason: 'could not fetch imageUrl: host cdn.example.com is not on the allow-list' });
    const manifest = { items: all.filter((i) => i.type === 'chats') };
    expect(manifest.items).toHaveLength(302);

    const packs = new Map<string, string[]>();
    const readPack = async (hash: string) => {
      let lines = packs.get(hash);
      if (!lines) {
        lines = new TextDecoder().decode(await content.get('erin', hash)).slice(0, -1).split('\n');
        packs.set(hash, lines);
      }
      return lines;
    };
    const stored = manifest.items.filter((i) => i.skipReason === undefined);
    expect(stored.map((i) => i.sourceId).sort()).toEqual(generated.map((g) => g.message.id).sort());
    for (const { message, expected } of generated) {
      const item = stored.find((i) => i.sourceId === message.id);
      const lines = await readPack(item?.blob as string);
      expect(lines[item?.part ?? -1]).toBe(canonicalJson(expected));
      expect(item?.warning).toBeUndefined();
      expect(item).toMatchObject({ conversationId: message.conversationId, digest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    }

    // One pack per conversation (messages of a conversation can span chunks, so possibly several),
    // each holding one conversation sorted by time.
    for (const lines of packs.values()) {
      const parsed = lines.map((l) => JSON.parse(l) as { conversationId: string; sentAt: string });
      expect(new Set(parsed.map((m) => m.conversationId)).size).toBe(1);
      const times = parsed.map((m) => m.sentAt);
      expect(times).toEqual([...times].sort());
    }

    const skipped = manifest.items.filter((i) => i.skipReason !== undefined);
    expect(skipped.map((i) => i.sourceId).sort()).toEqual(['bad-date', 'bad-url']);
    expect(skipped.find((i) => i.sourceId === 'bad-date')?.skipReason).toMatch(/^line \d+: .*sentAt/);
    expect(skipped.find((i) => i.sourceId === 'bad-url')?.skipReason).toMatch(/^line \d+: .*videoUrl/);
    expect(skipped.every((i) => i.blob === null)).toBe(true);
  });

  it('a second, unchanged backup uploads nothing', async () => {
    const erin = client('erin');
    const again = await erin.startBackup({ types: ['chats'], sources: { chats: [...messages].reverse() } });
    expect(again.bytesUploaded).toBe(0);
    expect(again.bytesDeduplicated).toBe(again.bytesTotal);
    const job = await erin.waitForJob(again.jobId, { intervalMs: 20 });
    expect(job).toMatchObject({ status: 'completed', progress: { bytesUploaded: 0, processedItems: 320, skippedItems: 20 } });
  });
});
