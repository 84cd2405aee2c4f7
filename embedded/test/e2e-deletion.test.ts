/**
 * Deletion end to end on the embedded runtime (docs/invariants.md, "Deletion"): two users back
 * up contacts and media through the SDK and leave a schedule, a device token, a retention policy
 * and end-to-end parameters; one deletes a snapshot, then all their data while a backup of theirs
 * is mid-upload. The backup ends cancelled (the SDK's call fails, nothing half-written remains),
 * and afterwards no SQLite row, file in the data folder or partial upload holds anything of the
 * user; the other user's backups restore as before. Deleting twice is harmless. And the CLI's
 * `delete-user` and `delete-snapshot`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { BackupJob, HttpPort } from '@lifeboat/client-sdk';
import { override } from '@lifeboat/engine/core';
import type { JobStore } from '@lifeboat/engine/ports';
import { fetchHttp } from '@lifeboat/client-sdk';
import { useTestRuntime } from './helpers/test-runtime';

/** Job statuses the store held when the deletion first asked it to delete documents. */
const seenAtReclaim: Array<{ id: string; status: string; lastError: string | undefined }> = [];
let watched: string[] = [];

const t = useTestRuntime('e2e-deletion', {
  deletionSettleMs: 0,
  instrumentStore: (store) => {
    let first = true;
    return override<JobStore>(store, {
      deleteUserDocuments: async (uid, limit, options) => {
        if (first) {
          first = false;
          for (const id of watched) {
            const job = await store.getJob(id);
            seenAtReclaim.push({ id, status: job?.status ?? 'gone', lastError: job?.lastError?.message });
          }
        }
        return store.deleteUserDocuments(uid, limit, options);
      },
    });
  },
});

const contacts = (uid: string, n: number) => Array.from({ length: n }, (_, i) => ({ id: `${uid}-contact-${i}`, name: { display: `Contact ${i} of ${uid}` }, phones: [{ number: `+4420794600${String(i).padStart(2, '0')}` }] }));
const media = (uid: string) => [
  { sourceId: `${uid}/IMG_1.JPG`, name: 'IMG_1.JPG', mimeType: 'image/jpeg', modifiedAt: '2024-01-01T00:00:00Z', bytes: new TextEncoder().encode(`photo of ${uid} `.repeat(200)) },
  { sourceId: `${uid}/notes.txt`, name: 'notes.txt', bytes: new TextEncoder().encode(`notes of ${uid}\n`) },
];

/** Every SQLite row (as JSON) and every file (its path and, for small ones, its text) of the data folder. */
function everything(): string[] {
  const out: string[] = [];
  const db = t.runtime.db;
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
  for (const { name } of tables) for (const row of db.prepare(`SELECT * FROM "${name}"`).all()) out.push(`${name}: ${JSON.stringify(row)}`);
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(`file ${relative(t.dataDir, path)} ${statSync(path).size < 65_536 ? readFileSync(path).toString('latin1') : ''}`);
    }
  };
  walk(t.dataDir);
  return out;
}

/** An HTTP port whose chunk uploads wait at `gate` once `armed`. */
function gatedHttp(): { http: HttpPort; arm(): Promise<void>; open(): void } {
  const inner = fetchHttp();
  let armed = false;
  let reached: () => void = () => undefined;
  let release: () => void = () => undefined;
  const reachedGate = new Promise<void>((resolve) => (reached = resolve));
  const gate = new Promise<void>((resolve) => (release = resolve));
  return {
    http: {
      async request(req) {
        if (armed && req.method === 'PUT' && req.url.includes('/upload/')) {
          reached();
          await gate;
        }
        return inner.request(req);
      },
    },
    arm: () => {
      armed = true;
      return reachedGate;
    },
    open: () => release(),
  };
}

