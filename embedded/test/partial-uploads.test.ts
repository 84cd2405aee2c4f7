/**
 * Partial uploads belong to live sessions of live jobs (issue 16, item 7): a chunk has one open
 * session however often it is begun, a user holds a bounded number of them and registers a
 * bounded number of chunks per job, and cancel, failure, GC and the periodic sweep leave no part
 * on disk that no live session owns.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackupClientError } from '@lifeboat/client-sdk';
import { demoContacts } from '../src/demo-data';
import { useTestRuntime } from './helpers/test-runtime';

const t = useTestRuntime('partial-uploads', {
  uploadLimits: { chunksPerJob: 6, openUploadSessions: 3 },
  // The sweep's timer is part of what is tested: short, so the test does not wait for it long.
  uploadSweepIntervalMs: 100,
});

async function call<T = Record<string, unknown>>(uid: string, name: string, data: unknown): Promise<{ status: number; result: T; error: { status: string; message: string; details: Record<string, unknown> } }> {
  const res = await fetch(`${t.runtime.url}/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${t.token(uid)}` },
    body: JSON.stringify({ data }),
  });
  const body = (await res.json()) as { result: T; error: { status: string; message: string; details: Record<string, unknown> } };
  return { status: res.status, ...body };
}

function chunk(seed: number, size = 2000) {
  const bytes = Buffer.alloc(size, seed);
  return { bytes, descriptor: { id: createHash('sha256').update(bytes).digest('hex'), type: 'contacts', size, items: 1 } };
}

async function newJob(uid: string, chunks: ReturnType<typeof chunk>[]): Promise<string> {
  const created = await call<{ job: { id: string } }>(uid, 'createBackupJob', { deviceId: 'p', types: ['contacts'] });
  const jobId = created.result.job.id;
  const registered = await call(uid, 'registerChunks', { jobId, chunks: chunks.map((c) => c.descriptor) });
  expect(registered.status).toBe(200);
  return jobId;
}

async function begin(uid: string, jobId: string, c: ReturnType<typeof chunk>) {
  return call<{ uploadUrl: string }>(uid, 'beginChunkUpload', { jobId, chunkId: c.descriptor.id });
}

/** PUTs the first `n` bytes of the chunk: a partial upload, as a device cut off mid-way leaves. */
async function putFirst(url: string, c: ReturnType<typeof chunk>, n: number): Promise<number> {
  const res = await fetch(url, { method: 'PUT', headers: { 'content-range': `bytes 0-${n - 1}/${c.bytes.length}` }, body: c.bytes.subarray(0, n) });
  return res.status;
}

const partsDir = () => join(t.dataDir, 'uploads');
const partFiles = () => readdirSync(partsDir()).filter((n) => n.endsWith('.part')).sort();
const partOf = (url: string) => join(partsDir(), `${url.slice(url.lastIndexOf('/') + 1)}.part`);

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(check()).toBe(true);
}

