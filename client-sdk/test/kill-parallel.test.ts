/**
 * The kill test with parallel uploads (embedded/test/kill-resume.test.ts has the one-at-a-time
 * case): small chunks (at most 48 KiB) go up to 4 at once, so several sessions are in flight and
 * in the ledger when the device process is killed with SIGKILL at a random point. A new process
 * calls `resumePending()`; every backup must complete and verify, and the bytes re-sent after
 * each kill must stay within one upload piece (the bytes in flight never pass one piece).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { verifySnapshot } from '@lifeboat/functions/core';
import { silentLogger } from '@lifeboat/functions/ports';
import { createToken } from '../../embedded/src/auth/tokens';
import { startEmbeddedRuntime, type EmbeddedRuntime } from '../../embedded/src/runtime';

const ROOT = resolve(__dirname, '..', '..');
const PIECE = 256 * 1024;
const RUNS = 6;
let dir: string;
let runtime: EmbeddedRuntime;

const DEVICE_SCRIPT = `
const { createBackupClient } = require(${JSON.stringify(join(ROOT, 'client-sdk/lib/index.js'))});
const { fileKeyValueStore } = require(${JSON.stringify(join(ROOT, 'client-sdk/lib/node/index.js'))});
const [mode, baseUrl, token, ledgerDir] = process.argv.slice(2);
// The same 600 contacts in every process (about 1.8 MiB in chunks of at most 48 KiB).
const contacts = Array.from({ length: 600 }, (_, i) => ({ id: 'c' + String(i).padStart(5, '0'), note: String(i % 97).repeat(1500) }));
const client = createBackupClient({ baseUrl, getToken: () => token, deviceId: 'phone', storage: fileKeyValueStore(ledgerDir), uploadPieceSize: ${PIECE}, maxChunkBytes: 48 * 1024, parallelUploads: 4 });
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

beforeAll(async () => {
  // The device runs the compiled SDK in plain node, as an app would.
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', join(ROOT, 'client-sdk')], { stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-kill-parallel-'));
  writeFileSync(join(dir, 'device.js'), DEVICE_SCRIPT);
  runtime = await startEmbeddedRuntime({ dataDir: join(dir, 'data'), port: 0, logger: silentLogger, tokenSecret: 's' });
}, 120_000);

afterAll(async () => {
  await runtime?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function device(mode: 'start' | 'resume', uid: string, ledgerDir: string, onLine?: (line: string, kill: () => void) => void) {
  const child = spawn(process.execPath, [join(dir, 'device.js'), mode, runtime.url, createToken('s', { uid }), ledgerDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  child.stdout.on('data', (d: Buffer) => {
    const text = d.toString();
    out += text;
    for (const line of text.split('\n')) if (line) onLine?.(line, () => child.kill('SIGKILL'));
  });
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((r) => child.once('exit', (code, signal) => r({ code, signal, out, err })));
}

/** Upload sessions the killed device's ledger holds (files of fileKeyValueStore). */
function sessionsInLedger(ledgerDir: string): number {
  if (!existsSync(ledgerDir)) return 0;
  let sessions = 0;
  for (const name of readdirSync(ledgerDir).filter((f) => f.endsWith('.json'))) {
    const doc = JSON.parse(readFileSync(join(ledgerDir, name), 'utf8')) as { entries: Record<string, { inFlight: Record<string, unknown> }> };
    for (const entry of Object.values(doc.entries)) sessions += Object.keys(entry.inFlight).length;
  }
  return sessions;
}

describe('kill and resume with parallel uploads', () => {
  it(`${RUNS} parallel backups killed with SIGKILL at random points all complete, verify, and re-send at most one piece`, async () => {
    const figures: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      const uid = `killed-${run}`;
      const ledgerDir = join(dir, `ledger-${run}`);
      const before = runtime.uploads.bytesReceived;
      const killAt = 0.05 + Math.random() * 0.9;
      let jobId = '';
      let total = 0;
      let killed = false;
      const first = await device('start', uid, ledgerDir, (line, kill) => {
        const m = /^bytes (\d+) (\d+) (\S*)/.exec(line);
        if (!m) return;
        jobId = m[3] || jobId;
        total = Number(m[2]);
        if (!killed && jobId && total > 0 && Number(m[1]) >= killAt * total) {
          killed = true;
          // A random delay so kills also land in the middle of a piece, not only between pieces.
          setTimeout(kill, Math.random() * 25);
        }
      });
      expect(first.signal === 'SIGKILL' || first.code === 0).toBe(true);
      const inFlightAtKill = sessionsInLedger(ledgerDir);
      const second = await device('resume', uid, ledgerDir);
      expect(second.err).toBe('');
      expect(second.code).toBe(0);

      const job = await (async () => {
        for (let i = 0; i < 1000; i++) {
          const j = await runtime.deps.store.getJob(jobId);
          if (j && (j.status === 'completed' || j.status === 'failed')) return j;
          await new Promise((r) => setTimeout(r, 20));
        }
        throw new Error(`job ${jobId} did not finish`);
      })();
      expect(job.status).toBe('completed');
      const snapshot = await runtime.deps.store.getSnapshot(job.snapshotId as string);
      const report = await verifySnapshot(runtime.deps, snapshot as NonNullable<typeof snapshot>);
      expect(report.ok).toBe(true);
      const received = runtime.uploads.bytesReceived - before;
      const resent = received - job.progress.bytesTotal;
      figures.push(`run ${run}: killed at ${(killAt * 100).toFixed(0)} % (${first.signal ?? 'finished'}), ${inFlightAtKill} sessions in flight, re-sent ${resent} B, ${report.checkedBlobs} blobs verified`);
      expect(job.progress.bytesUploaded).toBe(job.progress.bytesTotal);
      expect(resent).toBeGreaterThanOrEqual(0);
      expect(resent).toBeLessThanOrEqual(PIECE);
    }
    process.stdout.write(`parallel kill test:\n  ${figures.join('\n  ')}\n`);
  }, 300_000);
});
