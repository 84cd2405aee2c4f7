/**
 * Large-file parts are checked (issue 16 item 6): a file whose parts have a gap, an overlap, a
 * missing or repeated part or disagree on its size is reported by verify (`bad-segments`) and
 * fails in restoreItems before any of its bytes are handed out; the rest of the snapshot restores.
 */
import { ContentStore } from '../../src/core/content-store';
import { filePartsProblem } from '../../src/core/snapshots/file-parts';
import { restoreItems, restoredBytes, type RestoredItem } from '../../src/core/snapshots/restore-items';
import { verifySnapshot } from '../../src/core/snapshots/verify-snapshot';
import { BAD_PARTS, craftedSnapshot, fileBytes, GOOD_PARTS, type PartSpec } from '../fakes/crafted-snapshot';
import { createHarness } from '../fakes/engine-harness';

const asParts = (specs: PartSpec[]) =>
  specs.map((s) => ({ blob: 'b', blobSize: s.length, originalSize: s.length, segment: { index: s.index, offset: s.offset, fileSize: s.fileSize } }));

describe('filePartsProblem', () => {
  it('accepts parts that make the file, and a file skipped whole', () => {
    expect(filePartsProblem(asParts(GOOD_PARTS))).toBeNull();
    expect(filePartsProblem([{ blob: null, originalSize: 3000, segment: { index: 0, offset: 0, fileSize: 3000 }, skipReason: 'larger than 1 MB' }])).toBeNull();
  });

  it.each([
    ['gap', /bytes 2000\.\.2499 are missing/],
    ['overlap', /part 1 at 900 overlaps the part before it, which ends at 1000/],
    ['missing part', /part 1 is missing/],
    ['missing last part', /end at 2000 of 3000 bytes/],
    ['inconsistent size', /disagree on the file's size \(3000 and 4000/],
    ['repeated part', /part 1 appears more than once/],
  ])('names a %s', (kind, message) => {
    const specs = BAD_PARTS[kind] as PartSpec[];
    expect(filePartsProblem(asParts([...specs].sort((a, b) => a.offset - b.offset)))).toMatch(message);
  });

  it('names a part that was not stored among stored ones', () => {
    const parts = asParts(GOOD_PARTS).map((p, i) => (i === 1 ? { ...p, blob: null, skipReason: 'not sent' } : p));
    expect(filePartsProblem(parts)).toMatch(/part 1 was not stored \(not sent\)/);
  });
});

describe('a snapshot with bad parts', () => {
  it('verify reports each bad file by name (bad-segments); a good file is not reported', async () => {
    const h = createHarness();
    const content = new ContentStore(h.blobs);
    const snapshot = await craftedSnapshot(content, 'una', { 'good.mov': GOOD_PARTS, ...BAD_PARTS }, { store: h.store });
    const report = await verifySnapshot(h.deps, snapshot);
    expect(report.ok).toBe(false);
    const bad = report.problems.filter((p) => p.kind === 'bad-segments');
    expect(bad.map((p) => p.items[0]?.sourceId).sort()).toEqual(Object.keys(BAD_PARTS).sort());
    expect(bad.every((p) => p.blob === snapshot.manifestRef)).toBe(true);
    expect(report.problems.filter((p) => p.kind !== 'bad-segments')).toEqual([]);
  });

  it('restoreItems fails every part of a bad file without reading it, and restores the rest', async () => {
    const h = createHarness();
    const content = new ContentStore(h.blobs);
    const snapshot = await craftedSnapshot(content, 'una', { 'good.mov': [GOOD_PARTS[2], GOOD_PARTS[0], GOOD_PARTS[1]] as PartSpec[], ...BAD_PARTS });
    const out: RestoredItem[] = [];
    for await (const restored of restoreItems(content, snapshot)) out.push({ ...restored, bytes: await restoredBytes(restored) });
    const good = out.filter((r) => r.item.sourceId === 'good.mov');
    expect(good.every((r) => r.failure === undefined)).toBe(true);
    expect(Buffer.concat(good.map((r) => r.bytes as Uint8Array)).equals(Buffer.from(fileBytes(3000)))).toBe(true);
    for (const kind of Object.keys(BAD_PARTS)) {
      const parts = out.filter((r) => r.item.sourceId === kind);
      expect([kind, parts.length, parts.every((r) => r.bytes === null && r.failure?.code === 'data-loss')]).toEqual([kind, (BAD_PARTS[kind] as PartSpec[]).length, true]);
    }
    expect(out.filter((r) => r.item.sourceId.startsWith('note')).map((r) => new TextDecoder().decode(r.bytes as Uint8Array))).toEqual(['note.txt\n', 'note-2.txt\n']);
  });
});
