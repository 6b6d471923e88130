#!/usr/bin/env node
// Random 4 KiB reads from one page-cached file, one thread, one run: uring-aio's Ring
// against Node's fs (promises, callback, sync) and fio's io_uring engine at the same
// queue depth. Prints progress, a table, and the ratios the project's goals name.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Ring, alignedBuffer, isSupported } from '../dist/index.js';

const HELP = `Usage: npm run bench -- [options]

Random reads from one page-cached file, one thread, the same queue depth for every
contender that has one; prints a table and the ratios against the baselines.

Options:
  --duration <s>   seconds per contender (default 3)
  --depth <n>      operations in flight (default 32)
  --bs <bytes>     block size (default 4096)
  --size <MiB>     file size when the benchmark creates it (default 256)
  --file <path>    file to read (default: bench/data/read-<size>MiB.bin, created)
  --json           also print one JSON object as the last line
  --help           this text
`;

const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', default: '3' },
    depth: { type: 'string', default: '32' },
    bs: { type: 'string', default: '4096' },
    size: { type: 'string', default: '256' },
    file: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const duration = Number(opt.duration);
const depth = Number(opt.depth);
const bs = Number(opt.bs);
const sizeMiB = Number(opt.size);
for (const [k, v] of Object.entries({ duration, depth, bs, size: sizeMiB })) {
  if (!(v > 0) || !Number.isFinite(v)) {
    console.error(`--${k} must be a positive number`);
    process.exit(2);
  }
}
const log = (msg) => process.stderr.write(`${msg}\n`);

const file = opt.file ?? path.join(path.dirname(new URL(import.meta.url).pathname), 'data', `read-${sizeMiB}MiB.bin`);
if (!opt.file && (!fs.existsSync(file) || fs.statSync(file).size !== sizeMiB * 2 ** 20)) {
  log(`creating ${file} (${sizeMiB} MiB)...`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(2 ** 20);
  for (let i = 0; i < sizeMiB; i++) fs.writeSync(fd, chunk.fill(i & 0xff));
  fs.closeSync(fd);
}
const fileSize = fs.statSync(file).size;
const blocks = Math.floor(fileSize / bs);
log(`warming the page cache with ${file}...`);
{
  const fd = fs.openSync(file, 'r');
  const chunk = Buffer.alloc(2 ** 20);
  while (fs.readSync(fd, chunk) > 0);
  fs.closeSync(fd);
}

/** Random block offsets, precomputed so every contender pays the same. */
const offsets = new Float64Array(1 << 16);
for (let i = 0; i < offsets.length; i++) offsets[i] = Math.floor(Math.random() * blocks) * bs;

/** Runs `depth` loops of `readAt(buffer, position)` for `duration` seconds. */
async function measureAsync(readAt, makeBuffer, lanes = depth) {
  let ops = 0;
  let stop = false;
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + duration * 1000;
  const lane = async () => {
    const buf = makeBuffer();
    while (!stop) {
      await readAt(buf, offsets[next++ & 0xffff]);
      if ((++ops & 1023) === 0 && performance.now() >= deadline) stop = true;
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return summarize(ops, t0, cpu0);
}

function measureSync(readAt) {
  const buf = Buffer.alloc(bs);
  let ops = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + duration * 1000;
  for (;;) {
    readAt(buf, offsets[ops & 0xffff]);
    if ((++ops & 1023) === 0 && performance.now() >= deadline) break;
  }
  return summarize(ops, t0, cpu0);
}

function summarize(ops, t0, cpu0) {
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { ops, seconds, opsPerSec: ops / seconds, cpuUsPerOp: (cpu.user + cpu.system) / ops };
}

function runFio(engine) {
  const which = spawnSync('fio', ['--version'], { encoding: 'utf8' });
  if (which.status !== 0) return { skipped: 'fio not installed' };
  const args = [
    '--name=bench', `--filename=${file}`, '--rw=randread', `--bs=${bs}`, `--ioengine=${engine}`,
    `--iodepth=${depth}`, '--direct=0', '--invalidate=0', `--runtime=${duration}`, '--time_based',
    '--numjobs=1', '--thread', '--output-format=json', `--size=${fileSize}`,
  ];
  const r = spawnSync('fio', args, { encoding: 'utf8' });
  if (r.status !== 0) return { skipped: `fio failed: ${r.stderr.trim().split('\n').pop()}` };
  const job = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))).jobs[0];
  const seconds = job.read.runtime / 1000;
  return {
    ops: job.read.total_ios,
    seconds,
    opsPerSec: job.read.iops,
    cpuUsPerOp: ((job.usr_cpu + job.sys_cpu) / 100) * seconds * 1e6 / job.read.total_ios,
  };
}

