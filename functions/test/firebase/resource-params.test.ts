/**
 * Per-group resources as params (firebase/config/resource-params.ts): a deployment's values, read
 * at run time, set what the engine plans by (the media memory budget, Cloud Tasks' dispatch
 * deadlines, the engine's own deadlines and stop times), and values Cloud Functions would not run
 * are refused with `failed-precondition`. The deploy manifest side is in deploy-targets.test.ts.
 */
import type { Functions } from 'firebase-admin/functions';
import type { Messaging } from 'firebase-admin/messaging';
import firebaseFunctionsTest from 'firebase-functions-test';
import type { Request } from 'firebase-functions/v2/tasks';
import * as functions from '../../src/index';
import { DISPATCH_DEADLINE_SECONDS, taskDefinitions } from '../../src/core/task-definitions';
import { maintenanceWorkMs } from '../../src/core/maintenance';
import { FUNCTION_RESOURCES, type FunctionGroup } from '../../src/firebase/config/function-resources';
import { memoryNeededMiB } from '../../src/firebase/config/resource-limits';
import { deployedResources, deployedTaskTimeouts, resourceParamNames } from '../../src/firebase/config/resource-params';
import { TASK_FUNCTION_NAMES, TASK_TIMEOUT_SECONDS } from '../../src/firebase/config/task-queues';
import { GC_TIMEOUT_SECONDS, runGarbageCollection } from '../../src/firebase/functions/schedules';
import { createProductionRuntime, processChunkMemoryBudget, type ProductionConfig } from '../../src/firebase/runtime/production-backend';
import { imageAllowance } from '../../src/strategies';
import { QUEUE_SCALE, REQUEST_SCALE } from '../../src/core/scale-capacity';
import { QUEUE_NAMES, silentLogger, type Logger, type TaskPayload } from '../../src/ports';
import { FakeBucket } from '../adapters/fake-bucket';
import { FakeFirestore } from '../adapters/fake-firestore';
import { createHarness } from '../fakes/engine-harness';
import { loadFunctionsEnv } from './function-env';
import { setDepsForTesting } from './test-runtime';
import { contactsStepsDie, uploadedChunk } from './uploaded-chunk';

loadFunctionsEnv();
const fft = firebaseFunctionsTest({ projectId: 'demo-lifeboat' });
const MIB = 1024 * 1024;

/** Every resource param this file sets, restored after each test. */
const touched = new Map<string, string | undefined>();
function setEnv(name: string, value: string): void {
  if (!touched.has(name)) touched.set(name, process.env[name]);
  process.env[name] = value;
}
afterEach(() => {
  for (const [name, value] of touched) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  touched.clear();
  setDepsForTesting(null);
});
afterAll(() => fft.cleanup());

/** firebase-admin's task queues, recording each enqueue's options. */
class RecordingTaskQueues {
  readonly enqueued: Array<{ queue: string; options: Record<string, unknown> }> = [];
  taskQueue(queue: string) {
    return {
      enqueue: async (_data: TaskPayload, options: Record<string, unknown> = {}) => {
        this.enqueued.push({ queue, options });
      },
      delete: async () => {},
    };
  }
}

const config: ProductionConfig = {
  region: 'us-central1',
  masterKeys: 'a'.repeat(64),
  downloadBaseUrl: () => 'https://us-central1-demo-lifeboat.cloudfunctions.net/downloadBlob',
  mediaHosts: '',
  chatMessagesPath: '',
  chatParticipantsField: 'participants',
  eventSource: '//lifeboat/projects/demo-lifeboat',
  fairShare: 50,
};

function productionRuntime() {
  const tasks = new RecordingTaskQueues();
  const runtime = createProductionRuntime(
    {
      db: new FakeFirestore() as never,
      appDb: new FakeFirestore() as never,
      blobsBucket: new FakeBucket() as never,
      uploadsBucket: new FakeBucket() as never,
      functions: tasks as unknown as Functions,
      messaging: { send: async () => 'm' } as unknown as Messaging,
      events: null,
    },
    config,
    silentLogger,
  );
  return { runtime, tasks };
}

function taskRequest(data: TaskPayload, id: string, retryCount = 0): Request<TaskPayload> {
  return { data, id, retryCount, executionCount: retryCount, queueName: 'q', scheduledTime: new Date(0).toISOString() };
}

