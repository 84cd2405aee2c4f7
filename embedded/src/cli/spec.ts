/**
 * The `lifeboat` command table: every command's arguments, options and help, the exit codes, and
 * the help texts built from them (`lifeboat help`, `lifeboat help COMMAND`, `COMMAND --help`).
 * A command is added here and in cli/main.ts's dispatch.
 */

/** Exit codes, as documented in README ("CLI") and `lifeboat help`. */
export const EXIT = {
  /** The command did what it was asked. */
  ok: 0,
  /** It failed: an error, a snapshot or user not found, verify or check found problems (that remain). */
  failure: 1,
  /** It was called wrongly: unknown command or option, missing or ambiguous argument. */
  usage: 2,
  /** A restore wrote what it could; some items failed (listed in restore-report.json). */
  partial: 3,
  /** Interrupted by Ctrl-C or SIGTERM (128 + SIGINT); what it held (a GC lease) was released. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** The value's placeholder in help (`DIR`). */
  value?: string;
  /**
   * A string option that may also be given bare (`--read-data`), meaning this value; a value then
   * goes after `=` (`--read-data=10%`). @default none: a string option needs its value
   */
  bareValue?: string;
  description: string;
}

export interface CommandSpec {
  name: string;
  /** Positional arguments as help shows them (`SNAPSHOT`), and how many are accepted. */
  args: string;
  positionals: { min: number; max: number };
  summary: string;
  /** Lines shown by `lifeboat help COMMAND` under the usage line. */
  details: string[];
  options: Record<string, OptionSpec>;
}

/** Options every command takes (`--json` only where the command prints data). */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  data: { type: 'string', value: 'DIR', description: 'the data folder (env LIFEBOAT_DATA_DIR, default ./.lifeboat)' },
  project: { type: 'string', value: 'P', description: 'work on the Firebase deployment in project P (Application Default Credentials) instead of a data folder' },
  bucket: { type: 'string', value: 'B', description: 'with --project: its blobs bucket (env LIFEBOAT_BLOBS_BUCKET)' },
  database: { type: 'string', value: 'ID', description: 'with --project: Lifeboat\'s Firestore database (env LIFEBOAT_DATABASE, default lifeboat)' },
  region: { type: 'string', value: 'R', description: 'with --project: its functions\' region (env LIFEBOAT_REGION, default us-central1)' },
  'service-account': { type: 'string', value: 'EMAIL', description: 'with --project: the functions\' service account tasks run as (rewrap-keys)' },
  'firestore-root': { type: 'string', value: 'PATH', description: 'with --project: a document path the collections are nested under (default none)' },
  debug: { type: 'boolean', description: 'print the stack trace of an error' },
  help: { type: 'boolean', description: 'show this command\'s help' },
};

const json: OptionSpec = { type: 'boolean', description: 'print the result as one JSON document' };
const uid: OptionSpec = { type: 'string', value: 'UID', description: 'the user' };
const snapshotScope: Record<string, OptionSpec> = {
  uid: { type: 'string', value: 'UID', description: 'only this user\'s snapshots (needed for `latest`)' },
  device: { type: 'string', value: 'DEVICE', description: 'with `latest`: the newest snapshot of this device' },
};

