/**
 * The CLI's progress line: drawn on a terminal only, at most ten times a second (the last update
 * always), cut to the terminal's width, and cleared at the end.
 */
import { formatBytes, progressLine } from '../src/cli/progress';

function terminal(isTTY: boolean, columns = 60): { stream: { isTTY: boolean; columns: number; write(text: string): void }; out: string[] } {
  const out: string[] = [];
  return { stream: { isTTY, columns, write: (text) => void out.push(text) }, out };
}

describe('progressLine', () => {
  it('draws a bar on a terminal, throttled, and clears it at the end', () => {
    const { stream, out } = terminal(true);
    let now = 0;
    const bar = progressLine(stream, true, 'restore snap_x', 200, () => now);
    bar.update(1, '1 KiB');
    bar.update(2); // within 100 ms: not drawn
    now = 150;
    bar.update(100, '2 KiB');
    now = 160;
    bar.update(200); // the end is always drawn
    bar.finish();
    expect(out).toEqual([
      '\r\x1b[Krestore snap_x [....................]   0% 1/200 1 KiB',
      '\r\x1b[Krestore snap_x [##########..........]  50% 100/200 2 KiB',
      '\r\x1b[Krestore snap_x [####################] 100% 200/200',
      '\r\x1b[K',
    ]);
    expect(out.every((line) => line.length <= 3 + 60)).toBe(true);
  });

  it('counts without a total, and writes nothing off a terminal or when disabled', () => {
    const { stream, out } = terminal(true);
    const counter = progressLine(stream, true, 'gc alice');
    counter.update(42, 'listed');
    expect(out).toEqual(['\r\x1b[Kgc alice 42 listed']);
    for (const [isTTY, enabled] of [[false, true], [true, false]] as const) {
      const quiet = terminal(isTTY);
      const p = progressLine(quiet.stream, enabled, 'verify', 10);
      p.update(5);
      p.finish();
      expect(quiet.out).toEqual([]);
    }
  });

  it('formats bytes for people', () => {
    expect([formatBytes(512), formatBytes(1536), formatBytes(5 * 1024 ** 3)]).toEqual(['512 B', '1.5 KiB', '5.0 GiB']);
  });
});
