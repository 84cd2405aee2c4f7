/**
 * The embedded runtime's HTTP face: the callable API (`POST /{name}`), resumable chunk uploads
 * (`PUT /upload/{session}`), restore downloads, the admin dashboard and `GET /healthz`. Plain node:http, so the runtime has no web
 * framework to keep up.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ADMIN_HANDLERS, API_HANDLERS, corsHeaders, DASHBOARD_HTML, isAdminApiName, isLifeboatError, judgeOrigin, preflightHeaders, refusedOriginMessage, type AdminDeps, type ApiName, type CorsOptions, type EngineDeps } from '@lifeboat/engine/core';
import type { Logger } from '@lifeboat/engine/ports';
import { errorBody, HTTP_STATUS, retryAfterHeader } from './callable-protocol';
import { diskFault } from './disk-faults';
import type { ResumableUploads } from './resumable-uploads';

/** Callable bodies are small JSON; chunk bytes go through the upload endpoint. */
const MAX_CALLABLE_BODY = 1024 * 1024;

export interface HttpServerOptions {
  deps: EngineDeps;
  uploads: ResumableUploads;
  /** Returns the uid of a valid token, or null. */
  verifyToken: (token: string) => string | null;
  logger: Logger;
  /** Serves `GET /download/{token}` (restore downloads, `blob-downloads.ts`). @default none: 404 */
  download?: (token: string, res: ServerResponse) => Promise<void>;
  /**
   * Serves the admin dashboard: `GET /dashboard`, its API `POST /dashboard/api/{name}`
   * (`core/admin/admin-api.ts`) and `GET /dashboard/data` (`dashboard.ts`). @default none: 404
   */
  dashboard?: {
    /** The admin's uid for a valid admin token, null for any other token. */
    adminOf: (token: string) => string | null;
    /** The deps the admin API runs with. */
    deps: AdminDeps;
    data: () => unknown;
  };
  /**
   * Browser origins allowed to call, upload and download (core/web-origins.ts, the same rule as
   * the Firebase functions): they get CORS headers; any other origin is refused with 403 before
   * anything runs. Requests without an `Origin` (apps, Node) are served. @default none
   */
  allowedOrigins?: readonly string[];
}

/** CORS for an allowed origin: the callable POSTs, the upload PUTs, the downloads. */
export const SERVER_CORS: CorsOptions = Object.freeze({
  methods: ['GET', 'POST', 'PUT', 'OPTIONS'],
  allowHeaders: ['authorization', 'content-type', 'content-range'],
  exposeHeaders: ['range', 'retry-after', 'x-lifeboat-sha256'],
});

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  const payload = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' }),
    'content-length': String(Buffer.byteLength(payload)),
    ...headers,
  });
  res.end(payload);
}

/** The token of an `Authorization: Bearer …` header; undefined without one. */
function bearerToken(req: IncomingMessage): string | undefined {
  return /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
}

/** Marks a body that was refused (and answered). */
const NO_DATA = Symbol('no data');

/** The dashboard page, encoded once. */
const DASHBOARD_PAGE = Buffer.from(DASHBOARD_HTML);

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  let length = 0;
  for await (const piece of req as AsyncIterable<Buffer>) {
    length += piece.length;
    if (length > limit) return null;
    parts.push(piece);
  }
  return Buffer.concat(parts);
}

