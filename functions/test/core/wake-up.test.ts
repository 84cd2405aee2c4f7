/**
 * Waking devices for scheduled runs: what came of each wake-up is kept on the waiting job
 * (`wakeUp`) and shown by the admin surface, whether the device had no token, its token was
 * dead (FCM: forgotten), the transport failed, or the message went out.
 */
import { attentionOf } from '../../src/core/admin/job-views';
import { dispatchDueSchedules } from '../../src/core/schedules/dispatch';
import type { Notifier } from '../../src/ports';
import { createHarness } from '../fakes/engine-harness';

const START = Date.parse('2026-11-25T12:00:00Z');

async function dispatchWith(notifier: Notifier) {
  const h = createHarness();
  h.clock.advance(START - h.clock.now());
  h.deps.notifier = notifier;
  await h.call('setSchedule', 'alice', { deviceId: 'phone', kind: 'nightly', types: ['contacts'], timeZone: 'UTC' });
  h.clock.advance(24 * 3_600_000);
  const result = await dispatchDueSchedules(h.deps);
  const job = await h.store.getJob(result.created[0] as string);
  return { h, job };
}

describe('wake-ups of scheduled runs', () => {
  it.each([
    ['no-token', { outcome: 'no-token', message: 'the device has no FCM registration token' }, /found no FCM token/],
    ['token-invalid', { outcome: 'token-invalid', message: 'FCM answered messaging/registration-token-not-registered' }, /no longer knows the device's token/],
    ['sent', { outcome: 'sent' }, /a wake-up was sent/],
  ] as const)('keeps %s on the waiting job, and the dashboard says so', async (outcome, result, words) => {
    const { h, job } = await dispatchWith({ notifyDevice: async () => ({ ...result }) });
    expect(job).toMatchObject({ status: 'paused', pauseReason: 'waiting_for_device', wakeUp: { at: h.clock.now(), outcome } });
    expect(attentionOf(job!, h.clock.now() + 3_600_000)).toMatchObject({ kind: 'waiting-device', message: expect.stringMatching(words) });
  });

  it('keeps a failed wake-up with its reason; the run still waits for the device', async () => {
    const { job } = await dispatchWith({
      notifyDevice: async () => {
        throw new Error('FCM is down');
      },
    });
    expect(job).toMatchObject({ status: 'paused', wakeUp: { outcome: 'failed', message: 'FCM is down' } });
  });

  it('treats a notifier that answers nothing as sent', async () => {
    const { job } = await dispatchWith({ notifyDevice: async () => undefined });
    expect(job?.wakeUp?.outcome).toBe('sent');
  });
});
