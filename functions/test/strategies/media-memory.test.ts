/**
 * The image memory model (strategies/media-memory.ts) on the cases the `limits` bench measures:
 * which plan each gets in a 256 MiB Cloud Function and in a larger one.
 */
import { DEFAULT_MEMORY_BUDGET, imageAllowance, planImageReencode, type ImageFacts } from '../../src/strategies';

const MIB = 1024 * 1024;
const photo = (width: number, height: number, orientation: number, extra: Partial<ImageFacts> = {}): ImageFacts =>
  ({ format: 'jpeg', width, height, channels: 3, bytesPerSample: 1, orientation, progressive: false, fileBytes: 4 * MIB, ...extra });
const fn = (memoryMiB: number) => ({ limitBytes: memoryMiB * MIB, baselineBytes: 105 * MIB });

describe('image memory plan', () => {
  it('leaves a 256 MiB function about 100 MiB for images', () => {
    expect(imageAllowance(DEFAULT_MEMORY_BUDGET) / MIB).toBeCloseTo(256 * 0.8 - 105, 5);
    expect(imageAllowance({ limitBytes: 100 * MIB, baselineBytes: 200 * MIB })).toBe(0);
  });

  it('a 12 MP photo: the baseline encoder in 256 MiB, mozjpeg in 512 MiB; turning it (portrait) holds the image', () => {
    expect(planImageReencode(photo(4000, 3000, 6), undefined, fn(256))).toMatchObject({ fits: true, encoder: 'baseline-jpeg' });
    expect(planImageReencode(photo(4000, 3000, 6), undefined, fn(512))).toMatchObject({ fits: true, encoder: 'best' });
    expect(planImageReencode(photo(4000, 3000, 1), undefined, fn(300))).toMatchObject({ fits: true, encoder: 'best' });
    expect(planImageReencode(photo(4000, 3000, 6), undefined, fn(300))).toMatchObject({ fits: true, encoder: 'baseline-jpeg' });
    const turned = planImageReencode(photo(4000, 3000, 6), undefined, fn(2048)).estimateBytes - planImageReencode(photo(4000, 3000, 1), undefined, fn(2048)).estimateBytes;
    expect(turned).toBe(4000 * 3000 * 3);
  });

  it('keeps a 48 MP portrait original in 256 MiB unless maxImageDimension makes it smaller (it is turned after the resize)', () => {
    const refused = planImageReencode(photo(8000, 6000, 6, { fileBytes: 10 * MIB }), undefined, fn(256));
    expect(refused).toMatchObject({ fits: false });
    if (!refused.fits) expect(refused.reason).toBe('original kept: re-encoding 8000 x 6000 (48.0 MP) needs about 184 MiB, over the 100 MiB left for images of 256 MiB memory (a maxImageDimension would make it smaller)');
    expect(planImageReencode(photo(8000, 6000, 6, { fileBytes: 10 * MIB }), 4096, fn(256))).toMatchObject({ fits: true, encoder: 'baseline-jpeg' });
    expect(planImageReencode(photo(8000, 6000, 6, { fileBytes: 10 * MIB }), 2048, fn(256))).toMatchObject({ fits: true, encoder: 'best' });
    expect(planImageReencode(photo(8000, 6000, 6, { fileBytes: 10 * MIB }), undefined, fn(512))).toMatchObject({ fits: true, encoder: 'baseline-jpeg' });
  });

  it('counts what other formats hold: WebP decodes whole, 16-bit PNG samples, progressive JPEG coefficients', () => {
    const interlaced = planImageReencode(photo(4000, 3000, 1, { format: 'png', channels: 3, progressive: true }), undefined, fn(2048));
    expect(interlaced.estimateBytes - planImageReencode(photo(4000, 3000, 1, { format: 'png', channels: 3 }), undefined, fn(2048)).estimateBytes).toBe(4000 * 3000 * 3);
    const webp = planImageReencode(photo(4000, 3000, 1, { format: 'webp', channels: 4 }), undefined, fn(256));
    expect(webp).toMatchObject({ fits: false });
    // Shrink-on-load: libwebp decodes at the output's size.
    expect(planImageReencode(photo(4000, 3000, 1, { format: 'webp', channels: 4 }), 2000, fn(256))).toMatchObject({ fits: true, encoder: 'best' });
    const png8 = planImageReencode(photo(4000, 3000, 6, { format: 'png', channels: 4 }), undefined, fn(256));
    const png16 = planImageReencode(photo(4000, 3000, 6, { format: 'png', channels: 4, bytesPerSample: 2 }), undefined, fn(256));
    expect(png16.estimateBytes - png8.estimateBytes).toBe(4000 * 3000 * 4);
    const progressive = planImageReencode(photo(4000, 3000, 1, { progressive: true }), undefined, fn(2048));
    expect(progressive.estimateBytes - planImageReencode(photo(4000, 3000, 1), undefined, fn(2048)).estimateBytes).toBe(4000 * 3000 * 3 * 2);
  });
});
