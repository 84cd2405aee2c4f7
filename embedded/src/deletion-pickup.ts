/**
 * The embedded runtime's pickup of user data deletions under way (core/deletion): at start and
 * then periodically, every deletion whose caller went away (the server stopped mid-way, a device
 * that never called again) is carried on, and one waiting out its settle time ends.
 */
import { continuePendingDeletions, messageOf, type DeletionDeps } from '@lifeboat/engine/core';

/**
 * Runs the pickup now and every `intervalMs` (never two at once; failures are logged) until the
 * returned function is called, which aborts a run under way and waits for it. 0: only now.
 */
export function pickUpDeletionsEvery(deps: DeletionDeps & { logger: NonNullable<DeletionDeps['logger']> }, intervalMs: number): () => Promise<void> {
  const stopping = new AbortController();
  let running: Promise<unknown> | null = null;
  const run = () => {
    running ??= continuePendingDeletions(deps, { signal: stopping.signal })
      .then((reports) => {
        if (reports.length > 0) deps.logger.info('user data deletions carried on', { users: reports.length, done: reports.filter((r) => r.status === 'done').length });
      })
      .catch((err: unknown) => {
        if (!stopping.signal.aborted) deps.logger.warn(`user data deletion pickup failed: ${messageOf(err)}`);
      })
      .finally(() => {
        running = null;
      });
  };
  run();
  const timer = intervalMs > 0 ? setInterval(run, intervalMs) : undefined;
  timer?.unref();
  return async () => {
    if (timer) clearInterval(timer);
    stopping.abort();
    await running;
  };
}
