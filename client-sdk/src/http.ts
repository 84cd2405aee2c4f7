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

/** An HttpPort over `fetch`. @param fetchImpl @default globalThis.fetch */
export function fetchHttp(fetchImpl: typeof fetch = globalThis.fetch): HttpPort {
  return {
    async request(req) {
      const res = await fetchImpl(req.url, {
        method: req.method,
        headers: req.headers,
        ...(req.body ? { body: req.body as unknown as BodyInit } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
        // 308 is the resumable protocol's "incomplete", not a redirect to follow.
        redirect: 'manual',
      });
      const headers: Record<string, string> = {};
      res.headers.forEach((value, name) => {
        headers[name.toLowerCase()] = value;
      });
      return { status: res.status, headers, body: new Uint8Array(await res.arrayBuffer()) };
    },
  };
}
