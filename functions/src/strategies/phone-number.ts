/**
 * A small phone number normalizer: E.164 (`+` country code, national number) where the number
 * allows, without a numbering-plan database. A number written internationally (`+44 …`,
 * `0044 …`) is accepted when its digits fit E.164 (8..15 digits, no leading 0 country code); a
 * national number is converted only with a default region whose plan is known here, and only
 * when its length fits that plan. Anything else (short codes, extensions, letters, unknown
 * regions) is left without an E.164 form rather than guessed.
 */

interface RegionPlan {
  /** Country calling code. */
  cc: string;
  /** National (trunk) prefix dialled before area codes, dropped in E.164. */
  trunk: string;
  /** Lengths of the national significant number (without the trunk prefix). */
  lengths: readonly number[];
  /** International call prefixes besides `00`, e.g. `011` in North America. */
  idd?: readonly string[];
}

const NANP: RegionPlan = { cc: '1', trunk: '1', lengths: [10], idd: ['011'] };

/**
 * Regions with a known plan, by ISO 3166 alpha-2 code. Lengths are those of real national
 * numbers (fixed and mobile); a region missing here only means national numbers stay un-normalized.
 */
export const REGION_PLANS: Readonly<Record<string, RegionPlan>> = Object.freeze({
  US: NANP,
  CA: NANP,
  GB: { cc: '44', trunk: '0', lengths: [9, 10] },
  IE: { cc: '353', trunk: '0', lengths: [7, 8, 9] },
  FR: { cc: '33', trunk: '0', lengths: [9] },
  DE: { cc: '49', trunk: '0', lengths: [6, 7, 8, 9, 10, 11] },
  AT: { cc: '43', trunk: '0', lengths: [6, 7, 8, 9, 10, 11, 12, 13] },
  CH: { cc: '41', trunk: '0', lengths: [9] },
  NL: { cc: '31', trunk: '0', lengths: [9] },
  BE: { cc: '32', trunk: '0', lengths: [8, 9] },
  ES: { cc: '34', trunk: '', lengths: [9] },
  PT: { cc: '351', trunk: '', lengths: [9] },
  IT: { cc: '39', trunk: '', lengths: [6, 7, 8, 9, 10, 11] },
  SE: { cc: '46', trunk: '0', lengths: [7, 8, 9] },
  NO: { cc: '47', trunk: '', lengths: [8] },
  DK: { cc: '45', trunk: '', lengths: [8] },
  FI: { cc: '358', trunk: '0', lengths: [5, 6, 7, 8, 9, 10] },
  PL: { cc: '48', trunk: '', lengths: [9] },
  AU: { cc: '61', trunk: '0', lengths: [9], idd: ['0011'] },
  NZ: { cc: '64', trunk: '0', lengths: [8, 9, 10] },
  JP: { cc: '81', trunk: '0', lengths: [9, 10], idd: ['010'] },
  IN: { cc: '91', trunk: '0', lengths: [10] },
  BR: { cc: '55', trunk: '0', lengths: [10, 11] },
  MX: { cc: '52', trunk: '', lengths: [10] },
  ZA: { cc: '27', trunk: '0', lengths: [9] },
});

export interface PhoneNormalizeOptions {
  /**
   * Region (ISO 3166 alpha-2) national numbers are read in, e.g. `GB`: `07700 900123` becomes
   * `+447700900123`. @default none: national numbers get no E.164 form
   */
  defaultRegion?: string;
}

/** Separators people and address books write between digits. */
const SEPARATORS = /[\s().\-/\u00a0\u2010-\u2015]/g;

/** True when `digits` (no `+`) is a plausible E.164 number: 8..15 digits, country code not 0. */
const fitsE164 = (digits: string): boolean => /^[1-9]\d{7,14}$/.test(digits);

/**
 * The E.164 form of a phone number, or null when it cannot be told without guessing.
 *
 * - `+44 (0)20 7946 0018`, `0044 20 7946 0018` → `+442079460018` (the `(0)` trunk hint dropped);
 * - `020 7946 0018` with `defaultRegion: 'GB'` → `+442079460018`; without a region → null;
 * - `011 44 20 7946 0018` with `defaultRegion: 'US'` → `+442079460018` (the region's own exit code);
 * - extensions (`x123`, `ext. 5`, `;ext=`), letters, `*`/`#` codes → null.
 */
export function normalizePhone(number: string, options: PhoneNormalizeOptions = {}): string | null {
  const raw = number.trim();
  if (raw === '' || raw.length > 64) return null;
  // `tel:` URIs (vCard 4.0) carry the number after the scheme; parameters such as `;ext=` mean
  // an extension, which E.164 cannot express.
  const value = raw.toLowerCase().startsWith('tel:') ? raw.slice(4) : raw;
  const compact = value.replace(/\(0\)/g, '').replace(SEPARATORS, '');
  if (!/^\+?\d+$/.test(compact)) return null;
  if (compact.startsWith('+')) return fitsE164(compact.slice(1)) ? compact : null;

  const plan = options.defaultRegion ? REGION_PLANS[options.defaultRegion.toUpperCase()] : undefined;
  // Longest first: Australia's `0011` also starts with `00`. No national number starts with `00`,
  // so it is an exit code in every region.
  for (const idd of ['00', ...(plan?.idd ?? [])].sort((a, b) => b.length - a.length)) {
    if (compact.startsWith(idd)) {
      const rest = compact.slice(idd.length);
      return fitsE164(rest) ? `+${rest}` : null;
    }
  }
  if (!plan) return null;
  let national = compact;
  // A national significant number never starts with its plan's trunk prefix (area codes do not
  // start with 0 where 0 is the trunk, nor with 1 in North America), so a leading one is the prefix.
  if (plan.trunk !== '' && national.startsWith(plan.trunk)) national = national.slice(plan.trunk.length);
  if (!plan.lengths.includes(national.length)) return null;
  const e164 = `${plan.cc}${national}`;
  return fitsE164(e164) ? `+${e164}` : null;
}

/** The region a BCP 47 locale names (`en-GB` → `GB`), when it names one this module knows. */
export function regionOfLocale(locale: string | undefined): string | undefined {
  const region = locale?.split(/[-_]/).find((part, i) => i > 0 && /^[A-Za-z]{2}$/.test(part))?.toUpperCase();
  return region && REGION_PLANS[region] ? region : undefined;
}
