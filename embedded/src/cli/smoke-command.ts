/**
 * `lifeboat smoke --base-url URL [--token T]`: proof that a deployment works, through its public
 * API as a device uses it (the SDK over the callables, the resumable uploads and the downloads):
 * a small backup, a verify, a restore compared with what was backed up, deleting the snapshot
 * (`deleteSnapshot`: gone at once, its blobs freed past the grace period), and a second job
 * cancelled before it uploads. Each step prints what it did. It never calls `deleteMyData`: that
 * would refuse the test user's next smoke run for the deletion's settle time.
 */
import { createBackupClient, type BackupClient, type ContactRecord } from '@lifeboat/client-sdk/node';
import { messageOf } from '@lifeboat/engine/core';
import { usageError } from './cli-error';
import { requiredOption, stringOption, type CommandInput, type CommandResult } from './command';
import { EXIT } from './spec';

export interface SmokeStep {
  step: 'backup' | 'verify' | 'restore' | 'delete' | 'cancel';
  ok: boolean;
  ms: number;
  detail: string;
}

export interface SmokeReport {
  baseUrl: string;
  deviceId: string;
  ok: boolean;
  steps: SmokeStep[];
}

export interface SmokeDeps {
  /**
   * A token when `--token` is not given: the embedded server's own, minted from its data folder
   * for a throwaway user. @default none: `--token` is required
   */
  mintToken?: () => string;
  /** @default the SDK over node:http */
  client?: (options: { baseUrl: string; token: string; deviceId: string }) => BackupClient;
  /** @default Date.now */
  now?: () => number;
}

/** A contact as the smoke run writes it. */
export interface SmokeContact extends ContactRecord {
  name: { display: string };
  emails: Array<{ address: string }>;
  note: string;
}

/** The small data set a smoke run backs up: a few contacts, generated so every run differs. */
export function smokeContacts(runId: string, count = 12): SmokeContact[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `smoke-${i}`,
    name: { display: `Smoke Contact ${i}` },
    emails: [{ address: `smoke${i}@example.com` }],
    note: `lifeboat smoke ${runId}`,
  }));
}

function defaultClient({ baseUrl, token, deviceId }: { baseUrl: string; token: string; deviceId: string }): BackupClient {
  return createBackupClient({ baseUrl, getToken: () => token, deviceId });
}

/**
 * One callable, by the callable protocol (docs/protocol.md): for what the SDK does not expose on
 * its own, a job created and left alone.
 */
async function callApi<T>(baseUrl: string, token: string, name: string, data: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}/${name}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ data }), signal: AbortSignal.timeout(60_000) });
  const body = (await response.json().catch(() => ({}))) as { result?: T; error?: { status?: string; message?: string } };
  if (!response.ok || body.result === undefined) throw new Error(`${name} answered ${response.status}: ${body.error?.status ?? ''} ${body.error?.message ?? ''}`.trim());
  return body.result;
}

