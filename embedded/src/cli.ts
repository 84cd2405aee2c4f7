#!/usr/bin/env node
/**
 * `lifeboat` command line: run the embedded server, mint tokens, look at jobs and snapshots.
 */
import { parseArgs } from 'node:util';
import { createToken } from './auth/tokens';
import { defaultDataDir, ensureDataDir, loadMasterKeys, loadSecret } from './data-dir';
import { consoleLogger, LOG_LEVELS, type LogLevel } from './logger';
import { needsMallocTuning, rerunWithMallocTuning } from './malloc-tuning';
import { startEmbeddedRuntime } from './runtime';
import { openDatabase } from './adapters/sqlite-database';
import { SqliteJobStore } from './adapters/sqlite-job-store';
import { FolderBlobStore } from './adapters/folder-blob-store';
import { restoreToFolder } from './restore/folder-restore';
import { abortOnSignals, INTERRUPTED_EXIT_CODE } from './interrupt';
import { ResumableUploads } from './server/resumable-uploads';
import { BACKUP_TYPES, collectGarbage, ContentStore, hasCode, keepsUploadSessions, verifySnapshot, WrappedKeyRing, type BackupType } from '@lifeboat/functions/core';
import { systemClock } from '@lifeboat/functions/ports';

const USAGE = `Usage: lifeboat <command> [options]

Commands:
  serve      Run the embedded orchestrator (HTTP API, uploads, task workers)
               --port N      port to listen on (env LIFEBOAT_PORT, default 8787; 0 = any free port)
               --host H      address to bind (default 127.0.0.1)
               --log LEVEL   silent | error | warn | info (default info)
             On Linux it runs with MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=131072 (in a child
             process when they are not set; LIFEBOAT_MALLOC_TUNING=off keeps the environment)
  token      Print a bearer token for a user
               --uid UID     the user (required, unless --admin)
               --admin       a token for the dashboard (GET /dashboard#token=TOKEN)
               --ttl SECS    lifetime in seconds (default 86400)
  jobs       List a user's jobs, newest first
               --uid UID     the user (required)
  snapshots  List a user's snapshots, newest first
               --uid UID     the user (required)
  verify SNAPSHOT
             Re-read a snapshot's blobs, recheck hashes and sizes, report problems by item
               --sample PCT  read only this share of the blobs (1-100, default 100)
  restore SNAPSHOT --to DIR
             Restore a snapshot into a new or empty folder (contacts.ndjson + .vcf,
             device-info.json, chats/<conversation>.ndjson, skipped.ndjson, restore-report.json)
               --types T,T   only these types (contacts, deviceInfo, chats, media)
               --items ID,ID only these items (source ids)
  gc         Delete a user's blobs that no surviving snapshot, chunk-index entry or unfinished job
             references and that are older than the grace period (safe while backups run)
               --uid UID     the user (required)
               --dry-run     report what would be deleted, delete nothing
               --grace-hours H  keep unreferenced blobs younger than this (default 1)
  rewrap-keys
             After a master key rotation (new key in LIFEBOAT_MASTER_KEY, old ones in
             LIFEBOAT_PREVIOUS_MASTER_KEYS), re-wrap every user's data key; no blob is rewritten

Every command takes --data DIR (env LIFEBOAT_DATA_DIR, default ./.lifeboat).
`;

class UsageError extends Error {}

