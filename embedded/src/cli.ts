#!/usr/bin/env node
/**
 * `lifeboat` command line: run the embedded server, mint tokens, look at jobs and snapshots.
 */
import { parseArgs } from 'node:util';
import { createToken } from './auth/tokens';
import { defaultDataDir, ensureDataDir, loadSecret } from './data-dir';
import { consoleLogger, LOG_LEVELS, type LogLevel } from './logger';
import { startEmbeddedRuntime } from './runtime';
import { openDatabase } from './adapters/sqlite-database';
import { SqliteJobStore } from './adapters/sqlite-job-store';

const USAGE = `Usage: lifeboat <command> [options]

Commands:
  serve      Run the embedded orchestrator (HTTP API, uploads, task workers)
               --port N      port to listen on (env LIFEBOAT_PORT, default 8787; 0 = any free port)
               --host H      address to bind (default 127.0.0.1)
               --log LEVEL   silent | error | warn | info (default info)
  token      Print a bearer token for a user
               --uid UID     the user (required)
               --ttl SECS    lifetime in seconds (default 86400)
  jobs       List a user's jobs, newest first
               --uid UID     the user (required)
  snapshots  List a user's snapshots, newest first
               --uid UID     the user (required)

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
  const { values } = parseArgs({
    args: rest,
    options: {
      data: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      log: { type: 'string' },
      uid: { type: 'string' },
      ttl: { type: 'string' },
    },
    strict: true,
  });
  const dataDir = values.data ?? defaultDataDir();

  switch (command) {
    case 'serve': {
      const port = Number(values.port ?? process.env['LIFEBOAT_PORT'] ?? 8787);
      if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0..65535, got ${values.port}`);
      const level = (values.log ?? 'info') as LogLevel;
      if (!LOG_LEVELS.includes(level)) fail(`--log must be one of ${LOG_LEVELS.join(', ')}`);
      const runtime = await startEmbeddedRuntime({
        dataDir,
        port,
        ...(values.host ? { host: values.host } : {}),
        logger: consoleLogger(level),
      });
      process.stdout.write(`Lifeboat listening on ${runtime.url} (data: ${dataDir})\n`);
      process.stdout.write(`Get a token: npm run lifeboat -- token --uid alice\n`);
      await new Promise<void>((resolveStop) => {
        const stop = () => resolveStop();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await runtime.stop();
      process.stdout.write('Lifeboat stopped\n');
      return 0;
    }
    case 'token': {
      if (!values.uid) fail('token needs --uid');
      const ttl = Number(values.ttl ?? 86_400);
      if (!Number.isInteger(ttl) || ttl <= 0) fail('--ttl must be a positive number of seconds');
      ensureDataDir(dataDir);
      process.stdout.write(`${createToken(loadSecret(dataDir), { uid: values.uid, ttlSeconds: ttl })}\n`);
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
