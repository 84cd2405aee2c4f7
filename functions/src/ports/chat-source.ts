import type { CallOptions } from './common';

/**
 * One message as the app's store holds it: the chats strategy's message shape (`id`,
 * `conversationId`, `senderId`, `sentAt`, `text`, optional media URLs, `editedAt`, `deleted`),
 * validated by the strategy, not by the source.
 */
export type SourceMessage = Record<string, unknown>;

export interface ListMessagesOptions extends CallOptions {
  /** `nextCursor` of the previous page; absent for the first page. */
  after?: string;
  /** Messages per page, 1..1000. */
  limit: number;
}

export interface MessagePage {
  messages: SourceMessage[];
  /** Absent on the last page. Opaque, JSON-safe, stable: the same cursor gives the same next page. */
  nextCursor?: string;
}

/**
 * Messages that already live in the app's own store, read by the server in pages (Firestore:
 * a collection group query on the configured messages collection where the participant field
 * contains the user, ordered by document path; embedded: the SQLite `chat_messages` table).
 * Pages are in a total order that does not change while a backup reads them, so a crashed page
 * task re-reads the same page from the same cursor.
 */
export interface ChatSource {
  listMessages(uid: string, options: ListMessagesOptions): Promise<MessagePage>;
}
