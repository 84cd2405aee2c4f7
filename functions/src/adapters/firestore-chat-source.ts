/**
 * The ChatSource port over the app's own Firestore messages (docs/strategies.md, "Server-side
 * chats source"): one collection-group query on the messages' collection id,
 * `where(participants, 'array-contains', uid)`, ordered by `sentAt` then document path (a total
 * order that new messages only sort into), keyset-paged with `startAfter(sentAt, path)`. It needs
 * each message to carry the participants array itself, and a collection-group composite index
 * (`FIRESTORE_QUERIES`, "chat source"). Messages of another collection with the same id (e.g.
 * `support/{x}/messages`) are skipped: only `collection/{conversationId}/subcollection` counts.
 */
import { FieldPath, Timestamp, type Firestore } from '@google-cloud/firestore';
import { lifeboatError } from '../core/errors';
import type { ChatSource, ListMessagesOptions, MessagePage, SourceMessage } from '../ports/chat-source';
import { toLifeboatError } from './adapter-errors';
import { timestampsToMillis } from './firestore-documents';

export interface FirestoreChatSourceConfig {
  /** Where messages live; `{conversationId}` names the parent document. @default 'conversations/{conversationId}/messages' */
  messagesPath?: string;
  /** Array field of each message listing its conversation members' uids. @default 'participants' */
  participantsField?: string;
}

/** The messages' order field (the chats strategy's message shape). */
export const CHAT_ORDER_FIELD = 'sentAt';
const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const PATH = /^([A-Za-z0-9_-]+)\/\{conversationId\}\/([A-Za-z0-9_-]+)$/;
const MAX_LIMIT = 1000;
/** Query rounds per page when messages of other same-named collections are skipped. */
const MAX_ROUNDS = 20;

/** A `sentAt` value as a cursor holds it, so the next query compares against the same type. */
type CursorValue = { n: number } | { s: string } | { t: [number, number] } | { z: null };

function encodeValue(value: unknown): CursorValue {
  if (typeof value === 'number') return { n: value };
  if (typeof value === 'string') return { s: value };
  if (value instanceof Timestamp) return { t: [value.seconds, value.nanoseconds] };
  if (value === null || value === undefined) return { z: null };
  throw lifeboatError('data-loss', `chat message ${CHAT_ORDER_FIELD} has an unsupported type`, { retryable: false });
}

function decodeValue(value: CursorValue): unknown {
  if ('n' in value) return value.n;
  if ('s' in value) return value.s;
  if ('t' in value) return new Timestamp(value.t[0], value.t[1]);
  return null;
}

/** `[sentAt, documentPath]` of the last message, base64url JSON. */
export function encodeChatCursor(sentAt: unknown, path: string): string {
  return Buffer.from(JSON.stringify([encodeValue(sentAt), path])).toString('base64url');
}

/** @throws LifeboatError `invalid-argument` (not retryable) for anything but a cursor of ours. */
export function decodeChatCursor(cursor: string): [unknown, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[1] === 'string' && typeof value[0] === 'object' && value[0] !== null) {
      const v = value[0] as Record<string, unknown>;
      const ok =
        (typeof v['n'] === 'number') ||
        (typeof v['s'] === 'string') ||
        (Array.isArray(v['t']) && v['t'].length === 2 && v['t'].every((x) => Number.isInteger(x))) ||
        ('z' in v && v['z'] === null);
      if (ok && Object.keys(v).length === 1) return [decodeValue(v as CursorValue), value[1]];
    }
  } catch {
    // Falls through to the refusal below.
  }
  throw lifeboatError('invalid-argument', 'unknown chat source cursor', { retryable: false });
}

/** The pieces of a messages path pattern. @throws LifeboatError `invalid-argument` */
export function parseMessagesPath(messagesPath: string): { collection: string; subcollection: string } {
  const match = PATH.exec(messagesPath);
  if (!match?.[1] || !match[2]) {
    throw lifeboatError('invalid-argument', `messagesPath must look like 'collection/{conversationId}/subcollection', got ${JSON.stringify(messagesPath)}`);
  }
  return { collection: match[1], subcollection: match[2] };
}

/** {@link ChatSource} on Firestore; see the module comment. */
export class FirestoreChatSource implements ChatSource {
  readonly collection: string;
  readonly subcollection: string;
  readonly participantsField: string;

  constructor(private readonly db: Firestore, config: FirestoreChatSourceConfig = {}) {
    const { collection, subcollection } = parseMessagesPath(config.messagesPath ?? 'conversations/{conversationId}/messages');
    this.collection = collection;
    this.subcollection = subcollection;
    this.participantsField = config.participantsField ?? 'participants';
    if (!FIELD.test(this.participantsField)) throw lifeboatError('invalid-argument', `participantsField ${JSON.stringify(this.participantsField)} is not a plain field name`);
  }

  /** The conversation id of a message at `path`, or null when the path is not one of ours. */
  conversationOf(path: string): string | null {
    const parts = path.split('/');
    return parts.length === 4 && parts[0] === this.collection && parts[2] === this.subcollection ? (parts[1] ?? null) : null;
  }

  async listMessages(uid: string, { after, limit, signal }: ListMessagesOptions): Promise<MessagePage> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw lifeboatError('invalid-argument', `limit must be an integer from 1 to ${MAX_LIMIT}`);
    let cursor = after === undefined ? null : decodeChatCursor(after);
    const messages: SourceMessage[] = [];
    let last: { sentAt: unknown; path: string } | null = null;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (signal?.aborted) throw lifeboatError('cancelled', 'the call was cancelled');
      // One document more than still needed tells whether another page follows.
      const want = limit - messages.length + 1;
      let docs;
      try {
        let query = this.db
          .collectionGroup(this.subcollection)
          .where(this.participantsField, 'array-contains', uid)
          .orderBy(CHAT_ORDER_FIELD)
          .orderBy(FieldPath.documentId());
        if (cursor) query = query.startAfter(cursor[0], cursor[1]);
        docs = (await query.limit(want).get()).docs;
      } catch (err) {
        throw toLifeboatError(err, 'list chat messages');
      }
      for (const doc of docs) {
        if (messages.length === limit) {
          // A further message exists: the page ends at the previous one.
          return { messages, nextCursor: encodeChatCursor(last?.sentAt, last?.path ?? '') };
        }
        const path = doc.ref.path;
        const sentAt: unknown = doc.get(CHAT_ORDER_FIELD);
        cursor = [sentAt, path];
        last = { sentAt, path };
        const conversationId = this.conversationOf(path);
        if (conversationId === null) continue;
        messages.push({ ...(timestampsToMillis(doc.data()) as Record<string, unknown>), id: doc.id, conversationId });
      }
      if (docs.length < want) return { messages };
    }
    // Many same-named foreign messages in a row: end the page early; the cursor skips them.
    return { messages, ...(last ? { nextCursor: encodeChatCursor(last.sentAt, last.path) } : {}) };
  }
}
