const sharp = require('sharp'); const fs = require('fs');
sharp.concurrency(1); sharp.cache(false);
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status','utf8'))[1])/1024;
(async () => {
  const [max, enc, file] = process.argv.slice(2);
  const body = fs.readFileSync(file);
  const before = hwm();
  let p = sharp(body, {failOn: 'error', limitInputPixels: 100_000_000}).rotate().keepIccProfile();
  if (Number(max)) p = p.resize({ width: Number(max), height: Number(max), fit: 'inside', withoutEnlargement: true, fastShrinkOnLoad: true });
  p = p.jpeg(enc === 'moz' ? { quality: 75, mozjpeg: true } : { quality: 75, optimiseCoding: false });
  const n = (await p.toBuffer()).length;
  console.log(max, enc, 'delta', (hwm()-before).toFixed(1), n);
})();
