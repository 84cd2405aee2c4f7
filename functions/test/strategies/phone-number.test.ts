import { normalizePhone, regionOfLocale } from '../../src/strategies/phone-number';

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
  });

  it('reads the region of a locale', () => {
    expect(regionOfLocale('en-GB')).toBe('GB');
    expect(regionOfLocale('fr_FR')).toBe('FR');
    expect(regionOfLocale('zh-Hant-TW')).toBeUndefined(); // not in the table
    expect(regionOfLocale('en')).toBeUndefined();
    expect(regionOfLocale(undefined)).toBeUndefined();
  });
});
