/**
 * The HttpPort for Node over node:http(s), for the Node entry point's default. `fetch` copies a
 * request body before sending it (the Fetch standard's body extraction), so each upload piece
 * would exist twice until the garbage collector runs; node:http writes the caller's bytes to the
 * socket as they are, which keeps a large upload's memory at about one piece.
 */
import http from 'node:http';
import https from 'node:https';
import type { HttpPort, HttpResponse } from '../http';

export function nodeHttp(): HttpPort {
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  return {
    request(req) {
      return new Promise<HttpResponse>((resolve, reject) => {
        const url = new URL(req.url);
        const secure = url.protocol === 'https:';
        const body = req.body ? Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength) : null;
        const outgoing = (secure ? https : http).request(
          url,
          {
            method: req.method,
            headers: { ...req.headers, 'content-length': String(body?.byteLength ?? 0) },
            agent: secure ? agents.https : agents.http,
            ...(req.signal ? { signal: req.signal } : {}),
          },
          (res) => {
            const parts: Buffer[] = [];
            res.on('data', (part: Buffer) => parts.push(part));
            res.on('error', reject);
            res.on('end', () => {
              const headers: Record<string, string> = {};
              for (const [name, value] of Object.entries(res.headers)) {
                if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
              }
              const all = Buffer.concat(parts);
              resolve({ status: res.statusCode ?? 0, headers, body: new Uint8Array(all.buffer, all.byteOffset, all.byteLength) });
            });
          },
        );
        outgoing.on('error', reject);
        outgoing.end(body ?? undefined);
      });
    },
  };
}
