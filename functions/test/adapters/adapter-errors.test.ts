import { LifeboatError, lifeboatError } from '../../src/core/errors';
import {
  GRPC_STATUS_CODES,
  classifySdkError,
  codeFromFirebaseCode,
  codeFromHttpStatus,
  httpStatusOf,
  toLifeboatError,
} from '../../src/adapters';

const grpcError = (code: number, message = 'grpc failure') => Object.assign(new Error(`${code} ${message}`), { code, details: message });

describe('toLifeboatError', () => {
  it.each([
    [4, 'deadline-exceeded', true],
    [8, 'resource-exhausted', true],
    [10, 'aborted', true],
    [14, 'unavailable', true],
    [13, 'internal', true],
    [2, 'unknown', true],
    [3, 'invalid-argument', false],
    [5, 'not-found', false],
    [6, 'already-exists', false],
    [7, 'permission-denied', false],
    [9, 'failed-precondition', false],
    [11, 'out-of-range', false],
    [15, 'data-loss', false],
    [16, 'unauthenticated', false],
  ] as const)('maps gRPC status %i (Firestore) to %s, retryable %s', (status, code, retryable) => {
    const mapped = toLifeboatError(grpcError(status), 'read job j1');
    expect(mapped).toBeInstanceOf(LifeboatError);
    expect(mapped).toMatchObject({ code, retryable, details: { source: `grpc ${status}` } });
    expect((mapped as Error).message).toMatch(/^read job j1: /);
  });

  it.each([
    [503, 'unavailable', true],
    [502, 'unavailable', true],
    [504, 'deadline-exceeded', true],
    [408, 'deadline-exceeded', true],
    [429, 'resource-exhausted', true],
    [500, 'internal', true],
    [409, 'aborted', true],
    [404, 'not-found', false],
    [403, 'permission-denied', false],
    [401, 'unauthenticated', false],
    [412, 'failed-precondition', false],
    [416, 'out-of-range', false],
    [400, 'invalid-argument', false],
  ] as const)('maps HTTP %i (Cloud Storage ApiError) to %s, retryable %s', (status, code, retryable) => {
    expect(toLifeboatError(Object.assign(new Error('gcs'), { code: status }), 'put')).toMatchObject({ code, retryable });
  });

  it('maps firebase-admin codes, falling back on the HTTP status for the generic ones', () => {
    const tokenGone = Object.assign(new Error('gone'), { code: 'messaging/registration-token-not-registered' });
    expect(toLifeboatError(tokenGone, 'send')).toMatchObject({ code: 'not-found', retryable: false });
    const busy = Object.assign(new Error('busy'), { code: 'functions/unknown-error', httpResponse: { status: 503 } });
    expect(toLifeboatError(busy, 'enqueue')).toMatchObject({ code: 'unavailable', retryable: true });
    const internal = Object.assign(new Error('x'), { code: 'functions/internal-error', httpResponse: { status: 429 } });
    expect(toLifeboatError(internal, 'enqueue')).toMatchObject({ code: 'resource-exhausted', retryable: true });
    const denied = Object.assign(new Error('x'), { code: 'functions/permission-denied', httpResponse: { status: 403 } });
    expect(toLifeboatError(denied, 'enqueue')).toMatchObject({ code: 'permission-denied', retryable: false });
    expect(toLifeboatError(Object.assign(new Error('x'), { code: 'messaging/server-unavailable' }), 's')).toMatchObject({
      code: 'unavailable',
      retryable: true,
    });
  });

  it('maps socket errors to unavailable', () => {
    expect(toLifeboatError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }), 'x')).toMatchObject({
      code: 'unavailable',
      retryable: true,
    });
  });

  it('returns LifeboatErrors and errors that are not the SDK’s unchanged, so callers get their own errors back', () => {
    const own = lifeboatError('cancelled', 'stop');
    const plain = new Error('boom');
    const weird = Object.assign(new Error('x'), { code: 'SOMETHING_ELSE' });
    expect(toLifeboatError(own, 'x')).toBe(own);
    expect(toLifeboatError(plain, 'x')).toBe(plain);
    expect(toLifeboatError(weird, 'x')).toBe(weird);
    expect(toLifeboatError('a string', 'x')).toBe('a string');
  });

  it('keeps the SDK error as the cause', () => {
    const original = grpcError(14);
    expect((toLifeboatError(original, 'x') as Error).cause).toBe(original);
  });
});

describe('error tables', () => {
  it('covers every gRPC status but OK', () => {
    expect(Object.keys(GRPC_STATUS_CODES).map(Number)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  });

  it('maps unknown statuses by class', () => {
    expect(codeFromHttpStatus(599)).toBe('unavailable');
    expect(codeFromHttpStatus(418)).toBe('failed-precondition');
    expect(codeFromFirebaseCode('functions/some-new-code')).toBeUndefined();
    expect(classifySdkError(new Error('no code'))).toBeUndefined();
  });

  it('reads the HTTP status wherever the SDKs put it', () => {
    expect(httpStatusOf({ code: 412 })).toBe(412);
    expect(httpStatusOf({ code: 14 })).toBeUndefined();
    expect(httpStatusOf({ httpResponse: { status: 409 } })).toBe(409);
    expect(httpStatusOf({ response: { status: 500 } })).toBe(500);
    expect(httpStatusOf(null)).toBeUndefined();
  });
});
