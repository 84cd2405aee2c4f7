import type { BackupJob, BackupType, JobStatus, Snapshot } from '../core/model';
import type { CallOptions, Page } from './common';
import { lifeboatError } from '../core/errors';
import { decodePageCursor, encodePageCursor } from './paging';
import type { QueueName } from './task-queue';

/** Filters of the admin job listing; each one given narrows it. */
export interface AdminJobsQuery {
  status?: JobStatus;
  uid?: string;
  /** Jobs of this device (device ids are the app's, usually unique per user). */
  deviceId?: string;
  /** Jobs backing up this type (among others). */
  type?: BackupType;
  /** Jobs created at or after this time (epoch ms). */
  from?: number;
  /** Jobs created before this time (epoch ms). */
  to?: number;
  /** From 1 to 100; anything else is `invalid-argument`. @default 50 */
  limit?: number;
  /** `nextCursor` of the previous page; one the store did not hand out is `invalid-argument`. */
  cursor?: string;
}

export interface AdminSnapshotsQuery {
  /** Only this user's snapshots. @default every user's */
  uid?: string;
  /** From 1 to 100; anything else is `invalid-argument`. @default 50 */
  limit?: number;
  cursor?: string;
}

export interface AdminUsersQuery {
  /** From 1 to 100; anything else is `invalid-argument`. @default 25 */
  limit?: number;
  cursor?: string;
}

/** Tasks of one queue at one time, as the queue monitor saw them. */
export interface QueueDepth {
  /** Tasks waiting to run (due now, delayed, or waiting for a retry). */
  depth: number;
  /** Tasks dispatched and not answered yet. */
  running: number;
}

/** The depth of every queue at one time (the dashboard's "queue depth over time"). */
export interface QueueSample {
  at: number;
  queues: Partial<Record<QueueName, QueueDepth>>;
}

/**
 * What the admin surface (dashboard, `lifeboat` CLI) reads across users, which the engine's
 * JobStore never needs: the engine only ever asks about one user's documents. SQLite embedded,
 * Firestore on Firebase (each composite query listed in `ADMIN_QUERIES` with its index).
 *
 * Contract:
 * - Listings are newest first (`createdAt` desc, then id desc) or, for users, uid ascending, in
 *   keyset pages: a cursor is a position, so a page asked again gives the same items.
 * - A job page may hold fewer items than `limit`, even none, when a filter the store cannot serve
 *   from one index was applied to what it read (at most a bounded number of documents per page,
 *   so a rare filter never reads a whole collection at once): only a page without `nextCursor`
 *   ends the listing.
 * - Nothing here writes a document the engine reads; queue samples are the admin surface's own.
 */
export interface AdminStore {
  /** Every user's jobs, newest first, narrowed by the query's filters. */
  listJobs(query: AdminJobsQuery, options?: CallOptions): Promise<Page<BackupJob>>;
  /** How many jobs there are in each status, over every user. */
  jobStatusCounts(options?: CallOptions): Promise<Partial<Record<JobStatus, number>>>;
  /** The uids of users who have a job, ascending. */
  listUsers(query: AdminUsersQuery, options?: CallOptions): Promise<Page<string>>;
  /** Every user's snapshots (or one user's), newest first. */
  listSnapshots(query: AdminSnapshotsQuery, options?: CallOptions): Promise<Page<Snapshot>>;
  /** How many snapshots a user has. */
  countSnapshots(uid: string, options?: CallOptions): Promise<number>;
  /**
   * Ids of snapshots that start with `prefix` (of one user when `uid` is given), in id order, at
   * most `limit` (1..100): the CLI's short snapshot ids.
   */
  snapshotIdsStartingWith(prefix: string, limit: number, uid?: string, options?: CallOptions): Promise<string[]>;
  /** Keeps a queue sample (one per `at`: a second one at the same time replaces it). */
  recordQueueSample(sample: QueueSample, options?: CallOptions): Promise<void>;
  /** Samples taken at or after `since`, oldest first, at most `limit` (1..2000). */
  listQueueSamples(since: number, limit: number, options?: CallOptions): Promise<QueueSample[]>;
}

/** A users page's cursor: the page's last uid, in the stores' opaque cursor format. */
export function encodeUserCursor(uid: string): string {
  return encodePageCursor([0, uid]);
}

/** The uid inside a cursor made by {@link encodeUserCursor}; anything else is `invalid-argument`. */
export function decodeUserCursor(cursor: string): string {
  const [zero, uid] = decodePageCursor(cursor);
  if (zero !== 0) throw lifeboatError('invalid-argument', 'unknown cursor');
  return uid;
}
