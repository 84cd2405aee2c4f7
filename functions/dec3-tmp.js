const sharp = require('sharp'); const fs = require('fs');
sharp.concurrency(1); sharp.cache(false);
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status','utf8'))[1])/1024;
(async () => {
  const [mode, file] = process.argv.slice(2);
  const body = fs.readFileSync(file);
  const before = hwm();
  let p = sharp(mode.includes('file') ? file : body, { failOn: mode.includes('nofail') ? 'none' : 'error', sequentialRead: !mode.includes('random'), limitInputPixels: 100_000_000 });
  const t0 = Date.now();
  let out;
  if (mode.includes('stat')) { out = {data: JSON.stringify(await p.stats()).slice(0,10)}; }
  else if (mode.includes('fileout')) { await p.jpeg({quality: 75}).toFile('/tmp/bs/out.jpg'); out = {data: ''}; }
  else out = await p.jpeg({ quality: 75 }).toBuffer({ resolveWithObject: true });
  console.log(mode, 'delta', (hwm()-before).toFixed(1), 'ms', Date.now()-t0, out.data.length);
})();
