/**
 * Restore names (issue 16, items 2 and 3): the id -> file name mapping is injective and bounded.
 * Property tests over random ids (unicode, dots, slashes, `id-` and `~` look-alikes, outputs fed
 * back as inputs) with a fixed seed; the per-restore registry resolves clashes a hash or a
 * case-insensitive file system would cause.
 */
import fc from 'fast-check';
import { isPlainName, restoreFileName, RestoreNames, RESTORE_NAME_MAX_BYTES } from '../src/restore-names';

const RUNS = { seed: 1614, numRuns: 300 };
const bytes = (s: string) => new TextEncoder().encode(s).byteLength;

/** Ids as apps make them, and as an attacker would. */
const id = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
  fc.string({ unit: fc.constantFrom('a', 'B', '.', '/', '-', '_', '~', ' ', '\\', '\u0000', 'é', '👪'), minLength: 1, maxLength: 20 }),
  fc.string({ minLength: 1, maxLength: 300 }).map((s) => `id-${Buffer.from(s).toString('base64url')}`),
  fc.string({ unit: fc.constantFrom('a', 'b', '0', '9', '.', '-'), minLength: 100, maxLength: 1024 }),
  fc.constantFrom('.', '..', '...', '-rf', 'CON', 'nul.txt', 'a.', 'Photo.JPG', 'photo.jpg', 'id-', 'x~0123456789abcdef01234567'),
);

