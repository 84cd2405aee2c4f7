/**
 * The Firebase callable protocol over the HTTP port: POST `{data}`, Bearer token, `{result}` or
 * `{error: {status, message, details}}`. Transient failures (no response, 408, 429, 5xx) are
 * retried on the transport policy, honouring `Retry-After`.
 */
import { abortedError, BackupClientError, codeFromStatus } from './errors';
import type { HttpPort } from './http';
import { isTransientStatus, retryAfterMs, type TransportRetryPolicy } from './retry';

export interface CallableOptions {
  baseUrl: string;
  getToken: () => string | Promise<string>;
  http: HttpPort;
  retry: TransportRetryPolicy;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function parseJson(body: Uint8Array): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(decoder.decode(body));
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The error a non-2xx callable response carries. */
export function errorFromResponse(status: number, body: Uint8Array): BackupClientError {
  const error = parseJson(body)?.['error'] as { status?: string; message?: string; details?: Record<string, unknown> } | undefined;
  const code = codeFromStatus(error?.status, status);
  return new BackupClientError(code, error?.message ?? `HTTP ${status}`, { status, ...(error?.details ? { details: error.details } : {}) });
}

export async function callFunction<T>(options: CallableOptions, name: string, data: unknown, signal?: AbortSignal): Promise<T> {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/${name}`;
  const body = encoder.encode(JSON.stringify({ data }));
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw abortedError();
    let failure: BackupClientError;
    let wait: number | null = null;
    try {
      const token = await options.getToken();
      const res = await options.http.request({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
        ...(signal ? { signal } : {}),
      });
      if (res.status === 200) {
        const parsed = parseJson(res.body);
        if (!parsed || !('result' in parsed)) throw new BackupClientError('backup/internal', `${name}: response has no result`);
        return parsed['result'] as T;
      }
      failure = errorFromResponse(res.status, res.body);
      // The error's own code decides when the server sent one (a 500 `data-loss` stays failed).
      if (!isTransientStatus(res.status) || !failure.retryable) throw failure;
      wait = retryAfterMs(res.headers['retry-after'], options.now());
    } catch (err) {
      if (err instanceof BackupClientError && !err.retryable) throw err;
      if (signal?.aborted) throw abortedError();
      failure = err instanceof BackupClientError ? err : new BackupClientError('backup/network', `${name}: ${(err as Error).message}`, { cause: err });
    }
    const delay = options.retry.delaysMs[attempt];
    if (delay === undefined) throw failure;
    try {
      await options.sleep(Math.max(delay, wait ?? 0), signal);
    } catch {
      throw abortedError();
    }
  }
}
