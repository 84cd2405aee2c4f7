const sharp = require('sharp'); const fs = require('fs');
sharp.concurrency(1); sharp.cache(false);
const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status','utf8'))[1])/1024;
(async () => {
  const [mode, file] = process.argv.slice(2);
  const body = fs.readFileSync(file);
  const before = hwm();
  const t0 = Date.now();
  let p = sharp(body);
  let n = 0;
  if (mode === 'png') n = (await p.png({compressionLevel: 1}).toBuffer()).length;
  if (mode === 'webp') n = (await p.webp({quality: 75}).toBuffer()).length;
  if (mode === 'stream') { await new Promise((res, rej) => { const s = p.jpeg({quality:75}); s.on('data', d => n += d.length); s.on('end', res); s.on('error', rej); }); }
  if (mode === 'raw') n = (await p.raw().toBuffer()).length;
  if (mode === 'extract') n = (await p.extract({left:0, top:0, width: 100, height: 100}).jpeg().toBuffer()).length;
  if (mode === 'tiny') n = (await p.resize(100).jpeg().toBuffer()).length;
  console.log(mode, 'delta', (hwm()-before).toFixed(1), 'ms', Date.now()-t0, n);
})();
