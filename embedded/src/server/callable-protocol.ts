/** The Firebase callable wire format for errors (docs/protocol.md). */
import { statusOfErrorCode } from '@lifeboat/protocol';

/** The HTTP status per code and the status spelling are the protocol's. */
export { HTTP_STATUS_OF_CODE as HTTP_STATUS } from '@lifeboat/protocol';

export interface CallableErrorBody {
  error: { status: string; message: string; details: Record<string, unknown> };
}

export function errorBody(code: string, message: string, details: Record<string, unknown> = {}): CallableErrorBody {
  return { error: { status: statusOfErrorCode(code), message, details: { ...details, code } } };
}

/**
 * `Retry-After` (whole seconds, at least 1) for an error whose details say how long to wait
 * (`details.retryAfterMs`: a GC lease, a full disk); empty otherwise. The SDK reads either.
 */
export function retryAfterHeader(details: Record<string, unknown> | undefined): Record<string, string> {
  const ms = details?.['retryAfterMs'];
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return {};
  return { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) };
}
