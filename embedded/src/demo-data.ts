/**
 * The demo's data set: contacts and device info generated from a seed, so two runs produce the
 * same bytes (and the second uploads nothing) unless asked to change a share of them.
 */

/** mulberry32: a tiny deterministic PRNG; quality is irrelevant here, repeatability is not. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GIVEN = ['Ada', 'Alan', 'Grace', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis', 'Frances', 'Edsger', 'Radia', 'Donald', 'Hedy', 'Tim', 'Sophie', 'Niklaus'];
const FAMILY = ['Lovelace', 'Turing', 'Hopper', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov', 'Ritchie', 'Allen', 'Dijkstra', 'Perlman', 'Knuth', 'Lamarr', 'Berners-Lee', 'Wilson', 'Wirth'];
const DOMAINS = ['Example.com', 'mail.example.org', 'Example.net'];

export interface DemoContact {
  id: string;
  name: { given: string; family: string; display: string };
  phones: Array<{ label: string; number: string }>;
  emails: Array<{ label: string; address: string }>;
  organization?: string;
  note?: string;
}

export interface DemoDataOptions {
  /** @default 5000 */
  contacts?: number;
  /** Percentage of contacts whose note changes (0..100), to show incremental uploads. @default 0 */
  changePercent?: number;
  /** @default 42 */
  seed?: number;
}

export function demoContacts(options: DemoDataOptions = {}): DemoContact[] {
  const random = prng(options.seed ?? 42);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const count = options.contacts ?? 5000;
  const changeEvery = options.changePercent ? Math.max(1, Math.round(100 / options.changePercent)) : 0;
  const out: DemoContact[] = [];
  for (let i = 0; i < count; i++) {
    const given = pick(GIVEN);
    const family = pick(FAMILY);
    const digits = String(Math.floor(random() * 1e9)).padStart(9, '0');
    const contact: DemoContact = {
      id: `c${String(i).padStart(6, '0')}`,
      name: { given, family, display: `${given} ${family}` },
      phones: [{ label: 'mobile', number: `+44 7${digits.slice(0, 3)} ${digits.slice(3)}` }],
      emails: [{ label: 'home', address: `${given}.${family}${i}@${pick(DOMAINS)}` }],
    };
    if (random() < 0.3) contact.organization = pick(['Analytical Engines Ltd', 'Bletchley Park', 'Bell Labs', 'CERN']);
    if (random() < 0.2) contact.note = `met at conference #${Math.floor(random() * 100)}`;
    if (changeEvery && i % changeEvery === 0) contact.note = `edited ${Date.now()}`;
    out.push(contact);
  }
  return out;
}

export interface DemoMessage {
  id: string;
  conversationId: string;
  senderId: string;
  sentAt: string;
  text: string;
}

const WORDS = ['backup', 'lifeboat', 'photo', 'tonight', 'ok', 'see', 'you', 'at', 'the', 'station', 'thanks', 'great', 'news', 'call', 'me', 'later'];

/** Chat messages in `conversations` threads, one every few minutes from 2026-01-01. */
export function demoMessages(options: { messages?: number; conversations?: number; seed?: number } = {}): DemoMessage[] {
  const random = prng(options.seed ?? 7);
  const count = options.messages ?? 3000;
  const conversations = options.conversations ?? 20;
  const start = Date.UTC(2026, 0, 1);
  const out: DemoMessage[] = [];
  for (let i = 0; i < count; i++) {
    const words = Array.from({ length: 3 + Math.floor(random() * 12) }, () => WORDS[Math.floor(random() * WORDS.length)]);
    out.push({
      id: `m${String(i).padStart(6, '0')}`,
      conversationId: `conv-${String(Math.floor(random() * conversations)).padStart(2, '0')}`,
      senderId: random() < 0.5 ? 'demo-user' : `friend-${Math.floor(random() * 5)}`,
      sentAt: new Date(start + i * 180_000).toISOString(),
      text: words.join(' '),
    });
  }
  return out;
}

export interface DemoDeviceInfo {
  model: string;
  manufacturer: string;
  os: string;
  osVersion: string;
  appVersion: string;
  locale: string;
  timeZone: string;
  totalStorageBytes: number;
}

export function demoDeviceInfo(): DemoDeviceInfo {
  return {
    model: 'Lifeboat Demo Phone',
    manufacturer: 'Lifeboat',
    os: 'android',
    osVersion: '15',
    appVersion: '1.0.0',
    locale: 'en-GB',
    timeZone: 'Europe/London',
    totalStorageBytes: 128_000_000_000,
  };
}

export interface DemoAppChats {
  /** Conversation documents (`conversations/{id}`) with their participants. */
  conversations: Array<{ id: string; participants: string[] }>;
  /** Their messages, each naming its conversation. */
  messages: DemoMessage[];
}

/**
 * Chats that live in the app's own store (read by the server with `serverChats`), for `uid` and
 * a few friends: conversations `app-conv-NN`, apart from the device's `conv-NN` ones.
 */
export function demoAppChats(uid: string, options: { messages?: number; conversations?: number; seed?: number } = {}): DemoAppChats {
  const conversations = Array.from({ length: options.conversations ?? 5 }, (_, i) => ({
    id: `app-conv-${String(i).padStart(2, '0')}`,
    participants: [uid, `friend-${i % 5}`],
  }));
  const messages = demoMessages({ messages: options.messages ?? 500, conversations: conversations.length, seed: options.seed ?? 11 }).map((m) => ({
    ...m,
    id: `a${m.id}`,
    conversationId: `app-${m.conversationId}`,
    senderId: m.senderId === 'demo-user' ? uid : m.senderId,
  }));
  return { conversations, messages };
}
