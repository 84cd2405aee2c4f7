/**
 * Cloud Storage's part where its emulator cannot run (Java 21): the upload sessions the emulator
 * codebase hands out (recorded in the shared data folder) are served here with the embedded
 * `ResumableUploads`, and each completed upload is announced to `onChunkObjectFinalized` as the
 * `object.finalized` CloudEvent Cloud Storage would send, POSTed to the functions emulator. Used by
 * `npm run emulators` and the offline emulator test (functions/test/emulator/scenario.js).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { corsHeaders, judgeOrigin, preflightHeaders, refusedOriginMessage, type CorsOptions } from '@lifeboat/engine/core';
import { systemClock, type Logger } from '@lifeboat/engine/ports';
import { FolderBlobStore } from '../adapters/folder-blob-store';
import { openDatabase } from '../adapters/sqlite-database';
import { ensureDataDir } from '../data-dir';
import { errorBody } from '../server/callable-protocol';
import { ResumableUploads, type CompletedUpload } from '../server/resumable-uploads';

export interface UploadHostOptions {
  /** The data folder the emulator codebase uses (`LIFEBOAT_DATA_DIR`). */
  dataDir: string;
  /** @default 0: any free port */
  port?: number;
  /** `host:port` of the functions emulator. */
  functionsHost: string;
  project: string;
  /** @default 'us-central1' */
  region?: string;
  /** The uploads bucket the CloudEvents name (`LIFEBOAT_UPLOADS_BUCKET`). */
  bucket: string;
  /** Browser origins allowed to PUT (LIFEBOAT_ALLOWED_ORIGINS). @default none */
  allowedOrigins?: readonly string[];
  logger: Logger;
}

export interface UploadHost {
  /** What `LIFEBOAT_UPLOAD_BASE_URL` must be: session URLs are `{baseUrl}/{session}`. */
  baseUrl: string;
  close(): Promise<void>;
}

const UPLOAD_CORS: CorsOptions = Object.freeze({ methods: ['PUT', 'OPTIONS'], allowHeaders: ['content-range', 'content-type'], exposeHeaders: ['range'] });

/** The `google.cloud.storage.object.v1.finalized` CloudEvent of a completed upload. */
export function objectFinalizedEvent(upload: Pick<CompletedUpload, 'key' | 'size' | 'metadata'>, bucket: string, now = new Date()): Record<string, unknown> {
  const time = now.toISOString();
  return {
    specversion: '1.0',
    id: `finalized-${upload.key}-${now.getTime()}`,
    type: 'google.cloud.storage.object.v1.finalized',
    source: `//storage.googleapis.com/projects/_/buckets/${bucket}`,
    subject: `objects/${upload.key}`,
    time,
    datacontenttype: 'application/json',
    bucket,
    data: { bucket, name: upload.key, size: String(upload.size), metadata: upload.metadata, contentType: 'application/octet-stream', generation: String(now.getTime()), timeCreated: time, updated: time },
  };
}

export async function startUploadHost(options: UploadHostOptions): Promise<UploadHost> {
  const paths = ensureDataDir(options.dataDir);
  const db = openDatabase(paths.database);
  const trigger = `http://${options.functionsHost}/functions/projects/${options.project}/triggers/${options.region ?? 'us-central1'}-onChunkObjectFinalized-0`;
  let baseUrl = '';
  const uploads = new ResumableUploads({
    db,
    blobs: new FolderBlobStore(paths.blobs),
    clock: systemClock,
    partsDir: paths.uploads,
    baseUrl: () => baseUrl,
    onComplete: async (upload) => {
      const response = await fetch(trigger, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(objectFinalizedEvent(upload, options.bucket)) });
      if (!response.ok) throw new Error(`onChunkObjectFinalized answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
    },
  });
  const allowed = options.allowedOrigins ?? [];
  const server: Server = createServer((req, res) => {
    const verdict = judgeOrigin(req.headers.origin, allowed);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    if (verdict.kind === 'refused') return json(403, errorBody('permission-denied', refusedOriginMessage(verdict.origin)));
    const cors = verdict.kind === 'allowed' ? corsHeaders(verdict.origin, UPLOAD_CORS) : {};
    if (req.method === 'OPTIONS') return res.writeHead(204, verdict.kind === 'allowed' ? preflightHeaders(verdict.origin, UPLOAD_CORS) : {}).end();
    const match = /^\/upload\/([^/?]+)$/.exec(req.url ?? '');
    if (!match?.[1] || req.method !== 'PUT') return json(404, errorBody('not-found', `no route for ${req.method} ${req.url}`), cors);
    uploads.handlePut(match[1], req.headers['content-range'], req).then(
      (reply) => {
        if (reply.status === 200) json(200, reply.body, cors);
        else if (reply.status === 308) res.writeHead(308, { ...cors, ...(reply.range ? { range: reply.range } : {}) }).end();
        else json(reply.status, errorBody(reply.code, reply.message, reply.details ?? {}), cors);
      },
      (err: unknown) => {
        options.logger.error(`upload failed: ${(err as Error).message}`);
        if (!res.headersSent) json(500, errorBody('internal', 'upload failed'), cors);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`;
  return {
    baseUrl,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      db.close();
    },
  };
}
