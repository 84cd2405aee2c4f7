import type { BackupType } from '../core/model';
import { chatsStrategy } from './chats';
import { contactsStrategy } from './contacts';
import { deviceInfoStrategy } from './device-info';
import { mediaStrategy } from './media';
import type { Strategy } from './strategy';

export * from './strategy';
export { chatsStrategy, ChatMessage, type ChatMessageInput, compareUtcIso, toUtcIso } from './chats';
export { contactsStrategy, ContactInput, normalizeContact, toE164 } from './contacts';
export { deviceInfoStrategy, DeviceInfo } from './device-info';
export { mediaStrategy, sniffMedia, MAX_INPUT_PIXELS, type SniffedKind } from './media';
export { decodeMediaEnvelope, MediaHeader, MEDIA_ENVELOPE_MAGIC, MAX_MEDIA_HEADER_BYTES, type DecodedMediaEnvelope } from './media-envelope';

/** The strategies this build supports, by type. */
export const STRATEGIES: Readonly<Partial<Record<BackupType, Strategy>>> = Object.freeze({
  chats: chatsStrategy,
  contacts: contactsStrategy,
  deviceInfo: deviceInfoStrategy,
  media: mediaStrategy,
});
export { formatVCard, foldLine } from './vcard';
