/**
 * `npm run bench -- --only=scale`: what a backup costs on Firebase, and what a million devices a
 * day cost, from the real engine run over counting adapters shaped like Firestore, Cloud Storage
 * and Cloud Tasks (firestore-model.ts). Each profile backs up once to set its user up, then the
 * measured backup runs; the device is the real SDK over HTTP to the embedded server.
 *
 * Prices (PRICES below) are list prices, not measurements: USD, read 2026-12-06 from the stored
 * copies of cloud.google.com/firestore/pricing (multi-region nam5, the dearer case; regional
 * locations are about half), cloud.google.com/storage/pricing (Standard, regional),
 * cloud.google.com/tasks/pricing and cloud.google.com/functions/pricing (2nd gen invocations;
 * compute time is not modelled: it depends on the data, photos through sharp dominate). Free
 * tiers are ignored: at a million devices they are noise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackupClient, fetchHttp, type BackupClient, type HttpPort } from '@lifeboat/client-sdk';
import { SCALE_CAPACITY } from '@lifeboat/engine/core';
import { silentLogger } from '@lifeboat/engine/ports';
import { createToken } from '../auth/tokens';
import { demoContacts, demoDeviceInfo, demoMessages } from '../demo-data';
import { startEmbeddedRuntime, type EmbeddedRuntime } from '../runtime';
import { FirestoreModel, peakRate, type Counts } from './firestore-model';

/** List prices per unit, USD (see the module comment for where and when they were read). */
export const PRICES = {
  asOf: '2026-12-06',
  firestoreReadPer100k: 0.06,
  firestoreWritePer100k: 0.18,
  firestoreDeletePer100k: 0.02,
  firestoreStoragePerGiBMonth: 0.18,
  gcsStoragePerGBMonth: 0.02,
  gcsClassAPer1000: 0.005,
  gcsClassBPer1000: 0.0004,
  tasksPerMillion: 0.4,
  invocationsPerMillion: 0.4,
} as const;

const DEVICES = 1_000_000;

interface Measure {
  profile: string;
  counts: Counts;
  docBytes: number;
  callables: number;
  /** Upload requests: one per chunk the server lacked (every chunk here fits one request). */
  uploads: number;
  chunks: number;
  ms: number;
}

function dollars(m: Measure): number {
  const c = m.counts;
  return (
    (c.reads * PRICES.firestoreReadPer100k) / 100_000 +
    (c.writes * PRICES.firestoreWritePer100k) / 100_000 +
    (c.deletes * PRICES.firestoreDeletePer100k) / 100_000 +
    (c.classA * PRICES.gcsClassAPer1000) / 1000 +
    (c.classB * PRICES.gcsClassBPer1000) / 1000 +
    (c.tasks * PRICES.tasksPerMillion) / 1e6 +
    (invocations(m) * PRICES.invocationsPerMillion) / 1e6
  );
}

/** Callables, task dispatches, and one storage-trigger run per upload (raw uploads have their own bucket). */
const invocations = (m: Measure) => m.callables + m.counts.tasks + m.uploads;

/** A month's storage, USD, of what one backup adds (documents and blobs). */
function storageMonth(m: Measure): number {
  return (m.docBytes / 2 ** 30) * PRICES.firestoreStoragePerGiBMonth + (m.counts.blobBytesAdded / 1e9) * PRICES.gcsStoragePerGBMonth;
}

/** The SDK's HTTP, counting callables and upload requests. */
function countingHttp(into: { callables: number; uploads: number }): HttpPort {
  const real = fetchHttp();
  return {
    async request(req) {
      if (req.method === 'PUT') into.uploads += 1;
      else if (req.method === 'POST') into.callables += 1;
      return real.request(req);
    },
  };
}

class Bench {
  private constructor(
    readonly runtime: EmbeddedRuntime,
    readonly model: FirestoreModel,
    private readonly dir: string,
  ) {}

  static async start(): Promise<Bench> {
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-scale-'));
    const model = new FirestoreModel();
    const runtime = await startEmbeddedRuntime({
      dataDir: dir,
      port: 0,
      logger: silentLogger,
      gcAfterBackup: false,
      schedulerIntervalMs: 0,
      instrumentStore: (s) => model.jobStore(s),
      instrumentBlobs: (b) => model.blobStore(b),
      instrumentQueue: (q) => model.taskQueue(q),
    });
    return new Bench(runtime, model, dir);
  }

