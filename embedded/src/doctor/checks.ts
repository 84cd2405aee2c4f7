/**
 * `lifeboat doctor`: checks that a Google Cloud project holds what a Lifeboat deployment needs and
 * reports each item as ok, missing (with the command that fixes it), a warning, or unchecked (the
 * caller may not read it). Read-only: it lists and gets, never changes anything, and never reads
 * the master key's value.
 */
import type { FirestoreQueryIndex } from '@lifeboat/engine/adapters';
import { apiErrorMessage, type GoogleApi, type GoogleApiResponse } from './google-api';
import type { Deployment } from './deployment';
import { BROAD_ROLES, chatSourceIndex, type RequiredRole, type Requirements } from './requirements';

export const CHECK_STATUSES = ['ok', 'missing', 'warning', 'unchecked'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

export const CHECK_AREAS = ['project', 'apis', 'iam', 'queues', 'buckets', 'database', 'indexes', 'ttl', 'secret', 'region', 'events'] as const;
export type CheckArea = (typeof CHECK_AREAS)[number];

export interface CheckItem {
  area: CheckArea;
  /** What was checked (`cloudtasks.googleapis.com`, `roles/run.invoker`, a bucket's name). */
  name: string;
  status: CheckStatus;
  detail: string;
  /** The command that fixes a missing item (or what to do). */
  fix?: string;
}

export interface DoctorReport {
  project: string;
  region: string;
  serviceAccount: string | null;
  /** No item missing or unchecked. */
  ok: boolean;
  items: CheckItem[];
}

const CRM = 'https://cloudresourcemanager.googleapis.com/v1';
const BILLING = 'https://cloudbilling.googleapis.com/v1';
const SERVICE_USAGE = 'https://serviceusage.googleapis.com/v1';
const IAM = 'https://iam.googleapis.com/v1';
const RUN = 'https://run.googleapis.com/v2';
const TASKS = 'https://cloudtasks.googleapis.com/v2';
const STORAGE = 'https://storage.googleapis.com/storage/v1';
const FIRESTORE = 'https://firestore.googleapis.com/v1';
const SECRETS = 'https://secretmanager.googleapis.com/v1';
const FUNCTIONS = 'https://cloudfunctions.googleapis.com/v2';
const EVENTARC = 'https://eventarc.googleapis.com/v1';

/** A project's default bucket: the app's, never Lifeboat's. */
const DEFAULT_BUCKET = /\.(appspot\.com|firebasestorage\.app)$/;

interface Binding {
  role: string;
  members?: string[];
}

class Checker {
  readonly items: CheckItem[] = [];

  constructor(
    readonly api: GoogleApi,
    readonly d: Deployment,
  ) {}

  add(area: CheckArea, name: string, status: CheckStatus, detail: string, fix?: string): void {
    this.items.push({ area, name, status, detail, ...(fix && status !== 'ok' ? { fix } : {}) });
  }

  /** An answer the check did not expect (403, 5xx): the item is unchecked, with Google's reason. */
  unchecked(area: CheckArea, name: string, response: GoogleApiResponse, what: string): void {
    const disabled = JSON.stringify(response.body).includes('SERVICE_DISABLED');
    this.add(area, name, 'unchecked', `could not read ${what}: ${apiErrorMessage(response)}`, disabled ? 'enable the API named above (see the apis lines)' : `give the account of your Application Default Credentials read access to ${this.d.project} (e.g. roles/viewer)`);
  }

  get(url: string): Promise<GoogleApiResponse> {
    return this.api.request('GET', url);
  }

  /** Every item of a paged list (`nextPageToken`), or the first answer that is not a 200. */
  async list<T>(url: string, field: string): Promise<T[] | GoogleApiResponse> {
    const out: T[] = [];
    let token: string | undefined;
    do {
      const response = await this.get(`${url}${url.includes('?') ? '&' : '?'}pageSize=200${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`);
      if (response.status !== 200) return response;
      const body = response.body as Record<string, unknown>;
      out.push(...(((body[field] as T[] | undefined) ?? []) as T[]));
      token = typeof body['nextPageToken'] === 'string' && body['nextPageToken'] ? body['nextPageToken'] : undefined;
    } while (token);
    return out;
  }
}

/** The project, or null when it cannot be seen (nothing else can be checked then). */
async function checkProject(c: Checker): Promise<{ projectNumber: string } | null> {
  const { project } = c.d;
  const response = await c.get(`${CRM}/projects/${project}`);
  if (response.status === 200) {
    const body = response.body as { projectNumber?: string; lifecycleState?: string };
    if (body.lifecycleState && body.lifecycleState !== 'ACTIVE') {
      c.add('project', project, 'missing', `the project is ${body.lifecycleState}`, `gcloud projects undelete ${project}`);
      return null;
    }
    c.add('project', project, 'ok', `project number ${body.projectNumber ?? '?'}`);
    const billing = await c.get(`${BILLING}/projects/${project}/billingInfo`);
    const enabled = (billing.body as { billingEnabled?: boolean }).billingEnabled === true;
    if (billing.status !== 200) c.add('project', 'billing', 'warning', `could not read billing (${apiErrorMessage(billing)}); Lifeboat needs the Blaze plan`, `gcloud services enable cloudbilling.googleapis.com --project ${project}`);
    else if (enabled) c.add('project', 'billing', 'ok', 'billing enabled (Blaze plan)');
    else c.add('project', 'billing', 'missing', 'no billing account: Cloud Functions 2nd gen, Cloud Tasks and Cloud Scheduler need the Blaze plan', `gcloud billing projects link ${project} --billing-account=BILLING_ACCOUNT_ID (or upgrade to Blaze in the Firebase console)`);
    return { projectNumber: String(body.projectNumber ?? '') };
  }
  c.add('project', project, 'missing', `the project cannot be read (${apiErrorMessage(response)})`, `check the id, and that your Application Default Credentials can see it: gcloud projects describe ${project}`);
  return null;
}

async function checkApis(c: Checker, requirements: Requirements): Promise<void> {
  const { project, eventsChannel } = c.d;
  const enabled = await c.list<{ config?: { name?: string }; name?: string }>(`${SERVICE_USAGE}/projects/${project}/services?filter=state:ENABLED`, 'services');
  const wanted = [...requirements.apis, ...(eventsChannel ? requirements.eventsApis : [])];
  if (!Array.isArray(enabled)) {
    for (const api of wanted) c.unchecked('apis', api.service, enabled, 'the enabled services');
    return;
  }
  const names = new Set(enabled.map((s) => s.config?.name ?? s.name?.split('/').pop() ?? ''));
  for (const api of wanted) {
    if (names.has(api.service)) c.add('apis', api.service, 'ok', `enabled (${api.why})`);
    else c.add('apis', api.service, 'missing', `not enabled (${api.why})`, `gcloud services enable ${api.service} --project ${project}`);
  }
}

/** The runtime service account: the one named, else the default compute account (2nd-gen functions' default). */
async function checkServiceAccount(c: Checker, projectNumber: string): Promise<string | null> {
  const { project } = c.d;
  const email = c.d.serviceAccount || `${projectNumber}-compute@developer.gserviceaccount.com`;
  const response = await c.get(`${IAM}/projects/${project}/serviceAccounts/${email}`);
  if (response.status === 200) {
    if ((response.body as { disabled?: boolean }).disabled) {
      c.add('iam', email, 'missing', 'the runtime service account is disabled', `gcloud iam service-accounts enable ${email} --project ${project}`);
    } else c.add('iam', email, 'ok', `runtime service account${c.d.serviceAccount ? '' : ' (the default compute account)'}`);
    return email;
  }
  if (response.status === 404) {
    const fix = c.d.serviceAccount
      ? `gcloud iam service-accounts create ${email.split('@')[0]} --project ${project}`
      : `gcloud services enable compute.googleapis.com --project ${project} (creates the default compute account)`;
    c.add('iam', email, 'missing', 'the runtime service account does not exist', fix);
    return null;
  }
  c.unchecked('iam', email, response, 'the runtime service account');
  return null;
}

function rolesOf(bindings: readonly Binding[], member: string): Set<string> {
  return new Set(bindings.filter((b) => b.members?.includes(member)).map((b) => b.role));
}

async function bindingsAt(c: Checker, method: 'GET' | 'POST', url: string): Promise<Binding[] | null> {
  const response = await c.api.request(method, url, method === 'POST' ? { body: { options: { requestedPolicyVersion: 3 } } } : {});
  return response.status === 200 ? ((response.body as { bindings?: Binding[] }).bindings ?? []) : null;
}

/**
 * The runtime service account's roles: on the project, or where a narrower grant serves (itself
 * for Service Account User, each task function for Run Invoker, both buckets for Storage).
 */
async function checkRoles(c: Checker, requirements: Requirements, email: string): Promise<void> {
  const { project, region } = c.d;
  const member = `serviceAccount:${email}`;
  const policy = await c.api.request('POST', `${CRM}/projects/${project}:getIamPolicy`, { body: { options: { requestedPolicyVersion: 3 } } });
  const wanted: RequiredRole[] = [...requirements.roles, ...(c.d.eventsChannel ? requirements.eventsRoles : [])];
  if (policy.status !== 200) {
    for (const { role } of wanted) c.unchecked('iam', role, policy, 'the project\'s IAM policy');
    return;
  }
  const held = rolesOf((policy.body as { bindings?: Binding[] }).bindings ?? [], member);
  const broad = BROAD_ROLES.find((r) => held.has(r));
  for (const { role, why } of wanted) {
    if (held.has(role)) {
      c.add('iam', role, 'ok', `granted on the project (${why})`);
      continue;
    }
    if (broad) {
      c.add('iam', role, 'ok', `covered by ${broad} (${why})`);
      continue;
    }
    const narrower = await narrowerGrant(c, role, member, email, requirements);
    if (narrower) c.add('iam', role, 'ok', `granted on ${narrower} (${why})`);
    else c.add('iam', role, 'missing', `${email} lacks it: ${why}`, roleFix(role, email, project, region, requirements));
  }
}

/** Where a role may be granted on less than the project, whether it is: the resource's name, or null. */
async function narrowerGrant(c: Checker, role: string, member: string, email: string, requirements: Requirements): Promise<string | null> {
  const { project, region } = c.d;
  if (role === 'roles/iam.serviceAccountUser') {
    const bindings = await bindingsAt(c, 'POST', `${IAM}/projects/${project}/serviceAccounts/${email}:getIamPolicy`);
    return bindings && rolesOf(bindings, member).has(role) ? `the account itself` : null;
  }
  if (role === 'roles/run.invoker') {
    // Every task function's Cloud Run service (named as the function, in lower case).
    for (const queue of requirements.queues) {
      const bindings = await bindingsAt(c, 'GET', `${RUN}/projects/${project}/locations/${region}/services/${queue.toLowerCase()}:getIamPolicy`);
      if (!bindings || !rolesOf(bindings, member).has(role)) return null;
    }
    return 'every task function';
  }
  if (role === 'roles/storage.objectAdmin') {
    for (const bucket of [c.d.blobsBucket, c.d.uploadsBucket]) {
      if (!bucket) return null;
      const bindings = await bindingsAt(c, 'GET', `${STORAGE}/b/${bucket}/iam`);
      if (!bindings || !rolesOf(bindings, member).has(role)) return null;
    }
    return 'both buckets';
  }
  return null;
}

function roleFix(role: string, email: string, project: string, region: string, requirements: Requirements): string {
  if (role === 'roles/iam.serviceAccountUser') return `gcloud iam service-accounts add-iam-policy-binding ${email} --member=serviceAccount:${email} --role=${role} --project ${project}`;
  if (role === 'roles/run.invoker') {
    return requirements.queues.map((name) => `gcloud functions add-invoker-policy-binding ${name} --region=${region} --member=serviceAccount:${email} --project ${project}`).join(' && ');
  }
  return `gcloud projects add-iam-policy-binding ${project} --member=serviceAccount:${email} --role=${role}`;
}

async function checkQueues(c: Checker, requirements: Requirements): Promise<void> {
  const { project, region } = c.d;
  for (const queue of requirements.queues) {
    const response = await c.get(`${TASKS}/projects/${project}/locations/${region}/queues/${queue}`);
    const deploy = `firebase deploy --only functions:lifeboat --project ${project} (the deploy creates the task queues)`;
    if (response.status === 200) {
      const state = (response.body as { state?: string }).state ?? 'RUNNING';
      if (state === 'RUNNING') c.add('queues', queue, 'ok', `queue in ${region}, running`);
      else c.add('queues', queue, 'missing', `the queue is ${state}: no task is dispatched`, `gcloud tasks queues resume ${queue} --location=${region} --project ${project}`);
    } else if (response.status === 404) c.add('queues', queue, 'missing', `no queue ${queue} in ${region}`, deploy);
    else c.unchecked('queues', queue, response, `queue ${queue}`);
  }
}

/** Whether `location` (a bucket's or database's) serves `region` without crossing regions. */
export function sameGeography(region: string, location: string): boolean {
  const r = region.toLowerCase();
  const l = location.toLowerCase();
  if (l === r) return true;
  const multi: Record<string, string> = { us: 'us-', nam5: 'us-', nam7: 'us-', eu: 'europe-', eur3: 'europe-', asia: 'asia-' };
  const prefix = multi[l];
  return prefix !== undefined && r.startsWith(prefix);
}

async function checkBuckets(c: Checker): Promise<void> {
  const { project, region, blobsBucket, uploadsBucket } = c.d;
  const entries: Array<[string, string, string]> = [
    ['LIFEBOAT_BLOBS_BUCKET', blobsBucket, 'blobs, manifests and keys'],
    ['LIFEBOAT_UPLOADS_BUCKET', uploadsBucket, 'raw device uploads (the storage trigger watches it)'],
  ];
  for (const [param, bucket, what] of entries) {
    if (!bucket) {
      c.add('buckets', param, 'missing', `no bucket set for ${what}`, `set ${param}=${project}-lifeboat-${param === 'LIFEBOAT_BLOBS_BUCKET' ? 'blobs' : 'uploads'} in functions/.env.${project}`);
      continue;
    }
    if (DEFAULT_BUCKET.test(bucket)) {
      c.add('buckets', bucket, 'missing', `${param} names the app's default bucket: give Lifeboat buckets of its own`, `gcloud storage buckets create gs://${project}-lifeboat-${param === 'LIFEBOAT_BLOBS_BUCKET' ? 'blobs' : 'uploads'} --project ${project} --location=${region} --uniform-bucket-level-access, and set ${param} to it`);
      continue;
    }
    const response = await c.get(`${STORAGE}/b/${bucket}`);
    const create = `gcloud storage buckets create gs://${bucket} --project ${project} --location=${region} --uniform-bucket-level-access`;
    if (response.status === 200) {
      const location = (response.body as { location?: string }).location ?? '';
      if (sameGeography(region, location)) c.add('buckets', bucket, 'ok', `${what}, in ${location}`);
      else c.add('buckets', bucket, 'warning', `${what}, in ${location}: far from the functions in ${region} (latency, egress)`, create.replace(bucket, `${bucket}-${region}`));
    } else if (response.status === 404) c.add('buckets', bucket, 'missing', `bucket for ${what} does not exist`, create);
    else c.unchecked('buckets', bucket, response, `bucket ${bucket}`);
  }
  if (blobsBucket && blobsBucket === uploadsBucket) {
    c.add('buckets', 'separate buckets', 'warning', 'blobs and uploads share one bucket: the storage trigger runs for every blob Lifeboat writes too', `gcloud storage buckets create gs://${project}-lifeboat-uploads --project ${project} --location=${region}, and set LIFEBOAT_UPLOADS_BUCKET to it`);
  }
}

/** A database: ok when it exists in Native mode. Returns its location, or null. */
async function checkDatabase(c: Checker, database: string, what: string, create: boolean): Promise<string | null> {
  const { project, region } = c.d;
  const response = await c.get(`${FIRESTORE}/projects/${project}/databases/${encodeURIComponent(database)}`);
  if (response.status === 200) {
    const body = response.body as { type?: string; locationId?: string };
    if (body.type && body.type !== 'FIRESTORE_NATIVE') {
      c.add('database', database, 'missing', `${what} is in ${body.type}; Lifeboat needs Firestore in Native mode`, create ? `gcloud firestore databases create --database=${database} --location=${region} --type=firestore-native --project ${project} (under another name, set in LIFEBOAT_DATABASE and firebase.json)` : undefined);
      return null;
    }
    const location = body.locationId ?? '';
    if (create && !sameGeography(region, location)) c.add('database', database, 'warning', `${what}, in ${location}: far from the functions in ${region}`);
    else c.add('database', database, 'ok', `${what}, Native mode, in ${location}`);
    return location;
  }
  if (response.status === 404) {
    c.add('database', database, 'missing', `${what} does not exist`, create ? `gcloud firestore databases create --database=${database} --location=${region} --project ${project} (before the first deploy, which would create it in nam5)` : `check LIFEBOAT_CHAT_DATABASE in functions/.env.${project}`);
  } else c.unchecked('database', database, response, `database ${database}`);
  return null;
}

interface ApiIndex {
  name?: string;
  queryScope?: string;
  state?: string;
  fields?: Array<{ fieldPath?: string; order?: string; arrayConfig?: string }>;
}

/** Whether a listed index serves a query: same collection group, scope and fields (the implicit trailing `__name__` aside). */
function serves(index: ApiIndex, query: FirestoreQueryIndex): boolean {
  const group = /\/collectionGroups\/([^/]+)\/indexes\//.exec(index.name ?? '')?.[1];
  if (group !== query.collectionGroup || (index.queryScope ?? 'COLLECTION') !== query.queryScope) return false;
  const fields = [...(index.fields ?? [])];
  if (fields[fields.length - 1]?.fieldPath === '__name__' && !query.fields.some((f) => f.fieldPath === '__name__')) fields.pop();
  const key = (f: { fieldPath?: string; order?: string; arrayConfig?: string }) => `${f.fieldPath}|${f.order ?? ''}|${f.arrayConfig ?? ''}`;
  return fields.map(key).join(',') === query.fields.map(key).join(',');
}

function indexFix(query: FirestoreQueryIndex, database: string, project: string): string {
  const fields = query.fields.map((f) => `--field-config=field-path=${f.fieldPath},${f.arrayConfig ? 'array-config=contains' : `order=${(f.order ?? 'ASCENDING').toLowerCase()}`}`).join(' ');
  return `gcloud firestore indexes composite create --database=${JSON.stringify(database)} --collection-group=${query.collectionGroup} --query-scope=${query.queryScope === 'COLLECTION_GROUP' ? 'collection-group' : 'collection'} ${fields} --project ${project}`;
}

async function checkIndexes(c: Checker, database: string, queries: readonly (FirestoreQueryIndex & { usedBy: string })[], deployFix: boolean): Promise<void> {
  const { project } = c.d;
  const listed = await c.list<ApiIndex>(`${FIRESTORE}/projects/${project}/databases/${encodeURIComponent(database)}/collectionGroups/-/indexes`, 'indexes');
  for (const query of queries) {
    const name = `${database} ${query.collectionGroup}(${query.fields.map((f) => `${f.fieldPath} ${f.arrayConfig ? 'contains' : (f.order ?? 'ASCENDING').toLowerCase()}`).join(', ')})`;
    if (!Array.isArray(listed)) {
      c.unchecked('indexes', name, listed, `the indexes of ${database}`);
      continue;
    }
    const fix = deployFix ? `firebase deploy --only firestore:${database} --project ${project}` : indexFix(query, database, project);
    const found = listed.find((index) => serves(index, query));
    if (!found) c.add('indexes', name, 'missing', `no index for ${query.usedBy}: the query fails (FAILED_PRECONDITION)`, fix);
    else if (found.state === 'READY') c.add('indexes', name, 'ok', `built (${query.usedBy})`);
    else if (found.state === 'CREATING') c.add('indexes', name, 'ok', `building (${query.usedBy}); the query fails until it is built`);
    else c.add('indexes', name, 'missing', `the index is ${found.state ?? 'in an unknown state'} (${query.usedBy})`, fix);
  }
}

async function checkTtl(c: Checker, requirements: Requirements): Promise<void> {
  const { project, database } = c.d;
  if (requirements.ttlPolicies.length === 0) {
    c.add('ttl', 'TTL policies', 'ok', `none needed on ${database} (FIRESTORE_TTL_POLICIES is empty)`);
    return;
  }
  for (const policy of requirements.ttlPolicies) {
    const name = `${policy.collectionGroup}.${policy.fieldPath}`;
    const response = await c.get(`${FIRESTORE}/projects/${project}/databases/${encodeURIComponent(database)}/collectionGroups/${policy.collectionGroup}/fields/${policy.fieldPath}`);
    const fix = `gcloud firestore fields ttls update ${policy.fieldPath} --collection-group=${policy.collectionGroup} --enable-ttl --database=${database} --project ${project}`;
    if (response.status === 200 || response.status === 404) {
      const state = response.status === 200 ? (response.body as { ttlConfig?: { state?: string } }).ttlConfig?.state : undefined;
      if (state === 'ACTIVE') c.add('ttl', name, 'ok', `active (${policy.why})`);
      else if (state === 'CREATING') c.add('ttl', name, 'ok', `being built (${policy.why})`);
      else c.add('ttl', name, 'missing', `${state ? `TTL policy is ${state}` : 'no TTL policy'}: ${policy.why}`, fix);
    } else c.unchecked('ttl', name, response, `the TTL policy of ${name}`);
  }
}

async function checkSecret(c: Checker, requirements: Requirements): Promise<void> {
  const { project } = c.d;
  const secret = requirements.secret;
  const fix = `openssl rand -hex 32 > master-key.txt && firebase functions:secrets:set ${secret} --project ${project} --data-file master-key.txt (keep a copy offline, then delete the file)`;
  const response = await c.get(`${SECRETS}/projects/${project}/secrets/${secret}`);
  if (response.status === 404) {
    c.add('secret', secret, 'missing', 'the master key secret does not exist: no function can start', fix);
    return;
  }
  if (response.status !== 200) {
    c.unchecked('secret', secret, response, `secret ${secret}`);
    return;
  }
  const versions = await c.list<{ name?: string; state?: string }>(`${SECRETS}/projects/${project}/secrets/${secret}/versions?filter=state:ENABLED`, 'versions');
  if (!Array.isArray(versions)) c.unchecked('secret', secret, versions, `the versions of ${secret}`);
  else if (versions.length === 0) c.add('secret', secret, 'missing', 'the secret has no enabled version', fix);
  else c.add('secret', secret, 'ok', `exists with ${versions.length} enabled version(s) (its value is not read)`);
}

async function checkRegion(c: Checker): Promise<void> {
  const { project, region } = c.d;
  const locations = await c.list<{ locationId?: string }>(`${FUNCTIONS}/projects/${project}/locations`, 'locations');
  if (!Array.isArray(locations)) {
    c.unchecked('region', region, locations, 'the Cloud Functions locations');
    return;
  }
  const ids = locations.map((l) => l.locationId ?? '').filter(Boolean);
  if (ids.includes(region)) c.add('region', region, 'ok', 'Cloud Functions and the task queues run here (LIFEBOAT_REGION)');
  else c.add('region', region, 'missing', `${region} is not a Cloud Functions region of this project`, `set LIFEBOAT_REGION in functions/.env.${project} to one of: ${ids.slice(0, 12).join(', ')}${ids.length > 12 ? ', …' : ''}`);
}

/** `locations/L/channels/C` or a full resource name, as `projects/P/locations/L/channels/C`. */
export function channelResource(channel: string, project: string): string | null {
  const match = /^(?:projects\/([^/]+)\/)?locations\/([^/]+)\/channels\/([^/]+)$/.exec(channel.trim());
  if (!match) return null;
  return `projects/${match[1] ?? project}/locations/${match[2]}/channels/${match[3]}`;
}

async function checkEvents(c: Checker): Promise<void> {
  const { project, eventsChannel } = c.d;
  if (!eventsChannel) {
    c.add('events', 'LIFEBOAT_EVENTS_CHANNEL', 'ok', 'lifecycle events are off (no channel set)');
    return;
  }
  const resource = channelResource(eventsChannel, project);
  if (!resource) {
    c.add('events', eventsChannel, 'missing', 'LIFEBOAT_EVENTS_CHANNEL is not locations/LOCATION/channels/NAME', `set LIFEBOAT_EVENTS_CHANNEL=locations/${c.d.region}/channels/firebase in functions/.env.${project}`);
    return;
  }
  const [, , , location, , name] = resource.split('/');
  const response = await c.get(`${EVENTARC}/${resource}`);
  if (response.status === 200) c.add('events', resource, 'ok', `channel ${(response.body as { state?: string }).state ?? 'ACTIVE'}`);
  else if (response.status === 404) c.add('events', resource, 'missing', 'the Eventarc channel does not exist: events are dropped', `gcloud eventarc channels create ${name} --location=${location} --project ${project}`);
  else c.unchecked('events', resource, response, `channel ${resource}`);
}

/**
 * Runs every check against `deployment`'s project. Only a project that cannot be read stops it;
 * every other item is reported whatever the others say.
 */
export async function runDoctor(deployment: Deployment, requirements: Requirements, deps: { api: GoogleApi }): Promise<DoctorReport> {
  const c = new Checker(deps.api, deployment);
  const project = await checkProject(c);
  let serviceAccount: string | null = null;
  if (project) {
    await checkApis(c, requirements);
    await checkRegion(c);
    serviceAccount = await checkServiceAccount(c, project.projectNumber);
    if (serviceAccount) await checkRoles(c, requirements, serviceAccount);
    await checkQueues(c, requirements);
    await checkBuckets(c);
    if (deployment.database === '(default)') {
      c.add('database', deployment.database, 'missing', 'LIFEBOAT_DATABASE names the app\'s (default) database: Lifeboat needs its own', `set LIFEBOAT_DATABASE=lifeboat in functions/.env.${deployment.project} (and the database in firebase.json)`);
    } else if (await checkDatabase(c, deployment.database, 'Lifeboat\'s database', true)) {
      await checkIndexes(c, deployment.database, requirements.indexes, true);
      await checkTtl(c, requirements);
    }
    if (deployment.chatMessagesPath && (await checkDatabase(c, deployment.chatDatabase, 'the app\'s database (chat source, read only)', false))) {
      await checkIndexes(c, deployment.chatDatabase, [chatSourceIndex(deployment.chatMessagesPath, deployment.chatParticipantsField)], false);
    }
    await checkSecret(c, requirements);
    await checkEvents(c);
  }
  return {
    project: deployment.project,
    region: deployment.region,
    serviceAccount,
    ok: c.items.every((i) => i.status === 'ok' || i.status === 'warning'),
    items: c.items,
  };
}
