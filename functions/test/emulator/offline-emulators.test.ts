/**
 * The Firebase wiring for real, in the offline emulators: `firebase emulators:exec --only
 * functions,tasks,auth,eventarc` runs the emulator codebase (embedded/emulator: the deployed
 * functions, built, over the SQLite store and folder blob store in a temp folder, since the
 * Firestore and Storage emulators need Java 21), and scenario.js plays the device: it signs in
 * with the auth emulator, backs up through the callables, and the tasks emulator dispatches
 * processing. One blob write is made to fail (LIFEBOAT_INJECT_FAULTS=1), so a processChunk attempt
 * fails transiently and the tasks emulator retries it under the function's retryConfig. The
 * completed backup's lifecycle event goes through the Eventarc emulator to the example
 * subscriber. Then a schedule is dispatched by the scheduled function and run by the device. The
 * emulator's log lines are timed here to show the retry.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..', '..');
const FIREBASE_CLI = join(ROOT, 'node_modules', 'firebase-tools', 'lib', 'bin', 'firebase.js');
const EMULATOR_CODEBASE = join(ROOT, 'embedded', 'emulator');
const present = existsSync(FIREBASE_CLI);
/** Normally about three minutes; the margin is for a loaded CI machine. */
const RUN_DEADLINE_MS = 480_000;
if (!present) process.stdout.write('offline emulator test SKIPPED: firebase-tools is not installed (run npm ci)\n');

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

interface TimedLine {
  at: number;
  line: string;
}

