const sharp = require('sharp'); const fs = require('fs');
sharp.concurrency(1); sharp.cache(false);
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status','utf8'))[1])/1024;
(async () => {
  const [mode, enc, file] = process.argv.slice(2);
  const body = fs.readFileSync(file);
  const before = hwm();
  let p = sharp(body, { failOn: 'error', limitInputPixels: 100_000_000 });
  if (mode.includes('rotate')) p = p.rotate();
  const o = enc === 'moz' ? { quality: 75, mozjpeg: true } : enc === 'base' ? { quality: 75 } : enc === 'opt' ? {quality:75, optimiseCoding: true, trellisQuantisation: true, overshootDeringing: true, quantisationTable: 3} : { quality: 75, progressive: true };
  const t0 = Date.now();
  const out = await p.jpeg(o).toBuffer({ resolveWithObject: true });
  console.log(mode, enc, 'delta', (hwm()-before).toFixed(1), 'ms', Date.now()-t0, out.data.length);
})();