export async function smokeCommand(input: CommandInput, deps: SmokeDeps = {}): Promise<CommandResult> {
  const baseUrl = requiredOption(input, 'base-url', 'smoke').replace(/\/+$/, '');
  const token = stringOption(input, 'token') ?? deps.mintToken?.();
  if (!token) usageError('smoke needs --token (a Firebase ID token of a test user) against a deployment');
  const now = deps.now ?? Date.now;
  const runId = String(now());
  const deviceId = `lifeboat-smoke-${runId}`;
  const client = (deps.client ?? defaultClient)({ baseUrl, token, deviceId });
  const steps: SmokeStep[] = [];
  const contacts = smokeContacts(runId);

  /** Runs one step; a failure is recorded and ends the run. */
  async function step(name: SmokeStep['step'], run: () => Promise<string>): Promise<boolean> {
    const started = now();
    try {
      const detail = await run();
      steps.push({ step: name, ok: true, ms: now() - started, detail });
      return true;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      steps.push({ step: name, ok: false, ms: now() - started, detail: `${typeof code === 'string' ? `${code}: ` : ''}${messageOf(err)}` });
      return false;
    }
  }

  let first = { jobId: '', snapshotId: '' };
  const backup = async (): Promise<{ jobId: string; snapshotId: string; items: number }> => {
    const started = await client.startBackup({ types: ['contacts'], options: { wifiOnly: false }, sources: { contacts } });
    const job = await client.waitForJob(started.jobId, { intervalMs: 500, maxIntervalMs: 2000, signal: AbortSignal.timeout(5 * 60_000) });
    if (job.status !== 'completed' || !job.snapshotId) throw new Error(`job ${job.id} ended ${job.status}${job.lastError ? ` (${job.lastError.code}: ${job.lastError.message})` : ''}`);
    return { jobId: job.id, snapshotId: job.snapshotId, items: job.progress.processedItems };
  };

  (await step('backup', async () => {
    const done = await backup();
    first = done;
    return `job ${done.jobId} completed: ${done.items} contacts in snapshot ${done.snapshotId}`;
  })) &&
    (await step('verify', async () => {
      const report = await client.verifySnapshot(first.snapshotId);
      if (!report.ok) throw new Error(`snapshot ${first.snapshotId} has ${report.problems.length} problem(s): ${JSON.stringify(report.problems.slice(0, 3))}`);
      return `snapshot ${first.snapshotId} ok: ${report.checkedBlobs} blob(s) re-read and hash-checked`;
    })) &&
    (await step('restore', async () => {
      const restored = new Map<string, string>();
      const result = await client.restore({
        snapshotId: first.snapshotId,
        sink: {
          open(item) {
            const parts: Uint8Array[] = [];
            return { write: (bytes: Uint8Array) => void parts.push(bytes), close: () => void restored.set(item.sourceId, Buffer.concat(parts).toString('utf8')) };
          },
        },
      });
      if (result.failed.length > 0) throw new Error(`${result.failed.length} item(s) failed: ${JSON.stringify(result.failed.slice(0, 3))}`);
      const wrong = contacts.filter((c) => {
        const back = restored.get(c.id);
        if (!back) return true;
        const parsed = JSON.parse(back) as { id?: string; note?: string; name?: { display?: string } };
        return parsed.id !== c.id || parsed.note !== c.note || parsed.name?.display !== c.name.display;
      });
      if (wrong.length > 0 || restored.size !== contacts.length) throw new Error(`restored ${restored.size} of ${contacts.length} contacts, ${wrong.length} not as backed up (${wrong.map((c) => c.id).join(', ')})`);
      return `${result.items} item(s) restored (${result.bytesDownloaded} B downloaded), every contact as it was backed up`;
    })) &&
    (await step('delete', async () => {
      const deleted = await client.deleteSnapshot(first.snapshotId);
      if (!deleted.deleted) throw new Error(`deleteSnapshot says snapshot ${first.snapshotId} was already gone`);
      try {
        await client.getSnapshot(first.snapshotId);
      } catch (err) {
        if ((err as { code?: unknown }).code !== 'backup/not-found') throw err;
        const gc = deleted.gc;
        const freed = 'reason' in gc ? gc.reason : `${gc.deletedBlobs} blob(s) freed, ${gc.youngBlobs} within the grace period`;
        return `snapshot ${first.snapshotId} deleted and no longer found; garbage collection ${gc.status}: ${freed}`;
      }
      throw new Error(`snapshot ${first.snapshotId} is still there after deleteSnapshot`);
    })) &&
    (await step('cancel', async () => {
      // A job created and never uploaded to: cancel ends it and discards what it held.
      const { job: created } = await callApi<{ job: { id: string } }>(baseUrl, token, 'createBackupJob', { deviceId, types: ['contacts'], options: { wifiOnly: false } });
      const jobId = created.id;
      const job = await client.cancelBackup(jobId);
      if (job.status !== 'cancelled') throw new Error(`job ${jobId} is ${job.status} after cancelBackup`);
      return `job ${jobId} cancelled`;
    }));

  const ok = steps.length === 5 && steps.every((s) => s.ok);
  const report: SmokeReport = { baseUrl, deviceId, ok, steps };
  const text = [
    `lifeboat smoke: ${baseUrl} (device ${deviceId})`,
    ...steps.map((s, i) => `  ${i + 1} ${s.step.padEnd(8)} ${s.ok ? 'ok  ' : 'FAIL'} ${s.detail} (${(s.ms / 1000).toFixed(1)} s)`),
    ok ? `smoke: ok, ${steps.length} steps in ${(steps.reduce((n, s) => n + s.ms, 0) / 1000).toFixed(1)} s` : `smoke: FAILED at ${steps.find((s) => !s.ok)?.step ?? 'an early step'}`,
    '',
  ].join('\n');
  return { exitCode: ok ? EXIT.ok : EXIT.failure, data: report, text };
}
