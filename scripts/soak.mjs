#!/usr/bin/env node
// Soak: millions of mixed operations (reads checked byte for byte, writes read back,
// aborts, timeouts, destroys mid-flight, Worker exits and terminations, ring churn,
// Aio reads), then whether the process is where it started: RSS, open fds and the
// system's AIO events (fs.aio-nr), and whether every operation settled exactly once.
//
//   node scripts/soak.mjs                 # 10,000,000 operations
//   node scripts/soak.mjs --ops 200000    # a shorter run (what the tests run)
//   node scripts/soak.mjs --json          # one JSON record at the end
//
// Exits 1 if an operation settled twice or never, a byte was wrong, or (for runs of
// 1,000,000 operations or more) RSS or the fd count grew by more than 5%.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Aio, Ring, alignedBuffer } from '../dist/index.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const TOTAL = arg('--ops', 10_000_000);
const json = process.argv.includes('--json');
const DEPTH = 64;
const FILE_SIZE = 4 << 20;
const BLOCK = 4096;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uring-aio-soak-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const data = Buffer.alloc(FILE_SIZE);
for (let i = 0; i < FILE_SIZE; i += 4) data.writeUInt32LE((i * 2654435761) >>> 0, i);
const dataFile = path.join(dir, 'data.bin');
fs.writeFileSync(dataFile, data);
const scratchFile = path.join(dir, 'scratch.bin');
fs.writeFileSync(scratchFile, Buffer.alloc(FILE_SIZE));
const dataFd = fs.openSync(dataFile, 'r');
const scratchFd = fs.openSync(scratchFile, 'r+');
const fifoPath = path.join(dir, 'fifo');
execFileSync('mkfifo', [fifoPath]);
// O_RDWR: reads never see EOF and never get data (nobody writes): they wait until
// aborted, timed out or destroyed.
const fifoFd = fs.openSync(fifoPath, 'r+');

const rss = () => process.memoryUsage().rss;
const fds = () => fs.readdirSync('/proc/self/fd').length;
const aioNr = () => Number(fs.readFileSync('/proc/sys/fs/aio-nr', 'utf8'));

const counts = { issued: 0, settled: 0, twice: 0, wrong: 0, reads: 0, writes: 0, aborts: 0, timeouts: 0, destroyed: 0, aio: 0, workers: 0, rings: 0 };
const failures = [];

/** Tracks one operation: it must settle exactly once. */
function track(promise, check) {
  counts.issued++;
  let settled = false;
  const once = () => {
    if (settled) counts.twice++;
    settled = true;
    counts.settled++;
  };
  return promise.then(
    (value) => {
      once();
      if (check && !check(value)) {
        counts.wrong++;
        if (failures.length < 5) failures.push(`wrong result ${String(value)}`);
      }
    },
    (error) => {
      once();
      const expected = ['ECANCELED', 'ETIME', 'ABORT_ERR', 'ERR_USE_AFTER_CLOSE'];
      if (!expected.includes(error?.code)) {
        counts.wrong++;
        if (failures.length < 5) failures.push(`unexpected ${error?.code}: ${error?.message}`);
      }
    },
  );
}

let ring = new Ring({ entries: 128 });
const aio = new Aio({ maxEvents: 128 });
const rnd = (n) => Math.floor(Math.random() * n);

function oneOp() {
  const kind = rnd(100);
  if (kind < 55) {
    // A read at a random block, checked against the pattern.
    counts.reads++;
    const at = rnd(FILE_SIZE / BLOCK) * BLOCK;
    const buf = kind < 10 ? alignedBuffer(BLOCK) : Buffer.allocUnsafe(BLOCK);
    return track(ring.read(dataFd, buf, at), (n) => n === BLOCK && buf.equals(data.subarray(at, at + BLOCK)));
  }
  if (kind < 70) {
    // A write of a block of its own, read back through the same ring once written.
    counts.writes++;
    const at = rnd(FILE_SIZE / BLOCK) * BLOCK;
    const out = Buffer.alloc(BLOCK, rnd(256));
    const r = ring;
    return track(
      r.write(scratchFd, out, at).then(async (n) => {
        const back = Buffer.alloc(BLOCK);
        // Another write may land on the same block meanwhile: only the length is checked.
        return n === BLOCK && (await r.read(scratchFd, back, at)) === BLOCK;
      }),
      (ok) => ok === true,
    );
  }
  if (kind < 78) {
    // A read that never gets data, aborted before or after it reaches the kernel.
    counts.aborts++;
    const ac = new AbortController();
    const p = ring.read(fifoFd, Buffer.alloc(16), -1, { signal: ac.signal });
    if (kind < 74) ac.abort();
    else setImmediate(() => ac.abort());
    return track(p);
  }
  if (kind < 85) {
    // A read that never gets data, ended by its linked timeout.
    counts.timeouts++;
    return track(ring.read(fifoFd, Buffer.alloc(16), -1, { timeout: 1 + rnd(3) }));
  }
  if (kind < 97) {
    counts.aio++;
    const at = rnd(FILE_SIZE / BLOCK) * BLOCK;
    const buf = Buffer.allocUnsafe(BLOCK);
    return track(aio.read(dataFd, buf, at), (n) => n === BLOCK && buf.equals(data.subarray(at, at + BLOCK)));
  }
  // Ring churn: destroy the ring with a read pending on it; the next ops use a new one.
  counts.rings++;
  const old = ring;
  const pending = track(old.read(fifoFd, Buffer.alloc(16), -1));
  ring = new Ring({ entries: 128 });
  counts.destroyed++;
  return Promise.all([pending, old.destroy()]);
}

