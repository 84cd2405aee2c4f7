/**
 * Lifecycle events on the embedded runtime (ports/lifecycle-events.ts): a log line per event, and
 * the host's hook when one is given (`startEmbeddedRuntime({ onLifecycleEvent })`), which is how a
 * single-server deployment reacts to a finished backup without Eventarc.
 */
import { lifeboatError, messageOf } from '@lifeboat/engine/core';
import type { LifecycleEvent, LifecycleEventPublisher, Logger } from '@lifeboat/engine/ports';

/** Called with each event once its state is committed. A hook that throws is reported to the engine, which logs it. */
export type LifecycleEventHook = (event: LifecycleEvent) => void | Promise<void>;

export function loggingEventPublisher(logger: Logger, hook?: LifecycleEventHook): LifecycleEventPublisher {
  return {
    async publish(event) {
      logger.info(`lifeboat event ${event.type}`, { subject: event.subject, ...event.data });
      if (!hook) return;
      try {
        await hook(event);
      } catch (err) {
        throw lifeboatError('internal', `the lifecycle event hook failed on ${event.type} for ${event.subject}: ${messageOf(err)}`, { cause: err });
      }
    },
  };
}
