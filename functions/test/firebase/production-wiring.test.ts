/**
 * The pure parts of the production backend's wiring: the media allow-list from its param, the
 * chat source from its params, and the new params' values in functions/.env (a param without one
 * makes the emulator skip every function).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FirestoreChatSource } from '../../src/adapters/firestore-chat-source';
import { CALLABLE_CORS_ORIGINS } from '../../src/firebase/config/allowed-origins';
import { chatSourceFor, mediaAllowedHosts, STORAGE_MEDIA_HOSTS } from '../../src/firebase/runtime/production-backend';
import { checkMediaUrl } from '../../src/strategies/media-fetch';
import { FakeFirestore } from '../adapters/fake-firestore';

describe('production wiring', () => {
  it('allows the configured media hosts and the storage hosts, nothing else', () => {
    const hosts = mediaAllowedHosts(' CDN.example.com, *.media.example.org ,,');
    expect(hosts).toEqual(['cdn.example.com', '*.media.example.org', ...STORAGE_MEDIA_HOSTS]);
    const policy = { allowedHosts: hosts };
    expect(checkMediaUrl('https://firebasestorage.googleapis.com/v0/b/demo-lifeboat.appspot.com/o/a.jpg?alt=media', policy)).toMatchObject({ ok: true });
    expect(checkMediaUrl('https://x.media.example.org/a.jpg', policy)).toMatchObject({ ok: true });
    expect(checkMediaUrl('https://evil.example.net/a.jpg', policy)).toMatchObject({ ok: false });
    expect(checkMediaUrl('http://cdn.example.com/a.jpg', policy)).toMatchObject({ ok: false });
    expect(mediaAllowedHosts('')).toEqual([...STORAGE_MEDIA_HOSTS]);
  });

  it('builds a chat source only when the messages path is set', () => {
    const db = new FakeFirestore().asFirestore();
    expect(chatSourceFor(db, '', 'participants')).toEqual({});
    const { chatSource } = chatSourceFor(db, 'rooms/{conversationId}/posts', 'members');
    expect(chatSource).toBeInstanceOf(FirestoreChatSource);
    expect(chatSource).toMatchObject({ collection: 'rooms', subcollection: 'posts', participantsField: 'members' });
    expect(() => chatSourceFor(db, 'rooms/posts', 'members')).toThrow(/messagesPath/);
  });

  it('gives the callables CORS for the allowed origins, normalized, and none (no per-call warning) when there are none', () => {
    const before = process.env['LIFEBOAT_ALLOWED_ORIGINS'];
    try {
      process.env['LIFEBOAT_ALLOWED_ORIGINS'] = '["https://App.example.com", "http://localhost:5173/"]';
      expect(CALLABLE_CORS_ORIGINS.value()).toEqual(['https://app.example.com', 'http://localhost:5173']);
      process.env['LIFEBOAT_ALLOWED_ORIGINS'] = '[]';
      expect(CALLABLE_CORS_ORIGINS.value()).toBe(false);
      process.env['LIFEBOAT_ALLOWED_ORIGINS'] = 'https://a.example';
      expect(() => CALLABLE_CORS_ORIGINS.value()).toThrow(expect.objectContaining({ code: 'failed-precondition', message: expect.stringContaining('JSON list') }));
      expect(CALLABLE_CORS_ORIGINS.toCEL()).toBe('{{ params.LIFEBOAT_ALLOWED_ORIGINS }}');
    } finally {
      if (before === undefined) delete process.env['LIFEBOAT_ALLOWED_ORIGINS'];
      else process.env['LIFEBOAT_ALLOWED_ORIGINS'] = before;
    }
  });

  it('functions/.env gives every new param a value', () => {
    const env = readFileSync(join(__dirname, '..', '..', '.env'), 'utf8');
    for (const name of ['LIFEBOAT_DOWNLOAD_URL', 'LIFEBOAT_MEDIA_HOSTS', 'LIFEBOAT_CHAT_MESSAGES_PATH', 'LIFEBOAT_CHAT_PARTICIPANTS_FIELD', 'LIFEBOAT_DATABASE', 'LIFEBOAT_CHAT_DATABASE', 'LIFEBOAT_BLOBS_BUCKET', 'LIFEBOAT_UPLOADS_BUCKET', 'LIFEBOAT_ALLOWED_ORIGINS', 'LIFEBOAT_EVENTS_CHANNEL']) {
      expect(env).toMatch(new RegExp(`^${name}=`, 'm'));
    }
  });
});
