import fs from 'node:fs';
import path from 'node:path';
import * as nodeFs from 'node:fs/promises';
import * as uringFs from '../dist/fs.js';
const dir = '/work/main/bench/data/small';
if (!fs.existsSync(dir)) { fs.mkdirSync(dir, { recursive: true }); for (let i = 0; i < 10000; i++) fs.writeFileSync(path.join(dir, `f${i}`), Buffer.alloc(4096, i & 255)); }
const files = Array.from({ length: 10000 }, (_, i) => path.join(dir, `f${i}`));
async function run(impl, op) {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => { while (next < files.length) { const f = files[next++]; await impl[op](f); } }));
  return files.length / ((performance.now() - t0) / 1000);
}
for (let round = 0; round < 3; round++) {
  for (const op of ['readFile', 'stat']) {
    const n = await run(nodeFs, op); const u = await run(uringFs, op);
    console.log(op, 'node', Math.round(n), 'uring', Math.round(u), 'ratio', (u / n).toFixed(2));
  }
}
