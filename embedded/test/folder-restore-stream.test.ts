/**
 * Media restored into a folder streams from the content store: files in parts and whole files
 * come back byte for byte, and an empty file is still a file.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { contentStoreOf, sha256Hex } from '@lifeboat/engine/core';
import { restoreToFolder } from '../src/restore/folder-restore';
import { useTestRuntime } from './helpers/test-runtime';

const t = useTestRuntime('folder-restore-stream');

it('restores media in parts, whole and empty, byte for byte', async () => {
  const video = new Uint8Array(randomBytes(2_500_000));
  const note = new TextEncoder().encode('a note\n'.repeat(100));
  const c = t.client('fay', { deviceId: 'p', maxMediaChunkBytes: 1024 * 1024, mediaPartBytes: 1024 * 1024 });
  const started = await c.startBackup({
    types: ['media'],
    options: { wifiOnly: false },
    sources: { media: [
      { sourceId: 'Movies/clip.mp4', name: 'clip.mp4', bytes: video },
      { sourceId: 'Docs/note.txt', name: 'note.txt', bytes: note },
      { sourceId: 'Docs/empty.txt', name: 'empty.txt', bytes: new Uint8Array(0) },
    ] },
  });
  const job = await c.waitForJob(started.jobId, { intervalMs: 20 });
  expect(job.status).toBe('completed');
  const snapshot = await c.getSnapshot(job.snapshotId as string);
  const to = join(t.dir, 'out');
  const summary = await restoreToFolder(contentStoreOf(t.runtime.deps), snapshot, to);
  // The video in parts counts once, as a file.
  expect(summary.items).toEqual({ media: 3 });
  // Compared by content: how source ids become file names is the restore's own business.
  const restored = readdirSync(join(to, 'media')).map((name) => sha256Hex(readFileSync(join(to, 'media', name)))).sort();
  expect(restored).toEqual([video, note, new Uint8Array(0)].map((bytes) => sha256Hex(bytes)).sort());
});
