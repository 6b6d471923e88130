// One side of the backlog-memory workload: queues `count` plain-Buffer reads of `bs`
// bytes without awaiting any (or, for fs-rss, `count` readFile calls), then waits for
// all, sampling RSS; prints one JSON result.
// Run by suite.mjs in a process of its own, so each side starts from the same heap.
import fs from 'node:fs';
import { Ring } from '../dist/index.js';

const [which, file, count, bs] = [process.argv[2], process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
const blocks = Math.floor(fs.statSync(file).size / bs);
let peak = process.memoryUsage().rss;
const sample = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 5);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const all = [];
if (which.startsWith('readFile ')) {
  // The readFile side (fs-rss): `file` is a directory of `count` files f0, f1, ...
  const impl = which === 'readFile uring-aio/fs' ? await import('../esm/fs.mjs') : fs.promises;
  for (let i = 0; i < count; i++) all.push(impl.readFile(`${file}/f${i}`));
  peak = Math.max(peak, process.memoryUsage().rss);
  await Promise.all(all);
} else if (which === 'ring') {
  const ring = new Ring();
  const fd = fs.openSync(file, 'r');
  for (let i = 0; i < count; i++) all.push(ring.read(fd, Buffer.allocUnsafe(bs), ((i * 7919) % blocks) * bs));
  peak = Math.max(peak, process.memoryUsage().rss);
  await Promise.all(all);
  await ring.destroy();
  fs.closeSync(fd);
} else {
  const fh = await fs.promises.open(file, 'r');
  for (let i = 0; i < count; i++) all.push(fh.read(Buffer.allocUnsafe(bs), 0, bs, ((i * 7919) % blocks) * bs));
  peak = Math.max(peak, process.memoryUsage().rss);
  await Promise.all(all);
  await fh.close();
}
peak = Math.max(peak, process.memoryUsage().rss);
clearInterval(sample);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({ ops: count, seconds, opsPerSec: count / seconds, cpuUsPerOp: (cpu.user + cpu.system) / count, peakRssMiB: peak / 2 ** 20 }));
