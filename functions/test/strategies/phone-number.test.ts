import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getCountryCallingCode, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';
import { normalizePhone, PHONE_METADATA_RELEASE, phoneRegion, phoneRegions, regionOfLocale } from '../../src/strategies/phone-number';

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

describe('phone number normalizer', () => {
  it.each([
    ['+44 (0)20 7946 0018', undefined, '+442079460018'],
    ['0044 20 7946 0018', undefined, '+442079460018'],
    ['+1 (415) 555-0100', undefined, '+14155550100'],
    ['tel:+1-415-555-0100', undefined, '+14155550100'],
    ['+33\u00a01 23 45 67 89', undefined, '+33123456789'],
    ['020 7946 0018', 'GB', '+442079460018'],
    ['07700 900123', 'GB', '+447700900123'],
    ['(415) 555-0100', 'US', '+14155550100'],
    ['1 415 555 0100', 'US', '+14155550100'],
    ['011 44 20 7946 0018', 'US', '+442079460018'],
    ['01 23 45 67 89', 'FR', '+33123456789'],
    ['030 1234567', 'DE', '+49301234567'],
    ['06 6982 1234', 'IT', '+390669821234'],
    ['612 345 678', 'ES', '+34612345678'],
    ['0011 44 20 7946 0018', 'AU', '+442079460018'],
    ['gb-region-lowercase 020', 'gb', null],
  ])('%s (region %s) → %s', (input, region, expected) => {
    expect(normalizePhone(input, region ? { defaultRegion: region } : {})).toBe(expected);
  });

  it('leaves what it cannot tell without guessing', () => {
    expect(normalizePhone('(415) 555-0100')).toBeNull(); // national, no region
    expect(normalizePhone('020 7946 0018', { defaultRegion: 'ZZ' })).toBeNull(); // unknown region
    expect(normalizePhone('020 794', { defaultRegion: 'GB' })).toBeNull(); // too short for the plan
    expect(normalizePhone('+44 20 7946 0018 x123')).toBeNull(); // extension
    expect(normalizePhone('tel:+1-415-555-0100;ext=5')).toBeNull();
    expect(normalizePhone('*100#', { defaultRegion: 'GB' })).toBeNull();
    expect(normalizePhone('1-800-FLOWERS', { defaultRegion: 'US' })).toBeNull();
    expect(normalizePhone('+0 123 4567 890')).toBeNull(); // no country code 0
    expect(normalizePhone('+1234567')).toBeNull(); // under 8 digits
    expect(normalizePhone('+1234567890123456')).toBeNull(); // over 15 digits
    expect(normalizePhone('')).toBeNull();
    expect(normalizePhone('112', { defaultRegion: 'DE' })).toBeNull(); // short code
    // A length Japan's plan lists, but over E.164's 15 digits: not dialled from abroad.
    expect(normalizePhone('+81 120 123 456 789 01')).toBeNull();
  });

  it('reads the region of a locale', () => {
    expect(regionOfLocale('en-GB')).toBe('GB');
    expect(regionOfLocale('fr_FR')).toBe('FR');
    expect(regionOfLocale('zh-Hant-TW')).toBe('TW'); // not in the hand-written table this replaced
    expect(regionOfLocale('en-ZZ')).toBeUndefined(); // no such region
    expect(regionOfLocale('en')).toBeUndefined();
    expect(regionOfLocale(undefined)).toBeUndefined();
  });

  it('knows every region of the metadata, in any case, and nothing else', () => {
    expect(phoneRegions().length).toBeGreaterThanOrEqual(240);
    expect(phoneRegion('ng')).toBe('NG');
    expect(phoneRegion(' BR ')).toBe('BR');
    expect(phoneRegion('ZZ')).toBeUndefined();
    expect(phoneRegion('GBR')).toBeUndefined();
    expect(phoneRegion(undefined)).toBeUndefined();
  });

  it('reads numbers of regions the old table did not know', () => {
    expect(normalizePhone('0802 123 4567', { defaultRegion: 'NG' })).toBe('+2348021234567');
    expect(normalizePhone('0812-345-678', { defaultRegion: 'ID' })).toBe('+62812345678');
    expect(normalizePhone('010-2000-0000', { defaultRegion: 'KR' })).toBe('+821020000000');
    expect(normalizePhone('0912 345 678', { defaultRegion: 'TW' })).toBe('+886912345678');
    // Still never guessed: a national number with no region, or too short for its region.
    expect(normalizePhone('0802 123 4567')).toBeNull();
    expect(normalizePhone('0802 123', { defaultRegion: 'NG' })).toBeNull();
  });

  it('is pinned to the libphonenumber-js release it was reviewed with', () => {
    // A new release may normalize stored numbers differently: decide whether the contacts
    // strategy key changes (contacts.ts), then move PHONE_METADATA_RELEASE.
    const installed = (readJson(require.resolve('libphonenumber-js/package.json')) as { version: string }).version;
    expect(installed).toBe(PHONE_METADATA_RELEASE);
  });
});

/**
 * Every region's fixed-line and mobile example numbers, from the metadata (mobile: the library's
 * examples.mobile.json; fixed line: the upstream PhoneNumberMetadata.xml it is generated from,
 * see the fixture's `source`), each written the three ways address books hold numbers.
 */
describe('phone numbers of every region', () => {
  const fixed = (readJson(join(__dirname, 'fixtures', 'phone-fixed-line-examples.json')) as { fixedLine: Record<string, string> }).fixedLine;
  const mobile = readJson(require.resolve('libphonenumber-js/examples.mobile.json')) as Record<string, string>;
  const cases = [
    ...Object.entries(fixed).map(([region, example]) => ['fixed line', region, example] as const),
    ...Object.entries(mobile).map(([region, example]) => ['mobile', region, example] as const),
  ].filter(([, region]) => phoneRegion(region) !== undefined);

  it('covers at least 40 regions with both kinds', () => {
    const both = new Set(Object.keys(fixed).filter((r) => mobile[r] !== undefined && phoneRegion(r)));
    expect(both.size).toBeGreaterThanOrEqual(40);
  });

  it.each(cases)('%s %s %s', (_kind, region, example) => {
    const code = region as CountryCode;
    const expected = `+${getCountryCallingCode(code)}${example}`;
    const parsed = parsePhoneNumberFromString(example, code);
    if (!parsed) throw new Error(`the metadata's own example ${example} does not parse in ${region}`);
    const national = parsed.formatNational();
    const international = parsed.formatInternational();
    // Written nationally, read in its region: E.164. Without the region: nothing, never a guess.
    expect(normalizePhone(national, { defaultRegion: region })).toBe(expected);
    expect(normalizePhone(national)).toBeNull();
    // Written internationally, with `+` or `00`: E.164 with or without a region (another one).
    expect(normalizePhone(international)).toBe(expected);
    expect(normalizePhone(international, { defaultRegion: region === 'JP' ? 'DE' : 'JP' })).toBe(expected);
    expect(normalizePhone(`00 ${international.slice(1)}`)).toBe(expected);
  });
});
