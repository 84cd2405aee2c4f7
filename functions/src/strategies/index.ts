import type { BackupType } from '../core/model';
import { chatsStrategy } from './chats';
import { contactsStrategy } from './contacts';
import { deviceInfoStrategy } from './device-info';
import { mediaStrategy } from './media';
import type { Strategy } from './strategy';

export * from './strategy';
export { chatsStrategy, ChatMessage, type ChatMessageInput, compareUtcIso, toUtcIso, messageTime, changedSince } from './chats';
export { contactsStrategy, ContactInput, normalizeContact, toE164 } from './contacts';
export { normalizePhone, phoneRegion, phoneRegions, regionOfLocale, PHONE_METADATA_RELEASE, type PhoneNormalizeOptions } from './phone-number';
export { parseVCards, looksLikeVCard, unescapeText, type ParsedVCard, type VCardPhoto } from './vcard-parse';
export { checkMediaUrl, isPublicAddress, publicAddress, HttpsMediaFetcher, nodeHttpsGet, LIFEBOAT_BLOB_URL, type MediaFetchPolicy, type MediaUrlCheck, type HttpGet, type HttpResponse, type Resolver, type HttpsMediaFetcherOptions } from './media-fetch';
export { deviceInfoStrategy, DeviceInfo } from './device-info';
export { mediaStrategy, storeMediaFile, sniffMedia, MAX_INPUT_PIXELS, type MediaDescription, type SniffedKind } from './media';
export { stripLocation, stripTiffGps, stripXmpGps, type LocationContainer, type LocationStripResult } from './location-strip';
export { DEFAULT_MEMORY_BUDGET, MEMORY_HEADROOM, planImageReencode, imageAllowance, type ImageFacts, type ImagePlan, type MemoryBudget } from './media-memory';
export { decodeMediaEnvelope, mediaMetaOf, MediaHeader, MEDIA_ENVELOPE_MAGIC, MAX_MEDIA_HEADER_BYTES, type DecodedMediaEnvelope } from './media-envelope';

/** The strategies this build supports, by type. */
export const STRATEGIES: Readonly<Partial<Record<BackupType, Strategy>>> = Object.freeze({
  chats: chatsStrategy,
  contacts: contactsStrategy,
  deviceInfo: deviceInfoStrategy,
  media: mediaStrategy,
});
export { formatVCard, foldLine } from './vcard';