  client(uid: string, http: HttpPort): BackupClient {
    const token = createToken(this.runtime.tokenSecret, { uid });
    return createBackupClient({ baseUrl: this.runtime.url, getToken: () => token, deviceId: `${uid}-phone`, http });
  }

  /** Runs one backup; counts it when `profile` is given. */
  async backup(uid: string, profile: string | null, start: (c: BackupClient) => Promise<{ jobId: string }>): Promise<Measure | null> {
    const http = { callables: 0, uploads: 0 };
    const client = this.client(uid, countingHttp(http));
    this.model.reset();
    const bytesBefore = this.model.heldBytes();
    const t0 = performance.now();
    const { jobId } = await start(client);
    const job = await client.waitForJob(jobId, { intervalMs: 200, maxIntervalMs: 1000 });
    if (job.status !== 'completed') throw new Error(`${profile ?? 'setup'} backup ended ${job.status}: ${job.lastError?.message ?? ''}`);
    // Finalize's clean-up runs after the job shows completed: wait for the queue to drain.
    while (this.runtime.queue.counts().pending + this.runtime.queue.counts().leased > 0) await new Promise((r) => setTimeout(r, 20));
    if (!profile) return null;
    const counts = structuredClone(this.model.counts);
    return {
      profile,
      counts,
      docBytes: this.model.heldBytes() - bytesBefore,
      callables: http.callables,
      uploads: http.uploads,
      chunks: job.progress.totalChunks,
      ms: performance.now() - t0,
    };
  }