export function createHttpServer(options: HttpServerOptions): Server {
  const { deps, uploads, logger } = options;

  async function callable(name: string, req: IncomingMessage, res: ServerResponse, origin: string | undefined): Promise<void> {
    if (!Object.hasOwn(API_HANDLERS, name)) {
      send(res, 404, errorBody('not-found', `no callable named ${name}`));
      return;
    }
    const handler = API_HANDLERS[name as ApiName];
    const raw = await readBody(req, MAX_CALLABLE_BODY);
    if (raw === null) {
      send(res, 413, errorBody('invalid-argument', `request body over ${MAX_CALLABLE_BODY} bytes`));
      return;
    }
    let data: unknown;
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8') || '{}');
      if (!parsed || typeof parsed !== 'object' || !('data' in parsed)) throw new SyntaxError('missing "data"');
      data = (parsed as { data: unknown }).data;
    } catch (err) {
      send(res, 400, errorBody('invalid-argument', `body must be JSON {"data": ...}: ${(err as Error).message}`));
      return;
    }
    let uid: string | null = null;
    if (req.headers.authorization) {
      const token = bearerToken(req);
      uid = token ? options.verifyToken(token) : null;
      if (!uid) {
        send(res, 401, errorBody('unauthenticated', 'the bearer token is invalid or expired'));
        return;
      }
    }
    try {
      const result = await handler({ auth: uid ? { uid } : null, data, ...(origin ? { origin } : {}) }, deps);
      send(res, 200, { result });
    } catch (err) {
      // A full or unwritable disk (SQLite or the blob folder) is named to the device, not hidden
      // behind `internal`: it is the server's state, and it passes.
      const fault = isLifeboatError(err) && err.code !== 'internal' && err.code !== 'unknown' ? null : diskFault(err, name);
      if (fault) logger.warn(`callable ${name} refused by the disk: ${(err as Error).message}`);
      const known = fault ?? (isLifeboatError(err) ? err : null);
      if (known) {
        send(res, HTTP_STATUS[known.code], errorBody(known.code, known.message, known.details ?? {}), retryAfterHeader(known.details));
        return;
      }
      logger.error(`callable ${name} failed: ${(err as Error).stack ?? String(err)}`);
      send(res, 500, errorBody('internal', 'internal error'));
    }
  }

  async function upload(sessionId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = await uploads.handlePut(sessionId, req.headers['content-range'], req);
    if (reply.status === 200) send(res, 200, reply.body);
    else if (reply.status === 308) send(res, 308, undefined, reply.range ? { range: reply.range } : {});
    else send(res, reply.status, errorBody(reply.code, reply.message, reply.details ?? {}), retryAfterHeader(reply.details));
  }

  /** The admin's uid, or an answered 401/403 (null). */
  function adminOf(board: NonNullable<HttpServerOptions['dashboard']>, req: IncomingMessage, res: ServerResponse): string | null {
    const token = bearerToken(req);
    if (!token) {
      send(res, 401, errorBody('unauthenticated', 'the dashboard needs an admin token (lifeboat token --admin)'));
      return null;
    }
    const actor = board.adminOf(token);
    if (actor === null) send(res, 403, errorBody('permission-denied', 'this token is not an admin token (lifeboat token --admin)'));
    return actor;
  }

  async function dashboard(board: NonNullable<HttpServerOptions['dashboard']>, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (path === '/dashboard' || path === '/dashboard/') {
      // The page holds no data: it asks the admin API with the admin token from its address.
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': String(DASHBOARD_PAGE.byteLength), 'cache-control': 'no-store' });
      res.end(DASHBOARD_PAGE);
      return;
    }
    if (path === '/dashboard/data') {
      if (adminOf(board, req, res) !== null) send(res, 200, board.data(), { 'cache-control': 'no-store' });
      return;
    }
    const name = path.slice('/dashboard/api/'.length);
    if (!isAdminApiName(name)) return send(res, 404, errorBody('not-found', `no admin call named ${name}`));
    const actor = adminOf(board, req, res);
    if (actor === null) return;
    const data = await callableData(req, res);
    if (data === NO_DATA) return;
    try {
      send(res, 200, { result: await ADMIN_HANDLERS[name]({ actor, data }, board.deps) }, { 'cache-control': 'no-store' });
    } catch (err) {
      if (isLifeboatError(err)) return send(res, HTTP_STATUS[err.code], errorBody(err.code, err.message, err.details ?? {}));
      logger.error(`admin call ${name} failed: ${(err as Error).stack ?? String(err)}`);
      send(res, 500, errorBody('internal', 'internal error'));
    }
  }

  /** The `data` of a callable-shaped body, or NO_DATA once a 4xx is answered. */
  async function callableData(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    const raw = await readBody(req, MAX_CALLABLE_BODY);
    if (raw === null) {
      send(res, 413, errorBody('invalid-argument', `request body over ${MAX_CALLABLE_BODY} bytes`));
      return NO_DATA;
    }
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8') || '{}');
      if (!parsed || typeof parsed !== 'object' || !('data' in parsed)) throw new SyntaxError('missing "data"');
      return (parsed as { data: unknown }).data;
    } catch (err) {
      send(res, 400, errorBody('invalid-argument', `body must be JSON {"data": ...}: ${(err as Error).message}`));
      return NO_DATA;
    }
  }

  const allowedOrigins = options.allowedOrigins ?? [];
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    // The server's own pages (the dashboard) call it same-origin.
    const verdict = judgeOrigin(req.headers.origin, allowedOrigins, req.headers.host ? `http://${req.headers.host}` : undefined);
    const route = async (): Promise<void> => {
      if (verdict.kind === 'refused') {
        logger.warn('request from a refused origin', { origin: verdict.origin, method: req.method, path });
        return send(res, 403, errorBody('permission-denied', refusedOriginMessage(verdict.origin)));
      }
      if (req.method === 'OPTIONS') return send(res, 204, undefined, verdict.kind === 'allowed' ? preflightHeaders(verdict.origin, SERVER_CORS) : {});
      // Set before any answer (downloads write their own head): merged into every response.
      if (verdict.kind === 'allowed') for (const [name, value] of Object.entries(corsHeaders(verdict.origin, SERVER_CORS))) res.setHeader(name, value);
      if (req.method === 'GET' && path === '/healthz') return send(res, 200, { ok: true, service: 'lifeboat' });
      if (req.method === 'GET' && options.dashboard && (path === '/dashboard' || path === '/dashboard/' || path === '/dashboard/data')) return dashboard(options.dashboard, path, req, res);
      if (req.method === 'POST' && options.dashboard && path.startsWith('/dashboard/api/')) return dashboard(options.dashboard, path, req, res);
      const downloadMatch = /^\/download\/([^/]+)$/.exec(path);
      if (downloadMatch?.[1] && req.method === 'GET' && options.download) return options.download(downloadMatch[1], res);
      const uploadMatch = /^\/upload\/([^/]+)$/.exec(path);
      if (uploadMatch?.[1] && req.method === 'PUT') return upload(uploadMatch[1], req, res);
      const callMatch = /^\/([A-Za-z]+)$/.exec(path);
      if (callMatch?.[1] && req.method === 'POST') return callable(callMatch[1], req, res, verdict.kind === 'allowed' ? verdict.origin : undefined);
      send(res, 404, errorBody('not-found', `no route for ${req.method} ${path}`));
    };
    route().catch((err: unknown) => {
      const fault = diskFault(err, `${req.method} ${path}`);
      if (fault) logger.warn(`request refused by the disk: ${(err as Error).message}`);
      else logger.error(`request failed: ${(err as Error).stack ?? String(err)}`);
      if (res.headersSent) res.destroy();
      else if (fault) send(res, HTTP_STATUS[fault.code], errorBody(fault.code, fault.message, fault.details ?? {}), retryAfterHeader(fault.details));
      else send(res, 500, errorBody('internal', 'internal error'));
    });
  });
}