export const SNAPSHOT_HELP = [
  '',
  'SNAPSHOT is a snapshot id (snap_…), a unique prefix of one (with or without `snap_`), or',
  '`latest`, the user\'s newest snapshot (needs --uid; --device narrows it to one device).',
  'An ambiguous prefix is a usage error naming the candidates; an unknown id is not found (exit 1).',
];

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'serve',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'run the embedded orchestrator (HTTP API, uploads, task workers)',
    details: [
      'On Linux it runs with MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=131072 (in a child process',
      'when they are not set; LIFEBOAT_MALLOC_TUNING=off keeps the environment). It stops on',
      'SIGINT or SIGTERM. Web pages of the allowed origins get CORS; a browser request from any',
      'other origin is refused (403). Lifecycle events (backup completed, failed, waiting for the',
      'device, snapshot health changed) are logged as `lifeboat event TYPE`.',
    ],
    options: {
      port: { type: 'string', value: 'N', description: 'port to listen on (env LIFEBOAT_PORT, default 8787; 0 = any free port)' },
      host: { type: 'string', value: 'H', description: 'address to bind (default 127.0.0.1)' },
      log: { type: 'string', value: 'LEVEL', description: 'silent | error | warn | info (default info)' },
      'allowed-origins': { type: 'string', value: 'O,O', description: 'browser origins allowed to use it, e.g. https://app.example.com (env LIFEBOAT_ALLOWED_ORIGINS; default none)' },
      'media-mode': { type: 'string', value: 'MODE', description: 'original | storageSaver: media mode of backups that choose none (env LIFEBOAT_MEDIA_MODE, default original)' },
    },
  },
  {
    name: 'token',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'print a bearer token for a user (or the dashboard)',
    details: ['The token is signed with the secret in the data folder; devices send it as `Authorization: Bearer`.'],
    options: {
      uid: { type: 'string', value: 'UID', description: 'the user (required, unless --admin)' },
      admin: { type: 'boolean', description: 'a token for the dashboard (GET /dashboard#token=TOKEN)' },
      ttl: { type: 'string', value: 'SECS', description: 'lifetime in seconds (default 86400)' },
      json,
    },
  },
  {
    name: 'jobs',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'list jobs, newest first: a user\'s, or every user\'s, filtered',
    details: ['At most --limit jobs (default 50). Without --uid, every user\'s jobs.'],
    options: {
      uid: { ...uid, description: 'only this user\'s jobs' },
      status: { type: 'string', value: 'S', description: 'only jobs in this status (queued, running, paused, completed, failed, cancelled)' },
      device: { type: 'string', value: 'DEVICE', description: 'only this device\'s jobs' },
      type: { type: 'string', value: 'T', description: 'only jobs backing up this type (contacts, chats, media, deviceInfo)' },
      limit: { type: 'string', value: 'N', description: 'how many (1-100, default 50)' },
      json,
    },
  },
  {
    name: 'snapshots',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'list a user\'s snapshots, newest first',
    details: ['At most --limit snapshots (default 50), of one device with --device.'],
    options: {
      uid: { ...uid, description: 'the user (required)' },
      device: { type: 'string', value: 'DEVICE', description: 'only this device\'s snapshots' },
      limit: { type: 'string', value: 'N', description: 'how many (1-100, default 50)' },
      json,
    },
  },
  {
    name: 'verify',
    args: 'SNAPSHOT',
    positionals: { min: 1, max: 1 },
    summary: 're-read a snapshot\'s blobs, recheck hashes, sizes and large-file parts',
    details: [
      'Problems are named by blob and by the items they hold; the result is kept as the snapshot\'s',
      'health. Exit 1 when there is any problem.',
      ...SNAPSHOT_HELP,
    ],
    options: { sample: { type: 'string', value: 'PCT', description: 'read only this share of the blobs (1-100, default 100)' }, ...snapshotScope, json },
  },
  {
    name: 'restore',
    args: 'SNAPSHOT',
    positionals: { min: 1, max: 1 },
    summary: 'restore a snapshot into a new or empty folder',
    details: [
      'Writes contacts.ndjson and contacts.vcf, device-info.json, chats/<conversation>.ndjson,',
      'media/<id>, skipped.ndjson and restore-report.json; never overwrites a file. Ids that are not',
      'safe file names get a readable name with a short hash (the report maps them back).',
      'It keeps going past a missing or corrupt blob: the items that could not be restored are',
      'listed in restore-report.json (`failed`) and the exit code is 3 (partial).',
      ...SNAPSHOT_HELP,
    ],
    options: {
      to: { type: 'string', value: 'DIR', description: 'the folder to restore into (required; new or empty)' },
      types: { type: 'string', value: 'T,T', description: 'only these types (contacts, deviceInfo, chats, media)' },
      items: { type: 'string', value: 'ID,ID', description: 'only these items (source ids)' },
      ...snapshotScope,
      json,
    },
  },
  {
    name: 'diff',
    args: 'SNAPSHOT1 SNAPSHOT2',
    positionals: { min: 2, max: 2 },
    summary: 'show what changed between two snapshots, per type and item',
    details: [
      'Counts added, removed, changed and unchanged items per type (from the two manifests; no',
      'blob is read), with each changed item under --items. Chat messages are named',
      'conversation/id.',
      ...SNAPSHOT_HELP,
    ],
    options: { items: { type: 'boolean', description: 'list every added (+), removed (-) and changed (M) item' }, ...snapshotScope, json },
  },
  {
    name: 'stats',
    args: '[SNAPSHOT]',
    positionals: { min: 0, max: 1 },
    summary: 'show a snapshot\'s figures, or a user\'s over all snapshots',
    details: [
      'With SNAPSHOT: its items and bytes per type, what changed since its parent, its health.',
      'With --uid alone: the user\'s snapshots per device, their totals, and the storage their',
      'blobs take once deduplicated. All from what the snapshots record; no manifest is read.',
      ...SNAPSHOT_HELP,
    ],
    options: { ...snapshotScope, json },
  },
  {
    name: 'forget',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'apply the user\'s retention policy: forget the snapshots it does not keep',
    details: [
      'Keeps, per device and backup type, the newest snapshots and the newest of each day, ISO',
      'week and month the policy names, and prints why each is kept. Forgetting deletes snapshot',
      'records only; `lifeboat gc` frees their data later.',
    ],
    options: { uid: { ...uid, description: 'the user (required)' }, 'dry-run': { type: 'boolean', description: 'print the plan, forget nothing' }, json },
  },
  {
    name: 'gc',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'delete a user\'s blobs nothing references any more (safe while backups run)',
    details: ['Blobs that no surviving snapshot, chunk-index entry or unfinished job references, older than the grace period.'],
    options: {
      uid: { ...uid, description: 'the user (required)' },
      'dry-run': { type: 'boolean', description: 'report what would be deleted, delete nothing' },
      'grace-hours': { type: 'string', value: 'H', description: 'keep unreferenced blobs younger than this (default 1)' },
      json,
    },
  },
  {
    name: 'check',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'check snapshots, manifests, the chunk index and blobs; name what is lost and what it breaks',
    details: [
      'Reads every snapshot record, every manifest object (root, tree nodes, segments, chat',
      'watermarks) and every chunk-index entry, and checks that every blob they name exists; with',
      '--read-data it also re-reads a share of the content blobs (hash, size, pack records). Each',
      'missing or corrupt object is named with what it breaks: the snapshots and items that lost',
      'data, and the index entries that would make the next backup of a chunk rely on it.',
      'With --repair it then drops those index entries (the next backup sends the chunks again),',
      'moves blobs that fail their hash to quarantine/ (so they can be stored again) and marks the',
      'damaged snapshots\' health; it holds the user\'s GC lease while it deletes, so it is safe',
      'while backups run. Exit 1 while problems remain (snapshots that lost data stay marked).',
    ],
    options: {
      uid: { ...uid, description: 'only this user (default: every user)' },
      'read-data': { type: 'string', value: '[=N%]', bareValue: '100%', description: 're-read this share of the content blobs (bare: all of them)' },
      repair: { type: 'boolean', description: 'drop index entries that rely on lost data, quarantine corrupt blobs, mark damaged snapshots' },
      json,
    },
  },
  {
    name: 'delete-snapshot',
    args: 'SNAPSHOT',
    positionals: { min: 1, max: 1 },
    summary: 'delete one snapshot, then free what no other snapshot needs',
    details: [
      'The snapshot record goes at once (it is neither listed nor restorable); garbage collection',
      'then deletes the blobs no other snapshot, chunk-index entry or unfinished job needs, except',
      'those younger than the grace period, which a later run frees. Deleting twice is harmless.',
      ...SNAPSHOT_HELP,
    ],
    options: {
      'grace-hours': { type: 'string', value: 'H', description: 'keep unreferenced blobs younger than this (default 1)' },
      'no-gc': { type: 'boolean', description: 'delete the record only; a later gc frees its data' },
      ...snapshotScope,
      json,
    },
  },
  {
    name: 'delete-user',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'delete all of a user\'s data: backups, blobs, schedules, devices, settings, keys',
    details: [
      'Cancels the user\'s unfinished backups, destroys their data key (from then on nothing of theirs',
      'can be read), then deletes their snapshots, jobs, chunk index, schedules, device tokens,',
      'settings, blobs and uploads. Idempotent: run it again to carry on after an interruption.',
      'New data for the user is refused until --settle-minutes after the start, while steps that were',
      'running may still write; a server running on the data folder ends the deletion then.',
    ],
    options: {
      uid: { ...uid, description: 'the user (required)' },
      yes: { type: 'boolean', description: 'confirm: this cannot be undone (required)' },
      'settle-minutes': { type: 'string', value: 'M', description: 'keep refusing new data this long after the start (default 10; 0 when no server runs)' },
      json,
    },
  },
  {
    name: 'rewrap-keys',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'after a master key rotation, re-wrap every user\'s data key',
    details: [
      'New key in LIFEBOAT_MASTER_KEY, old ones in LIFEBOAT_PREVIOUS_MASTER_KEYS; no blob is rewritten.',
      'With --project (the secret set to NEW,OLD first): fans out one rewrapKeys task per 100 users',
      'to the deployment and follows them until every page is done; --no-wait returns once queued.',
    ],
    options: { 'no-wait': { type: 'boolean', description: 'with --project: queue the tasks and return' }, json },
  },
  {
    name: 'admin',
    args: 'grant|revoke',
    positionals: { min: 1, max: 1 },
    summary: 'give or take back a deployment user\'s admin claim (the dashboard\'s sign-in)',
    details: [
      'Needs --project. Sets the custom claim admin: true on the Firebase Auth user with --email;',
      'their ID tokens carry it once refreshed. The adminDashboard function admits only such tokens.',
    ],
    options: { email: { type: 'string', value: 'E', description: 'the user\'s e-mail (required)' }, json },
  },
  {
    name: 'doctor',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'check that a Google Cloud project is ready for Lifeboat (preflight, read only)',
    details: [
      'Checks with your Application Default Credentials (gcloud auth application-default login):',
      'billing, the APIs, the runtime service account and its roles, the task queues, the blobs',
      'and uploads buckets, the named database with its indexes and TTL policies, the chat',
      'source\'s index on the app\'s database, the master key secret (never its value), the region',
      'and the events channel. Each item prints ok, MISSING, warning or UNCHECKED, with the',
      'command that fixes it. Settings come from functions/.env and functions/.env.PROJECT, as',
      'firebase deploy reads them; the options below override them. Exit 1 when anything is',
      'missing or could not be checked.',
    ],
    options: {
      project: { type: 'string', value: 'P', description: 'the Google Cloud project id (required)' },
      functions: { type: 'string', value: 'DIR', description: 'the functions folder holding .env files (default ./functions)' },
      region: { type: 'string', value: 'R', description: 'override LIFEBOAT_REGION' },
      database: { type: 'string', value: 'D', description: 'override LIFEBOAT_DATABASE' },
      'blobs-bucket': { type: 'string', value: 'B', description: 'override LIFEBOAT_BLOBS_BUCKET' },
      'uploads-bucket': { type: 'string', value: 'B', description: 'override LIFEBOAT_UPLOADS_BUCKET' },
      'events-channel': { type: 'string', value: 'C', description: 'override LIFEBOAT_EVENTS_CHANNEL' },
      'service-account': { type: 'string', value: 'EMAIL', description: 'the functions\' runtime service account (default: the default compute account)' },
      json,
    },
  },
  {
    name: 'smoke',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'prove a deployment works: back up, verify, restore and delete through its API',
    details: [
      'Runs as a device would, through the SDK against the callables: a small backup of generated',
      'contacts, a verify of its snapshot, a restore compared with what was backed up, then',
      'deleting the snapshot (deleteSnapshot, then checked gone), and a second job cancelled',
      'before it uploads. It never calls deleteMyData, which would refuse the test user\'s next',
      'run while the deletion settles.',
      'Each step prints what it did; exit 1 at the first that fails.',
      'On Firebase, --base-url is https://REGION-PROJECT.cloudfunctions.net and --token a Firebase',
      'ID token of a test user; against the embedded server the token may be left out (it is',
      'minted from the data folder for a throwaway user).',
    ],
    options: {
      'base-url': { type: 'string', value: 'URL', description: 'the API\'s base URL (required; the SDK\'s baseUrl)' },
      token: { type: 'string', value: 'T', description: 'a bearer token of a test user (Firebase: an ID token)' },
      json,
    },
  },
  {
    name: 'version',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'print the version (also --version)',
    details: [],
    options: { json },
  },
  {
    name: 'help',
    args: '[COMMAND]',
    positionals: { min: 0, max: 1 },
    summary: 'show help for all commands, or one',
    details: [],
    options: {},
  },
];

