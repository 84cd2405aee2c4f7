import type { BackupType } from '../core/model';
import { chatsStrategy } from './chats';
import { contactsStrategy } from './contacts';
import { deviceInfoStrategy } from './device-info';
import type { Strategy } from './strategy';

export * from './strategy';
export { chatsStrategy, ChatMessage, type ChatMessageInput, compareUtcIso, toUtcIso } from './chats';
export { contactsStrategy, ContactInput, normalizeContact, toE164 } from './contacts';
export { deviceInfoStrategy, DeviceInfo } from './device-info';

/** The strategies this build supports, by type. Media arrives in its own issue. */
export const STRATEGIES: Readonly<Partial<Record<BackupType, Strategy>>> = Object.freeze({
  chats: chatsStrategy,
  contacts: contactsStrategy,
  deviceInfo: deviceInfoStrategy,
});
export { formatVCard, foldLine } from './vcard';
