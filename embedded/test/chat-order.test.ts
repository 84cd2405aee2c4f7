/**
 * Restored chats in time order after incremental backups (issue 17 item 6): an `incrementalOnly`
 * snapshot carries the parent's messages forward behind the job's own (new ones, edits,
 * deletions), and a device that keeps its layout sends recipe chunks that list new messages
 * beside the ones they copy; finalize puts each conversation in (sentAt, id) order, so the folder
 * restore and the SDK restore write every conversation exactly as a fresh full backup does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RestoreSink } from '@lifeboat/client-sdk';
import { contentStoreOf, type Snapshot } from '@lifeboat/engine/core';
import { restoreToFolder } from '../src/restore/folder-restore';
import { useTestRuntime } from './helpers/test-runtime';

const t = useTestRuntime('chat-order');
const UID = 'olga';

interface Message {
  id: string;
  conversationId: string;
  senderId: string;
  sentAt: string;
  text: string;
  editedAt?: string;
  deleted?: boolean;
}

const at = (minute: number) => new Date(Date.UTC(2026, 2, 1) + minute * 60_000).toISOString();
const message = (id: string, conversationId: string, minute: number, extra: Partial<Message> = {}): Message => ({ id, conversationId, senderId: 'me', sentAt: at(minute), text: `${id} text`, ...extra });

/** The device's history after each backup: new messages, edits and deletions of old ones. */
function histories(): Message[][] {
  const first = [
    ...[1, 2, 3, 4, 5, 6].map((m) => message(`a${m}`, 'conv-a', m)),
    ...[1, 2, 3].map((m) => message(`b${m}`, 'conv-b', 10 + m)),
  ];
  const second = first.map((m) => {
    if (m.id === 'a3') return { ...m, text: 'a3 edited', editedAt: at(40) };
    if (m.id === 'a5') return { ...m, deleted: true, editedAt: at(40) };
    return m;
  });
  second.push(message('a7', 'conv-a', 41), message('a8', 'conv-a', 42), message('b4', 'conv-b', 43), message('c1', 'conv-c', 44));
  const third = second.map((m) => (m.id === 'a2' ? { ...m, text: 'a2 edited', editedAt: at(50) } : m));
  third.push(message('a9', 'conv-a', 51));
  return [first, second, third];
}

/** One client per device, kept across its backups: it plans record-level deltas (recipe chunks) against its last layout. */
const clients = new Map<string, ReturnType<typeof t.client>>();

async function backup(deviceId: string, chats: Message[], incrementalOnly: boolean): Promise<Snapshot> {
  const c = clients.get(deviceId) ?? t.client(UID, { deviceId });
  clients.set(deviceId, c);
  const started = await c.startBackup({ types: ['chats'], options: { incrementalOnly, wifiOnly: false }, sources: { chats } });
  const job = await c.waitForJob(started.jobId, { intervalMs: 20 });
  expect(job.status).toBe('completed');
  return c.getSnapshot(job.snapshotId as string);
}

/** Each conversation's file as the folder restore writes it. */
async function folderChats(snapshot: Snapshot, name: string): Promise<Map<string, string>> {
  const to = join(t.dir, name);
  const summary = await restoreToFolder(contentStoreOf(t.runtime.deps), snapshot, to);
  expect(summary.partial).toBe(false);
  return new Map(readdirSync(join(to, 'chats')).map((f) => [f, readFileSync(join(to, 'chats', f), 'utf8')]));
}

/** Each conversation's file as a host writes it from the SDK restore, item by item as they arrive. */
async function sdkChats(snapshot: Snapshot): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const sink: RestoreSink = {
    open: (item) => ({
      write: (bytes) => {
        const name = `${item.conversationId}.ndjson`;
        files.set(name, `${files.get(name) ?? ''}${new TextDecoder().decode(bytes)}\n`);
      },
      close: () => undefined,
    }),
  };
  await t.client(UID, { deviceId: 'reader' }).restore({ snapshotId: snapshot.id, sink, pageSize: 3 });
  return files;
}

const order = (file: string) => file.trim().split('\n').map((l) => JSON.parse(l) as Message);
const inTimeOrder = (messages: Message[]) => messages.every((m, i) => i === 0 || (messages[i - 1] as Message).sentAt < m.sentAt || ((messages[i - 1] as Message).sentAt === m.sentAt && (messages[i - 1] as Message).id < m.id));

describe('restored chats after incremental backups', () => {
  it('are in time order, with each message in its latest version, as a fresh full backup restores them', async () => {
    const [first, second, third] = histories() as [Message[], Message[], Message[]];
    await backup('phone', first, true);
    const incremental = [await backup('phone', second, true), await backup('phone', third, true)];
    expect(incremental[1]?.changes?.chats).toMatchObject({ added: 1, changed: 1 });
    // Full backups by a device that keeps its layout: the second one sends recipe chunks.
    await backup('tablet', second, false);
    const recipes = await backup('tablet', third, false);
    // The reference: the same messages backed up whole by a device with no history.
    const reference = [await backup('fresh-2', second, false), await backup('fresh-3', third, false)];

    for (const [i, snapshot] of [...incremental.entries(), [1, recipes] as const]) {
      const expected = await folderChats(reference[i] as Snapshot, `reference-${snapshot.id}`);
      const folder = await folderChats(snapshot, `restored-${snapshot.id}`);
      expect([...folder.keys()].sort()).toEqual(['conv-a.ndjson', 'conv-b.ndjson', 'conv-c.ndjson']);
      for (const [name, file] of folder) {
        expect([snapshot.id, name, inTimeOrder(order(file))]).toEqual([snapshot.id, name, true]);
        expect([snapshot.id, name, file]).toEqual([snapshot.id, name, expected.get(name)]);
      }
      const sdk = await sdkChats(snapshot);
      expect(sdk).toEqual(folder);
    }
    const latest = order((await folderChats(incremental[1] as Snapshot, 'latest')).get('conv-a.ndjson') as string);
    expect(latest.map((m) => m.id)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9']);
    expect(latest.filter((m) => m.editedAt !== undefined).map((m) => [m.id, m.text, m.deleted ?? false])).toEqual([['a2', 'a2 edited', false], ['a3', 'a3 edited', false], ['a5', 'a5 text', true]]);
  });
});
