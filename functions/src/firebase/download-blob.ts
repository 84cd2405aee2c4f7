/**
 * Restore downloads on Firebase: the `downloadBlob` HTTPS function answers
 * `GET /downloadBlob/{token}` with one blob's plaintext (decrypted, decompressed and hash-checked
 * by the content store), to whoever holds an unexpired token for it. A signed URL on the stored
 * object cannot do this: objects are encrypted and codec-framed at rest (core/blob-codec.ts).
 * Tokens are the embedded server's (core/download-token.ts), signed under a key derived from the
 * master key secret, so no other secret needs managing and a rotation only ends the links in
 * flight (they live minutes).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { onRequest } from 'firebase-functions/v2/https';
import { contentStoreOf, createDownloadToken, hasCode, verifyDownloadToken, type EngineDeps } from '../core';
import { isRetryable, lifeboatError, messageOf } from '../core/errors';
import { sendDownloadError, sendPlaintext, type PlaintextOutcome } from '../core/plaintext-download';
import type { DownloadLinks } from '../ports';
import { getRuntime } from './deps';
import { FUNCTION_RESOURCES } from './function-resources';
import { DOWNLOAD_URL, MASTER_KEY, REGION } from './params';
import { REQUEST_SCALE_PARAMS } from './scale-params';

/** Name of the exported function; the links point at it. */
export const DOWNLOAD_FUNCTION_NAME = 'downloadBlob';

/** The part of an HTTP request the handler reads (Express's `req` on Cloud Functions). */
export type DownloadRequest = Pick<IncomingMessage, 'method' | 'url'> & { path?: string };
/** The part of an HTTP response the handler writes (Express's `res` is a `ServerResponse`). */
export type DownloadResponse = Pick<ServerResponse, 'writeHead' | 'write' | 'end' | 'once' | 'removeListener' | 'destroy'>;

/**
 * The token-signing secret: the current master key as configured (the first of the
 * comma-separated list). Derived again with its own label by core/download-token.ts.
 *
 * @throws LifeboatError `failed-precondition` when the secret is empty.
 */
export function downloadSecret(masterKeySecret: string = MASTER_KEY.value()): string {
  const current = masterKeySecret.split(',').map((k) => k.trim()).find(Boolean);
  if (!current) throw lifeboatError('failed-precondition', 'the LIFEBOAT_MASTER_KEY secret is empty: download links cannot be signed');
  return current;
}

/**
 * The `downloadBlob` function's base URL: the `LIFEBOAT_DOWNLOAD_URL` param, else the function's
 * cloudfunctions.net URL in `LIFEBOAT_REGION` of the running project.
 *
 * @throws LifeboatError `failed-precondition` when neither the param nor the project id is known.
 */
export function downloadBaseUrl(configured: string = DOWNLOAD_URL.value(), region: string = REGION.value(), env: NodeJS.ProcessEnv = process.env): string {
  if (configured.trim()) return configured.trim().replace(/\/+$/, '');
  const project = env['GCLOUD_PROJECT'] ?? env['GOOGLE_CLOUD_PROJECT'];
  if (!project) throw lifeboatError('failed-precondition', 'no project id (GCLOUD_PROJECT) to build download links from; set LIFEBOAT_DOWNLOAD_URL');
  return `https://${region}-${project}.cloudfunctions.net/${DOWNLOAD_FUNCTION_NAME}`;
}

/** The production `DownloadLinks`: `{baseUrl}/{token}` for the `downloadBlob` function. */
export function functionDownloadLinks(secret: () => string, baseUrl: () => string): DownloadLinks {
  return {
    async link({ uid, blob, expiresAt }) {
      return `${baseUrl()}/${createDownloadToken(secret(), { uid, blob, exp: expiresAt })}`;
    },
  };
}

function tokenOf(req: DownloadRequest): string {
  const path = req.path ?? new URL(req.url ?? '/', 'http://localhost').pathname;
  // The function's own name is absent from `req.path` on Cloud Functions but present behind a
  // rewrite or in the emulator's raw URL: the token is always the last segment.
  return decodeURIComponent(path.split('/').filter(Boolean).pop() ?? '');
}

/**
 * Serves one download: 405 for anything but GET/HEAD, 403 for a bad or expired token, 404 for a
 * missing blob, 500 `data-loss` for one found damaged before the body starts (the device fails
 * that blob's items and restores the rest), 200 with the plaintext otherwise, streamed
 * (core/plaintext-download.ts); any other error (store down) before the body starts is logged and
 * answered 503 when retryable, 500 otherwise, so the device knows whether to retry. One after it
 * has started is logged and cuts the response off.
 */
export async function handleDownloadRequest(req: DownloadRequest, res: DownloadResponse, deps: Pick<EngineDeps, 'blobs' | 'keyRing' | 'clock' | 'logger'>, secret: string): Promise<void> {
  const reply = (status: number, code: string, message: string, extra: Record<string, string> = {}) => sendDownloadError(res, status, code, message, extra);
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

/** The `downloadBlob` function: public (the token is the credential), 540 s for slow readers. */
export const downloadBlobFunction = () =>
  onRequest({ invoker: 'public', ...FUNCTION_RESOURCES.downloadBlob, maxInstances: REQUEST_SCALE_PARAMS.downloadBlob, cors: false }, (req, res) => handleDownloadRequest(req, res, getRuntime().deps, downloadSecret()));
