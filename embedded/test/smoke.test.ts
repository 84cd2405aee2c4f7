/**
 * `lifeboat smoke` against the embedded server, which speaks the deployed API (callables,
 * resumable uploads, downloads): every step passes and leaves what it says (the snapshot deleted,
 * a cancelled job, the user's retention policy untouched), and a run that
 * cannot get in stops at its first step with the reason and exit 1.
 */
import { smokeCommand, type SmokeReport } from '../src/cli/smoke-command';
import { useTestRuntime } from './helpers/test-runtime';

const t = useTestRuntime('smoke');

describe('lifeboat smoke', () => {
  it('backs up, verifies, restores and deletes through the API, printing each step', async () => {
    const uid = 'smoke-user';
    // A policy of the user's own, which the run must leave alone.
    await t.client(uid).setRetentionPolicy({ keepLast: 7 });
    const result = await smokeCommand({ positionals: [], values: { 'base-url': `${t.runtime.url}/` } }, { mintToken: () => t.token(uid) });
    const report = result.data as SmokeReport;
    expect(report.steps.map((s) => [s.step, s.ok])).toEqual([
      ['backup', true],
      ['verify', true],
      ['restore', true],
      ['delete', true],
      ['cancel', true],
    ]);
    expect(result.exitCode).toBe(0);
    expect(report.baseUrl).toBe(t.runtime.url);
    expect(report.steps[2]?.detail).toMatch(/^12 item\(s\) restored .*every contact as it was backed up$/);

    // What the steps say happened, seen from the server.
    const jobs = (await t.runtime.deps.store.listJobs({ uid, limit: 10 })).items;
    expect(jobs.map((j) => j.status).sort()).toEqual(['cancelled', 'completed']);
    const snapshots = (await t.runtime.deps.store.listSnapshots({ uid, limit: 10 })).items;
    expect(snapshots).toEqual([]);
    const backedUp = jobs.find((j) => j.status === 'completed');
    expect(await t.runtime.deps.store.getSnapshot(backedUp?.snapshotId ?? '')).toBeNull();
    expect(await t.client(uid).getRetentionPolicy()).toMatchObject({ isDefault: false, policy: { keepLast: 7 } });

    expect(result.text).toMatch(/^lifeboat smoke: http:\/\/127\.0\.0\.1:\d+ \(device lifeboat-smoke-\d+\)\n/);
    expect(result.text).toMatch(/\n {2}4 delete {3}ok {3}snapshot \S+ deleted and no longer found; garbage collection \w+: .* \(\d+\.\d s\)\n/);
    expect(result.text).toMatch(/\nsmoke: ok, 5 steps in \d+\.\d s\n$/);
  });

  it('stops at the first step that fails, with the reason, and exits 1', async () => {
    const result = await smokeCommand({ positionals: [], values: { 'base-url': t.runtime.url, token: 'not-a-token' } });
    const report = result.data as SmokeReport;
    expect(report.ok).toBe(false);
    expect(report.steps).toEqual([expect.objectContaining({ step: 'backup', ok: false, detail: expect.stringContaining('unauthenticated') })]);
    expect(result.exitCode).toBe(1);
    expect(result.text).toMatch(/\nsmoke: FAILED at backup\n$/);
  });

  it('needs a token when none can be minted', async () => {
    await expect(smokeCommand({ positionals: [], values: { 'base-url': t.runtime.url } })).rejects.toMatchObject({ code: 'invalid-argument', message: expect.stringContaining('--token') });
  });
});