describe('partial uploads', () => {
  it('a chunk begun again gets its open session back, so it never has two parts on disk', async () => {
    const c = chunk(1);
    const jobId = await newJob('ada', [c]);
    const first = await begin('ada', jobId, c);
    expect(await putFirst(first.result.uploadUrl, c, 700)).toBe(308);
    const again = await begin('ada', jobId, c);
    expect(again.result.uploadUrl).toBe(first.result.uploadUrl);
    expect(partFiles().filter((f) => f === `${first.result.uploadUrl.split('/').pop()}.part`)).toHaveLength(1);
    await call('ada', 'cancelBackup', { jobId });
  });

  it('refuses a session past the open-session limit and chunks past the per-job limit, naming the limit', async () => {
    const chunks = [2, 3, 4, 5].map((s) => chunk(s));
    const jobId = await newJob('bea', chunks);
    for (const c of chunks.slice(0, 3)) expect((await begin('bea', jobId, c)).status).toBe(200);
    const refused = await begin('bea', jobId, chunks[3]!);
    expect(refused.status).toBe(429);
    expect(refused.error).toMatchObject({ status: 'RESOURCE_EXHAUSTED', details: { limit: 'openUploadSessions', max: 3, open: 3 } });
    // Reusing an open session does not count against the limit.
    expect((await begin('bea', jobId, chunks[0]!)).status).toBe(200);

    const tooMany = await call('bea', 'registerChunks', { jobId, chunks: [6, 7, 8].map((s) => chunk(s).descriptor) });
    expect(tooMany.status).toBe(429);
    expect(tooMany.error.details).toMatchObject({ limit: 'chunksPerJob', max: 6, registered: 4, requested: 3 });
    // Refused whole: the job still holds its four chunks.
    expect((await call<{ job: { progress: { totalChunks: number } } }>('bea', 'getBackupJob', { jobId })).result.job.progress.totalChunks).toBe(4);
    await call('bea', 'cancelBackup', { jobId });
    // Cancel closed bea's sessions: she can open new ones.
    const next = await newJob('bea', [chunk(9)]);
    expect((await begin('bea', next, chunk(9))).status).toBe(200);
    await call('bea', 'cancelBackup', { jobId: next });
  });

  it('the SDK gives up at once on a limit (retrying cannot help) with the limit named', async () => {
    const waits: number[] = [];
    const client = t.client('cid', { maxChunkBytes: 512, sleep: async (ms) => void waits.push(ms) });
    const err = (await client.startBackup({ types: ['contacts'], sources: { contacts: demoContacts({ contacts: 60, seed: 5 }) } }).catch((e: unknown) => e)) as BackupClientError;
    expect(err).toBeInstanceOf(BackupClientError);
    expect(err).toMatchObject({ code: 'backup/quota-exceeded', retryable: false, details: { limit: 'chunksPerJob' } });
    expect(waits).toEqual([]);
  });

  it('cancel removes the job’s sessions and parts at once; a PUT to one then finds no session', async () => {
    const c = chunk(10);
    const jobId = await newJob('dot', [c]);
    const { uploadUrl } = (await begin('dot', jobId, c)).result;
    expect(await putFirst(uploadUrl, c, 500)).toBe(308);
    expect(existsSync(partOf(uploadUrl))).toBe(true);
    await call('dot', 'cancelBackup', { jobId });
    expect(existsSync(partOf(uploadUrl))).toBe(false);
    expect(await putFirst(uploadUrl, c, 500)).toBe(404);
  });

  it('the periodic sweep removes the parts of failed jobs and parts no session owns', async () => {
    const c = chunk(11);
    const jobId = await newJob('eve', [c]);
    const { uploadUrl } = (await begin('eve', jobId, c)).result;
    expect(await putFirst(uploadUrl, c, 900)).toBe(308);
    const orphan = join(partsDir(), `${'f'.repeat(32)}.part`);
    writeFileSync(orphan, Buffer.alloc(100));

    // The job fails (its steps ran out of retries, say): nothing will use its partial bytes.
    await t.runtime.deps.store.runTransaction(async (tx) => {
      const job = await tx.getJob(jobId);
      if (job) tx.setJob({ ...job, status: 'failed', lastError: { code: 'internal', message: 'test', step: 'processChunk', at: Date.now(), retrying: false } });
    });
    await until(() => !existsSync(partOf(uploadUrl)) && !existsSync(orphan));
    expect(t.runtime.db.prepare('SELECT COUNT(*) AS n FROM upload_sessions WHERE job_id = ?').get(jobId)).toEqual({ n: 0 });
    // A live job's part is left alone by the same sweeps.
    const live = chunk(12);
    const liveJob = await newJob('eve', [live]);
    const liveUrl = (await begin('eve', liveJob, live)).result.uploadUrl;
    expect(await putFirst(liveUrl, live, 300)).toBe(308);
    await t.runtime.uploads.sweep();
    expect(existsSync(partOf(liveUrl))).toBe(true);
    await call('eve', 'cancelBackup', { jobId: liveJob });
  });
});
