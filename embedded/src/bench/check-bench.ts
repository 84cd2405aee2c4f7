/**
 * `npm run bench -- --only=check`: `check` over a repository of snapshots that share most of their
 * data (10 backups of 20 000 contacts, i % of them changed in the i-th, and 10 000 chat messages
 * with 100 more each time; the default retention keeps the 3 newest, and the chunk index all of
 * the chunks), on the embedded stores with encryption: the time of a check that
 * reads the manifests and lists the blobs, of one that re-reads every content blob, and of a
 * repair after a lost blob; the objects each reads and the process's peak RSS. No threshold.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackupClient } from '@lifeboat/client-sdk';
import { blobKey, checkUser, contentStoreOf, loadManifest, type Snapshot, type UserCheckReport } from '@lifeboat/engine/core';
import { silentLogger } from '@lifeboat/engine/ports';
import { createToken } from '../auth/tokens';
import { demoContacts, demoDeviceInfo, demoMessages } from '../demo-data';
import { startEmbeddedRuntime } from '../runtime';

const BACKUPS = 10;

function peakRssMiB(): string {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return kb ? `${(Number(kb) / 1024).toFixed(0)} MiB` : 'n/a';
}

export async function checkBench(row: (label: string, value: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-bench-check-'));
  const runtime = await startEmbeddedRuntime({ dataDir: join(dir, 'data'), port: 0, logger: silentLogger, gcAfterBackup: false, schedulerIntervalMs: 0 });
  const uid = 'bench-check';
  try {
    const token = createToken(runtime.tokenSecret, { uid });
    const client = createBackupClient({ baseUrl: runtime.url, getToken: () => token, deviceId: 'bench-phone' });
    const history = demoMessages({ messages: 10_000, conversations: 50, seed: 8 });
    let last: Snapshot | null = null;
    const t0 = performance.now();
    for (let i = 0; i < BACKUPS; i++) {
      const fresh = history.slice(0, i * 100).map((m, j) => ({ ...m, id: `new-${i}-${j}`, sentAt: new Date(Date.UTC(2027, 0, 1) + j * 1000).toISOString() }));
      const started = await client.startBackup({
        types: ['contacts', 'chats', 'deviceInfo'],
        sources: { contacts: demoContacts({ contacts: 20_000, changePercent: i, seed: 5 }), chats: [...history, ...fresh], deviceInfo: demoDeviceInfo() },
      });
      const job = await client.waitForJob(started.jobId, { intervalMs: 10 });
      if (job.status !== 'completed') throw new Error(`bench backup ended ${job.status}: ${job.lastError?.message ?? ''}`);
      last = await client.getSnapshot(job.snapshotId as string);
    }
    row(`check: setup, ${BACKUPS} backups of 20 000 contacts and 10 000+ messages`, `${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const timed = async (label: string, options: Parameters<typeof checkUser>[2]): Promise<UserCheckReport> => {
      const start = performance.now();
      const report = await checkUser(runtime.deps, uid, options);
      const ms = performance.now() - start;
      row(
        `check: ${label}`,
        `${(ms / 1000).toFixed(2)} s; ${report.snapshots} snapshots, ${report.manifestObjects} manifest objects, ${report.contentBlobs} content blobs (${report.contentRead} re-read), ` +
          `${report.indexEntries} index entries, ${report.listedBlobs} blobs listed; ${report.problems.length} problems; peak RSS so far ${peakRssMiB()}`,
      );
      return report;
    };
    await timed('manifests and existence', {});
    await timed('--read-data (every content blob)', { readDataPercent: 100 });
    await timed('--read-data=10%', { readDataPercent: 10 });
    const lost = (await loadManifest(contentStoreOf(runtime.deps), last as Snapshot)).items.find((i) => i.type === 'contacts')?.blob as string;
    await runtime.deps.blobs.delete(blobKey(uid, lost));
    const repaired = await timed('--repair after one lost pack', { repair: true });
    row('check: the repair', `${JSON.stringify(repaired.repair)}; ${repaired.damagedSnapshots.length} snapshots marked`);
  } finally {
    await runtime.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
