/**
 * The HTTP port: the one platform service the SDK's core needs for the network. The default
 * wraps `fetch`; React Native and browsers have it too, and tests inject a scripted stack.
 */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface HttpPort {
  /** Resolves with any HTTP status; rejects only when no response arrived (network, abort). */
  request(request: HttpRequest): Promise<HttpResponse>;
}

/**
 * A signal for one request that follows the caller's, and a release that unhooks it. Node's
 * `fetch` (undici) drops its abort listener on a signal only when the request is garbage
 * collected, so a backup's one long-lived signal passed to thousands of requests collects
 * thousands of listeners (and "possible EventTarget memory leak" warnings); a per-request signal
 * whose one listener on the caller's is removed when the request ends keeps that at one.
 */
function requestSignal(signal: AbortSignal | undefined): { signal?: AbortSignal; release(): void } {
  if (!signal) return { release: () => undefined };
  if (signal.aborted) return { signal, release: () => undefined };
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, release: () => signal.removeEventListener('abort', onAbort) };
}

/** An HttpPort over `fetch`. @param fetchImpl @default globalThis.fetch */
export function fetchHttp(fetchImpl: typeof fetch = globalThis.fetch): HttpPort {
  return {
    async request(req) {
      const linked = requestSignal(req.signal);
      try {
        const res = await fetchImpl(req.url, {
          method: req.method,
          headers: req.headers,
          ...(req.body ? { body: req.body as unknown as BodyInit } : {}),
          ...(linked.signal ? { signal: linked.signal } : {}),
          // 308 is the resumable protocol's "incomplete", not a redirect to follow.
          redirect: 'manual',
        });
        const headers: Record<string, string> = {};
        res.headers.forEach((value, name) => {
          headers[name.toLowerCase()] = value;
        });
        return { status: res.status, headers, body: new Uint8Array(await res.arrayBuffer()) };
      } finally {
        linked.release();
      }
    },
  };
}