describe('deleting a user\'s data end to end', () => {
  it('cancels a running backup, destroys the key, and leaves nothing of the user; the other user keeps everything', async () => {
    const alice = t.client('alice');
    const bob = t.client('bob');
    const first = await alice.startBackup({ types: ['contacts', 'media'], sources: { contacts: contacts('alice', 30), media: media('alice') } });
    const firstJob = await alice.waitForJob(first.jobId, { intervalMs: 20 });
    const second = await alice.startBackup({ types: ['contacts'], sources: { contacts: contacts('alice', 31) } });
    await alice.waitForJob(second.jobId, { intervalMs: 20 });
    await alice.setSchedule({ kind: 'nightly', types: ['contacts'], timeZone: 'Europe/London' });
    await alice.registerDevice('fcm-token-of-alice');
    await alice.setRetentionPolicy({ keepLast: 10 });
    const bobStarted = await bob.startBackup({ types: ['contacts', 'media'], sources: { contacts: contacts('bob', 20), media: media('bob') } });
    const bobJob = await bob.waitForJob(bobStarted.jobId, { intervalMs: 20 });
    await bob.registerDevice('fcm-token-of-bob');

    // One snapshot first: gone from the listing, the other still restores.
    expect(await alice.deleteSnapshot(firstJob.snapshotId as string)).toMatchObject({ deleted: true });
    expect((await alice.listSnapshots()[Symbol.asyncIterator]().next()).value).toMatchObject({ jobId: second.jobId });
    expect(await alice.deleteSnapshot(firstJob.snapshotId as string)).toMatchObject({ deleted: false });

    // A backup mid-upload: its first chunk's PUT waits while the data is deleted.
    const gated = gatedHttp();
    const uploading = t.client('alice', { http: gated.http, deviceId: 'alice-tablet' });
    const reached = gated.arm();
    const running = uploading.startBackup({ types: ['media'], sources: { media: [{ sourceId: 'alice/video.mp4', name: 'video.mp4', bytes: new Uint8Array(300_000).fill(7) }] } });
    const failed = running.then(() => null, (err: unknown) => err as { code?: string });
    await reached;
    const runningJob = (await collect(alice.listJobs({ status: 'running' })))[0] as BackupJob;
    expect(runningJob.deviceId).toBe('alice-tablet');
    watched = [runningJob.id];
    const before = everything();
    expect(before.some((line) => line.includes('alice'))).toBe(true);

    const progress: string[] = [];
    const report = await alice.deleteMyData({ onProgress: (r) => progress.push(r.status) });
    expect(report).toMatchObject({ uid: 'alice', status: 'done', reason: 'user-request', removed: { jobsCancelled: 1, devices: 1 } });
    expect(progress.at(-1)).toBe('done');
    // The running backup was cancelled (with the reason) before any of its documents went.
    expect(seenAtReclaim).toEqual([{ id: runningJob.id, status: 'cancelled', lastError: 'the user\'s data is being deleted' }]);
    gated.open();
    expect(['backup/not-found', 'backup/failed-precondition', 'backup/permission-denied']).toContain((await failed)?.code);
    // The queue's work for the cancelled job runs meanwhile, and recreates nothing.
    await new Promise((resolve) => setTimeout(resolve, 300));

    const aliceIds = [first.jobId, second.jobId, runningJob.id, firstJob.snapshotId as string];
    const left = everything().filter((line) => !line.startsWith('tasks:'));
    expect(left.filter((line) => line.includes('alice') || aliceIds.some((id) => line.includes(id)))).toEqual([]);
    // Task records hold job ids only (no uid) and age out with the queue's dedup window.
    expect(everything().filter((line) => line.startsWith('tasks:') && line.includes('alice'))).toEqual([]);
    // Bob: every row and file as before, and his backup restores.
    const ofBob = (lines: string[]) => lines.filter((line) => line.includes('bob') && !line.startsWith('tasks:'));
    expect(ofBob(everything())).toEqual(ofBob(before));
    const restored: string[] = [];
    await bob.restore({ snapshotId: bobJob.snapshotId as string, sink: { open: (item) => ({ write: () => undefined, close: () => void restored.push(item.sourceId) }) } });
    expect(restored).toHaveLength(22);

    // Twice is harmless; afterwards the user may start afresh.
    expect(await alice.deleteMyData()).toMatchObject({ status: 'done', removed: { jobsCancelled: 0, documents: 0 } });
    const again = await alice.startBackup({ types: ['contacts'], sources: { contacts: contacts('alice', 2) } });
    expect((await alice.waitForJob(again.jobId, { intervalMs: 20 })).status).toBe('completed');
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

