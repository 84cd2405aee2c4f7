#!/usr/bin/env node
/**
 * `npm run bench`: figures for the numbers in DESIGN.md, measured on this machine, compared as
 * ratios within one run (shared machines are noisy; no figure here is a pass/fail threshold).
 *
 * - orchestration overhead: wall time of a small deviceInfo job, create -> completed;
 * - dedup: bytes uploaded by a full backup, an unchanged one, and one with 1 % of contacts changed;
 * - store writes per backup (SQLite row changes) against its chunk and item counts;
 * - the server's peak RSS (VmHWM), from the server running in its own process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createBackupClient } from '@lifeboat/client-sdk';
import { createToken } from '../auth/tokens';
import { loadSecret } from '../data-dir';
import { demoContacts, demoDeviceInfo } from '../demo-data';
import { openDatabase } from '../adapters/sqlite-database';

function peakRssMiB(pid: number): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { contacts: { type: 'string', default: '20000' }, jobs: { type: 'string', default: '30' } } });
  const contactsCount = Number(values.contacts);
  const smallJobs = Number(values.jobs);
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-bench-'));
  const server = spawn(process.execPath, [join(__dirname, '..', 'cli.js'), 'serve', '--port', '0', '--data', dir, '--log', 'error'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, MALLOC_ARENA_MAX: '2' },
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = '';
    server.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m?.[1]) resolveUrl(m[1]);
    });
    server.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  const rows: Array<[string, string]> = [];
  try {
    const token = createToken(loadSecret(dir), { uid: 'bench' });
    const client = createBackupClient({ baseUrl: url, getToken: () => token, deviceId: 'bench-phone' });
    const rssAtStart = peakRssMiB(server.pid as number);

    // 1. Orchestration overhead of a small job (one deviceInfo chunk).
    const times: number[] = [];
    for (let i = 0; i < smallJobs; i++) {
      const t0 = performance.now();
      const started = await client.startBackup({ types: ['deviceInfo'], sources: { deviceInfo: { ...demoDeviceInfo(), appVersion: `1.0.${i}` } } });
      await client.waitForJob(started.jobId, { intervalMs: 5 });
      times.push(performance.now() - t0);
    }
    rows.push(['small job, create -> completed (median of ' + smallJobs + ')', `${median(times).toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)})`]);

    // 2. Dedup and store writes over the contacts data set.
    const db = openDatabase(join(dir, 'lifeboat.db'));
    const run = async (label: string, changePercent: number) => {
      const contacts = demoContacts({ contacts: contactsCount, changePercent, seed: 42 });
      const t0 = performance.now();
      const started = await client.startBackup({ types: ['contacts', 'deviceInfo'], sources: { contacts, deviceInfo: demoDeviceInfo() } });
      const job = await client.waitForJob(started.jobId, { intervalMs: 10 });
      const ms = performance.now() - t0;
      const revs = db.prepare('SELECT COALESCE(SUM(rev), 0) AS n FROM chunks WHERE job_id = ?').get(job.id) as { n: number };
      const jobRev = db.prepare('SELECT rev FROM jobs WHERE id = ?').get(job.id) as { rev: number } | undefined;
      rows.push([
        `${label}: ${contactsCount} contacts, ${job.progress.totalChunks} chunks`,
        `uploaded ${job.progress.bytesUploaded} of ${job.progress.bytesTotal} B (${((100 * job.progress.bytesUploaded) / job.progress.bytesTotal).toFixed(2)} %), ` +
          `stored ${job.progress.bytesStored} B new, ${ms.toFixed(0)} ms, ${job.status}; ` +
          `document writes: job ${jobRev?.rev ?? '?'}, chunks ${revs.n} (items ${job.progress.totalItems})`,
      ]);
      return job;
    };
    await run('full backup', 0);
    await run('unchanged second backup', 0);
    await run('1 % of contacts changed', 1);
    db.close();
    rows.push(['server peak RSS (VmHWM)', `${peakRssMiB(server.pid as number)?.toFixed(1) ?? 'n/a'} MiB (after start: ${rssAtStart?.toFixed(1) ?? 'n/a'} MiB)`]);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`Lifeboat bench (${new Date().toISOString()}, node ${process.version})\n`);
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
