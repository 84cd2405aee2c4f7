/**
 * The Firebase callable protocol over the HTTP port: POST `{data}`, Bearer token, `{result}` or
 * `{error: {status, message, details}}`. Transient failures (no response, 408, 429, 5xx) are
 * retried on the transport policy; when the server says how long to wait (`Retry-After`, or
 * `details.retryAfterMs`) the SDK waits that long instead, up to the policy's `maxWaitMs`.
 */
import type { CallableInput, CallableName, CallableResult } from '@lifeboat/protocol';
import { abortedError, BackupClientError, codeFromStatus } from './errors';
import { CALLABLES, prettifyError } from './protocol';
import type { HttpPort } from './http';
import { DEFAULT_MAX_SERVER_WAIT_MS, isTransientStatus, ServerWaitBudget, serverWaitMs, type ServerWait, type TransportRetryPolicy } from './retry';
import { utf8Bytes, utf8Text } from './utf8';

export interface CallableOptions {
  baseUrl: string;
  getToken: () => string | Promise<string>;
  http: HttpPort;
  retry: TransportRetryPolicy;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => number;
  /** Told before and after each wait the server asked for (progress shows it). @default none */
  onWait?: (wait: ServerWait) => void;
}


function parseJson(body: Uint8Array): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(utf8Text(body));
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

/**
 * The error to give up with after the server's waits used up the budget: the server's own, saying
 * how long the client waited.
 */
export function afterWaiting(failure: BackupClientError, waitedMs: number): BackupClientError {
  if (waitedMs <= 0) return failure;
  return new BackupClientError(failure.code, `${failure.message} (waited ${Math.round(waitedMs / 1000)} s as the server asked, the most this client waits)`, {
    ...(failure.status === undefined ? {} : { status: failure.status }),
    ...(failure.details ? { details: failure.details } : {}),
    cause: failure,
  });
}

/** The `reason` a ServerWait reports: the answer's `details.reason`, else its code. */
export function waitReason(failure: BackupClientError): string {
  const reason = failure.details?.['reason'];
  return typeof reason === 'string' ? reason : failure.code.replace(/^backup\//, '');
}

export async function callFunction<T>(options: CallableOptions, name: string, data: unknown, signal?: AbortSignal): Promise<T> {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/${name}`;
  const body = utf8Bytes(JSON.stringify({ data }));
  const jobId = data && typeof data === 'object' && typeof (data as { jobId?: unknown }).jobId === 'string' ? (data as { jobId: string }).jobId : null;
  const budget = new ServerWaitBudget(options.retry.maxWaitMs ?? DEFAULT_MAX_SERVER_WAIT_MS);
  let ladder = 0;
  for (;;) {
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
      wait = serverWaitMs(res.headers['retry-after'], failure.details, options.now());
    } catch (err) {
      if (err instanceof BackupClientError && !err.retryable) throw err;
      if (signal?.aborted) throw abortedError();
      failure = err instanceof BackupClientError ? err : new BackupClientError('backup/network', `${name}: ${(err as Error).message}`, { cause: err });
    }
    // The server said how long (a GC run, a full disk): wait that, within the budget, without
    // using up the ladder; otherwise the ladder decides.
    const delay = wait === null ? options.retry.delaysMs[ladder++] : budget.take(wait);
    if (delay === undefined || delay === null) throw wait === null ? failure : afterWaiting(failure, budget.spent);
    const waitInfo = wait === null ? null : { call: name, jobId, reason: waitReason(failure), waitMs: delay, retryAt: options.now() + delay };
    if (waitInfo) options.onWait?.({ ...waitInfo, state: 'waiting' });
    try {
      await options.sleep(delay, signal);
    } catch {
      throw abortedError();
    }
    if (waitInfo) options.onWait?.({ ...waitInfo, state: 'retrying' });
  }
}

/**
 * A call of the API by its name: its input typed and its answer parsed by the protocol
 * (`@lifeboat/protocol`'s `CALLABLES`), so what the SDK reads is what the protocol says the server
 * answers, or a `backup/invalid-response` error at the boundary.
 */
export type ApiCall = <N extends CallableName>(name: N, data: CallableInput<N>, signal?: AbortSignal) => Promise<CallableResult<N>>;

/**
 * A callable's answer parsed by its protocol schema (unknown fields of a newer server dropped).
 * @throws BackupClientError `backup/invalid-response` when the answer is not the protocol's.
 */
export function parseAnswer<N extends CallableName>(name: N, answer: unknown): CallableResult<N> {
  const parsed = CALLABLES[name].output.safeParse(answer);
  if (parsed.success) return parsed.data as CallableResult<N>;
  throw new BackupClientError('backup/invalid-response', `${name}: the server's answer is not this SDK's protocol (a server and SDK of versions that disagree?): ${prettifyError(parsed.error)}`, {
    details: { issues: parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) },
  });
}

/** The API over the callable protocol: `callFunction`, then the answer parsed (`parseAnswer`). */
export function apiCall(options: CallableOptions): ApiCall {
  return async (name, data, signal) => parseAnswer(name, await callFunction<unknown>(options, name, data, signal));
}
