/**
 * The device side of the offline emulator test, run by `firebase emulators:exec` (see
 * offline-emulators.test.ts). The functions run in the emulator codebase (embedded/emulator) over
 * the data folder this process shares with them; this process plays what the missing emulators
 * would do:
 * - Cloud Storage: it serves the resumable upload sessions the functions hand out, and POSTs the
 *   `object.finalized` CloudEvent to onChunkObjectFinalized when an upload completes (the upload
 *   host `npm run emulators` uses, embedded/src/emulator/upload-host.ts);
 * - Firestore: it POSTs the `document.created` CloudEvent of each new job to onBackupJobCreated;
 * - time: it moves a schedule's next run into the past before POSTing the scheduler's request.
 * Everything else is real: auth emulator tokens, the callables, the tasks emulator's dispatch and
 * retries, the SDK. It writes what it saw to RESULT_FILE and exits non-zero on a failure.
 */
'use strict';
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..', '..', '..');
const { createBackupClient, fetchHttp } = require(join(ROOT, 'client-sdk/lib/node/index.js'));
const { openDatabase, SqliteJobStore } = require(join(ROOT, 'embedded/lib/adapters/index.js'));
const { ensureDataDir } = require(join(ROOT, 'embedded/lib/data-dir.js'));
// Cloud Storage's part, as `npm run emulators` plays it: sessions served, object.finalized posted.
const { startUploadHost } = require(join(ROOT, 'embedded/lib/emulator/upload-host.js'));

// The test runs each suite under a project id of its own (offline-emulators.test.ts).
const PROJECT = process.env.LIFEBOAT_EMULATOR_PROJECT || process.env.GCLOUD_PROJECT || 'demo-lifeboat';
const REGION = 'us-central1';
// Lifeboat's own space (functions/.env): the uploads bucket the storage trigger watches, the named database.
const UPLOADS_BUCKET = 'demo-lifeboat-uploads';
const DATABASE = 'lifeboat';
// The test names the ports it chose (emulators:exec does not pass the functions emulator's on).
const FUNCTIONS_HOST = process.env.LIFEBOAT_EMULATOR_FUNCTIONS_HOST || process.env.FUNCTIONS_EMULATOR_HOST || '127.0.0.1:5001';
const AUTH_HOST = process.env.LIFEBOAT_EMULATOR_AUTH_HOST || process.env.FIREBASE_AUTH_EMULATOR_HOST || '127.0.0.1:9099';
const API = `http://${FUNCTIONS_HOST}/${PROJECT}/${REGION}`;
const TRIGGER = (name) => `http://${FUNCTIONS_HOST}/functions/projects/${PROJECT}/triggers/${REGION}-${name}-0`;
const started = Date.now();
const events = [];
const log = (what, extra = {}) => {
  const entry = { t: Date.now() - started, what, ...extra };
  events.push(entry);
  process.stdout.write(`[scenario +${(entry.t / 1000).toFixed(1)}s] ${what} ${JSON.stringify(extra)}\n`);
};

async function postJson(url, body, headers = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${text.slice(0, 500)}`);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A JSON value as a Firestore REST `Value`, as a document.created CloudEvent carries it. */
function firestoreValue(value) {
  if (value === null || value === undefined) return { nullValue: null };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { booleanValue: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { integerValue: String(value) } : { doubleValue: value };
  if (Array.isArray(value)) return { arrayValue: { values: value.map(firestoreValue) } };
  return { mapValue: { fields: firestoreFields(value) } };
}
function firestoreFields(object) {
  const fields = {};
  for (const [k, v] of Object.entries(object)) if (v !== undefined) fields[k] = firestoreValue(v);
  return fields;
}

function cloudEvent(type, source, subject, data) {
  return {
    specversion: '1.0',
    id: `${type}-${subject}-${Date.now()}`,
    type,
    source,
    subject,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data,
  };
}

async function jobCreatedEvent(job) {
  const now = new Date().toISOString();
  const document = `backupJobs/${job.id}`;
  const event = cloudEvent(
    'google.cloud.firestore.document.v1.created',
    `//firestore.googleapis.com/projects/${PROJECT}/databases/${DATABASE}`,
    `documents/${document}`,
    { value: { name: `projects/${PROJECT}/databases/${DATABASE}/documents/${document}`, fields: firestoreFields(job), createTime: now, updateTime: now } },
  );
  Object.assign(event, { document, database: DATABASE, namespace: '(default)', project: PROJECT, location: REGION });
  await postJson(TRIGGER('onBackupJobCreated'), event);
  log('posted document.created to onBackupJobCreated', { jobId: job.id });
}

async function signIn() {
  const url = `http://${AUTH_HOST}/identitytoolkit.googleapis.com/v1/accounts:signUp?key=fake-api-key`;
  const account = await postJson(url, { email: `device-${Date.now()}@example.com`, password: 'not-a-secret-1', returnSecureToken: true });
  return { uid: account.localId, token: account.idToken };
}

async function callApi(name, token, data) {
  const body = await postJson(`${API}/${name}`, { data }, { authorization: `Bearer ${token}` });
  return body.result;
}

