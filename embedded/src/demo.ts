#!/usr/bin/env node
/**
 * `npm run demo`: a simulated device backs up a generated data set (contacts, chats, device info)
 * through the client SDK, with a live progress bar and a summary. Uses the server at
 * LIFEBOAT_URL (default http://127.0.0.1:8787) when one answers; otherwise starts an embedded
 * server in a child process for the run and stops it at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { MALLOC_ENV } from './malloc-tuning';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createBackupClient, type BackupJob } from '@lifeboat/client-sdk';
import { fileKeyValueStore } from '@lifeboat/client-sdk/node';
import { createToken } from './auth/tokens';
import { SqliteChatSource } from './adapters/sqlite-chat-source';
import { openDatabase } from './adapters/sqlite-database';
import { defaultDataDir, ensureDataDir, loadSecret } from './data-dir';
import { demoAppChats, demoContacts, demoDeviceInfo, demoMessages } from './demo-data';

const BAR_WIDTH = 30;

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

/** A one-line progress bar, redrawn in place on a terminal and printed at milestones otherwise. */
class ProgressBar {
  private lastPrinted = -1;
  constructor(private readonly tty: boolean) {}

  /** Redraws the bar; off a terminal it prints at each quarter, and always when `final`. */
  draw(label: string, done: number, total: number, detail: string, final = false): void {
    const ratio = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(ratio * BAR_WIDTH);
    const line = `${label.padEnd(10)} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}%  ${detail}`;
    if (this.tty) {
      process.stdout.write(`\r${line}\x1b[K`);
      return;
    }
    const step = Math.floor(ratio * 4);
    if (step !== this.lastPrinted || final) {
      this.lastPrinted = step;
      process.stdout.write(`${line}\n`);
    }
  }

  end(): void {
    if (this.tty) process.stdout.write('\n');
    this.lastPrinted = -1;
  }
}

