/**
 * The admin dashboard of the embedded runtime: the page, the admin API behind it (only for an
 * admin token), its views over real backups (job filters and paging past 50, a job's detail, users,
 * queues, snapshots, charts) and its actions (retry, cancel, re-verify, GC for a user, measure
 * storage, check and repair a user's repository in a queued task, delete a snapshot, delete all of
 * a user's data), each going through the engine as the owner's calls do.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { RestoreSink } from '@lifeboat/client-sdk';
import { blobKey, contentStoreOf, loadManifest } from '@lifeboat/engine/core';
import { createToken } from '../src/auth/tokens';
import { SqliteJobStore } from '../src/adapters/sqlite-job-store';
import { demoContacts, demoDeviceInfo } from '../src/demo-data';
import type { DashboardData } from '../src/server/dashboard';
import { makeJob } from '../../functions/test/conformance/fixtures';
import { adminCall, halfDoneBackup, RefusingBlobStore } from './helpers/admin-fixtures';
import { useTestRuntime } from './helpers/test-runtime';

let refusing: RefusingBlobStore | undefined;
const t = useTestRuntime('dashboard', { instrumentBlobs: (b) => (refusing = new RefusingBlobStore(b)) });
const admin = () => createToken(t.secret, { uid: 'ops-admin', admin: true });

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function data(token?: string): Promise<{ status: number; body: DashboardData & { error?: { message: string } } }> {
  const res = await fetch(`${t.runtime.url}/dashboard/data`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, body: (await res.json()) as DashboardData & { error?: { message: string } } };
}

describe('dashboard', () => {
  it('serves a page that holds no data, at /dashboard and /dashboard/', async () => {
    for (const path of ['/dashboard', '/dashboard/']) {
      const res = await fetch(`${t.runtime.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await res.text();
      expect(html).toContain('<title>Lifeboat dashboard</title>');
      expect(html).toContain("fetch(base + 'api/' + name");
      // Values reach the page as text, never as markup.
      expect(html).not.toContain('innerHTML');
      const script = /<script>([\s\S]*)<\/script>/.exec(html)?.[1] ?? '';
      expect(script.length).toBeGreaterThan(5000);
      expect(() => new Function(script)).not.toThrow();
    }
  });

  it('answers the admin API to an admin token only', async () => {
    expect((await adminCall(t.runtime.url, null, 'overview')).status).toBe(401);
    const asUser = await adminCall(t.runtime.url, t.token('alice'), 'overview');
    expect(asUser.status).toBe(403);
    expect(asUser.error?.message).toContain('lifeboat token --admin');
    expect((await adminCall(t.runtime.url, createToken('another-secret', { uid: 'x', admin: true }), 'overview')).status).toBe(403);
    expect((await adminCall(t.runtime.url, admin(), 'noSuchCall')).status).toBe(404);
    const bad = await adminCall(t.runtime.url, admin(), 'jobs', { status: 'exploded' });
    expect(bad.status).toBe(400);
    expect(bad.error?.details).toMatchObject({ code: 'invalid-argument' });
    expect((await adminCall(t.runtime.url, admin(), 'overview')).status).toBe(200);
  });

  it('shows backups, a running one with its progress, and filters and pages jobs past 50', async () => {
    const alice = t.client('alice');
    const done = await alice.startBackup({ types: ['contacts', 'deviceInfo'], sources: { contacts: demoContacts({ contacts: 50 }), deviceInfo: demoDeviceInfo() } });
    const completed = await alice.waitForJob(done.jobId, { intervalMs: 20 });
    expect(completed.status).toBe('completed');
    const running = await halfDoneBackup(t.runtime.url, t.token('bob'), 'bob-tablet', 3, 1);

    const views = await until('bob\'s chunk processed', async () => {
      const r = await adminCall(t.runtime.url, admin(), 'jobs', { uid: 'bob' });
      const v = r.result.jobs[0];
      return v?.job.progress.processedItems === 10 ? r.result.jobs : null;
    });
    expect(views[0]).toMatchObject({ job: { id: running, status: 'running', phase: 'uploading', progress: { processedItems: 10, totalItems: 30 } }, bar: { percent: 33, tone: 'active' }, attention: null });

    // 60 more jobs of carol's, written straight to the store (the engine never runs them).
    const store = new SqliteJobStore(t.runtime.db);
    for (let i = 0; i < 60; i++) {
      await store.createJob(makeJob({ id: `carol-job-${String(i).padStart(2, '0')}`, uid: 'carol', deviceId: i % 2 ? 'carol-a' : 'carol-b', types: i % 3 ? ['contacts'] : ['media'], status: i % 5 ? 'completed' : 'failed', phase: 'done', createdAt: 1_700_000_000_000 + i * 1000, updatedAt: 1_700_000_000_000 + i * 1000 }));
    }
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const r = await adminCall(t.runtime.url, admin(), 'jobs', { uid: 'carol', ...(cursor ? { cursor } : {}) });
      pages.push(r.result.jobs.map((v: { job: { id: string } }) => v.job.id));
      cursor = r.result.nextCursor;
    } while (cursor);
    expect(pages.map((p) => p.length)).toEqual([50, 10]);
    expect(pages.flat()[0]).toBe('carol-job-59');
    const failedMedia = await adminCall(t.runtime.url, admin(), 'jobs', { status: 'failed', type: 'media', deviceId: 'carol-b' });
    expect(failedMedia.result.jobs.map((v: { job: { id: string } }) => v.job.id)).toEqual(['carol-job-30', 'carol-job-00']);
    const window = await adminCall(t.runtime.url, admin(), 'jobs', { uid: 'carol', from: 1_700_000_000_000 + 10_000, to: 1_700_000_000_000 + 13_000 });
    expect(window.result.jobs.map((v: { job: { id: string } }) => v.job.id)).toEqual(['carol-job-12', 'carol-job-11', 'carol-job-10']);
    // A failed job's bar is red however far it got.
    expect(failedMedia.result.jobs[0].bar.tone).toBe('failed');

    const overview = await adminCall(t.runtime.url, admin(), 'overview');
    expect(overview.result.jobCounts).toMatchObject({ completed: 49, failed: 12, running: 1 });
    expect(overview.result.queues.queues.map((q: { name: string }) => q.name)).toEqual(expect.arrayContaining(['kickoff', 'processChunk', 'finalize']));

    // The job's detail: its timeline, steps from the queue's tasks, chunks by state, its snapshot.
    const detail = (await adminCall(t.runtime.url, admin(), 'job', { jobId: done.jobId })).result;
    expect(detail.timeline.map((e: { kind: string }) => e.kind)).toEqual(expect.arrayContaining(['created', 'started', 'finished']));
    expect(detail.steps.map((s: { step: string }) => s.step)).toEqual(expect.arrayContaining(['kickoff', 'processChunk', 'finalize']));
    expect(detail.snapshot).toMatchObject({ id: completed.snapshotId, totals: { items: 51 } });
    // Registration records go once the snapshot exists: the job's final progress holds the counts.
    expect(detail.chunks).toMatchObject({ byState: { processed: { chunks: 0 } }, page: [], note: expect.stringContaining('deleted') });
    expect(detail.job.progress.totalChunks).toBe(completed.progress.totalChunks);
    const runningDetail = (await adminCall(t.runtime.url, admin(), 'job', { jobId: running })).result;
    expect(runningDetail.chunks.byState).toMatchObject({ pending: { chunks: 2 }, processed: { chunks: 1, items: 10 } });
    expect(runningDetail.chunks.page).toHaveLength(3);
    expect((await adminCall(t.runtime.url, admin(), 'job', { jobId: 'no-such-job' })).status).toBe(404);

    // The older summary still answers, to admins only.
    expect((await data()).status).toBe(401);
    expect((await data(t.token('alice'))).status).toBe(403);
    expect((await data(admin())).body.jobs.length).toBe(50);
  });

  it('retries a failed job, which completes; cancels a running one', async () => {
    refusing?.refused.add('dave');
    const dave = t.client('dave');
    const started = await dave.startBackup({ types: ['contacts'], sources: { contacts: demoContacts({ contacts: 20 }) } });
    const failed = await dave.waitForJob(started.jobId, { intervalMs: 20 });
    expect(failed).toMatchObject({ status: 'failed', lastError: { code: 'permission-denied', retrying: false } });
    const listed = await adminCall(t.runtime.url, admin(), 'jobs', { status: 'failed', uid: 'dave' });
    expect(listed.result.jobs[0]).toMatchObject({ job: { id: started.jobId }, attention: { kind: 'failed' }, bar: { tone: 'failed' } });
    const detail = (await adminCall(t.runtime.url, admin(), 'job', { jobId: started.jobId })).result;
    expect(detail.timeline.find((e: { kind: string }) => e.kind === 'error')).toMatchObject({ bad: true, text: expect.stringContaining('retention policy forbids writes') });

    refusing?.refused.delete('dave');
    const retried = await adminCall(t.runtime.url, admin(), 'retryJob', { jobId: started.jobId });
    expect(retried.status).toBe(200);
    expect(retried.result.job.status).toBe('queued');
    const after = await dave.waitForJob(started.jobId, { intervalMs: 20 });
    expect(after).toMatchObject({ status: 'completed', progress: { processedItems: 20 } });
    // Only a failed job can be retried (the owner's rule).
    expect((await adminCall(t.runtime.url, admin(), 'retryJob', { jobId: started.jobId })).error?.details).toMatchObject({ code: 'failed-precondition' });

    const erin = await halfDoneBackup(t.runtime.url, t.token('erin'), 'erin-phone', 2, 0);
    const cancelled = await adminCall(t.runtime.url, admin(), 'cancelJob', { jobId: erin });
    expect(cancelled.result.job.status).toBe('cancelled');
  });

  it('lists users with their health and storage, re-verifies a snapshot, runs GC for a user and charts what happened', async () => {
    const users = (await adminCall(t.runtime.url, admin(), 'users', { limit: 100 })).result.users as Array<{ uid: string; health: string; snapshots: number; storage: unknown }>;
    expect(users.map((u) => u.uid)).toEqual(['alice', 'bob', 'carol', 'dave', 'erin']);
    expect(users.find((u) => u.uid === 'alice')).toMatchObject({ health: 'ok', snapshots: 1, storage: null });
    expect(users.find((u) => u.uid === 'carol')).toMatchObject({ health: 'stale' });
    expect(users.find((u) => u.uid === 'bob')).toMatchObject({ health: 'never-backed-up', activeJobs: 1 });

    const measured = await adminCall(t.runtime.url, admin(), 'measureStorage', { uid: 'alice' });
    expect(measured.result.storage.blobs).toBeGreaterThan(0);
    const alice = (await adminCall(t.runtime.url, admin(), 'user', { uid: 'alice' })).result;
    expect(alice).toMatchObject({ uid: 'alice', storage: measured.result.storage, snapshots: 1, quotas: { storedBytes: null } });
    const snapshotId = alice.recentSnapshots[0].id as string;

    const verified = await adminCall(t.runtime.url, admin(), 'verifySnapshot', { snapshotId });
    expect(verified.result.report).toMatchObject({ ok: true });
    const snaps = await adminCall(t.runtime.url, admin(), 'snapshots', { uid: 'alice' });
    expect(snaps.result.items[0]).toMatchObject({ id: snapshotId, health: { ok: true } });

    const gc = await adminCall(t.runtime.url, admin(), 'collectGarbage', { uid: 'alice', graceHours: 0 });
    expect(gc.result.report).toMatchObject({ uid: 'alice', status: 'done', deletedBlobs: 0 });
    // GC deletes nothing a snapshot needs: it still verifies.
    expect((await adminCall(t.runtime.url, admin(), 'verifySnapshot', { snapshotId })).result.report.ok).toBe(true);

    const charts = (await adminCall(t.runtime.url, admin(), 'charts')).result;
    expect(charts.jobsPerHour).toHaveLength(48);
    const lastHours = charts.jobsPerHour.slice(-2).reduce((n: Record<string, number>, h: Record<string, number>) => ({ completed: n['completed']! + h['completed']!, cancelled: n['cancelled']! + h['cancelled']! }), { completed: 0, cancelled: 0 });
    expect(lastHours).toEqual({ completed: 2, cancelled: 1 });
    expect(charts.bytesPerDay.at(-1).uploaded).toBeGreaterThan(0);
    expect(charts.durationPerDay.at(-1)).toMatchObject({ count: 2, p50: expect.any(Number), p95: expect.any(Number) });

    await t.runtime.admin.admin.recordQueueSample({ at: Date.now(), queues: { processChunk: { depth: 3, running: 1 } } });
    const queues = (await adminCall(t.runtime.url, admin(), 'queues')).result;
    expect(queues.samples.at(-1)).toMatchObject({ queues: { processChunk: { depth: 3, running: 1 } } });
  });

  it('checks a user\'s repository in a queued task, shows the record, and a repair lets the next backup heal', async () => {
    const gwen = t.client('gwen');
    const sources = { contacts: demoContacts({ contacts: 30, seed: 5 }), deviceInfo: demoDeviceInfo() };
    const backUp = async () => gwen.waitForJob((await gwen.startBackup({ types: ['contacts', 'deviceInfo'], sources })).jobId, { intervalMs: 20 });
    const first = await backUp();
    expect(first.status).toBe('completed');
    /** Asks for a check and waits for its record to say done. */
    const checked = async (repair: boolean) => {
      const asked = await adminCall(t.runtime.url, admin(), 'checkUser', { uid: 'gwen', repair });
      expect(asked.result).toMatchObject({ started: true, record: { uid: 'gwen', status: 'queued', repair, actor: 'ops-admin' } });
      return until('the check to finish', async () => {
        const u = (await adminCall(t.runtime.url, admin(), 'user', { uid: 'gwen' })).result;
        return u.check?.requestedAt === asked.result.record.requestedAt && u.check.status === 'done' ? u : null;
      });
    };
    expect((await checked(false)).check.result).toMatchObject({ ok: true, problemCount: 0, snapshots: 1 });

    // The contacts' pack lost from disk: found, named with what it breaks; nothing changed.
    const snapshot = await gwen.getSnapshot(first.snapshotId as string);
    const items = (await loadManifest(contentStoreOf(t.runtime.deps), snapshot)).items;
    const pack = items.find((i) => i.type === 'contacts')?.blob as string;
    await t.runtime.deps.blobs.delete(blobKey('gwen', pack));
    const found = await checked(false);
    expect(found).toMatchObject({ health: 'problems', healthReason: expect.stringContaining('last check found 1 problem') });
    expect(found.check.result).toMatchObject({ ok: false, problemCount: 1, remaining: 1, byKind: { 'missing-blob': 1 }, repair: null });
    expect(found.check.result.problems[0]).toMatchObject({ kind: 'missing-blob', ref: pack, snapshots: [snapshot.id], itemCount: items.filter((i) => i.blob === pack).length, indexEntryCount: 1 });
    const listed = (await adminCall(t.runtime.url, admin(), 'users', { limit: 100 })).result.users.find((u: { uid: string }) => u.uid === 'gwen');
    expect(listed.check).toMatchObject({ status: 'done', result: { remaining: 1 } });

    const repaired = await checked(true);
    expect(repaired.check.result.repair).toMatchObject({ droppedIndexEntries: 1, markedSnapshots: 1, stoppedEarly: false });
    // The next backup sends the contacts again (their index entry is gone), and a check is clean.
    const second = await backUp();
    expect([second.status, second.lastError?.message]).toEqual(['completed', undefined]);
    expect((await checked(false)).check.result).toMatchObject({ ok: true, problemCount: 0, snapshots: 2 });
  });

  it('deletes a snapshot, which can no longer be listed or restored, then all of a user\'s data, leaving only the settling record', async () => {
    const ivan = t.client('ivan');
    const backUp = async (contacts: number) => ivan.waitForJob((await ivan.startBackup({ types: ['contacts'], sources: { contacts: demoContacts({ contacts, seed: contacts }) } })).jobId, { intervalMs: 20 });
    const older = (await backUp(10)).snapshotId as string;
    const newer = (await backUp(12)).snapshotId as string;
    await ivan.setSchedule({ kind: 'nightly', types: ['contacts'], timeZone: 'UTC' });
    const listed = async () => { const ids: string[] = []; for await (const s of ivan.listSnapshots()) ids.push(s.id); return ids; };
    expect(await listed()).toEqual([newer, older]);
    const others = ofOthers();

    expect((await adminCall(t.runtime.url, t.token('ivan'), 'deleteSnapshot', { snapshotId: older })).status).toBe(403);
    expect((await adminCall(t.runtime.url, admin(), 'deleteSnapshot', { snapshotId: 'no-such-snapshot' })).status).toBe(404);
    const deleted = await adminCall(t.runtime.url, admin(), 'deleteSnapshot', { snapshotId: older });
    expect(deleted.result.deletion).toMatchObject({ snapshotId: older, deleted: true, gc: { status: 'done' } });
    expect(await listed()).toEqual([newer]);
    await expect(ivan.restore({ snapshotId: older, sink: {} as RestoreSink })).rejects.toMatchObject({ code: 'backup/not-found' });
    expect((await adminCall(t.runtime.url, admin(), 'verifySnapshot', { snapshotId: newer })).result.report).toMatchObject({ ok: true });

    const unconfirmed = await adminCall(t.runtime.url, admin(), 'deleteUserData', { uid: 'ivan' });
    expect([unconfirmed.status, unconfirmed.error?.details['code']]).toEqual([400, 'invalid-argument']);
    expect(ofUser('ivan').length).toBeGreaterThan(5);
    const report = (await adminCall(t.runtime.url, admin(), 'deleteUserData', { uid: 'ivan', confirm: true })).result.deletion;
    // Deletions settle for 10 minutes by default: everything is gone and unreadable, the record refuses new data meanwhile.
    expect(report).toMatchObject({ uid: 'ivan', status: 'reclaimed', reason: 'admin', removed: { jobsCancelled: 0 } });
    expect(report.removed.documents).toBeGreaterThanOrEqual(1 + 1 + 2);
    expect(ofUser('ivan').map((line) => line.replace(/ .*/, ''))).toEqual(['blobs/objects/deletions/ivan', 'blobs/objects/keys/ivan/data-key']);
    expect(ofOthers()).toEqual(others);
    await expect(ivan.startBackup({ types: ['contacts'], sources: { contacts: demoContacts({ contacts: 1 }) } })).rejects.toMatchObject({ code: 'backup/failed-precondition' });
    expect((await adminCall(t.runtime.url, admin(), 'verifySnapshot', { snapshotId: (await adminCall(t.runtime.url, admin(), 'snapshots', { uid: 'alice' })).result.items[0].id })).result.report).toMatchObject({ ok: true });
  });
});

/** Every SQLite row (as JSON) and every object path of the data folder that names `uid`. */
function ofUser(uid: string): string[] {
  return allStored().filter((line) => line.includes(uid));
}
function ofOthers(): string[] {
  return allStored().filter((line) => !line.includes('ivan') && !/^(tasks|task_workers|queue_samples|job_store_revision):/.test(line));
}
function allStored(): string[] {
  const out: string[] = [];
  const db = t.runtime.db;
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
  for (const { name } of tables) for (const row of db.prepare(`SELECT * FROM "${name}"`).all()) out.push(`${name}: ${JSON.stringify(row)}`);
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(t.dataDir, path));
    }
  };
  walk(t.dataDir);
  return out;
}
