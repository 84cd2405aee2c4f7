import { foldLine, formatVCard } from '../../src/strategies/vcard';

describe('vCard output', () => {
  it('writes a vCard 3.0 with CRLF lines, escaped text and E.164 phones', () => {
    const card = formatVCard({
      id: 'c1',
      name: { given: 'Ada', family: 'Lovelace', display: 'Ada, Countess; of Lovelace' },
      phones: [{ label: 'mobile', number: '+44 20 7946 0018', e164: '+442079460018' }, { number: '555-0100' }],
      emails: [{ label: 'work', address: 'ada@example.com' }],
      organization: 'Analytical Engines',
      note: 'line one\nline two',
    });
    expect(card.split('\r\n')).toEqual([
      'BEGIN:VCARD',
      'VERSION:3.0',
      'UID:c1',
      'FN:Ada\\, Countess\\; of Lovelace',
      'N:Lovelace;Ada;;;',
      'TEL;TYPE=MOBILE:+442079460018',
      'TEL:555-0100',
      'EMAIL;TYPE=WORK:ada@example.com',
      'ORG:Analytical Engines',
      'NOTE:line one\\nline two',
      'END:VCARD',
      '',
    ]);
  });

  it('folds long lines at 75 octets without splitting a character', () => {
    const line = `NOTE:${'é'.repeat(100)}`;
    const folded = foldLine(line);
    const physical = folded.split('\r\n');
    for (const p of physical) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(75);
    expect(physical.slice(1).every((p) => p.startsWith(' '))).toBe(true);
    expect(physical.map((p, i) => (i === 0 ? p : p.slice(1))).join('')).toBe(line);
  });

  it('falls back to the id when a contact has no name', () => {
    expect(formatVCard({ id: 'x9' })).toContain('\r\nFN:x9\r\n');
  });
});
