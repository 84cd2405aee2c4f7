/**
 * How much periodic work the Firebase runtime does, in one place: the schedules' batch sizes and
 * periods (firebase/schedules.ts uses them), and the capacity they give, which the `scale` bench
 * sets against a million devices' demand.
 */

/** Due schedules the dispatcher handles per run. */
export const DISPATCH_LIMIT = 200;
/** Minutes between two dispatcher runs. */
export const DISPATCH_EVERY_MINUTES = 5;
/** Users whose retention the daily run re-applies. */
export const RETENTION_USERS_LIMIT = 500;
/** Users the daily garbage-collection run collects. */
export const GC_USERS_LIMIT = 500;
/** Stale jobs the sweeper handles per run. */
export const SWEEP_LIMIT = 100;
/** Minutes between two sweeper runs. */
export const SWEEP_EVERY_MINUTES = 15;

export const SCALE_CAPACITY = {
  dispatchPerMinute: DISPATCH_LIMIT / DISPATCH_EVERY_MINUTES,
  gcUsersPerDay: GC_USERS_LIMIT,
  sweptJobsPerHour: (SWEEP_LIMIT * 60) / SWEEP_EVERY_MINUTES,
} as const;
