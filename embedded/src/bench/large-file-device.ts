#!/usr/bin/env node
/**
 * The device side of the bench's large-file run, in its own process so its peak RSS is the
 * SDK's alone: backs up one file by path (streamed through `nodeFileSource`) and prints one JSON
 * line with the job, the time and the process's peak RSS.
 *
 * Usage: node large-file-device.js BASE_URL TOKEN FILE [node|fetch]
 * (the transport: the Node entry's default `nodeHttp()`, or `fetchHttp()` to compare).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createBackupClient, fetchHttp, nodeFileSource } from '@lifeboat/client-sdk/node';

/** Peak resident set in MiB: VmHWM where /proc exists, else the resource usage figure. */
function peakRssMiB(): number {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // Not Linux: fall through.
  }
  return process.resourceUsage().maxRSS / 1024;
}

async function main(): Promise<void> {
  const [baseUrl, token, path, transport = 'node'] = process.argv.slice(2);
  if (!baseUrl || !token || !path) throw new Error('usage: large-file-device BASE_URL TOKEN FILE [node|fetch]');
  const client = createBackupClient({
    baseUrl,
    getToken: () => token,
    deviceId: 'bench-device',
    fileSource: nodeFileSource(),
    ...(transport === 'fetch' ? { http: fetchHttp() } : {}),
  });
  const t0 = performance.now();
  let hashedAt = 0;
  const started = await client.startBackup({
    types: ['media'],
    // The server's default cap (500 MB) would skip a 1 GB file.
    options: { maxMediaSizeMB: 2048, wifiOnly: false },
    sources: { media: [{ sourceId: basename(path), name: basename(path), mimeType: 'video/mp4', path }] },
    onProgress: (p) => {
      if (p.phase === 'uploading' && hashedAt === 0) hashedAt = performance.now();
    },
  });
  const uploadedAt = performance.now();
  const job = await client.waitForJob(started.jobId, { intervalMs: 200, maxIntervalMs: 1000 });
  process.stdout.write(
    `${JSON.stringify({
      jobId: started.jobId,
      status: job.status,
      chunks: started.chunks,
      bytesTotal: started.bytesTotal,
      bytesUploaded: started.bytesUploaded,
      hashMs: Math.round(hashedAt - t0),
      uploadMs: Math.round(uploadedAt - hashedAt),
      processMs: Math.round(performance.now() - uploadedAt),
      peakRssMiB: peakRssMiB(),
    })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`large-file device failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