  async stop(): Promise<void> {
    await this.runtime.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function photoLibrary(n: number, from = 0): Array<{ sourceId: string; name: string; mimeType: string; bytes: Uint8Array }> {
  return Array.from({ length: n }, (_, i) => {
    const id = from + i;
    // Small incompressible stand-ins: the orchestration costs are per file, not per byte.
    const bytes = new Uint8Array(1024);
    let x = id * 2654435761 + 1;
    for (let j = 0; j < bytes.length; j++) {
      x = (x * 1103515245 + 12345) >>> 0;
      bytes[j] = x >>> 24;
    }
    return { sourceId: `DCIM/IMG_${String(id).padStart(5, '0')}.bin`, name: `IMG_${id}.bin`, mimeType: 'application/octet-stream', bytes };
  });
}

export interface ScaleOptions {
  contacts: number;
  photos: number;
  messages: number;
  /** Files in the job whose job-document write rate is measured. */
  rateChunks: number;
}

export async function scaleBench(options: ScaleOptions, row: (k: string, v: string) => void): Promise<string> {
  const bench = await Bench.start();
  const results: Measure[] = [];
  const keep = (m: Measure | null) => m && results.push(m);
  try {
    const info = demoDeviceInfo();
    const contacts = (change: number) => (c: BackupClient) => c.startBackup({ types: ['contacts', 'deviceInfo'], sources: { contacts: demoContacts({ contacts: options.contacts, changePercent: change, seed: 42 }), deviceInfo: info } });
    await bench.backup('c', null, contacts(0));
    keep(await bench.backup('c', 'unchanged', contacts(0)));
    keep(await bench.backup('c', 'changed1pct', contacts(1)));

    const typical = (extra: number, change: number) => (c: BackupClient) => {
      const history = demoMessages({ messages: 1500, conversations: 10, seed: 5 });
      const last = Math.max(...history.map((m) => Date.parse(m.sentAt)));
      const fresh = Array.from({ length: extra }, (_, i) => ({ id: `t-new-${i}`, conversationId: history[i * 37]?.conversationId ?? 'c', senderId: 'me', sentAt: new Date(last + (i + 1) * 60_000).toISOString(), text: `new ${i}` }));
      return c.startBackup({ types: ['contacts', 'chats', 'deviceInfo'], sources: { contacts: demoContacts({ contacts: 2000, changePercent: change, seed: 9 }), chats: [...history, ...fresh], deviceInfo: info } });
    };
    await bench.backup('t', null, typical(0, 0));
    keep(await bench.backup('t', 'typical', typical(30, 0.5)));

    const library = photoLibrary(options.photos);
    await bench.backup('p', null, (c) => c.startBackup({ types: ['media'], sources: { media: library } }));
    keep(await bench.backup('p', 'photos', (c) => c.startBackup({ types: ['media'], sources: { media: [...library, ...photoLibrary(50, options.photos)] } })));

    const history = demoMessages({ messages: options.messages, conversations: 200, seed: 3 });
    const last = Math.max(...history.map((m) => Date.parse(m.sentAt)));
    const fresh = Array.from({ length: Math.round(options.messages / 100) }, (_, i) => ({
      id: `s-new-${i}`, conversationId: history[(i * 97) % history.length]?.conversationId ?? 'c', senderId: 'me', sentAt: new Date(last + (i + 1) * 60_000).toISOString(), text: `new ${i}`,
    }));
    await bench.backup('s', null, (c) => c.startBackup({ types: ['chats'], sources: { chats: history } }));
    keep(await bench.backup('s', 'chats', (c) => c.startBackup({ types: ['chats'], sources: { chats: [...history, ...fresh] } })));

    // The job document's write rate while a large upload runs.
    const rate = await bench.backup('r', 'upload', (c) => c.startBackup({ types: ['media'], sources: { media: photoLibrary(options.rateChunks) } }));
    const jobdoc10s = rate ? peakRate(rate.counts.jobWrites, 10_000) : 0;
    const jobdoc1s = rate ? peakRate(rate.counts.jobWrites, 1000) : 0;

    for (const m of results) {
      const c = m.counts;
      row(
        `scale ${m.profile} (${m.chunks} chunks, ${m.uploads} upload requests, ${(m.ms / 1000).toFixed(1)} s)`,
        `writes ${c.writes} (${Object.entries(c.writesBy).map(([k, v]) => `${k} ${v}`).join(', ')}), reads ${c.reads}, deletes ${c.deletes}, ` +
          `documents +${m.docBytes} B, blobs +${c.blobBytesAdded} B, tasks ${c.tasks}, invocations ${invocations(m)}, ` +
          `$${dollars(m).toFixed(6)} per backup; at ${DEVICES.toLocaleString('en-US')} devices/day: ${(c.writes * DEVICES / 1e6).toFixed(1)} M writes, $${(dollars(m) * DEVICES).toFixed(0)}/day + $${(storageMonth(m) * DEVICES).toFixed(2)}/month of new storage each day`,
      );
    }
    if (rate) {
      row(`scale upload of ${rate.chunks} chunks (${(rate.ms / 1000).toFixed(1)} s)`, `job document writes ${rate.counts.writesBy['backupJobs'] ?? 0}: peak ${jobdoc10s.toFixed(2)}/s over 10 s, ${jobdoc1s.toFixed(0)} in a second`);
    }
    const capacity = SCALE_CAPACITY;
    // A burst's time: the slower of listing and batches, plus the spread its batches wait on purpose.
    const dispatchMinutes = DEVICES / capacity.dispatchPerMinute + capacity.dispatchSpreadMinutes;
    row(
      'scale capacity model (1 M devices, one schedule each)',
      `dispatch: ${capacity.dispatchPerMinute.toLocaleString('en-US')} schedules/min -> 1 M due at once in ${dispatchMinutes.toFixed(1)} min (${capacity.dispatchSpreadMinutes} of them spread); ` +
        `GC: ${capacity.gcUsersPerDay.toLocaleString('en-US')} users/day; sweeper: ${capacity.sweptJobsPerHour.toLocaleString('en-US')} stale jobs/h`,
    );
    const w = (name: string) => results.find((m) => m.profile === name)?.counts.writes ?? NaN;
    const unchanged = results.find((m) => m.profile === 'unchanged');
    return (
      `scale: unchanged=${w('unchanged')}/${unchanged ? unchanged.docBytes + unchanged.counts.blobBytesAdded : NaN} changed1pct=${w('changed1pct')} typical=${w('typical')} ` +
      `photos=${w('photos')} chats=${w('chats')} dispatch15min=${dispatchMinutes <= 15 ? 'yes' : 'no'} gc24h=${capacity.gcUsersPerDay >= DEVICES ? 'yes' : 'no'} jobdoc=${jobdoc10s.toFixed(2)}/s`
    );
  } finally {
    await bench.stop();
  }
}