(present ? describe : describe.skip)('offline emulators (functions, tasks, auth)', () => {
  let dir: string;
  beforeAll(() => {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', join(ROOT, 'functions'), join(ROOT, 'client-sdk'), join(ROOT, 'embedded')], { stdio: 'inherit' });
    dir = mkdtempSync(join(tmpdir(), 'lifeboat-emulators-'));
  }, 180_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('backs up through callables and task queues, retries a transient failure, publishes its event, and runs a dispatched schedule', async () => {
    const port = await freePort();
    // The emulator codebase's config on free ports, under a project id of its own: suites of one
    // project find each other through a shared locator file, so runs on a shared machine would
    // otherwise talk to each other's emulators.
    const project = `demo-lifeboat-${process.pid}-${Date.now() % 100_000}`;
    const ports = { functions: await freePort(), tasks: await freePort(), auth: await freePort(), eventarc: await freePort(), hub: await freePort(), logging: await freePort() };
    const base = JSON.parse(readFileSync(join(EMULATOR_CODEBASE, 'firebase.json'), 'utf8')) as { functions: Array<Record<string, unknown>>; emulators: Record<string, unknown> };
    const config = join(dir, 'firebase.json');
    writeFileSync(
      config,
      JSON.stringify({
        // firebase-tools joins the source to the config's folder.
        functions: base.functions.map((f) => ({ ...f, source: relative(dir, EMULATOR_CODEBASE) })),
        emulators: { ...base.emulators, ...Object.fromEntries(Object.entries(ports).map(([name, p]) => [name, { host: '127.0.0.1', port: p }])) },
      }),
    );
    const resultFile = join(dir, 'result.json');
    const lines: TimedLine[] = [];
    const started = Date.now();
    const child = spawn(
      process.execPath,
      [FIREBASE_CLI, 'emulators:exec', '--config', config, '--project', project, '--only', 'functions,tasks,auth,eventarc', `node ${JSON.stringify(join(__dirname, 'scenario.js'))}`],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          LIFEBOAT_EMULATOR_PROJECT: project,
          LIFEBOAT_EMULATOR_FUNCTIONS_HOST: `127.0.0.1:${ports.functions}`,
          LIFEBOAT_EMULATOR_AUTH_HOST: `127.0.0.1:${ports.auth}`,
          LIFEBOAT_DATA_DIR: join(dir, 'data'),
          LIFEBOAT_UPLOAD_PORT: String(port),
          LIFEBOAT_UPLOAD_BASE_URL: `http://127.0.0.1:${port}/upload`,
          LIFEBOAT_INJECT_FAULTS: '1',
          LIFEBOAT_EMBEDDED_DOWNLOAD_URL: `http://127.0.0.1:${ports.functions}/${project}/us-central1/downloadBlob`,
          RESULT_FILE: resultFile,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let pending = '';
    const collect = (chunk: Buffer) => {
      pending += chunk.toString();
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const line of parts) lines.push({ at: Date.now() - started, line });
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    // Our own deadline, under jest's, so a stuck run still prints what the emulators said.
    const deadline = setTimeout(() => {
      lines.push({ at: Date.now() - started, line: 'offline emulator test: deadline passed, stopping the emulators' });
      child.kill('SIGINT');
    }, RUN_DEADLINE_MS);
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    clearTimeout(deadline);
    const output = lines.map((l) => l.line).join('\n');
    if (code !== 0 || !existsSync(resultFile)) process.stdout.write(`emulators:exec output:\n${output}\n`);
    expect(code).toBe(0);

    const result = JSON.parse(readFileSync(resultFile, 'utf8'));
    expect(result.ok).toBe(true);
    expect(result.job.status).toBe('completed');
    expect(result.job.progress.bytesUploaded).toBe(result.job.progress.bytesTotal);
    expect(result.job.progress).toMatchObject({ processedItems: 400, skippedItems: 0 });
    expect(result.verify.report.ok).toBe(true);
    // Restored through getRestorePlan and the downloadBlob function: every contact, normalized.
    expect(result.restore.ids).toEqual(Array.from({ length: 400 }, (_, i) => `c${String(i).padStart(4, '0')}`));
    expect(result.restore.sample).toMatchObject({ id: 'c0007', phones: [expect.objectContaining({ e164: '+442079000007' })] });
    // The injected fault was seen on the job record as a retrying error, then cleared by success.
    expect(result.timeline).toContainEqual(expect.objectContaining({ lastError: { code: 'unavailable', step: 'processChunk', retrying: true } }));

    // Each chunk's processing ran once, plus the retried attempt.
    const scheduledPart = lines.find((l) => l.line.includes('scheduler request posted'))?.at ?? Infinity;
    const executions = lines.filter((l) => l.at < scheduledPart && l.line.includes('Beginning execution of "us-central1-processChunkTask"'));
    const fault = lines.find((l) => l.line.includes('injected fault'));
    expect(fault).toBeDefined();
    expect(executions.length).toBeGreaterThanOrEqual(result.chunks + 1);
    // The retried attempt waits out the backoff, so it is the last processing to start.
    const retried = executions[executions.length - 1] as TimedLine;
    expect(retried.at).toBeGreaterThan((fault as TimedLine).at);

    // The completed backup's event, published to the Eventarc emulator's channel, reached the
    // example subscriber (embedded/src/emulator/example-subscriber.ts).
    const received = lines.find((l) => l.line.includes(`example subscriber: lifeboat.backup.v1.completed job=${result.jobId}`));
    if (!received) process.stdout.write(`emulators:exec output:\n${output}\n`);
    expect(received).toBeDefined();

    expect(result.scheduled).toMatchObject({ waitingStatus: 'paused', pauseReason: 'waiting_for_device' });
    expect(result.scheduled.job.status).toBe('completed');

    process.stdout.write(
      [
        'offline emulator test:',
        `  backup ${result.jobId}: ${result.chunks} chunks, ${result.job.progress.bytesTotal} B, completed and verified`,
        `  processChunkTask executions: ${executions.length} (${result.chunks} chunks, one retried)`,
        `  injected transient failure at +${(fault as TimedLine).at} ms; the last processChunkTask attempt (the retry) started at +${retried.at} ms, ${((retried.at - (fault as TimedLine).at) / 1000).toFixed(1)} s later (retryConfig minBackoffSeconds 30)`,
        `  job states seen: ${result.timeline.map((s: { status: string; lastError: { code: string } | null }) => `${s.status}${s.lastError ? `(${s.lastError.code}, retrying)` : ''}`).join(' -> ')}`,
        `  event: the example subscriber received lifeboat.backup.v1.completed for ${result.jobId} at +${(received as TimedLine).at} ms`,
        `  schedule: dispatched job ${result.scheduled.job.id} waited (${result.scheduled.pauseReason}) and completed once the device picked it up`,
      ].join('\n') + '\n',
    );
  }, 600_000);
});