async function waitForJob(client, jobId, timeline) {
  for (let i = 0; i < 600; i++) {
    const job = await client.getJob(jobId);
    const last = timeline[timeline.length - 1];
    const state = { t: Date.now() - started, status: job.status, phase: job.phase, lastError: job.lastError ? { code: job.lastError.code, step: job.lastError.step, retrying: job.lastError.retrying } : null };
    if (!last || JSON.stringify({ ...last, t: 0 }) !== JSON.stringify({ ...state, t: 0 })) {
      timeline.push(state);
      log('job state', state);
    }
    if (['completed', 'failed', 'cancelled'].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`job ${jobId} did not finish`);
}

const contacts = Array.from({ length: 400 }, (_, i) => ({
  id: `c${String(i).padStart(4, '0')}`,
  name: { display: `Contact ${i}` },
  phones: [{ label: 'mobile', number: `+44 20 790${String(i).padStart(5, '0')}` }],
  note: 'emulator '.repeat(40),
}));

async function main() {
  const paths = ensureDataDir(process.env.LIFEBOAT_DATA_DIR);
  const db = openDatabase(paths.database);
  const uploadServer = await startUploadHost({
    dataDir: paths.root,
    port: Number(process.env.LIFEBOAT_UPLOAD_PORT),
    functionsHost: FUNCTIONS_HOST,
    project: PROJECT,
    region: REGION,
    bucket: UPLOADS_BUCKET,
    logger: { info: () => {}, warn: (m) => log(m), error: (m) => log(m) },
  });
  const result = { events };
  try {
    const { uid, token } = await signIn();
    log('signed in with the auth emulator', { uid });

    // Firestore's part: every job the API creates raises document.created.
    const base = fetchHttp();
    const httpPort = {
      async request(req) {
        const res = await base.request(req);
        if (req.url === `${API}/createBackupJob` && res.status === 200) {
          const { result: created } = JSON.parse(Buffer.from(res.body).toString('utf8'));
          await jobCreatedEvent(created.job);
        }
        return res;
      },
    };
    const client = createBackupClient({ baseUrl: API, getToken: () => token, deviceId: 'emulator-phone', http: httpPort, maxChunkBytes: 64 * 1024, parallelUploads: 2 });

    const backup = await client.startBackup({ types: ['contacts'], options: { wifiOnly: false }, sources: { contacts } });
    log('device uploaded and committed', { jobId: backup.jobId, chunks: backup.chunks, bytesTotal: backup.bytesTotal });
    const timeline = [];
    const job = await waitForJob(client, backup.jobId, timeline);
    const verify = await callApi('verifySnapshot', token, { snapshotId: job.snapshotId });
    log('verified', { ok: verify.report ? verify.report.ok : verify.ok });
    Object.assign(result, { uid, jobId: job.id, chunks: backup.chunks, job, timeline, verify });

    // Restore through the restore plan and the downloadBlob function's signed links.
    const restored = new Map();
    await client.restore({
      snapshotId: job.snapshotId,
      sink: {
        open(item) {
          const parts = [];
          return { write: (bytes) => void parts.push(Buffer.from(bytes)), close: () => void restored.set(item.sourceId, Buffer.concat(parts).toString('utf8')) };
        },
      },
    });
    const restoredContacts = [...restored.values()].map((text) => JSON.parse(text));
    result.restore = { items: restored.size, ids: restoredContacts.map((c) => c.id).sort(), sample: restoredContacts.find((c) => c.id === 'c0007') };
    log('restored through downloadBlob', { items: restored.size });

    // A schedule, its time come, dispatched by the scheduled function, run by the device.
    const schedule = await client.setSchedule({ deviceId: 'emulator-phone', kind: 'nightly', types: ['contacts'], timeZone: 'Europe/London', options: { wifiOnly: false } });
    const store = new SqliteJobStore(db);
    await store.runTransaction(async (tx) => {
      const current = await tx.getSchedule(schedule.id);
      tx.setSchedule({ ...current, nextRunAt: Date.now() - 1000 });
    });
    await fetch(`${API}/dispatchSchedules-0`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-CloudScheduler': 'true', 'X-CloudScheduler-JobName': 'dispatchSchedules', 'X-CloudScheduler-ScheduleTime': new Date().toISOString() },
      body: '{}',
    }).then(async (res) => {
      if (!res.ok) throw new Error(`dispatchSchedules answered ${res.status}: ${await res.text()}`);
    });
    log('scheduler request posted to dispatchSchedules');
    let waiting = null;
    for (let i = 0; i < 60 && !waiting; i++) {
      for await (const j of client.listJobs()) if (j.trigger === 'nightly') waiting = j;
      if (!waiting) await new Promise((r) => setTimeout(r, 500));
    }
    if (!waiting) throw new Error('the schedule dispatcher created no job');
    log('scheduled job waiting', { jobId: waiting.id, status: waiting.status, pauseReason: waiting.pauseReason });
    const picked = await client.runPendingScheduled({ sources: { contacts } });
    const scheduledJob = await waitForJob(client, waiting.id, []);
    Object.assign(result, { scheduled: { waitingStatus: waiting.status, pauseReason: waiting.pauseReason, picked: picked.map((p) => p.jobId), job: scheduledJob } });
    result.ok = true;
  } catch (err) {
    result.ok = false;
    result.error = String((err && err.stack) || err);
    process.stderr.write(`${result.error}\n`);
  } finally {
    writeFileSync(process.env.RESULT_FILE, JSON.stringify(result, null, 2));
    await uploadServer.close();
    db.close();
  }
  process.exit(result.ok ? 0 : 1);
}

main();
