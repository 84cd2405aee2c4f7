import type { BackupType } from '../core/model';
import { contactsStrategy } from './contacts';
import { deviceInfoStrategy } from './device-info';
import type { Strategy } from './strategy';

export * from './strategy';
export { contactsStrategy, ContactInput, normalizeContact, toE164 } from './contacts';
export { deviceInfoStrategy, DeviceInfo } from './device-info';

/** The strategies this build supports, by type. Chats and media arrive in their own issue. */
export const STRATEGIES: Readonly<Partial<Record<BackupType, Strategy>>> = Object.freeze({
  contacts: contactsStrategy,
  deviceInfo: deviceInfoStrategy,
});
export { formatVCard, foldLine } from './vcard';
