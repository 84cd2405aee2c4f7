/**
 * fetchHttp gives each request its own signal following the caller's: the caller's one
 * long-lived signal (a whole backup's) keeps no listener per request, and aborting it still
 * aborts the request in flight.
 */
import { getEventListeners } from 'node:events';
import { fetchHttp } from '../src/http';

describe('fetchHttp', () => {
  it('leaves no abort listener on the caller signal after its requests end', async () => {
    const seen: AbortSignal[] = [];
    const http = fetchHttp(async (_url, init) => {
      if (init?.signal) seen.push(init.signal);
      return new Response('ok', { status: 200, headers: { 'X-Thing': 'a' } });
    });
    const caller = new AbortController();
    for (let i = 0; i < 50; i++) {
      const res = await http.request({ method: 'GET', url: 'http://example.test/', headers: {}, signal: caller.signal });
      expect(res.status).toBe(200);
      expect(res.headers['x-thing']).toBe('a');
    }
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    expect(seen).toHaveLength(50);
    expect(seen.every((s) => s !== caller.signal && !s.aborted)).toBe(true);
  });

  it('aborts the request in flight when the caller aborts, with the caller reason', async () => {
    const http = fetchHttp(
      (_url, init) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason), { once: true });
        }),
    );
    const caller = new AbortController();
    const pending = http.request({ method: 'POST', url: 'http://example.test/', headers: {}, body: new Uint8Array([1]), signal: caller.signal });
    caller.abort(new Error('stopped by the app'));
    await expect(pending).rejects.toThrow('stopped by the app');
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('passes an already aborted signal through', async () => {
    const http = fetchHttp(async (_url, init) => {
      if (init?.signal?.aborted) throw init.signal.reason;
      return new Response('ok');
    });
    const caller = new AbortController();
    caller.abort(new Error('before'));
    await expect(http.request({ method: 'GET', url: 'http://example.test/', headers: {}, signal: caller.signal })).rejects.toThrow('before');
  });
});
