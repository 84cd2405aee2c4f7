/**
 * Re-wrapping every data key after a master key rotation, fanned out as tasks (issue 12): one
 * `rewrapKeys` task per page of users, so a deployment with a million users is done by the task
 * functions in parallel rather than by one process. The run is planned by listing `keys/` (one
 * listing call per 1000 keys) and enqueueing each page with an id derived from the run and the
 * page; each task re-wraps its page's keys (`WrappedKeyRing.rewrap`, idempotent: a key already
 * under the current master key is left alone, so a retried or repeated page costs reads only)
 * and then records a marker, `admin/rewrap/{runId}/{page}`, with its counts. Progress is the
 * markers' sum; a run whose tasks were lost is finished by running it again (or a new run: it
 * re-wraps only what is left).
 */
import { z } from 'zod';
import type { BlobStore, CallOptions, KeyRing, TaskQueue } from '../../ports';
import { lifeboatError } from '../errors';
import { encodeStoredJson, readStoredJson } from '../stored-json';
import { uidOfDataKey } from './wrapped-key-ring';

/** Users per task: each is a read and maybe a write of a small object, far inside a task's deadline. */
export const REWRAP_PAGE_SIZE = 100;

export const RewrapPagePayload = z.strictObject({
  runId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/),
  page: z.number().int().nonnegative(),
  uids: z.array(z.string().min(1).max(128)).min(1).max(1000),
});
export type RewrapPagePayload = z.infer<typeof RewrapPagePayload>;

export const RewrapPageResult = z.object({
  page: z.number().int().nonnegative(),
  users: z.number().int().nonnegative(),
  rewrapped: z.number().int().nonnegative(),
  alreadyCurrent: z.number().int().nonnegative(),
  /** Keys gone since the run listed them (a user deleted). */
  absent: z.number().int().nonnegative(),
  masterKey: z.string(),
  at: z.number().int(),
});
export type RewrapPageResult = z.infer<typeof RewrapPageResult>;

export interface RewrapPlan {
  runId: string;
  pages: number;
  users: number;
  enqueued: number;
}

export interface RewrapProgress {
  runId: string;
  pages: number;
  donePages: number;
  users: number;
  rewrapped: number;
  alreadyCurrent: number;
  absent: number;
  /** The master keys the pages wrapped under (one, unless the key changed during the run). */
  masterKeys: string[];
}

const MARKERS = 'admin/rewrap/';

function markerKey(runId: string, page: number): string {
  return `${MARKERS}${runId}/${String(page).padStart(8, '0')}`;
}

/** A run id a new run can take: the time, so runs sort by when they started. */
export function newRewrapRunId(now: number): string {
  return `rw-${now}`;
}

/**
 * Lists every data key and enqueues one `rewrapKeys` task per page of `pageSize` users, each
 * with the id `rewrap_{runId}_{page}` (a repeated plan of the same run enqueues nothing new).
 */
export async function planRewrap(deps: { blobs: BlobStore; queue: TaskQueue }, runId: string, options: CallOptions & { pageSize?: number } = {}): Promise<RewrapPlan> {
  RewrapPagePayload.shape.runId.parse(runId);
  const pageSize = options.pageSize ?? REWRAP_PAGE_SIZE;
  const plan: RewrapPlan = { runId, pages: 0, users: 0, enqueued: 0 };
  let uids: string[] = [];
  const flush = async () => {
    if (uids.length === 0) return;
    const payload: RewrapPagePayload = { runId, page: plan.pages, uids };
    const { enqueued } = await deps.queue.enqueue('rewrapKeys', payload, { id: `rewrap_${runId}_${plan.pages}`, ...(options.signal ? { signal: options.signal } : {}) });
    if (enqueued) plan.enqueued += 1;
    plan.pages += 1;
    uids = [];
  };
  for await (const info of deps.blobs.list('keys/', options)) {
    const uid = uidOfDataKey(info.key);
    if (uid === null) continue;
    uids.push(uid);
    plan.users += 1;
    if (uids.length === pageSize) await flush();
  }
  await flush();
  return plan;
}

/** One task: re-wraps its page's keys under the current master key, then records the page done. */
export async function rewrapPage(deps: { blobs: BlobStore; keyRing?: KeyRing; clock: { now(): number } }, payload: RewrapPagePayload, options: CallOptions = {}): Promise<RewrapPageResult> {
  const ring = deps.keyRing;
  const rewrap = ring?.rewrap?.bind(ring);
  if (!rewrap || ring?.currentKeyId === undefined) throw lifeboatError('failed-precondition', 'this runtime has no master key ring: nothing to re-wrap', { retryable: false });
  const result: RewrapPageResult = { page: payload.page, users: payload.uids.length, rewrapped: 0, alreadyCurrent: 0, absent: 0, masterKey: ring.currentKeyId, at: 0 };
  for (const uid of payload.uids) {
    const outcome = await rewrap(uid, options);
    if (outcome === 'rewrapped') result.rewrapped += 1;
    else if (outcome === 'current') result.alreadyCurrent += 1;
    else result.absent += 1;
  }
  result.at = deps.clock.now();
  await deps.blobs.put(markerKey(payload.runId, payload.page), encodeStoredJson(result), options);
  return result;
}

/** The pages of a run done so far, summed. `pages` is what the plan enqueued. */
export async function rewrapProgress(blobs: BlobStore, runId: string, pages: number, options: CallOptions = {}): Promise<RewrapProgress> {
  const progress: RewrapProgress = { runId, pages, donePages: 0, users: 0, rewrapped: 0, alreadyCurrent: 0, absent: 0, masterKeys: [] };
  for await (const info of blobs.list(`${MARKERS}${runId}/`, options)) {
    const page = await readStoredJson(blobs, info.key, RewrapPageResult, `rewrap marker ${info.key} is invalid`, options);
    if (!page) continue;
    progress.donePages += 1;
    progress.users += page.users;
    progress.rewrapped += page.rewrapped;
    progress.alreadyCurrent += page.alreadyCurrent;
    progress.absent += page.absent;
    if (!progress.masterKeys.includes(page.masterKey)) progress.masterKeys.push(page.masterKey);
  }
  return progress;
}