describe('resource params at run time', () => {
  it('read as their defaults when absent, which are the measured table and the engine\'s deadlines', () => {
    for (const group of Object.keys(FUNCTION_RESOURCES) as FunctionGroup[]) {
      const names = resourceParamNames(group);
      for (const name of Object.values(names)) {
        setEnv(name, '');
      }
      expect(deployedResources(group)).toEqual({ memoryMiB: 256, timeoutSeconds: FUNCTION_RESOURCES[group].timeoutSeconds, concurrency: 1 });
    }
    // The engine's deadlines, the task functions' default timeouts and Cloud Tasks' deadlines agree.
    expect(deployedTaskTimeouts()).toEqual(DISPATCH_DEADLINE_SECONDS);
    expect(TASK_TIMEOUT_SECONDS).toEqual(DISPATCH_DEADLINE_SECONDS);
    expect(resourceParamNames('processChunkTask')).toEqual({
      memoryMiB: 'LIFEBOAT_PROCESS_CHUNK_MEMORY_MIB',
      timeoutSeconds: 'LIFEBOAT_PROCESS_CHUNK_TIMEOUT_SECONDS',
      concurrency: 'LIFEBOAT_PROCESS_CHUNK_CONCURRENCY',
    });
    expect(resourceParamNames('downloadBlob').memoryMiB).toBe('LIFEBOAT_DOWNLOAD_BLOB_MEMORY_MIB');
  });

  it('an overridden processChunk group changes the media memory budget, the dispatch deadline and the fair-share slot', async () => {
    const before = productionRuntime();
    expect(before.runtime.deps.memoryBudget).toEqual({ limitBytes: 256 * MIB, baselineBytes: 105 * MIB });
    await before.runtime.deps.queue.enqueue('processChunk', { jobId: 'j', chunkId: 'c' });
    expect(before.tasks.enqueued[0]?.options).toMatchObject({ dispatchDeadlineSeconds: 540 });
    expect(before.runtime.deps.fairShare?.slotSeconds).toBe(540);

    setEnv('LIFEBOAT_PROCESS_CHUNK_MEMORY_MIB', '1024');
    setEnv('LIFEBOAT_PROCESS_CHUNK_TIMEOUT_SECONDS', '900');
    const after = productionRuntime();
    expect(after.runtime.deps.memoryBudget).toEqual({ limitBytes: 1024 * MIB, baselineBytes: 105 * MIB });
    // The re-encode allowance grows with it: 80 % of 1024 MiB less the baseline.
    expect(imageAllowance(after.runtime.deps.memoryBudget!)).toBeCloseTo((1024 * 0.8 - 105) * MIB, -3);
    expect(after.runtime.deps.fairShare?.slotSeconds).toBe(900);
    await after.runtime.deps.queue.enqueue('processChunk', { jobId: 'j', chunkId: 'c' });
    await after.runtime.deps.queue.enqueue('finalize', { jobId: 'j' });
    expect(after.tasks.enqueued.map((t) => [t.queue, t.options['dispatchDeadlineSeconds']])).toEqual([
      ['processChunkTask', 900],
      ['finalizeTask', 540],
    ]);
  });

  it('the dispatch deadline is read at each enqueue, not when the runtime was built', async () => {
    const { runtime, tasks } = productionRuntime();
    setEnv('LIFEBOAT_FINALIZE_TIMEOUT_SECONDS', '1200');
    await runtime.deps.queue.enqueue('finalize', { jobId: 'j' });
    expect(tasks.enqueued[0]?.options).toMatchObject({ dispatchDeadlineSeconds: 1200 });
    setEnv('LIFEBOAT_FINALIZE_TIMEOUT_SECONDS', '1801');
    await expect(runtime.deps.queue.enqueue('finalize', { jobId: 'j' })).rejects.toMatchObject({ code: 'failed-precondition', message: expect.stringContaining('LIFEBOAT_FINALIZE_TIMEOUT_SECONDS=1801') });
  });

  it('several tasks at once in one instance share its memory: each plans in its part', () => {
    const one = processChunkMemoryBudget({ memoryMiB: 512, concurrency: 1 });
    const two = processChunkMemoryBudget({ memoryMiB: 512, concurrency: 2 });
    expect(one).toEqual({ limitBytes: 512 * MIB, baselineBytes: 105 * MIB });
    expect(two.limitBytes).toBe(512 * MIB);
    expect(imageAllowance(two)).toBeCloseTo(imageAllowance(one) / 2, -3);
    // At the memory the check asks for, each of c tasks gets at least the default's allowance.
    for (const concurrency of [2, 3, 4, 8]) {
      const budget = processChunkMemoryBudget({ memoryMiB: memoryNeededMiB(concurrency), concurrency });
      expect(imageAllowance(budget)).toBeGreaterThanOrEqual(imageAllowance(processChunkMemoryBudget({ memoryMiB: 256, concurrency: 1 })) - 1);
    }
  });

  it('the engine\'s deadline follows the deployed timeout: a dead last attempt is checked after it', async () => {
    setEnv('LIFEBOAT_PROCESS_CHUNK_TIMEOUT_SECONDS', '900');
    const h = createHarness();
    const { jobId, chunkId } = await uploadedChunk(h);
    h.queue.pending.length = 0;
    contactsStepsDie(h);
    setDepsForTesting({ deps: h.deps });
    void functions.processChunkTask.run(taskRequest({ jobId, chunkId }, 't', 5));
    await new Promise((r) => setTimeout(r, 20));
    expect(h.queue.pending.find((t) => t.queue === 'deathCheck')).toMatchObject({ id: 't_check_5', delaySeconds: 900 + 60, payload: expect.objectContaining({ deadlineSeconds: 900 }) });
  });

  it('maintenance rounds stop a minute before the deployed deadline', () => {
    expect(maintenanceWorkMs(540)).toBe(480_000);
    expect(maintenanceWorkMs(1800)).toBe(1_740_000);
    // A deadline too short for a minute's margin keeps half of it.
    expect(maintenanceWorkMs(60)).toBe(30_000);
    const deadlines = Object.fromEntries(QUEUE_NAMES.map((q) => [q, 1200]));
    const maintenance = taskDefinitions(createHarness().deps, { dispatchDeadlineSeconds: deadlines }).find((d) => d.name === 'maintenance');
    expect(maintenance?.dispatchDeadlineSeconds).toBe(1200);
  });

  it('garbage collection starts users until a lease before the deployed timeout', async () => {
    const logger: Logger & { fields: unknown[] } = { fields: [], info: (m, f) => void (m === 'garbage collected' && logger.fields.push(f)), warn: () => {}, error: () => {} };
    const h = createHarness();
    h.deps.logger = logger;
    setDepsForTesting({ deps: h.deps, findSnapshotOwners: async () => ['alice'] });
    // 440 s into a run: the default 540 s leaves too little for a user, a deployed 1200 s does not.
    const startedAt = Date.now() - (GC_TIMEOUT_SECONDS - 100) * 1000;
    await runGarbageCollection(startedAt);
    setEnv('LIFEBOAT_COLLECT_GARBAGE_TIMEOUT_SECONDS', '1200');
    await runGarbageCollection(startedAt);
    expect(logger.fields).toEqual([expect.objectContaining({ users: 1, skipped: 1 }), expect.objectContaining({ users: 1, skipped: 0 })]);
  });
});