/** A name any common file system takes: 1..255 bytes, no separator or NUL, not `.`/`..`, nothing Windows refuses. */
function isValidFileName(name: string): boolean {
  return (
    bytes(name) >= 1 &&
    bytes(name) <= 255 &&
    name !== '.' &&
    name !== '..' &&
    !/[/\\\u0000-\u001f<>:"|?*]/.test(name) &&
    !name.endsWith('.') &&
    !name.endsWith(' ')
  );
}

describe('restore names', () => {
  it('maps distinct ids to distinct names', () => {
    fc.assert(
      fc.property(fc.uniqueArray(id, { minLength: 2, maxLength: 40 }), (ids) => {
        const names = ids.map(restoreFileName);
        expect(new Set(names).size).toBe(ids.length);
      }),
      RUNS,
    );
  });

  it('never maps an id onto the name of another id, even one that looks like an encoding', () => {
    fc.assert(
      fc.property(id, (original) => {
        const name = restoreFileName(original);
        // The name itself, used as an id, must not land on the same file unless it is that id.
        if (name !== original) expect(restoreFileName(name)).not.toBe(name);
        // The earlier scheme's encoding of the id, as an id of its own, gets a name of its own.
        const lookAlike = `id-${Buffer.from(original).toString('base64url')}`;
        if (lookAlike !== original) expect(restoreFileName(lookAlike)).not.toBe(name);
      }),
      RUNS,
    );
  });

  it('gives every id a valid, bounded file name', () => {
    fc.assert(
      fc.property(id, (original) => {
        const name = restoreFileName(original);
        expect(isValidFileName(name)).toBe(true);
        expect(isValidFileName(`${name}.ndjson`)).toBe(true);
        expect(bytes(name)).toBeLessThanOrEqual(RESTORE_NAME_MAX_BYTES);
        expect(name).toMatch(/^[A-Za-z0-9._~-]+$/);
        expect(name.startsWith('.') || name.startsWith('-')).toBe(false);
      }),
      RUNS,
    );
  });

  it('keeps plain ids as they are and encodes the rest readably', () => {
    expect(restoreFileName('conv-02')).toBe('conv-02');
    expect(restoreFileName('IMG_0001.HEIC')).toBe('IMG_0001.HEIC');
    for (const unsafe of ['.', '..', '.hidden', '-rf', 'CON', 'a.', 'x'.repeat(121)]) expect(isPlainName(unsafe)).toBe(false);
    expect(restoreFileName('Documents/notes.txt')).toMatch(/^Documents_notes~[0-9a-f]{24}\.txt$/);
    expect(restoreFileName('..')).toMatch(/^_\.~[0-9a-f]{24}$/);
    expect(restoreFileName('👪')).toMatch(/^_~[0-9a-f]{24}$/);
    // A source id of 1024 bytes (the schema's limit) and a conversation id of 256 multi-byte characters.
    expect(bytes(restoreFileName('a/'.repeat(512)))).toBeLessThanOrEqual(RESTORE_NAME_MAX_BYTES);
    expect(bytes(restoreFileName('é'.repeat(256)))).toBeLessThanOrEqual(RESTORE_NAME_MAX_BYTES);
  });

  it('checks uniqueness within a restore: case-folding clashes and hash clashes get the next free name', () => {
    const names = new RestoreNames();
    expect(names.nameFor('Photo.JPG')).toEqual({ name: 'Photo.JPG', encoded: false });
    const folded = names.nameFor('photo.jpg');
    expect(folded.encoded).toBe(true);
    expect(folded.name.toLowerCase()).not.toBe('photo.jpg');
    // The same id keeps its name.
    expect(names.nameFor('photo.jpg')).toEqual(folded);
    // An id whose encoding is already taken (as a hash clash would leave it) moves on.
    const taken = new RestoreNames();
    const first = taken.nameFor('a/b');
    expect(taken.nameFor(first.name).name).not.toBe(first.name);
    // An encoding whose hash always clashes (a stand-in for a SHA-256 collision) still gives distinct names.
    const weak = new RestoreNames((original, n) => `same${n > 0 ? `~${n + 1}` : ''}`);
    expect(['a/b', 'c/d', 'e/f'].map((i) => weak.nameFor(i).name)).toEqual(['same', 'same~2', 'same~3']);
    expect(weak.nameFor('c/d').name).toBe('same~2');
  });

  it('never hands out one name twice, over random ids of one restore', () => {
    fc.assert(
      fc.property(fc.array(id, { minLength: 1, maxLength: 60 }), (ids) => {
        const names = new RestoreNames();
        const byId = new Map(ids.map((i) => [i, names.nameFor(i).name]));
        const folded = [...byId.values()].map((n) => n.toLowerCase());
        expect(new Set(folded).size).toBe(byId.size);
      }),
      RUNS,
    );
  });

  it('names a file by its own name (a media file\'s meta) when that is plain and free, else by a prefix of it and its id\'s hash', () => {
    const names = new RestoreNames();
    expect(names.nameFor('asset-1', 'IMG_0001.JPG')).toEqual({ name: 'IMG_0001.JPG', encoded: true });
    // Another file of the same name: a readable name hashed from its own id, whatever the order.
    const second = names.nameFor('asset-2', 'IMG_0001.JPG').name;
    expect(second).toMatch(/^IMG_0001~[0-9a-f]{24}\.JPG$/);
    const reversed = new RestoreNames();
    reversed.nameFor('asset-9', 'IMG_0001.JPG');
    expect(reversed.nameFor('asset-2', 'IMG_0001.JPG').name).toBe(second);
    // A name that is not a safe file name keeps its readable part and extension.
    expect(names.nameFor('asset-3', 'Urlaub am Meer.heic').name).toMatch(/^Urlaub_am_Meer~[0-9a-f]{24}\.heic$/);
    expect(names.nameFor('asset-1', 'other.jpg').name).toBe('IMG_0001.JPG');
  });

  it('never hands out one name twice when many files share a few names', () => {
    fc.assert(
      fc.property(fc.uniqueArray(id, { minLength: 1, maxLength: 60 }), fc.array(fc.constantFrom('IMG_0001.JPG', 'img_0001.jpg', 'a b.png', '..', 'CON'), { minLength: 60, maxLength: 60 }), (ids, display) => {
        const names = new RestoreNames();
        const given = ids.map((i, n) => names.nameFor(i, display[n] as string).name);
        expect(new Set(given.map((n) => n.toLowerCase())).size).toBe(ids.length);
        for (const name of given) expect(isValidFileName(name) && bytes(name) <= RESTORE_NAME_MAX_BYTES).toBe(true);
      }),
      RUNS,
    );
  });
});