async function isUp(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** Starts `lifeboat serve --port 0` in a child process and resolves with its URL. */
function startServer(dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(__dirname, 'cli.js'), 'serve', '--port', '0', '--data', dataDir, '--log', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    // Set here, so `serve` needs no process of its own to set them (malloc-tuning.ts).
    env: { ...MALLOC_ENV, ...process.env },
  });
  return new Promise((resolveStart, reject) => {
    let out = '';
    child.stdout?.on('data', (data: Buffer) => {
      out += data.toString();
      const match = /listening on (\S+)/.exec(out);
      if (match?.[1]) resolveStart({ url: match[1], child });
    });
    child.once('exit', (code) => reject(new Error(`embedded server exited early (code ${code})`)));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      uid: { type: 'string', default: 'demo-user' },
      contacts: { type: 'string', default: '5000' },
      messages: { type: 'string', default: '3000' },
      change: { type: 'string', default: '0' },
      data: { type: 'string' },
      'server-chats': { type: 'string', default: '0' },
    },
  });
  const dataDir = values.data ?? defaultDataDir();
  const contactsCount = Number(values.contacts);
  const messagesCount = Number(values.messages);
  if (!Number.isInteger(messagesCount) || messagesCount < 0) throw new Error('--messages must be a whole number');
  const changePercent = Number(values.change);
  if (!Number.isInteger(contactsCount) || contactsCount < 0) throw new Error('--contacts must be a whole number');
  if (!(changePercent >= 0 && changePercent <= 100)) throw new Error('--change must be 0..100 (percent)');

  let url = values.url ?? process.env['LIFEBOAT_URL'] ?? 'http://127.0.0.1:8787';
  let child: ChildProcess | undefined;
  if (!(await isUp(url))) {
    process.stdout.write(`No Lifeboat server at ${url}: starting an embedded one for this run (data: ${dataDir})\n`);
    ({ url, child } = await startServer(dataDir));
  } else {
    process.stdout.write(`Using the Lifeboat server at ${url}\n`);
  }

  try {
    const token = createToken(loadSecret(dataDir), { uid: values.uid, ttlSeconds: 3600 });
    const tty = Boolean(process.stdout.isTTY);
    const bar = new ProgressBar(tty);
    // The simulated device keeps its state (upload ledger, contacts layout) as an app would, in
    // persistent storage: here a folder beside the server's data.
    const client = createBackupClient({ baseUrl: url, getToken: () => token, deviceId: 'demo-device', storage: fileKeyValueStore(join(dataDir, 'devices', values.uid)) });

    const contacts = demoContacts({ contacts: contactsCount, changePercent });
    const messages = demoMessages({ messages: messagesCount });
    // Chats that already live in the app's store: seeded into the server's database, read by it.
    const serverChats = Number(values['server-chats']);
    if (!Number.isInteger(serverChats) || serverChats < 0) throw new Error('--server-chats must be a whole number');
    if (serverChats > 0) {
      const db = openDatabase(ensureDataDir(dataDir).database);
      const source = new SqliteChatSource(db);
      const app = demoAppChats(values.uid, { messages: serverChats });
      for (const c of app.conversations) source.putConversation(c.id, { participants: c.participants });
      source.putMessages(app.messages);
      db.close();
    }
    const started = Date.now();
    const upload = await client.startBackup({
      types: ['contacts', 'chats', 'deviceInfo'],
      options: { wifiOnly: false, ...(serverChats > 0 ? { serverChats: true } : {}) },
      sources: { contacts, chats: messages, deviceInfo: demoDeviceInfo() },
      onProgress: (p) =>
        bar.draw(
          'uploading',
          p.bytesUploaded + p.bytesDeduplicated,
          p.bytesTotal,
          `chunks ${p.chunksDone}/${p.chunksTotal}  items ${p.itemsTotal}  sent ${formatBytes(p.bytesUploaded)} of ${formatBytes(p.bytesTotal)}`,
        ),
    });
    bar.end();

    let job: BackupJob = upload.job;
    for await (const state of client.watchJob(upload.jobId, { intervalMs: 100 })) {
      job = state;
      const p = state.progress;
      bar.draw(
        state.phase === 'done' ? 'done' : 'server',
        p.processedItems,
        p.totalItems,
        `items ${p.processedItems}/${p.totalItems}  uploaded ${formatBytes(p.bytesUploaded)}  stored ${formatBytes(p.bytesStored)}  ${state.status}/${state.phase}`,
        state.status === 'completed' || state.status === 'failed' || state.status === 'cancelled',
      );
    }
    bar.end();

    const p = job.progress;
    const seconds = ((Date.now() - started) / 1000).toFixed(2);
    process.stdout.write(
      [
        '',
        `Job:       ${job.id}`,
        `Status:    ${job.status}${job.lastError ? ` (${job.lastError.code}: ${job.lastError.message})` : ''}`,
        `Items:     ${p.processedItems}/${p.totalItems} (${p.skippedItems} skipped)`,
        `Uploaded:  ${formatBytes(p.bytesUploaded)} of ${formatBytes(p.bytesTotal)} (${formatBytes(p.bytesDeduplicated)} already on the server)`,
        `Stored:    ${formatBytes(p.bytesStored)} new`,
        `Duration:  ${seconds} s`,
        `Snapshot:  ${job.snapshotId ?? '(none)'}`,
        '',
      ].join('\n'),
    );
    if (job.status !== 'completed') process.exitCode = 1;
  } finally {
    if (child) {
      child.kill('SIGTERM');
      await new Promise((r) => child?.once('exit', r));
    }
  }
}

main().catch((err: unknown) => {
  if ((err as { code?: string }).code === 'backup/unauthenticated') {
    process.stderr.write(
      'demo failed: the server refused the demo\'s token. It signs tokens with the secret in its data folder:\n' +
        'run the demo with the same folder (--data DIR or LIFEBOAT_DATA_DIR), or set LIFEBOAT_TOKEN_SECRET for both.\n',
    );
    process.exit(1);
  }
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  process.exit(1);
});
