/**
 * `npm run bench -- --only=restore`: a 30 001-item snapshot (20 000 contacts, 10 000 chat
 * messages in 50 conversations, device info) verified and restored into a folder and through the
 * SDK; then an `incrementalOnly` backup of the same chats with 1 % new messages and 0.5 % edits
 * (its finalize puts each conversation in time order), restored again with a check that every
 * conversation file is in (sentAt, id) order. Times and the process's peak RSS; no threshold.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackupClient, type RestoreSink } from '@lifeboat/client-sdk';
import { ContentStore, verifySnapshot, type Snapshot } from '@lifeboat/engine/core';
import { silentLogger, type BlobStore } from '@lifeboat/engine/ports';
import { createToken } from '../auth/tokens';
import { demoContacts, demoDeviceInfo, demoMessages } from '../demo-data';
import { restoreToFolder } from '../restore/folder-restore';
import { startEmbeddedRuntime } from '../runtime';

/** Every conversation file under `dir/chats` in (sentAt, id) order. */
function chatsInOrder(dir: string): boolean {
  for (const name of readdirSync(join(dir, 'chats'))) {
    const messages = readFileSync(join(dir, 'chats', name), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; sentAt: string });
    for (let i = 1; i < messages.length; i++) {
      const a = messages[i - 1] as { id: string; sentAt: string };
      const b = messages[i] as { id: string; sentAt: string };
      if (a.sentAt > b.sentAt || (a.sentAt === b.sentAt && a.id > b.id)) return false;
    }
  }
  return true;
}

const rssMiB = () => (process.memoryUsage().rss / 1024 / 1024).toFixed(0);

export async function restoreBench(row: (label: string, value: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-bench-restore-'));
  const runtime = await startEmbeddedRuntime({ dataDir: join(dir, 'data'), port: 0, logger: silentLogger, gcAfterBackup: false });
  try {
    const token = createToken(runtime.tokenSecret, { uid: 'bench-restore' });
    const client = createBackupClient({ baseUrl: runtime.url, getToken: () => token, deviceId: 'bench-phone' });
    const contacts = demoContacts({ contacts: 20_000, seed: 5 });
    const history = demoMessages({ messages: 10_000, conversations: 50, seed: 6 });
    const backup = async (chats: typeof history, withContacts: boolean): Promise<{ snapshot: Snapshot; ms: number }> => {
      const t0 = performance.now();
      const started = await client.startBackup({
        types: withContacts ? ['contacts', 'chats', 'deviceInfo'] : ['chats'],
        options: { incrementalOnly: true },
        sources: withContacts ? { contacts, chats, deviceInfo: demoDeviceInfo() } : { chats },
      });
      const job = await client.waitForJob(started.jobId, { intervalMs: 10 });
      if (job.status !== 'completed') throw new Error(`bench backup ended ${job.status}: ${job.lastError?.message ?? ''}`);
      return { snapshot: await client.getSnapshot(job.snapshotId as string), ms: performance.now() - t0 };
    };
    // Blob reads of a restore, counted under the content store (what a reordered manifest could multiply).
    let reads = 0;
    const blobs = runtime.deps.blobs;
    const counted: BlobStore = {
      put: (key, body, options) => blobs.put(key, body, options),
      get: (key, options) => {
        reads += 1;
        return blobs.get(key, options);
      },
      stat: (key, options) => blobs.stat(key, options),
      exists: (key, options) => blobs.exists(key, options),
      delete: (key, options) => blobs.delete(key, options),
      list: (prefix, options) => blobs.list(prefix, options),
    };
    const restore = async (snapshot: Snapshot, name: string) => {
      reads = 0;
      const t0 = performance.now();
      const summary = await restoreToFolder(new ContentStore(counted, runtime.deps.keyRing), snapshot, join(dir, name));
      const ms = performance.now() - t0;
      return { ms, summary, reads, ordered: chatsInOrder(join(dir, name)) };
    };

    const full = await backup(history, true);
    const items = full.snapshot.totals.items;
    const t0 = performance.now();
    const report = await verifySnapshot(runtime.deps, full.snapshot);
    row(`restore: verify ${items} items (${report.totalBlobs} blobs)`, `${(performance.now() - t0).toFixed(0)} ms, ${report.ok ? 'OK' : `${report.problems.length} problem(s)`}`);
    const folder = await restore(full.snapshot, 'full');
    row(`restore: folder restore of ${items} items`, `${folder.ms.toFixed(0)} ms, ${folder.reads} blob reads; chats in time order: ${folder.ordered ? 'yes' : 'NO'}; rss ${rssMiB()} MiB`);
    let bytes = 0;
    const sink: RestoreSink = { open: () => ({ write: (b) => void (bytes += b.byteLength), close: () => undefined }) };
    const t1 = performance.now();
    await client.restore({ snapshotId: full.snapshot.id, sink });
    row(`restore: SDK restore of ${items} items`, `${(performance.now() - t1).toFixed(0)} ms, ${bytes} B`);
    const sdkAgain = async (snapshot: Snapshot) => {
      let downloaded = 0;
      bytes = 0;
      const t = performance.now();
      await client.restore({ snapshotId: snapshot.id, sink, onProgress: (p) => void (downloaded = p.blobsDone) });
      return { ms: performance.now() - t, downloaded };
    };

    // 1 % new messages and 0.5 % edits of old ones, spread over the conversations.
    const last = Math.max(...history.map((m) => Date.parse(m.sentAt)));
    const edited = history.map((m, i) => (i % 200 === 7 ? { ...m, text: `${m.text} (edited)`, editedAt: new Date(last + 1000).toISOString() } : m));
    const fresh = Array.from({ length: 100 }, (_, i) => ({
      id: `bench-new-${i}`, conversationId: history[i * 97]?.conversationId ?? 'c', senderId: 'me', sentAt: new Date(last + (i + 2) * 60_000).toISOString(), text: `new ${i}`,
    }));
    const incremental = await backup([...edited, ...fresh], false);
    const changes = incremental.snapshot.changes?.chats;
    row(
      `restore: incremental chats backup (${changes?.added ?? 0} new, ${changes?.changed ?? 0} edited, ${changes?.carried ?? 0} carried)`,
      `completed in ${incremental.ms.toFixed(0)} ms (finalize puts each conversation in time order)`,
    );
    const again = await restore(incremental.snapshot, 'incremental');
    row(`restore: folder restore of the incremental snapshot (${incremental.snapshot.totals.items} items)`, `${again.ms.toFixed(0)} ms, ${again.reads} blob reads; chats in time order: ${again.ordered ? 'yes' : 'NO'}`);
    const sdk = await sdkAgain(incremental.snapshot);
    row(`restore: SDK restore of the incremental snapshot`, `${sdk.ms.toFixed(0)} ms, ${sdk.downloaded} blob downloads`);
  } finally {
    await runtime.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
