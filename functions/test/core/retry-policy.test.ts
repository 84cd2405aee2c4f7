import { DEFAULT_RETRY_POLICY, delayFor, hasRetriesLeft, maxAttempts, maxRetries } from '../../src/core/retry-policy';
import { codeOf, isRetryable, lifeboatError, wrapError } from '../../src/core/errors';

describe('retry policy', () => {
  it('is the ladder 30 s, 1 m, 2 m, 5 m, 10 m: 5 retries, 6 attempts', () => {
    expect(DEFAULT_RETRY_POLICY.delaysSeconds).toEqual([30, 60, 120, 300, 600]);
    expect(maxRetries()).toBe(5);
    expect(maxAttempts()).toBe(6);
    const nominal = [1, 2, 3, 4, 5].map((n) => delayFor(n, DEFAULT_RETRY_POLICY, () => 0.5));
    expect(nominal).toEqual([30_000, 60_000, 120_000, 300_000, 600_000]);
  });

  it('jitters each delay within ±10 %', () => {
    for (const n of [1, 2, 3, 4, 5]) {
      const base = (DEFAULT_RETRY_POLICY.delaysSeconds[n - 1] ?? 0) * 1000;
      expect(delayFor(n, DEFAULT_RETRY_POLICY, () => 0)).toBe(Math.round(base * 0.9));
      expect(delayFor(n, DEFAULT_RETRY_POLICY, () => 0.999999)).toBeLessThanOrEqual(Math.round(base * 1.1));
      expect(delayFor(n, DEFAULT_RETRY_POLICY, () => 0.999999)).toBeGreaterThan(base);
    }
  });

  it('has no retry 0 or 6', () => {
    expect(() => delayFor(0)).toThrow(RangeError);
    expect(() => delayFor(6)).toThrow(RangeError);
    expect(() => delayFor(1.5)).toThrow(RangeError);
  });

  it('allows retries while retryCount < 5', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => hasRetriesLeft(n))).toEqual([true, true, true, true, true, false, false]);
  });
});

describe('error classes', () => {
  it('classifies by code, overridable', () => {
    expect(isRetryable(lifeboatError('unavailable', 'x'))).toBe(true);
    expect(isRetryable(lifeboatError('invalid-argument', 'x'))).toBe(false);
    expect(isRetryable(lifeboatError('not-found', 'x', { retryable: true }))).toBe(true);
    expect(isRetryable(new Error('ECONNRESET'))).toBe(true);
    expect(isRetryable(new TypeError('x is undefined'))).toBe(false);
  });

  it('wraps with context, keeping code and class', () => {
    const wrapped = wrapError(lifeboatError('data-loss', 'bad bytes'), 'upload failed', { job: 'j1', chunk: 'c1', skip: undefined });
    expect(wrapped.message).toBe('upload failed [job=j1, chunk=c1]: bad bytes');
    expect(codeOf(wrapped)).toBe('data-loss');
    expect(wrapped.retryable).toBe(false);
    expect(codeOf(wrapError(new Error('boom'), 'x'))).toBe('internal');
  });
});
