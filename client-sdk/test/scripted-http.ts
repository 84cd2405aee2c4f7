/**
 * A scripted HTTP stack in the style of tus-js-client's TestHttpStack: every request is recorded
 * and answered by a handler the test writes, so the SDK's transport runs without a network.
 */
import type { HttpPort, HttpRequest, HttpResponse } from '../src/http';

export type Reply = Partial<HttpResponse> & { status: number } | 'network-error';

export class ScriptedHttp implements HttpPort {
  readonly requests: HttpRequest[] = [];
  constructor(private readonly handler: (req: HttpRequest, index: number) => Reply | Promise<Reply>) {}

  async request(req: HttpRequest): Promise<HttpResponse> {
    this.requests.push(req);
    if (req.signal?.aborted) throw new Error('aborted');
    const reply = await this.handler(req, this.requests.length - 1);
    if (reply === 'network-error') throw new TypeError('fetch failed');
    return { headers: {}, body: new Uint8Array(), ...reply };
  }
}

export const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
export const parse = (body: Uint8Array | undefined): any => JSON.parse(new TextDecoder().decode(body));

/** A recorded sleep: returns at once and remembers the delays asked for. */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => { delays.push(ms); } };
}

/**
 * The server side of one resumable session, with failure injection: `failNext` makes the next
 * data PUT persist only `persist` of its bytes and then drop the connection.
 */
export class FakeResumableSession {
  received = new Uint8Array(0);
  failNext: { persist: number } | null = null;
  constructor(readonly total: number) {}

  handle(req: HttpRequest): Reply {
    const range = req.headers['content-range'] ?? '';
    const query = /^bytes \*\/(\d+)$/.exec(range);
    const data = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(range);
    if (data) {
      const first = Number(data[1]);
      if (first > this.received.length) return { status: 400 };
      const body = req.body ?? new Uint8Array();
      let incoming = body.subarray(this.received.length - first);
      if (this.failNext) {
        incoming = incoming.subarray(0, this.failNext.persist);
        this.failNext = null;
        this.append(incoming);
        return 'network-error';
      }
      this.append(incoming);
    } else if (!query) {
      return { status: 400 };
    }
    if (this.received.length === this.total) return { status: 200, body: json({}) };
    return { status: 308, headers: this.received.length > 0 ? { range: `bytes=0-${this.received.length - 1}` } : {} };
  }

  private append(bytes: Uint8Array): void {
    const next = new Uint8Array(this.received.length + bytes.length);
    next.set(this.received);
    next.set(bytes, this.received.length);
    this.received = next;
  }
}
