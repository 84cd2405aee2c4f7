const sharp = require('sharp'); const fs = require('fs');
sharp.concurrency(1); sharp.cache(false);
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status','utf8'))[1])/1024;
(async () => {
  const [mode, file] = process.argv.slice(2);
  const body = fs.readFileSync(file);
  const before = hwm();
  const t0 = Date.now();
  let p = sharp(body);
  if (mode.includes('rot')) p = p.rotate();
  const o = mode.includes('nooptim') ? { quality: 75, optimiseCoding: false } : mode.includes('moz') ? {quality: 75, mozjpeg: true} : { quality: 75 };
  const n = (await p.jpeg(o).toBuffer()).length;
  console.log(mode, 'delta', (hwm()-before).toFixed(1), 'ms', Date.now()-t0, n);
})();
