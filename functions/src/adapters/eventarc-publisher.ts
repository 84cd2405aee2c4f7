/**
 * Lifecycle events on Eventarc: each event becomes a CloudEvent published to the configured
 * channel with firebase-admin's `getEventarc().channel(name).publish()`, the mechanism Firebase
 * Extensions use for their events. The host app subscribes with `onCustomEventPublished`
 * (`firebase-functions/v2/eventarc`) on the same channel (docs/firebase.md, "Events for the host
 * app"). The runtime service account needs `roles/eventarc.publisher`.
 */
import type { Channel } from 'firebase-admin/eventarc';
import { throwIfAborted, type CallOptions, type LifecycleEvent, type LifecycleEventPublisher } from '../ports';
import { toLifeboatError } from './adapter-errors';

/** The slice of firebase-admin's `Channel` this adapter calls. */
export type EventChannel = Pick<Channel, 'publish'>;

/**
 * The CloudEvent of a lifecycle event: its type and subject as they are, its data as JSON, and
 * `source` naming this deployment, so a subscriber can tell Lifeboat's events from others on a
 * shared channel.
 */
export function toCloudEvent(event: LifecycleEvent, source: string): { type: string; source: string; subject: string; datacontenttype: 'application/json'; data: object } {
  return { type: event.type, source, subject: event.subject, datacontenttype: 'application/json', data: event.data };
}

/** {@link LifecycleEventPublisher} on an Eventarc channel. */
export class EventarcPublisher implements LifecycleEventPublisher {
  /**
   * @param channel the channel (`getEventarc(app).channel(name)`).
   * @param source the CloudEvent `source` (`//lifeboat/projects/{project}`).
   */
  constructor(
    private readonly channel: EventChannel,
    private readonly source: string,
  ) {}

  async publish(event: LifecycleEvent, options: CallOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    try {
      await this.channel.publish(toCloudEvent(event, this.source));
    } catch (err) {
      throw toLifeboatError(err, `publish ${event.type} for ${event.subject}`);
    }
  }
}
