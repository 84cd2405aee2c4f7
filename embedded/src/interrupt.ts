/**
 * Ctrl-C (SIGINT) and SIGTERM for commands that hold something others wait on, such as a GC
 * lease: the first signal aborts the work, which cleans up (releases the lease) and ends; a second
 * one exits at once.
 */

/** Exit code of a run interrupted by a signal (128 + SIGINT). */
export const INTERRUPTED_EXIT_CODE = 130;

/** Runs `work` with a signal that SIGINT/SIGTERM abort; the handlers are removed when it settles. */
export async function abortOnSignals<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(INTERRUPTED_EXIT_CODE);
    controller.abort(new Error(`interrupted by ${name}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
