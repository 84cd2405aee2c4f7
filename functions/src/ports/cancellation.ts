import { lifeboatError } from '../core/errors';

/**
 * Rejects a call whose signal has fired, as `CallOptions` promises: adapters call it before
 * each step that could write or take long, so an aborted call stops without a partial write.
 *
 * @throws LifeboatError `cancelled` when `signal` is aborted.
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw lifeboatError('cancelled', 'the call was cancelled');
}
