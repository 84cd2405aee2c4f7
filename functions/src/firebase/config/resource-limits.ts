/**
 * What a function group's memory, timeout and concurrency may be: Cloud Functions' own limits (the
 * Firebase CLI refuses a deploy past the memory and timeout ones) and the one the CLI cannot know,
 * that each request an instance serves at once needs the memory a step was measured in. The
 * runtime checks the deployed values against these before it plans by them
 * (resource-params.ts). Imports nothing from Firebase, so the bench can use it too.
 */
import { lifeboatError } from '../../core/errors';
import { FUNCTION_RESOURCES, PRODUCTION_BASELINE_MIB, type FunctionGroup, type FunctionKind } from './function-resources';

/** Memory sizes a 2nd-gen function may have, in MiB (firebase-tools' `allMemoryOptions`). */
export const MEMORY_OPTIONS_MIB = Object.freeze([128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768] as const);

/**
 * Longest timeout per trigger kind (firebase-tools 15 `validateTimeoutConfig`): event triggers
 * 540 s, task queues and schedules 1 800 s (Cloud Tasks' dispatch deadline and Cloud Scheduler's
 * attempt deadline stop there too), HTTPS and callables 3 600 s.
 */
export const TIMEOUT_LIMIT_SECONDS: Readonly<Record<FunctionKind, { min: number; max: number }>> = Object.freeze({
  callable: { min: 1, max: 3600 },
  https: { min: 1, max: 3600 },
  event: { min: 1, max: 540 },
  // Cloud Tasks takes a dispatch deadline of 15 to 1 800 s, and the task's deadline is its timeout.
  task: { min: 15, max: 1800 },
  schedule: { min: 1, max: 1800 },
});

/** Cloud Run's most concurrent requests per instance. */
export const MAX_CONCURRENCY = 1000;

/** Share of its memory a step may reach: the margin the `limits` bench holds every step to. */
export const RESOURCE_HEADROOM = 0.8;

/**
 * The memory one step may use beyond the baseline: what every step was measured within, 80 % of
 * 256 MiB less the 105 MiB baseline, about 100 MiB (docs/firebase.md, "Resources").
 */
export const STEP_ALLOWANCE_MIB = 256 * RESOURCE_HEADROOM - PRODUCTION_BASELINE_MIB;

/** A group's resources as deployed. */
export interface DeployedResources {
  memoryMiB: number;
  timeoutSeconds: number;
  concurrency: number;
}

/** The param names of a group's resources, for error messages. */
export interface ResourceParamNames {
  memoryMiB: string;
  timeoutSeconds: string;
  concurrency: string;
}

/** The least memory an instance serving `concurrency` requests at once needs, in MiB. */
export function memoryNeededMiB(concurrency: number): number {
  const needed = (PRODUCTION_BASELINE_MIB + concurrency * STEP_ALLOWANCE_MIB) / RESOURCE_HEADROOM;
  // Past the largest option no memory is enough: the check then refuses whatever was asked.
  return MEMORY_OPTIONS_MIB.find((m) => m >= needed - 1e-9) ?? Infinity;
}

/**
 * The problems of a group's deployed resources; empty when they are fine.
 * @param names the params the values came from, named in the messages.
 */
export function resourceProblems(group: FunctionGroup, values: DeployedResources, names: ResourceParamNames): string[] {
  const kind = FUNCTION_RESOURCES[group].kind;
  const problems: string[] = [];
  if (!(MEMORY_OPTIONS_MIB as readonly number[]).includes(values.memoryMiB)) {
    problems.push(`${names.memoryMiB}=${values.memoryMiB}: Cloud Functions takes ${MEMORY_OPTIONS_MIB.join(', ')} (MiB)`);
  }
  const timeout = TIMEOUT_LIMIT_SECONDS[kind];
  if (!Number.isInteger(values.timeoutSeconds) || values.timeoutSeconds < timeout.min || values.timeoutSeconds > timeout.max) {
    problems.push(`${names.timeoutSeconds}=${values.timeoutSeconds}: a ${kind} function's timeout is ${timeout.min} to ${timeout.max} s`);
  }
  if (!Number.isInteger(values.concurrency) || values.concurrency < 1 || values.concurrency > MAX_CONCURRENCY) {
    problems.push(`${names.concurrency}=${values.concurrency}: concurrency is 1 to ${MAX_CONCURRENCY}`);
  } else if (problems.length === 0 && values.memoryMiB < memoryNeededMiB(values.concurrency)) {
    problems.push(
      `${names.memoryMiB}=${values.memoryMiB} with ${names.concurrency}=${values.concurrency}: each request needs the ${Math.round(STEP_ALLOWANCE_MIB)} MiB ` +
        `a step was measured in beyond the ${PRODUCTION_BASELINE_MIB} MiB baseline, within 80 % of the memory: at least ${memoryNeededMiB(values.concurrency)} MiB`,
    );
  }
  return problems;
}

/**
 * The values, when they are within the limits.
 * @throws LifeboatError `failed-precondition` naming every param out of its limits.
 */
export function checkResources(group: FunctionGroup, values: DeployedResources, names: ResourceParamNames): DeployedResources {
  const problems = resourceProblems(group, values, names);
  if (problems.length > 0) {
    throw lifeboatError('failed-precondition', `${group} is deployed with resources it cannot run in: ${problems.join('; ')} (docs/firebase.md, "Resources")`, {
      details: { group, problems },
    });
  }
  return values;
}
