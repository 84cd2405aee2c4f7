/**
 * The admin dashboard of the embedded runtime: a static page, and its data (every user's recent
 * jobs and snapshots, the task queue) only for an admin token.
 */
import { createToken } from '../src/auth/tokens';
import { demoContacts, demoDeviceInfo } from '../src/demo-data';
import type { DashboardData } from '../src/server/dashboard';
import { useTestRuntime } from './helpers/test-runtime';

const t = useTestRuntime('dashboard');

async function data(token?: string): Promise<{ status: number; body: DashboardData & { error?: { message: string } } }> {
  const res = await fetch(`${t.runtime.url}/dashboard/data`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, body: (await res.json()) as DashboardData & { error?: { message: string } } };
}

describe('dashboard', () => {
  it('serves a page that holds no data', async () => {
    const res = await fetch(`${t.runtime.url}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('<title>Lifeboat dashboard</title>');
    expect(html).toContain("fetch('/dashboard/data'");
    // Values reach the page as text, never as markup.
    expect(html).not.toContain('innerHTML');
    // The page's script at least compiles (no browser here to run it).
    const script = /<script>([\s\S]*)<\/script>/.exec(html)?.[1] ?? '';
    expect(script.length).toBeGreaterThan(1000);
    expect(() => new Function(script)).not.toThrow();
  });

  it('shows every user\'s jobs, snapshots and the queue to an admin token only', async () => {
    const alice = t.client('alice');
    const done = await alice.startBackup({ types: ['contacts', 'deviceInfo'], sources: { contacts: demoContacts({ contacts: 50 }), deviceInfo: demoDeviceInfo() } });
    const completed = await alice.waitForJob(done.jobId, { intervalMs: 20 });
    const bob = t.client('bob', { deviceId: '<b>bob-phone</b>' });
    const started = await bob.startBackup({ types: ['deviceInfo'], sources: { deviceInfo: demoDeviceInfo() } });
    await bob.waitForJob(started.jobId, { intervalMs: 20 });

    expect((await data()).status).toBe(401);
    const asUser = await data(t.token('alice'));
    expect(asUser.status).toBe(403);
    expect(asUser.body.error?.message).toContain('lifeboat token --admin');
    const forged = createToken('another-secret', { uid: 'x', admin: true });
    expect((await data(forged)).status).toBe(403);

    const admin = createToken(t.secret, { uid: 'lifeboat-admin', admin: true });
    // Finalize tasks still clean up (raw uploads, retention, GC) after their job completes.
    let { status, body } = await data(admin);
    for (let i = 0; i < 200 && body.queue.running > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      ({ status, body } = await data(admin));
    }
    expect(status).toBe(200);
    expect(body.jobCounts).toEqual({ completed: 2 });
    expect(body.jobs.map((j) => [j.uid, j.deviceId, j.status])).toEqual([
      ['bob', '<b>bob-phone</b>', 'completed'],
      ['alice', 'alice-phone', 'completed'],
    ]);
    expect(body.jobs[1]).toMatchObject({ id: done.jobId, snapshotId: completed.snapshotId, progress: { processedItems: 51, totalItems: 51 }, lastError: null });
    expect(body.snapshots.map((s) => s.uid)).toEqual(['bob', 'alice']);
    expect(body.snapshots[1]).toMatchObject({ id: completed.snapshotId, totals: { items: 51 }, health: null });
    expect(body.queue).toMatchObject({ due: 0, running: 0, dropped: [] });
    expect(body.queue.done).toBeGreaterThan(0);

    // Verifying shows on the snapshot's health.
    await alice.verifySnapshot(completed.snapshotId as string);
    expect((await data(admin)).body.snapshots[1]?.health).toMatchObject({ ok: true });
  });
});
