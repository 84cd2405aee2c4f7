/**
 * Idempotent SDK calls against the embedded server (issue 13 item 5): a transport that loses the
 * first answer of a call after the server has acted on it, as a dropped connection does. The SDK
 * retries with the key it made before the first attempt, so the retry finds what the first made:
 * one job, one schedule, and a cancel that answers success.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@lifeboat/engine/ports';
import { createToken } from '../../embedded/src/auth/tokens';
import { startEmbeddedRuntime, type EmbeddedRuntime } from '../../embedded/src/runtime';
import { createBackupClient, fetchHttp, type HttpPort, type HttpRequest } from '../src';

const SECRET = 'idempotent-calls';
let dir: string;
let runtime: EmbeddedRuntime;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lifeboat-idempotent-'));
  runtime = await startEmbeddedRuntime({ dataDir: join(dir, 'data'), port: 0, logger: silentLogger, tokenSecret: SECRET, schedulerIntervalMs: 0, gcAfterBackup: false });
});

afterAll(async () => {
  await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Forwards every request; the first answer to each named call is lost after the server acted. */
function losingFirstAnswerOf(...calls: string[]) {
  const inner = fetchHttp();
  const lost = new Set<string>();
  const sent: Array<{ call: string; data: Record<string, unknown> }> = [];
  const http: HttpPort = {
    async request(req: HttpRequest) {
      const call = calls.find((name) => req.url.endsWith(`/${name}`));
      const res = await inner.request(req);
      if (call) {
        sent.push({ call, data: (JSON.parse(new TextDecoder().decode(req.body)) as { data: Record<string, unknown> }).data });
        if (!lost.has(call)) {
          lost.add(call);
          throw new TypeError('fetch failed: the connection dropped before the answer');
        }
      }
      return res;
    },
  };
  return { http, sent };
}

function client(uid: string, http: HttpPort) {
  const token = createToken(SECRET, { uid });
  return createBackupClient({ baseUrl: runtime.url, getToken: () => token, deviceId: 'phone', http, sleep: async () => undefined });
}

async function jobsOf(uid: string) {
  return (await runtime.deps.store.listJobs({ uid, limit: 100 })).items;
}

describe('idempotent calls', () => {
  it('the first createBackupJob answer is lost: the retry returns the same job, and only one exists', async () => {
    const { http, sent } = losingFirstAnswerOf('createBackupJob');
    const c = client('ida', http);
    const contacts = Array.from({ length: 30 }, (_, i) => ({ id: `c${i}`, name: { display: `Name ${i}` } }));
    const started = await c.startBackup({ types: ['contacts'], options: { wifiOnly: false }, sources: { contacts } });
    // One key, made before the first attempt (the server stores the job under an id derived from
    // the user and the key).
    expect(sent).toHaveLength(2);
    expect(sent[0]?.data['jobId']).toEqual(expect.any(String));
    expect(sent[1]?.data['jobId']).toBe(sent[0]?.data['jobId']);
    const job = await c.waitForJob(started.jobId, { intervalMs: 10 });
    expect(job.status).toBe('completed');
    expect((await jobsOf('ida')).map((j) => j.id)).toEqual([started.jobId]);
  });

  it('the first setSchedule answer is lost: one schedule', async () => {
    const { http, sent } = losingFirstAnswerOf('setSchedule');
    const c = client('sam', http);
    const schedule = await c.setSchedule({ kind: 'nightly', types: ['contacts'], timeZone: 'Europe/London' });
    expect(sent).toHaveLength(2);
    expect(sent[0]?.data['scheduleId']).toEqual(expect.any(String));
    expect(sent[1]?.data['scheduleId']).toBe(sent[0]?.data['scheduleId']);
    expect((await c.listSchedules()).map((s) => s.id)).toEqual([schedule.id]);
  });

  it('the first cancelBackup answer is lost: the retry answers the cancelled job', async () => {
    const token = createToken(SECRET, { uid: 'cal' });
    const res = await fetch(`${runtime.url}/createBackupJob`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ data: { deviceId: 'phone', types: ['contacts'] } }),
    });
    const { result } = (await res.json()) as { result: { job: { id: string } } };
    const { http, sent } = losingFirstAnswerOf('cancelBackup');
    const job = await client('cal', http).cancelBackup(result.job.id);
    expect(sent).toHaveLength(2);
    expect(job).toMatchObject({ id: result.job.id, status: 'cancelled' });
  });
});
