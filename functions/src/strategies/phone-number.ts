/**
 * Phone numbers in E.164 (`+` country code, national number) for every region, on
 * libphonenumber-js and its numbering-plan metadata (Google's libphonenumber data for 245
 * regions: country calling codes, trunk prefixes, international call prefixes, possible lengths).
 *
 * The rule is never to guess: a number gets an E.164 form only when it parses and its length is
 * possible in its plan. It is read with its own country code when written internationally
 * (`+44 …`), else in the region it belongs to (the contact's, else the user's default), whose
 * metadata also knows the region's international call prefix (`011 44 …` in North America),
 * else, for a number starting with `00`, as international. Anything else (a national number
 * without a region, a length the plan does not have, short codes, extensions, letters, an
 * unknown region) gets no E.164 form; the contact keeps the number as written, always.
 *
 * Possible, not valid: libphonenumber-js can also check that the digits fall in a range the plan
 * has allocated (`isValid()`), but plans allocate new ranges every month and the metadata here is
 * pinned with the deploy, so a check that strict would leave real new numbers un-normalized; and
 * a possible number's E.164 form is what its digits mean in that region whether or not the range
 * is in use. The library's author recommends the same (its README, "Using phone number
 * validation feature").
 */
import type { CountryCode } from 'libphonenumber-js/min';

type PhoneLib = typeof import('libphonenumber-js/min');
let loaded: PhoneLib | undefined;
/**
 * libphonenumber-js, loaded on first use: its metadata takes tens of milliseconds to load (over
 * 100 on a busy machine), which every function instance would pay at start-up while only
 * contacts processing reads a phone number.
 */
const phoneLib = (): PhoneLib => (loaded ??= require('libphonenumber-js/min') as PhoneLib);

/**
 * The libphonenumber-js release whose metadata normalizes contacts now. A new release can change
 * what a stored number normalizes to; contacts chunks already stored keep the form they were
 * stored with (their raw numbers are always there) unless the contacts strategy key changes, so
 * an upgrade must decide, and a test holds this equal to the installed version.
 */
export const PHONE_METADATA_RELEASE = '1.13.18';

export interface PhoneNormalizeOptions {
  /**
   * Region (ISO 3166 alpha-2, any case) national numbers are read in, e.g. `GB`: `07700 900123`
   * becomes `+447700900123`. A region the metadata does not know reads nothing.
   * @default none: national numbers get no E.164 form
   */
  defaultRegion?: string;
}

/** What may appear in a number written by hand or by an address book: digits, `+`, separators. */
const WRITTEN_NUMBER = /^\+?[\d\s().\-/\u00a0\u2010-\u2015]+$/;

/** The region as the metadata names it, or undefined for none or an unknown one. */
export function phoneRegion(region: string | undefined): CountryCode | undefined {
  const upper = region?.trim().toUpperCase();
  return upper && phoneLib().isSupportedCountry(upper) ? upper : undefined;
}

/** Every region the metadata knows (ISO 3166 alpha-2), for documentation and tests. */
export function phoneRegions(): readonly string[] {
  return phoneLib().getCountries();
}

/**
 * At most 15 digits, the first not 0 (ITU-T E.164). Some plans list longer possible lengths
 * (Japan's up to 17 digits) for numbers that cannot be dialled from abroad: those get no form.
 */
const E164 = /^\+[1-9]\d{1,14}$/;

/** E.164 of one reading, or null when that reading does not give a possible number. */
function read(text: string, region: CountryCode | undefined): string | null {
  const parsed = phoneLib().parsePhoneNumberFromString(text, { ...(region ? { defaultCountry: region } : {}), extract: false });
  return parsed && parsed.isPossible() && !parsed.ext && E164.test(parsed.number) ? parsed.number : null;
}

/**
 * The E.164 form of a phone number, or null when it cannot be told without guessing (see the
 * module comment).
 *
 * - `+44 (0)20 7946 0018`, `0044 20 7946 0018` → `+442079460018` (the `(0)` trunk hint dropped);
 * - `020 7946 0018` with `defaultRegion: 'GB'` → `+442079460018`; without a region → null;
 * - `011 44 20 7946 0018` with `defaultRegion: 'US'` → `+442079460018` (the region's own exit code);
 * - extensions (`x123`, `ext. 5`, `;ext=`), letters, `*`/`#` codes, short numbers → null.
 */
export function normalizePhone(number: string, options: PhoneNormalizeOptions = {}): string | null {
  const raw = number.trim();
  if (raw === '' || raw.length > 64) return null;
  // `tel:` URIs (vCard 4.0) carry the number after the scheme; parameters such as `;ext=` mean
  // an extension, which E.164 cannot express, and fail the character check below.
  const value = raw.toLowerCase().startsWith('tel:') ? raw.slice(4) : raw;
  if (!WRITTEN_NUMBER.test(value)) return null;
  const region = phoneRegion(options.defaultRegion);
  const international = value.startsWith('+');
  const inRegion = read(value, international ? undefined : region);
  if (inRegion !== null || international) return inRegion;
  // No region, or the region's reading (which already knows its own international call prefix)
  // gives no possible number: then only one reading is left for a number starting with `00`, the
  // international call prefix of most of the world (the old rule, kept for numbers written
  // that way in address books without a region).
  const digits = value.replace(/\D/g, '');
  return digits.startsWith('00') ? read(`+${digits.slice(2)}`, undefined) : null;
}

/** The region a BCP 47 locale names (`en-GB` → `GB`), when the phone metadata knows it. */
export function regionOfLocale(locale: string | undefined): string | undefined {
  return phoneRegion(locale?.split(/[-_]/).find((part, i) => i > 0 && /^[A-Za-z]{2}$/.test(part)));
}