/** A Worker that makes a ring, starts reads, and exits or is terminated mid-flight. */
function workerRound() {
  counts.workers++;
  const terminate = Math.random() < 0.5;
  const code = `
    const { Ring } = require(${JSON.stringify(path.resolve('dist/index.js'))});
    const fs = require('node:fs');
    const { parentPort, workerData } = require('node:worker_threads');
    const ring = new Ring();
    const fifo = fs.openSync(${JSON.stringify(fifoPath)}, 'r+');
    for (let i = 0; i < 16; i++) ring.read(fifo, Buffer.alloc(8), -1).catch(() => {});
    ring.nop().then(() => {
      parentPort.postMessage('ready');
      if (!workerData.terminate) process.exit(0);
    });
  `;
  return new Promise((resolve) => {
    const w = new Worker(code, { eval: true, workerData: { terminate } });
    w.on('message', () => {
      if (terminate) w.terminate();
    });
    w.once('exit', resolve);
    w.once('error', (e) => {
      failures.push(`worker: ${e.message}`);
      resolve();
    });
  });
}

const start = { rss: rss(), fds: fds(), aioNr: aioNr(), time: performance.now() };
let lastReport = performance.now();
// Warm-up: let the allocator and JIT settle before the baseline that counts.
let baseline;
let done = 0;
while (done < TOTAL) {
  const wave = [];
  for (let i = 0; i < DEPTH && done < TOTAL; i++, done++) wave.push(oneOp());
  if (done % 20_000 < DEPTH) wave.push(workerRound());
  await Promise.all(wave);
  if (baseline === undefined && done >= Math.min(TOTAL / 10, 200_000)) {
    globalThis.gc?.();
    baseline = { rss: rss(), fds: fds(), aioNr: aioNr(), at: done };
  }
  const now = performance.now();
  if (!json && now - lastReport > 2000) {
    lastReport = now;
    const rate = Math.round(done / ((now - start.time) / 1000));
    process.stderr.write(`\r${done.toLocaleString()} / ${TOTAL.toLocaleString()} ops, ${rate.toLocaleString()}/s, RSS ${(rss() / 2 ** 20).toFixed(0)} MiB, ${fds()} fds   `);
  }
}
await ring.destroy();
await aio.destroy();
globalThis.gc?.();
await new Promise((resolve) => setTimeout(resolve, 200));
const end = { rss: rss(), fds: fds(), aioNr: aioNr() };
baseline ??= start;
const growth = (a, b) => (b - a) / a;
const record = {
  ops: done,
  seconds: Math.round((performance.now() - start.time) / 100) / 10,
  counts,
  rssMiB: { start: +(start.rss / 2 ** 20).toFixed(1), baseline: +(baseline.rss / 2 ** 20).toFixed(1), end: +(end.rss / 2 ** 20).toFixed(1) },
  fds: { start: start.fds, baseline: baseline.fds, end: end.fds },
  aioNr: { start: start.aioNr, end: end.aioNr },
  failures,
};
const settledOnce = counts.settled === counts.issued && counts.twice === 0;
const flat = growth(baseline.rss, end.rss) <= 0.05 && end.fds <= baseline.fds * 1.05;
if (json) console.log(JSON.stringify(record));
else {
  process.stderr.write('\n');
  console.log(`${done.toLocaleString()} operations in ${record.seconds} s (${counts.reads} reads, ${counts.writes} writes, ${counts.aborts} aborts, ${counts.timeouts} timeouts, ${counts.aio} Aio reads, ${counts.rings} rings destroyed mid-flight, ${counts.workers} Workers)`);
  console.log(`settled: ${counts.settled} of ${counts.issued} issued, ${counts.twice} twice, ${counts.wrong} wrong`);
  console.log(`RSS MiB: start ${record.rssMiB.start}, after warm-up ${record.rssMiB.baseline}, end ${record.rssMiB.end}`);
  console.log(`fds: start ${start.fds}, after warm-up ${baseline.fds}, end ${end.fds}; aio-nr: start ${start.aioNr}, end ${end.aioNr}`);
  for (const f of failures) console.log(`failure: ${f}`);
}
const bad = !settledOnce || counts.wrong > 0 || failures.length > 0 || (TOTAL >= 1_000_000 && !flat);
process.exit(bad ? 1 : 0);
