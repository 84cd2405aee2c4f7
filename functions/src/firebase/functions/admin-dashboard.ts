/**
 * The admin dashboard on Firebase: one HTTPS function, `adminDashboard`, that serves the page
 * both runtimes share (`GET /`) and the admin API (`POST /api/{name}`, core/admin/admin-api.ts),
 * for callers whose Firebase ID token carries the `admin` custom claim
 * (`lifeboat admin grant --email E --project P`). The function is public (`invoker: 'public'`):
 * the ID token is the credential, checked on every API call; the page itself holds no data.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { HTTP_STATUS_OF_CODE, statusOfErrorCode, type ErrorCode } from '@lifeboat/protocol';
import { onRequest } from 'firebase-functions/v2/https';
import { ADMIN_HANDLERS, DASHBOARD_HTML, isAdminApiName, isLifeboatError, type AdminDeps } from '../../core';
import { getRuntime } from '../runtime/firebase-runtime';
import { resourceOptions } from '../config/resource-params';

/** Name of the exported function: the dashboard is at `https://REGION-PROJECT.cloudfunctions.net/adminDashboard`. */
export const ADMIN_DASHBOARD_FUNCTION_NAME = 'adminDashboard';

/** What the handler reads of a request (express's, as Cloud Functions gives it: the body parsed). */
export interface AdminHttpRequest {
  method?: string | undefined;
  /** The path inside the function (`/`, `/api/jobs`). */
  path: string;
  headers: IncomingHttpHeaders;
  body?: unknown;
}

/** What it writes (an express or node response). */
export interface AdminHttpResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body?: string | Buffer): unknown;
}

function json(res: AdminHttpResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store' });
  res.end(text);
}

function failure(res: AdminHttpResponse, code: string, message: string, details: Record<string, unknown> = {}): void {
  json(res, HTTP_STATUS_OF_CODE[code as ErrorCode] ?? 500, { error: { status: statusOfErrorCode(code), message, details: { ...details, code } } });
}

const PAGE = Buffer.from(DASHBOARD_HTML);

/**
 * The function's handler: the page, or one admin API call for an admin's ID token.
 * @param adminOf the uid of an ID token carrying the admin claim, null for any other.
 */
export async function handleAdminRequest(req: AdminHttpRequest, res: AdminHttpResponse, deps: AdminDeps | undefined, adminOf: (token: string) => Promise<string | null>): Promise<void> {
  const path = req.path.replace(/\/+$/, '') || '/';
  if (req.method === 'GET' && path === '/') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': String(PAGE.byteLength), 'cache-control': 'no-store' });
    res.end(PAGE);
    return;
  }
  const name = /^\/api\/([A-Za-z]+)$/.exec(path)?.[1];
  if (name === undefined || !isAdminApiName(name)) return failure(res, 'not-found', `no route for ${req.method ?? '?'} ${req.path}`);
  if (req.method !== 'POST') return failure(res, 'invalid-argument', `${name} takes POST {"data": ...}`);
  const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (!token) return failure(res, 'unauthenticated', 'the dashboard needs the ID token of a user with the admin claim (lifeboat admin grant --email E --project P)');
  let actor: string | null;
  try {
    actor = await adminOf(token);
  } catch (err) {
    return failure(res, 'unavailable', `the ID token could not be checked: ${(err as Error).message}`);
  }
  if (actor === null) return failure(res, 'permission-denied', 'this token does not carry the admin claim (lifeboat admin grant --email E --project P; then refresh the ID token)');
  if (!deps) return failure(res, 'unimplemented', 'this backend has no admin store');
  const body = req.body;
  if (!body || typeof body !== 'object' || !('data' in body)) return failure(res, 'invalid-argument', 'body must be JSON {"data": ...}');
  try {
    json(res, 200, { result: await ADMIN_HANDLERS[name]({ actor, data: (body as { data: unknown }).data }, deps) });
  } catch (err) {
    if (isLifeboatError(err)) return failure(res, err.code, err.message, err.details ?? {});
    deps.logger.error(`admin call ${name} failed`, { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    failure(res, 'internal', 'internal error');
  }
}

export const adminDashboardFunction = () =>
  onRequest({ invoker: 'public', ...resourceOptions('adminDashboard'), cors: false }, async (req, res) => {
    const runtime = getRuntime();
    await handleAdminRequest(req, res, runtime.admin, runtime.adminOf ?? (async () => null));
  });
