/**
 * `lifeboat doctor` against recorded Google API responses (the network to Google is closed here):
 * a healthy project passes every check, and each thing a deployment needs, taken away from the
 * recording, is reported missing with a clear message and the command that fixes it, while the
 * rest stays ok.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { doctorCommand, doctorText } from '../src/cli/doctor-command';
import type { CheckItem, DoctorReport } from '../src/doctor/checks';
import { readDeployment } from '../src/doctor/deployment';
import { REQUIREMENTS, type Requirements } from '../src/doctor/requirements';
import { healthyRecording, RecordedGoogleApi, type Recording } from './helpers/recorded-google-api';

const P = 'acme-prod';
const SA = '123456789012-compute@developer.gserviceaccount.com';
const CRM_POLICY = `POST https://cloudresourcemanager.googleapis.com/v1/projects/${P}:getIamPolicy`;
const SERVICES = `GET https://serviceusage.googleapis.com/v1/projects/${P}/services?filter=state:ENABLED&pageSize=200`;
const INDEXES = `GET https://firestore.googleapis.com/v1/projects/${P}/databases/lifeboat/collectionGroups/-/indexes?pageSize=200`;

let functionsDir = '';
beforeAll(() => {
  // The functions folder as an admin leaves it: the committed .env, and the project's own values over it.
  functionsDir = mkdtempSync(join(tmpdir(), 'lifeboat-doctor-'));
  writeFileSync(join(functionsDir, '.env'), 'LIFEBOAT_REGION=us-central1\nLIFEBOAT_DATABASE=lifeboat\nLIFEBOAT_BLOBS_BUCKET=demo-lifeboat-blobs\nLIFEBOAT_UPLOADS_BUCKET=demo-lifeboat-uploads\nLIFEBOAT_EVENTS_CHANNEL=\n');
  writeFileSync(
    join(functionsDir, `.env.${P}`),
    [
      '# production values',
      'LIFEBOAT_REGION=europe-west1',
      'LIFEBOAT_BLOBS_BUCKET=acme-prod-lifeboat-blobs',
      'LIFEBOAT_UPLOADS_BUCKET="acme-prod-lifeboat-uploads"',
      'LIFEBOAT_CHAT_MESSAGES_PATH=conversations/{conversationId}/messages',
      'LIFEBOAT_EVENTS_CHANNEL=locations/europe-west1/channels/firebase',
      '',
    ].join('\n'),
  );
});
afterAll(() => rmSync(functionsDir, { recursive: true, force: true }));

async function doctor(recording: Recording, options: Record<string, string> = {}, requirements: Requirements = REQUIREMENTS) {
  const api = new RecordedGoogleApi(recording);
  const result = await doctorCommand({ positionals: [], values: { project: P, functions: functionsDir, ...options } }, { api: () => api, requirements });
  return { ...result, report: result.data as DoctorReport & { envFiles: string[] }, api };
}

function item(report: DoctorReport, name: string): CheckItem {
  const found = report.items.find((i) => i.name === name);
  if (!found) throw new Error(`no item ${name} in ${report.items.map((i) => i.name).join(', ')}`);
  return found;
}

/** Every item but `names` is as in the healthy run. */
function othersUnchanged(report: DoctorReport, healthy: DoctorReport, names: string[]): void {
  const changed = report.items.filter((i) => !names.includes(i.name) && healthy.items.find((h) => h.name === i.name && h.area === i.area)?.status !== i.status);
  expect(changed).toEqual([]);
}

