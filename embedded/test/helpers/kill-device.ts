/**
 * The harness of the kill tests (embedded/test/kill-resume.test.ts, client-sdk/test/kill-parallel.test.ts):
 * a device process runs the compiled SDK in plain node, as an app would, and backs up contacts
 * against an embedded runtime; it is killed with SIGKILL at a random point and a new process
 * calls `resumePending()`. The runtime counts every body byte that reaches it, so the bytes
 * re-sent after a kill are measured, not estimated.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { verifySnapshot } from '@lifeboat/engine/core';
import { useTestRuntime } from './test-runtime';

const ROOT = resolve(__dirname, '..', '..', '..');

export interface KillDeviceConfig {
  /** Prefix of the temporary folder. */
  name: string;
  /** Contacts the device backs up, the same in every process; each has a note of its index mod 97 repeated. */
  contacts: { count: number; noteRepeat: number };
  /** Source of a JS object literal with the `createBackupClient` options beyond base URL, token, device and ledger. */
  clientOptions: string;
}

export interface DeviceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** A device process that was started and killed (or that finished first). */
export interface KilledDevice {
  uid: string;
  ledgerDir: string;
  /** The fraction of the bytes after which the kill was sent. */
  killAt: number;
  jobId: string;
  /** The runtime's received-bytes count before the device started. */
  bytesBefore: number;
  first: DeviceExit;
}

function deviceScript(config: KillDeviceConfig): string {
  return `
const { createBackupClient } = require(${JSON.stringify(join(ROOT, 'client-sdk/lib/index.js'))});
const { fileKeyValueStore } = require(${JSON.stringify(join(ROOT, 'client-sdk/lib/node/index.js'))});
const [mode, baseUrl, token, ledgerDir] = process.argv.slice(2);
const contacts = Array.from({ length: ${config.contacts.count} }, (_, i) => ({ id: 'c' + String(i).padStart(5, '0'), note: String(i % 97).repeat(${config.contacts.noteRepeat}) }));
const client = createBackupClient({ baseUrl, getToken: () => token, deviceId: 'phone', storage: fileKeyValueStore(ledgerDir), ...${config.clientOptions} });
(async () => {
  if (mode === 'start') {
    const started = await client.startBackup({ types: ['contacts'], options: { wifiOnly: false }, sources: { contacts }, onProgress: (p) => process.stdout.write('bytes ' + p.bytesUploaded + ' ' + p.bytesTotal + ' ' + (p.jobId || '') + '\\n') });
    process.stdout.write('done ' + started.jobId + '\\n');
  } else {
    const resumed = await client.resumePending({ sources: { contacts } });
    process.stdout.write('resumed ' + JSON.stringify(resumed.map((r) => r.jobId)) + '\\n');
  }
})().catch((err) => { process.stderr.write(String(err && err.stack || err) + '\\n'); process.exit(1); });
`;
}

/** Registers the runtime and the device script for a kill test file; call at its top level. */
export function useKillHarness(config: KillDeviceConfig) {
  const t = useTestRuntime(config.name);

  beforeAll(() => {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', join(ROOT, 'client-sdk')], { stdio: 'inherit' });
    writeFileSync(join(t.dir, 'device.js'), deviceScript(config));
  }, 120_000);

  function device(mode: 'start' | 'resume', uid: string, ledgerDir: string, onLine?: (line: string, kill: () => void) => void) {
    const child = spawn(process.execPath, [join(t.dir, 'device.js'), mode, t.runtime.url, t.token(uid), ledgerDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdout.on('data', (d: Buffer) => {
      const text = d.toString();
      out += text;
      for (const line of text.split('\n')) if (line) onLine?.(line, () => child.kill('SIGKILL'));
    });
    return new Promise<DeviceExit>((r) => child.once('exit', (code, signal) => r({ code, signal, out, err })));
  }

  return {
    t,
    /** Starts a backup as `killed-${run}` and kills the device once a random 5–95 % of the bytes went up. */
    async startAndKill(run: number): Promise<KilledDevice> {
      const uid = `killed-${run}`;
      const ledgerDir = join(t.dir, `ledger-${run}`);
      const bytesBefore = t.runtime.uploads.bytesReceived;
      const killAt = 0.05 + Math.random() * 0.9;
      let jobId = '';
      let killed = false;
      const first = await device('start', uid, ledgerDir, (line, kill) => {
        const m = /^bytes (\d+) (\d+) (\S*)/.exec(line);
        if (!m) return;
        jobId = m[3] || jobId;
        const total = Number(m[2]);
        if (!killed && jobId && total > 0 && Number(m[1]) >= killAt * total) {
          killed = true;
          // A random delay so kills also land in the middle of a piece, not only between pieces.
          setTimeout(kill, Math.random() * 25);
        }
      });
      return { uid, ledgerDir, killAt, jobId, bytesBefore, first };
    },
    /** A new device process for the same user and ledger calls `resumePending()`. */
    resume: (killed: KilledDevice) => device('resume', killed.uid, killed.ledgerDir),
    /** Waits until the killed device's job completed or failed. */
    async finished(killed: KilledDevice) {
      for (let i = 0; i < 1000; i++) {
        const job = await t.runtime.deps.store.getJob(killed.jobId);
        if (job && (job.status === 'completed' || job.status === 'failed')) return job;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`job ${killed.jobId} did not finish`);
    },
    /** Verifies a completed job's snapshot against the stored blobs. */
    async verify(job: { snapshotId: string | null }) {
      const snapshot = await t.runtime.deps.store.getSnapshot(job.snapshotId as string);
      return verifySnapshot(t.runtime.deps, snapshot as NonNullable<typeof snapshot>);
    },
    /** Bytes the runtime received for the device beyond the job's total: what the kill made it send again. */
    resent: (killed: KilledDevice, job: { progress: { bytesTotal: number } }) =>
      t.runtime.uploads.bytesReceived - killed.bytesBefore - job.progress.bytesTotal,
  };
}

/** Upload sessions a killed device's ledger holds (files of fileKeyValueStore). */
export function sessionsInLedger(ledgerDir: string): number {
  if (!existsSync(ledgerDir)) return 0;
  let sessions = 0;
  for (const name of readdirSync(ledgerDir).filter((f) => f.endsWith('.json'))) {
    const doc = JSON.parse(readFileSync(join(ledgerDir, name), 'utf8')) as { entries: Record<string, { inFlight: Record<string, unknown> }> };
    for (const entry of Object.values(doc.entries)) sessions += Object.keys(entry.inFlight).length;
  }
  return sessions;
}
