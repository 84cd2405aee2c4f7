/**
 * What the dashboard and admin tests need around the embedded runtime: the admin API called as
 * the page calls it, a blob store that refuses one user's content writes for good (so a job fails
 * and a retry completes once the refusal is lifted), and a backup left part way through its upload
 * (a job the dashboard shows running with progress).
 */
import { createHash } from 'node:crypto';
import { lifeboatError } from '@lifeboat/engine/core';
import type { BlobInfo, BlobStore, CallOptions, GetOptions, PutOptions, PutResult } from '@lifeboat/engine/ports';

export async function adminCall<T = any>(url: string, token: string | null, name: string, data: unknown = {}): Promise<{ status: number; result: T; error?: { status: string; message: string; details: Record<string, unknown> } }> {
  const res = await fetch(`${url}/dashboard/api/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ data }),
  });
  const body = (await res.json()) as { result: T; error?: { status: string; message: string; details: Record<string, unknown> } };
  return { status: res.status, result: body.result, ...(body.error ? { error: body.error } : {}) };
}

/** A BlobStore that refuses, permanently, content-blob writes of the users in `refused`. */
export class RefusingBlobStore implements BlobStore {
  readonly refused = new Set<string>();

  constructor(private readonly inner: BlobStore) {}

  async put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult> {
    const uid = /^users\/([^/]+)\/blobs\//.exec(key)?.[1];
    if (uid && this.refused.has(uid)) {
      if (!(body instanceof Uint8Array)) for await (const _ of body) break;
      throw lifeboatError('permission-denied', `the store refused to write ${key}: the bucket's retention policy forbids writes to this user's folder (a test fault, lifted when the test says so)`, { retryable: false });
    }
    return this.inner.put(key, body, options);
  }

  get(key: string, options?: GetOptions): Promise<AsyncIterable<Uint8Array>> {
    return this.inner.get(key, options);
  }

  stat(key: string, options?: CallOptions): Promise<BlobInfo | null> {
    return this.inner.stat(key, options);
  }

  exists(key: string, options?: CallOptions): Promise<boolean> {
    return this.inner.exists(key, options);
  }

  delete(key: string, options?: CallOptions): Promise<void> {
    return this.inner.delete(key, options);
  }

  list(prefix: string, options?: CallOptions): AsyncIterable<BlobInfo> {
    return this.inner.list(prefix, options);
  }
}

async function call<T = any>(url: string, token: string, name: string, data: unknown): Promise<T> {
  const res = await fetch(`${url}/${name}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ data }) });
  const body = (await res.json()) as { result: T; error?: { message: string } };
  if (!res.ok) throw new Error(`${name}: ${body.error?.message ?? res.status}`);
  return body.result;
}

function contacts(ids: string[]): Uint8Array {
  return new TextEncoder().encode(ids.map((id) => JSON.stringify({ id, name: { display: `Name ${id}` } })).join('\n') + '\n');
}

/**
 * A contacts backup that registers `chunks` chunks of 10 contacts and uploads only `uploaded` of
 * them, through the callable API and the upload endpoint as a device would, then stops: the job
 * stays running, its progress part way.
 */
export async function halfDoneBackup(url: string, token: string, deviceId: string, chunks: number, uploaded: number): Promise<string> {
  return (await partialBackup(url, token, deviceId, chunks, uploaded)).jobId;
}

/** {@link halfDoneBackup}, with a way to upload the next chunk later (the device carrying on). */
export async function partialBackup(url: string, token: string, deviceId: string, chunks: number, uploaded: number): Promise<{ jobId: string; uploadNext(): Promise<void> }> {
  const { job } = await call<{ job: { id: string } }>(url, token, 'createBackupJob', { deviceId, types: ['contacts'] });
  const bodies = Array.from({ length: chunks }, (_, c) => contacts(Array.from({ length: 10 }, (_, i) => `${deviceId}-c${c}-${i}`)));
  const described = bodies.map((b) => ({ id: createHash('sha256').update(b).digest('hex'), type: 'contacts', size: b.byteLength, items: 10 }));
  await call(url, token, 'registerChunks', { jobId: job.id, chunks: described });
  let next = 0;
  const uploadNext = async (): Promise<void> => {
    const body = bodies[next];
    if (!body) throw new Error('every chunk is uploaded');
    const { uploadUrl } = await call<{ uploadUrl: string }>(url, token, 'beginChunkUpload', { jobId: job.id, chunkId: described[next]?.id });
    next += 1;
    const res = await fetch(uploadUrl, { method: 'PUT', headers: { 'content-range': `bytes 0-${body.byteLength - 1}/${body.byteLength}` }, body: Buffer.from(body) });
    if (res.status !== 200) throw new Error(`upload answered ${res.status}`);
  };
  for (let i = 0; i < uploaded; i++) await uploadNext();
  return { jobId: job.id, uploadNext };
}