export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

const EXIT_HELP = [
  'Exit codes:',
  '  0  success',
  '  1  failure: an error, a snapshot or user not found, verify or check found problems',
  '  2  usage error: unknown command or option, a missing or ambiguous argument',
  '  3  partial restore: some items could not be restored (restore-report.json lists them)',
];

function optionLines(options: Record<string, OptionSpec>): string[] {
  return Object.entries(options).map(([name, o]) => {
    const flag = `--${name}${o.value ? `${o.bareValue !== undefined ? '' : ' '}${o.value}` : ''}`;
    return `  ${flag.padEnd(20)} ${o.description}`;
  });
}

/** `lifeboat help`: every command, the global options and the exit codes. */
export function usageText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'Usage: lifeboat <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Options of every command:',
    ...optionLines(GLOBAL_OPTIONS),
    '  --json               (commands that print data) print the result as one JSON document',
    '  --version            print the version',
    '',
    ...EXIT_HELP,
    '',
    'Long commands (verify, check, restore, gc, rewrap-keys) show progress when stdout is a terminal.',
    'With --project P every command but serve, token, doctor and smoke works on a Firebase deployment',
    '(doctor takes --project as the project to check).',
    'Run `lifeboat help COMMAND` (or `lifeboat COMMAND --help`) for a command\'s options.',
    '',
  ].join('\n');
}

/** `lifeboat help COMMAND`. */
export function commandHelp(spec: CommandSpec): string {
  return [
    `Usage: lifeboat ${spec.name}${spec.args ? ` ${spec.args}` : ''}${Object.keys(spec.options).length > 0 ? ' [options]' : ''}`,
    '',
    `${spec.summary[0]?.toUpperCase()}${spec.summary.slice(1)}.`,
    ...(spec.details.length > 0 ? ['', ...spec.details] : []),
    ...(Object.keys(spec.options).length > 0 ? ['', 'Options:', ...optionLines(spec.options)] : []),
    '',
    'Options of every command:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    ...EXIT_HELP,
    '',
  ].join('\n');
}
