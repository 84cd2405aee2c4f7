const sharp = require('sharp'); const fs = require('fs');
sharp.concurrency(1); sharp.cache(false);
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status','utf8'))[1])/1024;
(async () => {
  const mode = process.argv[2]; const file = process.argv[3];
  const body = fs.readFileSync(file);
  const before = hwm();
  let p = sharp(body, { failOn: 'error', limitInputPixels: 100_000_000 });
  if (mode.includes('rotate')) p = p.rotate();
  if (mode.includes('resize')) p = p.resize({ width: Number(process.argv[4]||2048), height: Number(process.argv[4]||2048), fit: 'inside', withoutEnlargement: true, ...(mode.includes('slow') ? {fastShrinkOnLoad:false}:{} ) });
  const t0 = Date.now();
  const out = await p.jpeg({ quality: 75, mozjpeg: true }).toBuffer({ resolveWithObject: true });
  console.log(mode, 'before', before.toFixed(1), 'peak', hwm().toFixed(1), 'delta', (hwm()-before).toFixed(1), 'ms', Date.now()-t0, out.info.width, out.info.height, out.data.length);
})();
