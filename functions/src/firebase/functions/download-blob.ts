/**
 * Restore downloads on Firebase: the `downloadBlob` HTTPS function answers
 * `GET /downloadBlob/{token}` with one blob's plaintext (decrypted, decompressed and hash-checked
 * by the content store), to whoever holds an unexpired token for it. A signed URL on the stored
 * object cannot do this: objects are encrypted and codec-framed at rest (core/blob-codec.ts).
 * Links and tokens: runtime/download-links.ts. Browsers get CORS for `LIFEBOAT_ALLOWED_ORIGINS`
 * only; a request from any other origin is refused.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { onRequest } from 'firebase-functions/v2/https';
import { contentStoreOf, corsHeaders, DOWNLOAD_CORS, hasCode, judgeOrigin, preflightHeaders, refusedOriginMessage, verifyDownloadToken, type EngineDeps } from '../../core';
import { isRetryable, messageOf } from '../../core/errors';
import { sendDownloadError, sendPlaintext, type PlaintextOutcome } from '../../core/plaintext-download';
import { allowedOrigins } from '../config/allowed-origins';
import { resourceOptions } from '../config/resource-params';
import { REQUEST_SCALE_PARAMS } from '../config/scale-params';
import { getRuntime } from '../runtime/firebase-runtime';
import { downloadSecret } from '../runtime/download-links';

/** The part of an HTTP request the handler reads (Express's `req` on Cloud Functions). */
export type DownloadRequest = Pick<IncomingMessage, 'method' | 'url'> & { path?: string; headers?: IncomingMessage['headers'] };
/** The part of an HTTP response the handler writes (Express's `res` is a `ServerResponse`). */
export type DownloadResponse = Pick<ServerResponse, 'writeHead' | 'write' | 'end' | 'once' | 'removeListener' | 'destroy'> & Partial<Pick<ServerResponse, 'setHeader'>>;

function tokenOf(req: DownloadRequest): string {
  const path = req.path ?? new URL(req.url ?? '/', 'http://localhost').pathname;
  // The function's own name is absent from `req.path` on Cloud Functions but present behind a
  // rewrite or in the emulator's raw URL: the token is always the last segment.
  return decodeURIComponent(path.split('/').filter(Boolean).pop() ?? '');
}

/**
 * Serves one download: for a browser, CORS headers when its origin is allowed and 403 when it is
 * not (a preflight `OPTIONS` from an allowed origin gets 204); then 405 for anything but GET/HEAD,
 * 403 for a bad or expired token, 404 for a missing blob, 500 `data-loss` for one found damaged
 * before the body starts (the device fails that blob's items and restores the rest), 200 with the
 * plaintext otherwise, streamed (core/plaintext-download.ts); any other error (store down) before
 * the body starts is logged and answered 503 when retryable, 500 otherwise, so the device knows
 * whether to retry. One after it has started is logged and cuts the response off.
 *
 * @param origins the allowed browser origins. @default none: no browser is served
 */
export async function handleDownloadRequest(
  req: DownloadRequest,
  res: DownloadResponse,
  deps: Pick<EngineDeps, 'blobs' | 'keyRing' | 'clock' | 'logger'>,
  secret: string,
  origins: readonly string[] = [],
): Promise<void> {
  const reply = (status: number, code: string, message: string, extra: Record<string, string> = {}) => sendDownloadError(res, status, code, message, extra);
  const verdict = judgeOrigin(req.headers?.origin, origins);
  if (verdict.kind === 'refused') return reply(403, 'permission-denied', refusedOriginMessage(verdict.origin));
  if (verdict.kind === 'allowed') {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, preflightHeaders(verdict.origin, DOWNLOAD_CORS));
      res.end();
      return;
    }
    for (const [name, value] of Object.entries(corsHeaders(verdict.origin, DOWNLOAD_CORS))) res.setHeader?.(name, value);
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'invalid-argument', 'only GET and HEAD are allowed', { allow: 'GET, HEAD' });
  const claims = verifyDownloadToken(secret, tokenOf(req), deps.clock.now());
  if (!claims) return reply(403, 'permission-denied', 'the download link is invalid or expired');
  let outcome: PlaintextOutcome;
  try {
    outcome = await sendPlaintext(res, claims.blob, await contentStoreOf(deps).getStream(claims.uid, claims.blob), req.method !== 'HEAD');
  } catch (err) {
    if (hasCode(err, 'not-found')) return reply(404, 'not-found', `blob ${claims.blob} is missing`);
    if (hasCode(err, 'data-loss')) {
      deps.logger.error('download of a damaged blob refused', { uid: claims.uid, blob: claims.blob, error: messageOf(err) });
      return reply(500, 'data-loss', `blob ${claims.blob} is damaged`);
    }
    const retryable = isRetryable(err);
    deps.logger.error('download failed', { uid: claims.uid, blob: claims.blob, error: messageOf(err) });
    return retryable
      ? reply(503, 'unavailable', 'the download failed; retry it', { 'retry-after': '5' })
      : reply(500, 'internal', 'the download failed');
  }
  if (outcome.sent === 'cut-off') deps.logger.error('download failed part way; the response was cut off', { uid: claims.uid, blob: claims.blob, error: messageOf(outcome.error) });
}

/**
 * The `downloadBlob` function: public (the token is the credential), 540 s by default for slow readers. CORS
 * is answered by the handler itself (`cors: false`), so a refused origin is refused, not just left
 * without headers.
 */
export const downloadBlobFunction = () =>
  onRequest({ invoker: 'public', ...resourceOptions('downloadBlob'), maxInstances: REQUEST_SCALE_PARAMS.downloadBlob, cors: false }, (req, res) => handleDownloadRequest(req, res, getRuntime().deps, downloadSecret(), req.headers.origin ? allowedOrigins() : []));