const results = {};
async function run(name, fn) {
  log(`running ${name} (${duration}s)...`);
  const r = await fn();
  results[name] = r;
  log(r.skipped ? `  ${name}: skipped (${r.skipped})` : `  ${name}: ${Math.round(r.opsPerSec).toLocaleString('en-US')} ops/s`);
}

const fd = fs.openSync(file, 'r');
const fh = await fs.promises.open(file, 'r');
await run('fs.promises FileHandle.read', () => measureAsync((b, p) => fh.read(b, 0, bs, p), () => Buffer.alloc(bs)));
await run('fs.read (callback)', () =>
  measureAsync((b, p) => new Promise((res, rej) => fs.read(fd, b, 0, bs, p, (e, n) => (e ? rej(e) : res(n)))), () => Buffer.alloc(bs)));
await run('fs.readSync', () => measureSync((b, p) => fs.readSync(fd, b, 0, bs, p)));
const support = isSupported();
let ring;
if (support.ok) {
  ring = new Ring({ entries: Math.max(64, depth * 2) });
  await run('Ring.read (Buffer, copied)', () => measureAsync((b, p) => ring.read(fd, b, p), () => Buffer.alloc(bs)));
  await run('Ring.read (alignedBuffer, zero-copy)', () => measureAsync((b, p) => ring.read(fd, b, p), () => alignedBuffer(bs)));
} else {
  log(`io_uring unavailable (${support.reason}): Ring rows skipped`);
}
await run(`fio io_uring QD${depth}`, () => runFio('io_uring'));
await ring?.destroy();
await fh.close();
fs.closeSync(fd);

const rate = (name) => results[name]?.opsPerSec;
const ratio = (a, b) => (rate(a) && rate(b) ? rate(a) / rate(b) : null);
const best = 'Ring.read (alignedBuffer, zero-copy)';
const copied = 'Ring.read (Buffer, copied)';
const fioName = `fio io_uring QD${depth}`;
const ratios = {
  ring_vs_fs_promises: ratio(best, 'fs.promises FileHandle.read'),
  ring_vs_fs_read: ratio(best, 'fs.read (callback)'),
  ring_vs_fs_readSync: ratio(best, 'fs.readSync'),
  ring_vs_fio: ratio(best, fioName),
  ring_buffer_vs_fs_promises: ratio(copied, 'fs.promises FileHandle.read'),
  ring_buffer_vs_fs_read: ratio(copied, 'fs.read (callback)'),
  ring_buffer_vs_fio: ratio(copied, fioName),
};
const goals = { ring_vs_fs_promises: 4, ring_vs_fs_read: 1.5, ring_vs_fio: 0.75 };

const rows = Object.entries(results).map(([name, r]) => [
  name,
  r.skipped ? 'skipped' : Math.round(r.opsPerSec).toLocaleString('en-US'),
  r.skipped ? '' : ((r.opsPerSec * bs) / 2 ** 20).toFixed(0),
  r.skipped ? '' : r.cpuUsPerOp.toFixed(2),
  r.skipped || !rate('fs.read (callback)') ? '' : `${(r.opsPerSec / rate('fs.read (callback)')).toFixed(2)}x`,
]);
const header = ['contender', 'ops/s', 'MiB/s', 'CPU µs/op', 'vs fs.read'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
console.log(`\nrandom ${bs}-byte reads, depth ${depth}, ${duration}s each, ${(fileSize / 2 ** 20).toFixed(0)} MiB page-cached file, ${os.cpus().length} CPUs, Node ${process.version}, Linux ${os.release()}\n`);
console.log(line(header));
console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
for (const r of rows) console.log(line(r));
console.log('\nratios (goal):');
for (const [k, v] of Object.entries(ratios)) {
  const goal = goals[k];
  const verdict = v === null || goal === undefined ? '' : v >= goal ? '  met' : '  MISSED';
  console.log(`  ${k.padEnd(28)} ${v === null ? 'n/a' : `${v.toFixed(2)}x`}${goal ? ` (>= ${goal}x)${verdict}` : ''}`);
}
if (opt.json) {
  console.log(JSON.stringify({ date: new Date().toISOString(), node: process.version, kernel: os.release(), bs, depth, duration, results, ratios }));
}
