/**
 * How much the Firebase runtime can do at once, in one place: each task queue's instances and
 * dispatch rate (params with these defaults: firebase/scale-params.ts), the daily backstop runs'
 * batch sizes (firebase/schedules.ts), and the capacity they give, which the `scale` bench sets
 * against a million devices' demand (docs/firebase.md, "Capacity", has the arithmetic).
 */
import { DISPATCH_BATCH_SIZE, DISPATCH_PAGE_SIZE, DISPATCH_SPREAD_SECONDS } from './schedules/dispatch-pages';

/** Per queue: the function's most instances (one task each) and Cloud Tasks' dispatch rate. */
export const QUEUE_SCALE = Object.freeze({
  kickoff: { maxInstances: 200, maxDispatchesPerSecond: 500 },
  processChunk: { maxInstances: 1000, maxDispatchesPerSecond: 500 },
  finalize: { maxInstances: 200, maxDispatchesPerSecond: 500 },
  sourcePage: { maxInstances: 100, maxDispatchesPerSecond: 100 },
  dispatch: { maxInstances: 100, maxDispatchesPerSecond: 100 },
  maintenance: { maxInstances: 200, maxDispatchesPerSecond: 100 },
  // Only a step's last attempt enqueues one (after its deadline): a small fraction of the tasks.
  deathCheck: { maxInstances: 100, maxDispatchesPerSecond: 100 },
  // Re-wrapping data keys after a key rotation: a page of 100 users a task, a few seconds each.
  rewrapKeys: { maxInstances: 50, maxDispatchesPerSecond: 50 },
} as const);

/**
 * The request-driven functions' most instances (one request each, `concurrency: 1`). A device's
 * backup is a few calls (create, register pages, an upload begin and its object trigger per
 * uploaded chunk, commit, polls): a nightly burst of a million devices waking over about a
 * quarter of an hour is about 1 100 devices a second, and at about 0.2 s a call 1 000 instances
 * answer about 5 000 calls a second. Above Cloud Run's default quota for a region: ask for more
 * before a launch of that size (docs/firebase.md, "Capacity").
 */
export const REQUEST_SCALE = Object.freeze({
  callables: { maxInstances: 1000 },
  triggers: { maxInstances: 1000 },
  downloadBlob: { maxInstances: 100 },
} as const);

/** Users whose retention the daily backstop run re-applies. */
export const RETENTION_USERS_LIMIT = 500;
/** Users the daily backstop GC run collects. */
export const GC_USERS_LIMIT = 500;
/** Stale jobs the sweeper handles per run. */
export const SWEEP_LIMIT = 100;
/** Minutes between two sweeper runs. */
export const SWEEP_EVERY_MINUTES = 15;

/**
 * Assumed, not measured here (no Firestore or Cloud Storage to time): a dispatch page task lists
 * DISPATCH_PAGE_SIZE schedules and enqueues its batches in about a second; a batch dispatches its
 * schedules (a job create, a schedule update, an FCM send each, ten at a time) in about 5 s; a
 * user's maintenance (retention, GC: listing their snapshots, walking new manifest nodes, listing
 * their blobs) takes about 10 s.
 */
export const CAPACITY_ASSUMPTIONS = Object.freeze({ dispatchPageSeconds: 1, dispatchBatchSeconds: 5, maintenanceSeconds: 10 });

const perMinute = (tasksPerSecond: number, each: number) => tasksPerSecond * each * 60;

export const SCALE_CAPACITY = Object.freeze({
  /** Schedules dispatched per minute: the listing chain or the batches, whichever is slower. */
  dispatchPerMinute: Math.min(
    perMinute(1 / CAPACITY_ASSUMPTIONS.dispatchPageSeconds, DISPATCH_PAGE_SIZE),
    perMinute(Math.min(QUEUE_SCALE.dispatch.maxDispatchesPerSecond, QUEUE_SCALE.dispatch.maxInstances / CAPACITY_ASSUMPTIONS.dispatchBatchSeconds), DISPATCH_BATCH_SIZE),
  ),
  /** Minutes a burst's last batches wait on purpose (spread), added to a burst's dispatch time. */
  dispatchSpreadMinutes: DISPATCH_SPREAD_SECONDS / 60,
  /** Users maintained (retention + GC) per day by the per-user tasks. */
  gcUsersPerDay: Math.floor(Math.min(QUEUE_SCALE.maintenance.maxDispatchesPerSecond, QUEUE_SCALE.maintenance.maxInstances / CAPACITY_ASSUMPTIONS.maintenanceSeconds) * 86_400),
  sweptJobsPerHour: (SWEEP_LIMIT * 60) / SWEEP_EVERY_MINUTES,
});