describe('the committed functions/.env', () => {
  it('holds every scale param with its default: a deploy applies no default itself, so a missing one is a prompt or a failed deploy', () => {
    const env = loadFunctionsEnv();
    const upper = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
    for (const queue of QUEUE_NAMES) {
      expect([queue, env[`LIFEBOAT_${upper(queue)}_MAX_INSTANCES`]]).toEqual([queue, String(QUEUE_SCALE[queue].maxInstances)]);
      expect([queue, env[`LIFEBOAT_${upper(queue)}_MAX_DISPATCHES_PER_SECOND`]]).toEqual([queue, String(QUEUE_SCALE[queue].maxDispatchesPerSecond)]);
    }
    for (const [group, { maxInstances }] of Object.entries(REQUEST_SCALE)) expect([group, env[`LIFEBOAT_${upper(group)}_MAX_INSTANCES`]]).toEqual([group, String(maxInstances)]);
  });
});

describe('resource params out of Cloud Functions\' limits', () => {
  const refused = (group: FunctionGroup, env: Record<string, string>) => {
    for (const [name, value] of Object.entries(env)) setEnv(name, value);
    return () => deployedResources(group);
  };

  it('memory must be a size Cloud Functions offers', () => {
    expect(refused('processChunkTask', { LIFEBOAT_PROCESS_CHUNK_MEMORY_MIB: '300' })).toThrow(expect.objectContaining({ code: 'failed-precondition', message: expect.stringContaining('LIFEBOAT_PROCESS_CHUNK_MEMORY_MIB=300') }));
    expect(refused('processChunkTask', { LIFEBOAT_PROCESS_CHUNK_MEMORY_MIB: '2GiB' })).toThrow(expect.objectContaining({ code: 'failed-precondition', message: expect.stringContaining('not an integer') }));
    // 128 MiB is a size, but leaves a step less than it was measured to need beyond the baseline.
    expect(refused('callables', { LIFEBOAT_CALLABLES_MEMORY_MIB: '128' })).toThrow(/at least 256 MiB/);
    expect(refused('processChunkTask', { LIFEBOAT_PROCESS_CHUNK_MEMORY_MIB: '2048' })()).toMatchObject({ memoryMiB: 2048 });
  });

  it('timeouts stop where their trigger kind does: 540 s for events, 1 800 s for tasks and schedules, 3 600 s for HTTPS', () => {
    expect(refused('triggers', { LIFEBOAT_TRIGGERS_TIMEOUT_SECONDS: '541' })).toThrow(/a event function's timeout is 1 to 540 s/);
    expect(refused('triggers', { LIFEBOAT_TRIGGERS_TIMEOUT_SECONDS: '540' })()).toMatchObject({ timeoutSeconds: 540 });
    expect(refused('processChunkTask', { LIFEBOAT_PROCESS_CHUNK_TIMEOUT_SECONDS: '1801' })).toThrow(/task function's timeout is 15 to 1800 s/);
    expect(refused('kickoffTask', { LIFEBOAT_KICKOFF_TIMEOUT_SECONDS: '10' })).toThrow(/LIFEBOAT_KICKOFF_TIMEOUT_SECONDS=10/);
    expect(refused('collectGarbage', { LIFEBOAT_COLLECT_GARBAGE_TIMEOUT_SECONDS: '1800' })()).toMatchObject({ timeoutSeconds: 1800 });
    expect(refused('callables', { LIFEBOAT_CALLABLES_TIMEOUT_SECONDS: '3600' })()).toMatchObject({ timeoutSeconds: 3600 });
    expect(refused('downloadBlob', { LIFEBOAT_DOWNLOAD_BLOB_TIMEOUT_SECONDS: '3601' })).toThrow(/https function's timeout is 1 to 3600 s/);
  });

  it('concurrency needs the memory of its requests, and at most 1 000', () => {
    expect(refused('processChunkTask', { LIFEBOAT_PROCESS_CHUNK_CONCURRENCY: '2' })).toThrow(
      expect.objectContaining({ code: 'failed-precondition', message: expect.stringContaining('LIFEBOAT_PROCESS_CHUNK_MEMORY_MIB=256 with LIFEBOAT_PROCESS_CHUNK_CONCURRENCY=2') }),
    );
    expect(refused('processChunkTask', { LIFEBOAT_PROCESS_CHUNK_CONCURRENCY: '2', LIFEBOAT_PROCESS_CHUNK_MEMORY_MIB: '512' })()).toMatchObject({ concurrency: 2, memoryMiB: 512 });
    expect(refused('callables', { LIFEBOAT_CALLABLES_CONCURRENCY: '0' })).toThrow(/concurrency is 1 to 1000/);
    expect(refused('callables', { LIFEBOAT_CALLABLES_CONCURRENCY: '1001', LIFEBOAT_CALLABLES_MEMORY_MIB: '32768' })).toThrow(/concurrency is 1 to 1000/);
    expect([1, 2, 3, 4, 8].map(memoryNeededMiB)).toEqual([256, 512, 512, 1024, 2048]);
  });

  it('a task function deployed out of its limits refuses its tasks with the params named', async () => {
    setEnv('LIFEBOAT_PROCESS_CHUNK_CONCURRENCY', '4');
    const h = createHarness();
    setDepsForTesting({ deps: h.deps });
    await expect(functions.processChunkTask.run(taskRequest({ jobId: 'j', chunkId: 'c' }, 't'))).rejects.toMatchObject({
      code: 'failed-precondition',
      message: expect.stringContaining('LIFEBOAT_PROCESS_CHUNK_CONCURRENCY=4'),
    });
    expect(TASK_FUNCTION_NAMES.processChunk).toBe('processChunkTask');
  });
});
