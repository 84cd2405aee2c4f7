/**
 * Fair share of processing: a user's processChunk tasks beyond `perUser` running at once wait and
 * come back (new ids derived from the work), other users' tasks are not held, slots of dead
 * holders are taken over once expired, and only a slot's holder frees it.
 */
import { deferralDelaySeconds, slotKey, takeSlot } from '../../src/core/fair-share';
import { contactsChunk, createHarness, describeChunk, type Harness } from '../fakes/engine-harness';

async function uploadedJob(h: Harness, uid: string, chunks: number): Promise<string> {
  const bodies = Array.from({ length: chunks }, (_, i) => contactsChunk([`${uid}-${i}`]));
  const described = bodies.map((b) => describeChunk('contacts', b, 1));
  const { job } = await h.call('createBackupJob', uid, { deviceId: 'p', types: ['contacts'] });
  await h.call('registerChunks', uid, { jobId: job.id, chunks: described });
  for (const [i, b] of bodies.entries()) {
    const { uploadUrl } = await h.call('beginChunkUpload', uid, { jobId: job.id, chunkId: described[i]!.id });
    if (uploadUrl) await h.upload(uploadUrl, b);
  }
  await h.call('commitUpload', uid, { jobId: job.id, chunkCount: chunks });
  return job.id;
}

describe('fair share', () => {
  it('defers a user\'s tasks past their share, lets other users\' run, and completes every job', async () => {
    const h = createHarness();
    h.deps.fairShare = { perUser: 1, delaySeconds: 1, maxDelaySeconds: 8 };
    const big = await uploadedJob(h, 'big', 3);
    const small = await uploadedJob(h, 'small', 1);
    // Another task of big's holds its one slot.
    const holder = await takeSlot(h.deps, 'big', 'elsewhere#0', { perUser: 1 });
    expect(holder).not.toBeNull();
    // Run what is queued once (kickoffs, then the processing tasks), without the holder finishing.
    const processing = () => h.queue.pending.filter((t) => t.queue === 'processChunk');
    while (h.queue.pending.some((t) => t.queue === 'kickoff')) {
      const task = h.queue.pending.find((t) => t.queue === 'kickoff');
      h.queue.pending.splice(h.queue.pending.indexOf(task!), 1);
      await h.definitions.find((d) => d.name === 'kickoff')!.handler(task!.payload, { queue: 'kickoff', taskId: task!.id, retryCount: 0 });
    }
    const first = processing().map((t) => ({ ...t }));
    h.queue.pending.splice(0, h.queue.pending.length, ...h.queue.pending.filter((t) => t.queue !== 'processChunk'));
    for (const task of first) await h.definitions.find((d) => d.name === 'processChunk')!.handler(task.payload, { queue: 'processChunk', taskId: task.id, retryCount: 0 });
    // Small's chunk ran; big's three waited, each re-enqueued once with a derived id and a delay.
    expect((await h.store.chunkTotals(small)).processed.chunks).toBe(1);
    expect((await h.store.chunkTotals(big)).processed.chunks).toBe(0);
    const waiting = processing();
    expect(waiting).toHaveLength(3);
    expect(waiting.every((t) => t.id.endsWith('_w1') && t.payload['deferrals'] === 1 && t.delaySeconds >= 0.5 && t.delaySeconds <= 1.5)).toBe(true);
    expect(waiting.every((t) => t.payload['jobId'] === big)).toBe(true);
    // The holder finishes: big's tasks take the slot one at a time and the job completes.
    await holder?.release();
    await h.drain();
    expect((await h.store.getJob(big))?.status).toBe('completed');
    expect((await h.store.getJob(small))?.status).toBe('completed');
    expect(await h.blobs.exists(slotKey('big', 0))).toBe(false);
  });

  it('takes over a slot whose holder died once it expired, and frees only its own', async () => {
    const h = createHarness();
    const share = { perUser: 2, slotSeconds: 60 };
    const a = await takeSlot(h.deps, 'u', 'a', share);
    const b = await takeSlot(h.deps, 'u', 'b', share);
    expect([a?.key, b?.key]).toEqual([slotKey('u', 0), slotKey('u', 1)]);
    expect(await takeSlot(h.deps, 'u', 'c', share)).toBeNull();
    h.clock.advance(61_000);
    const c = await takeSlot(h.deps, 'u', 'c', share);
    expect(c?.key).toBe(slotKey('u', 0));
    // a's late release leaves c's slot alone.
    await a?.release();
    expect(await h.blobs.exists(slotKey('u', 0))).toBe(true);
    await c?.release();
    expect(await h.blobs.exists(slotKey('u', 0))).toBe(false);
  });

  it('waits longer each time, up to its ceiling', () => {
    const share = { perUser: 1, delaySeconds: 1, maxDelaySeconds: 30 };
    expect([1, 2, 3, 10].map((n) => deferralDelaySeconds(share, n, () => 0.5))).toEqual([1, 2, 4, 30]);
  });
});
