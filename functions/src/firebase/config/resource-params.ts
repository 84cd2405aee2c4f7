/**
 * Each function group's memory, timeout and concurrency as params, with the measured defaults of
 * FUNCTION_RESOURCES (function-resources.ts; docs/firebase.md, "Resources"). The names are
 * `LIFEBOAT_<GROUP>_MEMORY_MIB`, `LIFEBOAT_<GROUP>_TIMEOUT_SECONDS` and
 * `LIFEBOAT_<GROUP>_CONCURRENCY`, where a task queue's group is named as its scale params are
 * (`PROCESS_CHUNK`, not `PROCESS_CHUNK_TASK`) and any other group after its function
 * (`CALLABLES`, `TRIGGERS`, `DOWNLOAD_BLOB`, `COLLECT_GARBAGE`, ...).
 *
 * Two sides:
 * - {@link resourceOptions}: the params themselves, for a function's definition. The deploy
 *   manifest carries them as expressions; the CLI resolves them from `functions/.env` and
 *   `functions/.env.<projectId>` and refuses a memory or timeout Cloud Functions does not allow.
 * - {@link deployedResources}: the values a running instance was deployed with, for the code that
 *   plans by them (the media memory budget, Cloud Tasks' dispatch deadlines, the engine's
 *   deadlines and stop times). Only valid at run time: a deployed function's environment holds
 *   every param's value. A value that is absent (a unit test, the CLI's `--project` commands) is
 *   the default; one out of its limits (resource-limits.ts) is refused with `failed-precondition`.
 *
 * `cpu` takes no expression in firebase-functions: it is the CLI's default for the memory
 * (function-resources.ts).
 */
import { defineInt, type IntParam } from 'firebase-functions/params';
import { lifeboatError } from '../../core/errors';
import { QUEUE_NAMES, type QueueName } from '../../ports';
import { FUNCTION_RESOURCES, memoryMiB, type FunctionGroup } from './function-resources';
import { checkResources, type DeployedResources, type ResourceParamNames } from './resource-limits';
import { TASK_FUNCTION_NAMES } from './task-queues';

const QUEUE_OF_FUNCTION: Readonly<Record<string, QueueName>> = Object.freeze(Object.fromEntries(QUEUE_NAMES.map((q) => [TASK_FUNCTION_NAMES[q], q])));

/** The `<GROUP>` of a group's param names: `processChunkTask` → `PROCESS_CHUNK`, `downloadBlob` → `DOWNLOAD_BLOB`. */
export function resourceEnvPrefix(group: FunctionGroup): string {
  const base = QUEUE_OF_FUNCTION[group] ?? group;
  return base.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
}

/** The names of a group's three params. */
export function resourceParamNames(group: FunctionGroup): ResourceParamNames {
  const prefix = `LIFEBOAT_${resourceEnvPrefix(group)}`;
  return { memoryMiB: `${prefix}_MEMORY_MIB`, timeoutSeconds: `${prefix}_TIMEOUT_SECONDS`, concurrency: `${prefix}_CONCURRENCY` };
}

interface GroupParams {
  memoryMiB: IntParam;
  timeoutSeconds: IntParam;
  concurrency: IntParam;
}

const GROUPS = Object.keys(FUNCTION_RESOURCES) as FunctionGroup[];

/** Every group's params, declared once at load (the CLI lists what is declared). */
export const RESOURCE_PARAMS: Readonly<Record<FunctionGroup, GroupParams>> = Object.freeze(
  Object.fromEntries(
    GROUPS.map((group) => {
      const names = resourceParamNames(group);
      const defaults = FUNCTION_RESOURCES[group];
      return [
        group,
        {
          memoryMiB: defineInt(names.memoryMiB, { default: memoryMiB(group), description: `Memory of ${group} in MiB (128, 256, 512, 1024, 2048, ...).` }),
          timeoutSeconds: defineInt(names.timeoutSeconds, { default: defaults.timeoutSeconds, description: `Timeout of ${group} in seconds (${defaults.kind === 'event' ? 'an' : 'a'} ${defaults.kind} function).` }),
          concurrency: defineInt(names.concurrency, { default: defaults.concurrency, description: `Requests one instance of ${group} serves at once; more needs more memory.` }),
        },
      ];
    }),
  ) as Record<FunctionGroup, GroupParams>,
);

/** A group's memory, timeout and concurrency options, as params, for its function's definition. */
export function resourceOptions(group: FunctionGroup): { memory: IntParam; timeoutSeconds: IntParam; concurrency: IntParam } {
  const params = RESOURCE_PARAMS[group];
  return { memory: params.memoryMiB, timeoutSeconds: params.timeoutSeconds, concurrency: params.concurrency };
}

function readInt(param: IntParam, fallback: number): number {
  // What `.value()` reads; read here to tell an absent value (the default) from a malformed one,
  // which `.value()` would turn into 0 or a number's prefix.
  const raw = process.env[param.name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw)) throw lifeboatError('failed-precondition', `${param.name}=${JSON.stringify(raw)} is not an integer (docs/firebase.md, "Resources")`);
  return Number(raw);
}

/**
 * The resources this deployment gives a group, read from its params at run time.
 * @throws LifeboatError `failed-precondition` when a value is not an integer or out of its limits.
 */
export function deployedResources(group: FunctionGroup): DeployedResources {
  const params = RESOURCE_PARAMS[group];
  const defaults = FUNCTION_RESOURCES[group];
  const values = {
    memoryMiB: readInt(params.memoryMiB, memoryMiB(group)),
    timeoutSeconds: readInt(params.timeoutSeconds, defaults.timeoutSeconds),
    concurrency: readInt(params.concurrency, defaults.concurrency),
  };
  return checkResources(group, values, resourceParamNames(group));
}

/** Each task queue's deployed timeout: its dispatch deadline, for the engine and for Cloud Tasks. */
export function deployedTaskTimeouts(): Record<QueueName, number> {
  return Object.fromEntries(QUEUE_NAMES.map((q) => [q, deployedResources(TASK_FUNCTION_NAMES[q]).timeoutSeconds])) as Record<QueueName, number>;
}
