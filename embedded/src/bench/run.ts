#!/usr/bin/env node
/**
 * `npm run bench`: figures for the numbers in DESIGN.md, measured on this machine and compared as
 * ratios within one run (shared machines are noisy; no figure here is a pass/fail threshold).
 *
 * 1. In one process (runtime + SDK): orchestration overhead of a small job; bytes uploaded and
 *    stored by a full backup, an unchanged one and one with 1 % of contacts changed; document
 *    writes per backup against its chunks and items.
 * 2. The server in its own process: its peak RSS (VmHWM) over a full backup.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createBackupClient, type BackupClient } from '@lifeboat/client-sdk';
import { silentLogger } from '@lifeboat/functions/ports';
import { createToken } from '../auth/tokens';
import { loadSecret } from '../data-dir';
import { demoContacts, demoDeviceInfo } from '../demo-data';
import { startEmbeddedRuntime } from '../runtime';
import { countingJobStore, type WriteCounts } from './counting-job-store';

function peakRssMiB(pid: number): number | null {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

const rows: Array<[string, string]> = [];
const row = (k: string, v: string) => rows.push([k, v]);

async function backupOnce(client: BackupClient, contactsCount: number, changePercent: number) {
  const contacts = demoContacts({ contacts: contactsCount, changePercent, seed: 42 });
  const t0 = performance.now();
  const started = await client.startBackup({ types: ['contacts', 'deviceInfo'], sources: { contacts, deviceInfo: demoDeviceInfo() } });
  const job = await client.waitForJob(started.jobId, { intervalMs: 10 });
  return { job, ms: performance.now() - t0 };
}

async function inProcess(contactsCount: number, smallJobs: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-bench-'));
  let writes: { counts: WriteCounts; reset(): void } | undefined;
  const runtime = await startEmbeddedRuntime({
    dataDir: dir,
    port: 0,
    logger: silentLogger,
    instrumentStore: (store) => {
      const c = countingJobStore(store);
      writes = c;
      return c.store;
    },
  });
  try {
    const token = createToken(runtime.tokenSecret, { uid: 'bench' });
    const client = createBackupClient({ baseUrl: runtime.url, getToken: () => token, deviceId: 'bench-phone' });
    const times: number[] = [];
    for (let i = 0; i < smallJobs; i++) {
      const t0 = performance.now();
      const started = await client.startBackup({ types: ['deviceInfo'], sources: { deviceInfo: { ...demoDeviceInfo(), appVersion: `1.0.${i}` } } });
      await client.waitForJob(started.jobId, { intervalMs: 2 });
      times.push(performance.now() - t0);
    }
    row(`small deviceInfo job, create -> completed (${smallJobs} jobs)`, `median ${median(times).toFixed(1)} ms, min ${Math.min(...times).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms`);

    let firstUploaded = 0;
    for (const [label, change] of [['full backup', 0], ['unchanged second backup', 0], ['1 % of contacts changed', 1]] as const) {
      writes?.reset();
      const { job, ms } = await backupOnce(client, contactsCount, change);
      const p = job.progress;
      if (label === 'full backup') firstUploaded = p.bytesUploaded;
      const w = writes?.counts;
      row(
        `${label} (${contactsCount} contacts, ${p.totalChunks} chunks)`,
        `${job.status} in ${ms.toFixed(0)} ms; uploaded ${p.bytesUploaded} B (${((100 * p.bytesUploaded) / Math.max(1, firstUploaded)).toFixed(2)} % of the first), ` +
          `stored ${p.bytesStored} B new; writes ${w?.total} (job ${w?.jobs}, chunks ${w?.chunks}, index ${w?.chunkIndex}, snapshot ${w?.snapshots}) for ${p.totalItems} items`,
      );
    }
  } finally {
    await runtime.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function serverRss(contactsCount: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-bench-rss-'));
  const server = spawn(process.execPath, [join(__dirname, '..', 'cli.js'), 'serve', '--port', '0', '--data', dir, '--log', 'error'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise<string>((resolveUrl, reject) => {
      let out = '';
      server.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m?.[1]) resolveUrl(m[1]);
      });
      server.once('exit', (code) => reject(new Error(`server exited (${code})`)));
    });
    const idle = peakRssMiB(server.pid as number);
    const token = createToken(loadSecret(dir), { uid: 'bench' });
    const client = createBackupClient({ baseUrl: url, getToken: () => token, deviceId: 'bench-phone' });
    const { job } = await backupOnce(client, contactsCount, 0);
    row(
      `server peak RSS, own process (${contactsCount} contacts, ${job.progress.bytesTotal} B)`,
      `${peakRssMiB(server.pid as number)?.toFixed(1) ?? 'n/a'} MiB (after start ${idle?.toFixed(1) ?? 'n/a'} MiB), job ${job.status}`,
    );
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { contacts: { type: 'string', default: '20000' }, jobs: { type: 'string', default: '30' } } });
  const contactsCount = Number(values.contacts);
  const smallJobs = Number(values.jobs);
  await inProcess(contactsCount, smallJobs);
  await serverRss(contactsCount);
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`Lifeboat bench (${new Date().toISOString()}, node ${process.version})\n`);
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
