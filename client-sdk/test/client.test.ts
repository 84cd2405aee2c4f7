import { createBackupClient } from '../src/client';
import type { HttpRequest } from '../src/http';
import type { JobStatus } from '../src/types';
import { jobDoc } from './protocol-docs';
import { json, parse, recordingSleep, ScriptedHttp, type Reply } from './scripted-http';

const job = (status: JobStatus, processedItems: number, updatedAt: number) =>
  jobDoc({ id: 'job-1', status, phase: status === 'completed' ? 'done' : 'processing', pauseReason: null, lastError: null, updatedAt, progress: { processedItems, totalItems: 10 } });

function client(handler: (req: HttpRequest, name: string, data: any) => Reply) {
  const http = new ScriptedHttp((req) => handler(req, req.url.split('/').pop() ?? '', req.method === 'POST' ? parse(req.body).data : undefined));
  const { sleep, delays } = recordingSleep();
  return { http, delays, client: createBackupClient({ baseUrl: 'https://api.test', getToken: () => 't', deviceId: 'd', http, sleep }) };
}

describe('BackupClient', () => {
  it('watchJob yields each change, backs off while nothing changes, and ends at a terminal status', async () => {
    const states = [job('running', 1, 1), job('running', 1, 1), job('running', 1, 1), job('running', 5, 2), job('completed', 10, 3)];
    let i = 0;
    const { client: c, delays } = client(() => ({ status: 200, body: json({ result: { job: states[Math.min(i++, states.length - 1)] } }) }));
    const seen = [];
    for await (const j of c.watchJob('job-1', { intervalMs: 100, maxIntervalMs: 200 })) seen.push(j.progress.processedItems);
    expect(seen).toEqual([1, 5, 10]);
    expect(delays).toEqual([100, 150, 200, 100]);
  });

  it('listJobs pages with pageToken until the last page', async () => {
    const pages: Record<string, unknown> = {
      '': { jobs: [jobDoc({ id: 'a' }), jobDoc({ id: 'b' })], nextPageToken: 'p2' },
      p2: { jobs: [jobDoc({ id: 'c' })], nextPageToken: 'p3' },
      p3: { jobs: [jobDoc({ id: 'd' })] },
    };
    const { client: c, http } = client((_req, _name, data) => ({ status: 200, body: json({ result: pages[data.pageToken ?? ''] }) }));
    const ids = [];
    for await (const j of c.listJobs({ status: 'completed', pageSize: 2 })) ids.push(j.id);
    expect(ids).toEqual(['a', 'b', 'c', 'd']);
    expect(http.requests.map((r) => parse(r.body).data)).toEqual([
      { status: 'completed', limit: 2 },
      { status: 'completed', limit: 2, pageToken: 'p2' },
      { status: 'completed', limit: 2, pageToken: 'p3' },
    ]);
  });

  it('startBackup refuses types it cannot back up or has no source for, before calling the server', async () => {
    const { client: c, http } = client(() => ({ status: 500 }));
    await expect(c.startBackup({ types: ['photos' as never], sources: {} })).rejects.toMatchObject({ code: 'backup/unimplemented' });
    await expect(c.startBackup({ types: ['contacts'], sources: {} })).rejects.toMatchObject({ code: 'backup/invalid-argument', message: expect.stringMatching(/sources.contacts/) });
    await expect(c.startBackup({ types: [], sources: {} })).rejects.toMatchObject({ code: 'backup/invalid-argument' });
    expect(http.requests).toHaveLength(0);
  });

  it('an aborted backup stops between steps with backup/aborted and leaves the job alone', async () => {
    const controller = new AbortController();
    const calls: string[] = [];
    const { client: c } = client((_req, name) => {
      calls.push(name);
      if (name === 'createBackupJob') {
        controller.abort();
        return { status: 200, body: json({ result: { job: jobDoc({ id: 'job-9' }) } }) };
      }
      return { status: 200, body: json({ result: {} }) };
    });
    const contacts = [{ id: 'a' }, { id: 'b' }];
    await expect(c.startBackup({ types: ['contacts'], sources: { contacts }, signal: controller.signal })).rejects.toMatchObject({ code: 'backup/aborted' });
    expect(calls).toEqual(['createBackupJob']);
  });

  it('startBackup registers, uploads only what is missing, re-begins an expired session, and commits', async () => {
    const uploads: string[] = [];
    let expireOnce = true;
    const { client: c } = client((req, name, data) => {
      if (req.method === 'PUT') {
        if (expireOnce) {
          expireOnce = false;
          return { status: 404 };
        }
        uploads.push(req.url);
        return { status: 200 };
      }
      switch (name) {
        case 'createBackupJob': return { status: 200, body: json({ result: { job: jobDoc({ id: 'job-2' }) } }) };
        case 'registerChunks': return { status: 200, body: json({ result: { missing: [data.chunks[0].id], known: data.chunks.slice(1).map((x: { id: string }) => x.id) } }) };
        case 'beginChunkUpload': return { status: 200, body: json({ result: { uploadUrl: `https://up.test/${uploads.length}-${Math.random()}`, expiresAt: null, state: 'pending' } }) };
        case 'commitUpload': return { status: 200, body: json({ result: { job: jobDoc({ id: 'job-2', uploadCommitted: true }) } }) };
        default: return { status: 404 };
      }
    });
    const progress: string[] = [];
    const info = { model: 'P', os: 'a', osVersion: '1', appVersion: '1', locale: 'en' };
    const started = await c.startBackup({
      types: ['contacts', 'deviceInfo'],
      sources: { contacts: Array.from({ length: 300 }, (_, i) => ({ id: `c${i}` })), deviceInfo: info },
      onProgress: (p) => progress.push(p.phase),
    });
    expect(uploads).toHaveLength(1);
    expect(started.bytesUploaded + started.bytesDeduplicated).toBe(started.bytesTotal);
    expect(started.bytesUploaded).toBeGreaterThan(0);
    expect(progress[0]).toBe('preparing');
    expect(progress[progress.length - 1]).toBe('committed');
  });
});
