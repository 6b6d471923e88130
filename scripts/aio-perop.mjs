#!/usr/bin/env node
// The kernel-AIO path's cost per operation, for profiling (perf stat / perf record /
// strace -c / --cpu-prof run around it): O_DIRECT random reads of `--bs` bytes at
// `--depth` (one promise per op, `Aio.read` on an alignedBuffer), or the batch path
// (`--mode batch`: `depth` entries per `submitSync()`), for `--ops` operations after a
// warm-up. Prints ops, seconds, ops/s and CPU µs per op of the whole process
// (process.cpuUsage: every thread).
//
//   node scripts/aio-perop.mjs --file /work/aio-scratch/data [--mode promise|batch]
//     [--ops 200000] [--depth 32] [--bs 4096] [--warmup 20000] [--submit-batch N]
//
// The file must be on a file system with O_DIRECT (not tmpfs); make one with
// `dd if=/dev/urandom of=FILE bs=1M count=256`.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { Aio, alignedBuffer } from '../dist/index.js';

const { values: opt } = parseArgs({
  options: {
    file: { type: 'string' },
    mode: { type: 'string', default: 'promise' },
    ops: { type: 'string', default: '200000' },
    warmup: { type: 'string', default: '20000' },
    depth: { type: 'string', default: '32' },
    bs: { type: 'string', default: '4096' },
    'submit-batch': { type: 'string' },
  },
});
if (opt.file === undefined) throw new Error('--file is required');
const ops = Number(opt.ops);
const warmup = Number(opt.warmup);
const depth = Number(opt.depth);
const bs = Number(opt.bs);
const fd = fs.openSync(opt.file, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
const blocks = Math.floor(fs.fstatSync(fd).size / bs);
const at = new Float64Array(1 << 16);
for (let i = 0; i < at.length; i++) at[i] = Math.floor(Math.random() * blocks) * bs;

async function promises(aio, count) {
  let next = 0;
  let done = 0;
  const lane = async () => {
    const buf = alignedBuffer(bs);
    while (done < count) {
      done++;
      const n = await aio.read(fd, buf, at[next++ & 0xffff]);
      if (n !== bs) throw new Error(`short read ${n}`);
    }
  };
  await Promise.all(Array.from({ length: depth }, lane));
  return done;
}

function batches(aio, batch, count) {
  let done = 0;
  while (done < count) {
    batch.clear();
    for (let i = 0; i < depth; i++) batch.read(fd, i, at[(done + i) & 0xffff]);
    batch.submitSync();
    const failed = batch.error(0);
    if (failed) throw failed;
    done += depth;
  }
  return done;
}

const batchMode = opt.mode === 'batch';
const submitBatch = opt['submit-batch'] === undefined ? undefined : Number(opt['submit-batch']);
const aio = new Aio({ maxEvents: Math.max(64, depth * 2), submitBatch, fixedBuffers: batchMode ? { count: depth, size: bs } : undefined });
const batch = batchMode ? aio.batch(depth) : undefined;
const run = (count) => (batchMode ? batches(aio, batch, count) : promises(aio, count));
await run(warmup);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const submits0 = aio.submitCalls;
const done = await run(ops);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const submits = aio.submitCalls - submits0;
await aio.destroy();
fs.closeSync(fd);
console.log(JSON.stringify({
  mode: opt.mode, ops: done, seconds: +seconds.toFixed(3), opsPerSec: Math.round(done / seconds),
  cpuUsPerOp: +((cpu.user + cpu.system) / done).toFixed(2), userUsPerOp: +(cpu.user / done).toFixed(2),
  systemUsPerOp: +(cpu.system / done).toFixed(2), opsPerIoSubmit: +(done / submits).toFixed(2),
}));
