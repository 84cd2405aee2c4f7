import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GoogleApi, GoogleApiResponse } from '../../src/doctor/google-api';

/** Recorded answers keyed `METHOD URL`. */
export type Recording = Record<string, GoogleApiResponse>;

/** The recorded healthy project (test/fixtures/doctor/healthy-project.json), a fresh copy each call. */
export function healthyRecording(): Recording {
  const file = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'doctor', 'healthy-project.json'), 'utf8')) as { responses: Recording };
  return file.responses;
}

/**
 * The Google APIs as recorded: each request answers its recording, anything unrecorded the 404
 * Google answers for a missing resource. It records what was asked, so tests see the doctor only
 * reads (GETs, and POSTs of `getIamPolicy`).
 */
export class RecordedGoogleApi implements GoogleApi {
  readonly asked: string[] = [];

  constructor(private readonly recording: Recording) {}

  async request(method: 'GET' | 'POST', url: string): Promise<GoogleApiResponse> {
    const key = `${method} ${url}`;
    this.asked.push(key);
    const found = this.recording[key];
    if (found) return structuredClone(found);
    return { status: 404, body: { error: { code: 404, message: `Resource not found: ${url}`, status: 'NOT_FOUND' } } };
  }
}
