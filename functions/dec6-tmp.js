const sharp = require('sharp'); const fs = require('fs');
sharp.concurrency(1); sharp.cache(false);
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status','utf8'))[1])/1024;
(async () => {
  const [mode, file] = process.argv.slice(2);
  const body = fs.readFileSync(file);
  const before = hwm();
  const t0 = Date.now();
  let p = sharp(body, {failOn: 'error'});
  if (mode.includes('rot')) p = p.rotate();
  if (mode.includes('webp')) p = p.webp({quality: 75});
  if (mode.includes('png')) p = p.png({compressionLevel: 9});
  if (mode.includes('jstream')) p = p.jpeg({quality: 75, optimiseCoding: false});
  if (mode.includes('jmoz')) p = p.jpeg({quality: 75, mozjpeg: true});
  const n = (await p.toBuffer()).length;
  console.log(mode, file, 'delta', (hwm()-before).toFixed(1), 'ms', Date.now()-t0, n);
})();
