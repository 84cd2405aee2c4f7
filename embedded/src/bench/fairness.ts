/**
 * `npm run bench -- --only=fairness`: small users' job times while one user's large backup is
 * processing, with and without fair share (core/fair-share.ts). On the embedded runtime (its 2
 * task workers): one user backs up `photos` generated JPEGs (re-encoded by sharp, the costly
 * step), and once their upload is in and processing under way, `smallUsers` users each start a
 * small contacts backup, one every `spacingMs` (users arrive one after the other, as they do).
 * Their median job time is compared with the same arrivals on an idle server (ratio; the target
 * is at most 2x), with fair share off and with one processing task per user.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createBackupClient } from '@lifeboat/client-sdk';
import { nodeFileSource } from '@lifeboat/client-sdk/node';
import { silentLogger } from '@lifeboat/engine/ports';
import type { FairShare } from '@lifeboat/engine/core';
import { createToken } from '../auth/tokens';
import { demoContacts } from '../demo-data';
import { startEmbeddedRuntime, type EmbeddedRuntime } from '../runtime';

export interface FairnessOptions {
  photos: number;
  smallUsers: number;
  /** Between two small users' arrivals. @default 1000 */
  spacingMs?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** `count` distinct 1024x768 JPEGs (noise, so each differs and re-encoding costs what a photo does). */
async function generatePhotos(dir: string, count: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const file = join(dir, `IMG_${String(i).padStart(4, '0')}.jpg`);
    await sharp({ create: { width: 1024, height: 768, channels: 3, background: { r: (i * 37) % 256, g: (i * 91) % 256, b: 128 }, noise: { type: 'gaussian', mean: 128, sigma: 20 } } }).jpeg({ quality: 90 }).toFile(file);
    files.push(file);
  }
  return files;
}

function client(rt: EmbeddedRuntime, uid: string) {
  const token = createToken(rt.tokenSecret, { uid });
  return createBackupClient({ baseUrl: rt.url, getToken: () => token, deviceId: `${uid}-phone`, fileSource: nodeFileSource() });
}

/** Each small user's job time (start to completed), the users arriving `spacingMs` apart. */
async function smallJobs(rt: EmbeddedRuntime, prefix: string, users: number, spacingMs: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: users }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i * spacingMs));
      const c = client(rt, `${prefix}-${i}`);
      const t0 = performance.now();
      const { jobId } = await c.startBackup({ types: ['contacts'], options: { wifiOnly: false }, sources: { contacts: demoContacts({ contacts: 30, seed: i }) } });
      const job = await c.waitForJob(jobId, { intervalMs: 10, maxIntervalMs: 50 });
      if (job.status !== 'completed') throw new Error(`small job ${jobId} ended ${job.status}`);
      return performance.now() - t0;
    }),
  );
}

async function scenario(label: string, photos: string[], options: FairnessOptions, fairShare: FairShare | undefined): Promise<{ alone: number; contended: number; bigMs: number; deferrals: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-bench-fairness-'));
  const rt = await startEmbeddedRuntime({ dataDir: dir, port: 0, logger: silentLogger, gcAfterBackup: false, queueSampleIntervalMs: 0, ...(fairShare ? { fairShare } : {}) });
  try {
    const spacing = options.spacingMs ?? 1000;
    const alone = median(await smallJobs(rt, `${label}-alone`, options.smallUsers, spacing));
    const big = client(rt, `${label}-big`);
    const t0 = performance.now();
    const { jobId } = await big.startBackup({ types: ['media'], options: { wifiOnly: false }, sources: { media: photos.map((path) => ({ sourceId: `DCIM/${path.slice(path.lastIndexOf('/') + 1)}`, name: 'photo.jpg', mimeType: 'image/jpeg', path })) } });
    // The upload is in: the big job's photos wait for (or are in) processing.
    const contended = median(await smallJobs(rt, `${label}-busy`, options.smallUsers, spacing));
    const done = await big.waitForJob(jobId, { intervalMs: 50 });
    if (done.status !== 'completed') throw new Error(`the big job ended ${done.status}`);
    const deferrals = rt.queue.list('processChunk').filter((t) => /_w\d+$/.test(t.id)).length;
    return { alone, contended, bigMs: performance.now() - t0, deferrals };
  } finally {
    await rt.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function fairnessBench(row: (k: string, v: string) => void, options: FairnessOptions): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-bench-photos-gen-'));
  try {
    const photos = await generatePhotos(dir, options.photos);
    const verdicts: string[] = [];
    for (const [label, share] of [['off', undefined], ['1 per user', { perUser: 1, slotSeconds: 540 }]] as const) {
      const r = await scenario(label === 'off' ? 'off' : 'fair', photos, options, share);
      const ratio = r.contended / r.alone;
      row(
        `fairness: fair share ${label} (${options.smallUsers} small users ${options.spacingMs ?? 1000} ms apart, 1 user with ${options.photos} photos, 2 workers)`,
        `small jobs' median ${r.alone.toFixed(0)} ms alone, ${r.contended.toFixed(0)} ms beside the big backup (${ratio.toFixed(2)}x; target <= 2x); ` +
          `big backup ${(r.bigMs / 1000).toFixed(1)} s, ${r.deferrals} processing task(s) waited for a slot`,
      );
      verdicts.push(`${label}: ${ratio.toFixed(2)}x`);
    }
    return `fairness: small users' median job time beside one 200-photo backup vs alone: ${verdicts.join(', ')}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
