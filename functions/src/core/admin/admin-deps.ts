import type { AdminStore, QueueMonitor } from '../../ports';
import type { EngineDeps } from '../deps';

/**
 * What the admin surface (dashboard and CLI) works with: the engine's ports, which its actions go
 * through exactly as the owner's calls do, plus the cross-user reads of the admin port and what
 * the task queues show.
 */
export interface AdminDeps extends EngineDeps {
  admin: AdminStore;
  queues: QueueMonitor;
}

/** Who asked: an admin's uid (or `lifeboat-cli`), written to the log with every action. */
export interface AdminRequest {
  actor: string;
  data: unknown;
}

/** An admin API handler: a plain function of the request and the deps. */
export type AdminHandler<R = unknown> = (request: AdminRequest, deps: AdminDeps) => Promise<R>;
