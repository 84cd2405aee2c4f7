/**
 * The stale-job sweeper, embedded: the engine's sweep (core/steps/sweep-stale-jobs.ts, the same
 * code as Firebase's `sweepStaleJobs` function) on a timer, like the schedule dispatcher. At start
 * it first reconciles every queued and running job with the task queue (`reconcileJobs`): work a
 * crash lost between a committed change and its enqueue is queued again at once, not after the
 * stale bound.
 */
import { reconcileJobs, sweepStaleJobs, type EngineDeps, type StaleJobFinder, type SweepOptions } from '@lifeboat/engine/core';

export interface StaleJobSweeperOptions extends SweepOptions {
  /** Time between sweeps. @default 60_000 */
  intervalMs?: number;
}

/** The embedded defaults: a lost kickoff is queued again after a minute. */
export const EMBEDDED_KICKOFF_AFTER_MS = 60_000;

export interface StaleJobSweeper {
  /** Resolves once the start-up reconciliation is done. */
  readonly started: Promise<void>;
  /** Stops the timer and waits for a sweep in progress. */
  stop(): Promise<void>;
}

export function startStaleJobSweeper(deps: EngineDeps, find: StaleJobFinder, options: StaleJobSweeperOptions = {}): StaleJobSweeper {
  const { intervalMs = 60_000, ...sweep } = options;
  const sweepOptions: SweepOptions = { kickoffAfterMs: EMBEDDED_KICKOFF_AFTER_MS, ...sweep };
  let running: Promise<unknown> = reconcileJobs(deps, find, { before: deps.clock.now() }).catch((err: unknown) => {
    deps.logger.warn(`reconciling jobs with the task queue failed: ${(err as Error).message}`);
  });
  const started = running.then(() => undefined);
  const timer = setInterval(() => {
    running = running.then(() =>
      sweepStaleJobs(deps, find, sweepOptions).catch((err: unknown) => deps.logger.warn(`stale-job sweep failed: ${(err as Error).message}`)),
    );
  }, intervalMs);
  timer.unref();
  return {
    started,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
