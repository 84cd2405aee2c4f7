const sharp = require('sharp');
(async () => {
  const [w, h, out, q] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4], Number(process.argv[5] || 85)];
  const small = await sharp({ create: { width: Math.ceil(w/16), height: Math.ceil(h/16), channels: 3, background: '#888', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png().toBuffer();
  const big = sharp(small).resize(w, h, { kernel: 'cubic' });
  // add fine noise on top so it looks like a photo (not too compressible)
  const noise = await sharp({ create: { width: w, height: h, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 0, sigma: 12 } } }).raw().toBuffer();
  const buf = await big.composite([{ input: noise, raw: { width: w, height: h, channels: 3 }, blend: 'add' }]).withMetadata({ orientation: 6 }).jpeg({ quality: q }).toFile(out);
  console.log(buf);
})();