function fail(message: string): never {
  throw new UsageError(message);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      to: { type: 'string' },
      types: { type: 'string' },
      items: { type: 'string' },
      sample: { type: 'string' },
      data: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      log: { type: 'string' },
      uid: { type: 'string' },
      ttl: { type: 'string' },
      'dry-run': { type: 'boolean' },
      admin: { type: 'boolean' },
      'grace-hours': { type: 'string' },
    },
    strict: true,
  });
  const dataDir = values.data ?? defaultDataDir();

  switch (command) {
    case 'serve': {
      if (needsMallocTuning()) return rerunWithMallocTuning();
      const port = Number(values.port ?? process.env['LIFEBOAT_PORT'] ?? 8787);
      if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0..65535, got ${values.port}`);
      const level = (values.log ?? 'info') as LogLevel;
      if (!LOG_LEVELS.includes(level)) fail(`--log must be one of ${LOG_LEVELS.join(', ')}`);
      // Listening for the signals before the ready line goes out, so a stop sent as soon as it is
      // read is a clean stop, not the default (fatal) action.
      const stopRequested = new Promise<void>((resolveStop) => {
        let firstAt: number | null = null;
        const stop = () => {
          // Ctrl+C reaches this process twice under rerunWithMallocTuning (from the terminal and
          // passed on by its parent): a repeat within 2 s is that echo; a later one forces the exit.
          if (firstAt !== null && Date.now() - firstAt > 2000) process.exit(130);
          firstAt ??= Date.now();
          resolveStop();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        // Run by rerunWithMallocTuning: stop with the process that started this one.
        if (process.connected) process.once('disconnect', stop);
      });
      const runtime = await startEmbeddedRuntime({
        dataDir,
        port,
        ...(values.host ? { host: values.host } : {}),
        logger: consoleLogger(level),
      });
      process.stdout.write(`Lifeboat listening on ${runtime.url} (data: ${dataDir})\n`);
      process.stdout.write(`Get a token: npm run lifeboat -- token --uid alice\n`);
      const admin = createToken(runtime.tokenSecret, { uid: 'lifeboat-admin', admin: true });
      process.stdout.write(`Dashboard (admin link, valid 24 h): ${runtime.url}/dashboard#token=${admin}\n`);
      await stopRequested;
      await runtime.stop();
      process.stdout.write('Lifeboat stopped\n');
      return 0;
    }
    case 'token': {
      if (!values.uid && !values.admin) fail('token needs --uid (or --admin)');
      const ttl = Number(values.ttl ?? 86_400);
      if (!Number.isInteger(ttl) || ttl <= 0) fail('--ttl must be a positive number of seconds');
      ensureDataDir(dataDir);
      const uid = values.uid ?? 'lifeboat-admin';
      process.stdout.write(`${createToken(loadSecret(dataDir), { uid, ttlSeconds: ttl, ...(values.admin ? { admin: true } : {}) })}\n`);
      return 0;
    }
    case 'jobs':
    case 'snapshots': {
      if (!values.uid) fail(`${command} needs --uid`);
      const paths = ensureDataDir(dataDir);
      const db = openDatabase(paths.database);
      try {
        const store = new SqliteJobStore(db);
        if (command === 'jobs') {
          const page = await store.listJobs({ uid: values.uid, limit: 50 });
          for (const j of page.items) {
            const p = j.progress;
            process.stdout.write(
              `${j.id}  ${new Date(j.createdAt).toISOString()}  ${j.status.padEnd(9)} ${j.phase.padEnd(10)} ` +
                `items ${p.processedItems}/${p.totalItems}  uploaded ${p.bytesUploaded} B  stored ${p.bytesStored} B` +
                `${j.snapshotId ? `  ${j.snapshotId}` : ''}${j.lastError ? `  error: ${j.lastError.message}` : ''}\n`,
            );
          }
          if (page.items.length === 0) process.stdout.write('no jobs\n');
        } else {
          const page = await store.listSnapshots({ uid: values.uid, limit: 50 });
          for (const s of page.items) {
            process.stdout.write(
              `${s.id}  ${new Date(s.createdAt).toISOString()}  ${s.types.join(',')}  items ${s.totals.items}` +
                ` (skipped ${s.totals.skippedItems})  original ${s.totals.originalBytes} B  stored ${s.totals.storedBytes} B\n`,
            );
          }
          if (page.items.length === 0) process.stdout.write('no snapshots\n');
        }
      } finally {
        db.close();
      }
      return 0;
    }
    case 'verify':
    case 'restore': {
      const snapshotId = positionals[0];
      if (!snapshotId) fail(`${command} needs a snapshot id`);
      const paths = ensureDataDir(dataDir);
      const db = openDatabase(paths.database);
      try {
        const store = new SqliteJobStore(db);
        const blobs = new FolderBlobStore(paths.blobs);
        const keyRing = new WrappedKeyRing(blobs, loadMasterKeys(dataDir));
        const snapshot = await store.getSnapshot(snapshotId);
        if (!snapshot) fail(`no snapshot ${snapshotId} in ${dataDir}`);
        if (command === 'verify') {
          const sample = values.sample === undefined ? undefined : Number(values.sample);
          if (sample !== undefined && !(sample >= 1 && sample <= 100)) fail('--sample must be 1..100');
          const report = await verifySnapshot({ store, blobs, keyRing, clock: systemClock }, snapshot, sample === undefined ? {} : { samplePercent: sample });
          process.stdout.write(`${snapshot.id}: checked ${report.checkedBlobs} of ${report.totalBlobs} blobs (${report.checkedItems} items): ${report.ok ? 'OK' : `${report.problems.length} problem(s)`}\n`);
          for (const p of report.problems) {
            const items = p.items.slice(0, 10).map((i) => `${i.type}:${i.sourceId}`).join(', ');
            process.stdout.write(`  ${p.kind} ${p.blob.slice(0, 16)}…: ${p.message}${items ? `\n    items: ${items}${p.items.length > 10 ? ` (+${p.items.length - 10} more)` : ''}` : ''}\n`);
          }
          return report.ok ? 0 : 1;
        }
        if (!values.to) fail('restore needs --to DIR');
        const types = values.types?.split(',').map((t) => t.trim()).filter(Boolean);
        const unknown = types?.filter((t) => !(BACKUP_TYPES as readonly string[]).includes(t)) ?? [];
        if (unknown.length > 0) fail(`unknown type(s): ${unknown.join(', ')}`);
        const items = values.items?.split(',').map((t) => t.trim()).filter(Boolean);
        const summary = await restoreToFolder(new ContentStore(blobs, keyRing), snapshot, values.to, {
          ...(types ? { types: types as BackupType[] } : {}),
          ...(items ? { sourceIds: items } : {}),
        });
        const counts = Object.entries(summary.items).map(([t, n]) => `${n} ${t}`).join(', ') || 'nothing';
        process.stdout.write(`Restored ${counts} (${summary.skipped} skipped at backup) from ${snapshot.id} into ${values.to}\n`);
        for (const f of summary.files) process.stdout.write(`  ${f}\n`);
        return 0;
      } finally {
        db.close();
      }
    }
    case 'gc': {
      if (!values.uid) fail('gc needs --uid');
      const graceHours = Number(values['grace-hours'] ?? 1);
      if (!(graceHours >= 0)) fail('--grace-hours must be a number >= 0');
      const paths = ensureDataDir(dataDir);
      const db = openDatabase(paths.database);
      try {
        const blobs = new FolderBlobStore(paths.blobs);
        const store = new SqliteJobStore(db);
        // Ctrl-C aborts the run, which releases its lease, so the user's backups are not held up.
        const report = await abortOnSignals((signal) =>
          collectGarbage({ store, blobs, keyRing: new WrappedKeyRing(blobs, loadMasterKeys(dataDir)), clock: systemClock }, values.uid as string, {
            graceMs: graceHours * 3_600_000,
            dryRun: values['dry-run'] ?? false,
            signal,
          }),
        ).catch((err: unknown) => {
          if (!hasCode(err, 'cancelled')) throw err;
          process.stderr.write('lifeboat: gc interrupted; its lease is released, and the next run carries on\n');
          return null;
        });
        if (!report) return INTERRUPTED_EXIT_CODE;
        if (!report.dryRun) {
          // Partial uploads of jobs that are no longer live (failed, cancelled, gone) go with GC.
          const uploads = new ResumableUploads({ db, blobs, clock: systemClock, partsDir: paths.uploads, baseUrl: () => '', onComplete: async () => {}, isLiveJob: async (jobId) => keepsUploadSessions(await store.getJob(jobId)) });
          const swept = await uploads.sweep();
          const removed = swept.expired + swept.discarded + swept.orphanParts;
          if (removed > 0) process.stdout.write(`removed ${removed} partial upload(s) no live job owns\n`);
        }
        if (report.status === 'deferred') {
          process.stdout.write(`gc deferred: ${report.deferredBy.map((j) => `${j.jobId} (${j.status})`).join(', ')} may still reuse blobs; try again when they finish\n`);
          return 0;
        }
        const verb = report.dryRun ? 'would delete' : 'deleted';
        process.stdout.write(
          `${report.liveSnapshots} snapshot(s), ${report.markedBlobs} referenced blob(s), ${report.scannedBlobs} scanned: ${verb} ` +
            `${report.deletedBlobs} blob(s) (${report.deletedBytes} B), ${report.deletedIndexEntries} chunk-index entr${report.deletedIndexEntries === 1 ? 'y' : 'ies'}, ` +
            `${report.deletedUploads} stale upload(s); kept ${report.youngBlobs} unreferenced blob(s) younger than ${graceHours} h` +
            `${report.stoppedEarly ? ` (stopped early${report.stopReason ? `, ${report.stopReason}` : ''}: run again)` : ''}\n`,
        );
        return 0;
      } finally {
        db.close();
      }
    }
    case 'rewrap-keys': {
      const paths = ensureDataDir(dataDir);
      const keys = loadMasterKeys(dataDir);
      const changed = await new WrappedKeyRing(new FolderBlobStore(paths.blobs), keys).rewrapAll();
      process.stdout.write(`Re-wrapped ${changed} data key(s) under master key ${keys.current.id}\n`);
      return 0;
    }
    default:
      fail(`unknown command ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`lifeboat: ${(err as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    process.stderr.write(`lifeboat: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
