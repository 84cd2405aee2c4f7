/**
 * The embedded runtime's stand-in for chats that live in the app's own store: the same document
 * model as Firestore (`conversations/{conversationId}` with a participants array, messages in a
 * subcollection), in two tables of the runtime's SQLite file. The demo seeds it; the engine reads
 * it through the ChatSource port, in pages ordered by (conversationId, messageId), as the
 * Firestore implementation orders by document path.
 */
import { lifeboatError } from '@lifeboat/engine/core';
import type { ChatSource, ListMessagesOptions, MessagePage } from '@lifeboat/engine/ports';
import { migrate, type Database } from './sqlite-database';

export interface ChatSourceConfig {
  /** Where messages live; `{conversationId}` names the parent document. @default 'conversations/{conversationId}/messages' */
  messagesPath?: string;
  /** Array field of the conversation document listing its members' uids. @default 'participants' */
  participantsField?: string;
}

const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_LIMIT = 1000;

function encodeCursor(conversationId: string, messageId: string): string {
  return Buffer.from(JSON.stringify([conversationId, messageId])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') return [value[0], value[1]];
  } catch {
    // Falls through to the refusal below.
  }
  throw lifeboatError('invalid-argument', 'unknown chat source cursor', { retryable: false });
}

export class SqliteChatSource implements ChatSource {
  readonly messagesPath: string;
  private readonly participantsPath: string;

  constructor(private readonly db: Database, config: ChatSourceConfig = {}) {
    this.messagesPath = config.messagesPath ?? 'conversations/{conversationId}/messages';
    const field = config.participantsField ?? 'participants';
    if (!FIELD.test(field)) throw lifeboatError('invalid-argument', `participantsField ${JSON.stringify(field)} is not a plain field name`);
    if (!/^[A-Za-z0-9_-]+\/\{conversationId\}\/[A-Za-z0-9_-]+$/.test(this.messagesPath)) {
      throw lifeboatError('invalid-argument', `messagesPath must look like 'collection/{conversationId}/subcollection', got ${JSON.stringify(this.messagesPath)}`);
    }
    this.participantsPath = `$.${field}`;
    migrate(db, 'chat-source/1', [
      `CREATE TABLE chat_conversations (
        conversation_id TEXT PRIMARY KEY,
        doc TEXT NOT NULL
      )`,
      `CREATE TABLE chat_messages (
        conversation_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (conversation_id, message_id)
      ) WITHOUT ROWID`,
    ]);
  }

  /** Writes (or replaces) a conversation document, e.g. `{ participants: ['alice', 'bob'] }`. */
  putConversation(conversationId: string, doc: Record<string, unknown>): void {
    this.db.prepare('INSERT INTO chat_conversations (conversation_id, doc) VALUES (?, ?) ON CONFLICT (conversation_id) DO UPDATE SET doc = excluded.doc')
      .run(conversationId, JSON.stringify(doc));
  }

  /** Writes (or replaces) messages; each needs `id` and `conversationId`, stored as the document's path. */
  putMessages(messages: ReadonlyArray<{ readonly id: string; readonly conversationId: string }>): void {
    const put = this.db.prepare('INSERT INTO chat_messages (conversation_id, message_id, doc) VALUES (?, ?, ?) ON CONFLICT (conversation_id, message_id) DO UPDATE SET doc = excluded.doc');
    this.db.transaction(() => {
      for (const message of messages) {
        const { id, conversationId, ...doc } = message;
        put.run(conversationId, id, JSON.stringify(doc));
      }
    })();
  }

  async listMessages(uid: string, { after, limit, signal }: ListMessagesOptions): Promise<MessagePage> {
    if (signal?.aborted) throw lifeboatError('cancelled', 'the call was cancelled');
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw lifeboatError('invalid-argument', `limit must be an integer from 1 to ${MAX_LIMIT}`);
    const [afterConversation, afterMessage] = after === undefined ? ['', ''] : decodeCursor(after);
    // One row more than asked tells whether another page follows.
    const rows = this.db
      .prepare(
        `SELECT m.conversation_id AS conversationId, m.message_id AS id, m.doc AS doc
           FROM chat_messages m
           JOIN chat_conversations c ON c.conversation_id = m.conversation_id
          WHERE EXISTS (SELECT 1 FROM json_each(c.doc, ?) p WHERE p.value = ?)
            AND (m.conversation_id > ? OR (m.conversation_id = ? AND m.message_id > ?))
          ORDER BY m.conversation_id, m.message_id
          LIMIT ?`,
      )
      .all(this.participantsPath, uid, afterConversation, afterConversation, afterMessage, limit + 1) as Array<{ conversationId: string; id: string; doc: string }>;
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      messages: page.map((r) => ({ ...(JSON.parse(r.doc) as Record<string, unknown>), id: r.id, conversationId: r.conversationId })),
      ...(rows.length > limit && last ? { nextCursor: encodeCursor(last.conversationId, last.id) } : {}),
    };
  }
}