describe('lifeboat doctor', () => {
  let healthy: DoctorReport;

  it('passes a healthy project, reading only, and says where its settings came from', async () => {
    const { exitCode, report, text, api } = await doctor(healthyRecording());
    healthy = report;
    expect(report.items.filter((i) => i.status !== 'ok')).toEqual([]);
    expect(exitCode).toBe(0);
    expect(report).toMatchObject({ ok: true, project: P, region: 'europe-west1', serviceAccount: SA });
    expect(report.envFiles).toEqual([join(functionsDir, '.env'), join(functionsDir, `.env.${P}`)]);
    // Every area is covered.
    expect(new Set(report.items.map((i) => i.area))).toEqual(new Set(['project', 'apis', 'region', 'iam', 'queues', 'buckets', 'database', 'indexes', 'ttl', 'secret', 'events']));
    expect(item(report, 'eventarcpublishing.googleapis.com').status).toBe('ok');
    expect(item(report, 'roles/iam.serviceAccountUser').detail).toContain('the account itself');
    expect(item(report, 'roles/storage.objectAdmin').detail).toContain('both buckets');
    // An index still being built counts as ok, and says so.
    expect(report.items.find((i) => i.area === 'indexes' && i.detail.startsWith('building'))).toBeDefined();
    // The chat source's index is checked on the app's database.
    expect(item(report, '(default) messages(participants contains, sentAt ascending)').status).toBe('ok');
    expect(api.asked.every((a) => a.startsWith('GET ') || a.endsWith(':getIamPolicy'))).toBe(true);
    expect(api.asked.some((a) => a.includes('/versions/') && a.includes(':access'))).toBe(false);
    expect(text).toMatch(/: ready\n$/);
    expect(text).toContain('  ok        cloudtasks.googleapis.com: enabled (the task queues)');
  });

  it.each([
    [
      'an API that is not enabled',
      (r: Recording) => {
        const body = r[SERVICES]?.body as { services: Array<{ config: { name: string } }> };
        body.services = body.services.filter((s) => s.config.name !== 'cloudtasks.googleapis.com');
      },
      'cloudtasks.googleapis.com',
      /not enabled \(the task queues\)/,
      `gcloud services enable cloudtasks.googleapis.com --project ${P}`,
    ],
    [
      'a role the runtime account lacks',
      (r: Recording) => {
        const body = r[CRM_POLICY]?.body as { bindings: Array<{ role: string }> };
        body.bindings = body.bindings.filter((b) => b.role !== 'roles/cloudtasks.enqueuer');
      },
      'roles/cloudtasks.enqueuer',
      /lacks it: enqueue the task queues \(without it no job ever starts\)/,
      `gcloud projects add-iam-policy-binding ${P} --member=serviceAccount:${SA} --role=roles/cloudtasks.enqueuer`,
    ],
    [
      'Run Invoker on neither the project nor the task functions',
      (r: Recording) => {
        const body = r[CRM_POLICY]?.body as { bindings: Array<{ role: string }> };
        body.bindings = body.bindings.filter((b) => b.role !== 'roles/run.invoker');
      },
      'roles/run.invoker',
      /Cloud Tasks calls the task functions/,
      `gcloud functions add-invoker-policy-binding kickoffTask --region=europe-west1 --member=serviceAccount:${SA} --project ${P}`,
    ],
    [
      'Service Account User on neither the project nor the account',
      (r: Recording) => {
        delete r[`POST https://iam.googleapis.com/v1/projects/${P}/serviceAccounts/${SA}:getIamPolicy`];
      },
      'roles/iam.serviceAccountUser',
      /sign the tasks' OIDC tokens/,
      `gcloud iam service-accounts add-iam-policy-binding ${SA} --member=serviceAccount:${SA} --role=roles/iam.serviceAccountUser --project ${P}`,
    ],
    [
      'a task queue (before the first deploy)',
      (r: Recording) => {
        delete r[`GET https://cloudtasks.googleapis.com/v2/projects/${P}/locations/europe-west1/queues/processChunkTask`];
      },
      'processChunkTask',
      /no queue processChunkTask in europe-west1/,
      `firebase deploy --only functions:lifeboat --project ${P}`,
    ],
    [
      'a paused task queue',
      (r: Recording) => {
        (r[`GET https://cloudtasks.googleapis.com/v2/projects/${P}/locations/europe-west1/queues/finalizeTask`]?.body as { state: string }).state = 'PAUSED';
      },
      'finalizeTask',
      /the queue is PAUSED/,
      `gcloud tasks queues resume finalizeTask --location=europe-west1 --project ${P}`,
    ],
    [
      'the uploads bucket',
      (r: Recording) => {
        delete r['GET https://storage.googleapis.com/storage/v1/b/acme-prod-lifeboat-uploads'];
      },
      'acme-prod-lifeboat-uploads',
      /bucket for raw device uploads \(the storage trigger watches it\) does not exist/,
      `gcloud storage buckets create gs://acme-prod-lifeboat-uploads --project ${P} --location=europe-west1 --uniform-bucket-level-access`,
    ],
    [
      'the named database',
      (r: Recording) => {
        delete r[`GET https://firestore.googleapis.com/v1/projects/${P}/databases/lifeboat`];
      },
      'lifeboat',
      /Lifeboat's database does not exist/,
      `gcloud firestore databases create --database=lifeboat --location=europe-west1 --project ${P}`,
    ],
    [
      'an index of the named database',
      (r: Recording) => {
        const body = r[INDEXES]?.body as { indexes: Array<{ name: string }> };
        body.indexes = body.indexes.filter((i) => !i.name.includes('/schedules/'));
      },
      'lifeboat schedules(enabled ascending, nextRunAt ascending)',
      /no index for listDueSchedules: the query fails \(FAILED_PRECONDITION\)/,
      `firebase deploy --only firestore:lifeboat --project ${P}`,
    ],
    [
      'the chat source\'s index on the app\'s database',
      (r: Recording) => {
        const key = `GET https://firestore.googleapis.com/v1/projects/${P}/databases/(default)/collectionGroups/-/indexes?pageSize=200`;
        const body = r[key]?.body as { indexes: Array<{ name: string }> };
        body.indexes = body.indexes.filter((i) => !i.name.includes('/messages/'));
      },
      '(default) messages(participants contains, sentAt ascending)',
      /no index for chat source/,
      `gcloud firestore indexes composite create --database="(default)" --collection-group=messages --query-scope=collection-group --field-config=field-path=participants,array-config=contains --field-config=field-path=sentAt,order=ascending --project ${P}`,
    ],
    [
      'the master key secret',
      (r: Recording) => {
        delete r[`GET https://secretmanager.googleapis.com/v1/projects/${P}/secrets/LIFEBOAT_MASTER_KEY`];
      },
      'LIFEBOAT_MASTER_KEY',
      /the master key secret does not exist: no function can start/,
      `firebase functions:secrets:set LIFEBOAT_MASTER_KEY --project ${P} --data-file master-key.txt`,
    ],
    [
      'an enabled version of the secret',
      (r: Recording) => {
        (r[`GET https://secretmanager.googleapis.com/v1/projects/${P}/secrets/LIFEBOAT_MASTER_KEY/versions?filter=state:ENABLED&pageSize=200`]?.body as { versions: unknown[] }).versions = [];
      },
      'LIFEBOAT_MASTER_KEY',
      /the secret has no enabled version/,
      'openssl rand -hex 32 > master-key.txt',
    ],
    [
      'the region',
      (r: Recording) => {
        const body = r[`GET https://cloudfunctions.googleapis.com/v2/projects/${P}/locations?pageSize=200`]?.body as { locations: Array<{ locationId: string }> };
        body.locations = body.locations.filter((l) => l.locationId !== 'europe-west1');
      },
      'europe-west1',
      /europe-west1 is not a Cloud Functions region of this project/,
      `set LIFEBOAT_REGION in functions/.env.${P} to one of: asia-east1, europe-west2, us-central1, us-east1`,
    ],
    [
      'the events channel',
      (r: Recording) => {
        delete r[`GET https://eventarc.googleapis.com/v1/projects/${P}/locations/europe-west1/channels/firebase`];
      },
      `projects/${P}/locations/europe-west1/channels/firebase`,
      /the Eventarc channel does not exist: events are dropped/,
      `gcloud eventarc channels create firebase --location=europe-west1 --project ${P}`,
    ],
    [
      'the runtime service account',
      (r: Recording) => {
        delete r[`GET https://iam.googleapis.com/v1/projects/${P}/serviceAccounts/${SA}`];
      },
      SA,
      /the runtime service account does not exist/,
      `gcloud services enable compute.googleapis.com --project ${P}`,
    ],
    [
      'billing (the Blaze plan)',
      (r: Recording) => {
        (r[`GET https://cloudbilling.googleapis.com/v1/projects/${P}/billingInfo`]?.body as { billingEnabled: boolean }).billingEnabled = false;
      },
      'billing',
      /need the Blaze plan/,
      `gcloud billing projects link ${P}`,
    ],
  ])('reports %s missing, with its fix', async (_what, mutate, name, detail, fix) => {
    const recording = healthyRecording();
    mutate(recording);
    const { exitCode, report, text } = await doctor(recording);
    const missing = report.items.filter((i) => i.status === 'missing');
    expect(missing.map((i) => i.name)).toContain(name);
    const found = missing.find((i) => i.name === name) as CheckItem;
    expect(found.detail).toMatch(detail);
    expect(found.fix).toContain(fix);
    expect(exitCode).toBe(1);
    expect(report.ok).toBe(false);
    expect(text).toContain(`MISSING   ${name}: `);
    expect(text).toContain(`fix: ${found.fix}`);
    expect(text).toMatch(/NOT ready/);
    // Items a missing database hides (its indexes, TTL) are not checked; everything else is as healthy.
    const hidden = name === 'lifeboat' ? healthy.items.filter((i) => i.area === 'indexes' && i.name.startsWith('lifeboat ') || i.area === 'ttl').map((i) => i.name) : [];
    for (const h of hidden) expect(report.items.find((i) => i.name === h)).toBeUndefined();
    othersUnchanged(report, healthy, [name, ...hidden]);
  });

  it('checks the TTL policies the database needs: active or being built is ok, absent is missing', async () => {
    const requirements: Requirements = { ...REQUIREMENTS, ttlPolicies: [{ collectionGroup: 'chunkBatches', fieldPath: 'expireAt', why: 'registration state of abandoned jobs' }] };
    const field = `GET https://firestore.googleapis.com/v1/projects/${P}/databases/lifeboat/collectionGroups/chunkBatches/fields/expireAt`;
    const absent = await doctor(healthyRecording(), {}, requirements);
    expect(item(absent.report, 'chunkBatches.expireAt')).toMatchObject({
      status: 'missing',
      detail: 'no TTL policy: registration state of abandoned jobs',
      fix: `gcloud firestore fields ttls update expireAt --collection-group=chunkBatches --enable-ttl --database=lifeboat --project ${P}`,
    });
    for (const [state, status] of [['CREATING', 'ok'], ['ACTIVE', 'ok'], ['NEEDS_REPAIR', 'missing']] as const) {
      const recording = healthyRecording();
      recording[field] = { status: 200, body: { name: field.slice(4), indexConfig: { usesAncestorConfig: true }, ttlConfig: { state } } };
      expect(item((await doctor(recording, {}, requirements)).report, 'chunkBatches.expireAt').status).toBe(status);
    }
    // With no policy declared (today), one line says none is needed.
    expect(healthy.items.filter((i) => i.area === 'ttl')).toEqual([{ area: 'ttl', name: 'TTL policies', status: 'ok', detail: 'none needed on lifeboat (FIRESTORE_TTL_POLICIES is empty)' }]);
  });

  it('refuses the app\'s own database and default bucket as Lifeboat\'s', async () => {
    const { report } = await doctor(healthyRecording(), { database: '(default)', 'blobs-bucket': `${P}.firebasestorage.app` });
    expect(item(report, '(default)')).toMatchObject({ status: 'missing', detail: expect.stringContaining('app\'s (default) database') });
    expect(item(report, `${P}.firebasestorage.app`)).toMatchObject({ status: 'missing', detail: expect.stringContaining('the app\'s default bucket') });
  });

  it('warns when the buckets are one, or far from the region', async () => {
    const recording = healthyRecording();
    (recording['GET https://storage.googleapis.com/storage/v1/b/acme-prod-lifeboat-blobs']?.body as { location: string }).location = 'US';
    const { report, exitCode } = await doctor(recording, { 'uploads-bucket': 'acme-prod-lifeboat-blobs' });
    expect(item(report, 'separate buckets').status).toBe('warning');
    expect(item(report, 'acme-prod-lifeboat-blobs')).toMatchObject({ status: 'warning', detail: expect.stringContaining('far from the functions in europe-west1') });
    // Warnings alone do not fail the preflight.
    expect(report.items.filter((i) => i.status === 'missing' || i.status === 'unchecked')).toEqual([]);
    expect(exitCode).toBe(0);
  });

  it('reports what it could not read as unchecked (and fails), naming Google\'s reason', async () => {
    const recording = healthyRecording();
    recording[CRM_POLICY] = { status: 403, body: { error: { code: 403, message: `The caller does not have permission`, status: 'PERMISSION_DENIED' } } };
    const { report, exitCode } = await doctor(recording);
    const unchecked = report.items.filter((i) => i.status === 'unchecked');
    expect(unchecked.map((i) => i.name)).toEqual(REQUIREMENTS.roles.map((r) => r.role).concat(REQUIREMENTS.eventsRoles.map((r) => r.role)));
    expect(unchecked[0]).toMatchObject({ detail: 'could not read the project\'s IAM policy: The caller does not have permission', fix: expect.stringContaining('roles/viewer') });
    expect(exitCode).toBe(1);
  });

  it('stops at a project it cannot see', async () => {
    const { report, exitCode, text } = await doctor({});
    expect(report.items).toEqual([
      expect.objectContaining({ area: 'project', name: P, status: 'missing', fix: `check the id, and that your Application Default Credentials can see it: gcloud projects describe ${P}` }),
    ]);
    expect(exitCode).toBe(1);
    expect(text).toContain('runtime service account: (unknown)');
  });

  it('reads the deployment as firebase deploy does: .env, then .env.PROJECT, then the options', () => {
    const deployment = readDeployment(P, functionsDir, { region: 'us-east1' });
    expect(deployment).toMatchObject({ region: 'us-east1', database: 'lifeboat', blobsBucket: 'acme-prod-lifeboat-blobs', uploadsBucket: 'acme-prod-lifeboat-uploads', eventsChannel: 'locations/europe-west1/channels/firebase', chatDatabase: '(default)' });
    expect(() => readDeployment('Not A Project', functionsDir)).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    expect(readDeployment('other-project', functionsDir)).toMatchObject({ region: 'us-central1', blobsBucket: 'demo-lifeboat-blobs' });
  });

  it('prints the report grouped by area with a summary line', () => {
    const text = doctorText(healthy, []);
    expect(text.split('\n')[0]).toBe(`lifeboat doctor: project ${P}, region europe-west1`);
    expect(text).toMatch(/\napis\n {2}ok {8}cloudfunctions\.googleapis\.com: enabled/);
    expect(text).toMatch(/\d+ ok, 0 missing, 0 warning\(s\), 0 unchecked: ready/);
  });
});
