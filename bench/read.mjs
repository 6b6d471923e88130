#!/usr/bin/env node
// Random 4 KiB reads from one page-cached file, one thread, one run: uring-aio's Ring
// against Node's fs (promises, callback, sync) and fio's io_uring engine at the same
// queue depth. Prints progress, a table, and the ratios the project's goals name.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Aio, Ring, alignedBuffer, isSupported } from '../dist/index.js';

const HELP = `Usage: npm run bench -- [options]

Random reads from one file, one thread, the same queue depth for every contender that
has one, in two workloads: page-cached reads (Ring against Node's fs and fio io_uring)
and O_DIRECT reads (Aio and Ring against Node's fs.read pool and fio libaio). Prints a
table per workload and the ratios against the baselines.

Options:
  --duration <s>   seconds per contender (default 3)
  --depth <n>      operations in flight (default 32)
  --bs <bytes>     block size (default 4096)
  --size <MiB>     file size when the benchmark creates it (default 256)
  --file <path>    file to read (default: bench/data/read-<size>MiB.bin, created)
  --workload <w>   page-cache, direct or all (default all)
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
    workload: { type: 'string', default: 'all' },
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

function runFio(engine, direct = false) {
  const which = spawnSync('fio', ['--version'], { encoding: 'utf8' });
  if (which.status !== 0) return { skipped: 'fio not installed' };
  const args = [
    '--name=bench', `--filename=${file}`, '--rw=randread', `--bs=${bs}`, `--ioengine=${engine}`,
    `--iodepth=${depth}`, `--direct=${direct ? 1 : 0}`, '--invalidate=0', `--runtime=${duration}`, '--time_based',
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

if (!['all', 'page-cache', 'direct'].includes(opt.workload)) {
  console.error('--workload must be page-cache, direct or all');
  process.exit(2);
}

async function run(results, name, fn) {
  log(`running ${name} (${duration}s)...`);
  const r = await fn();
  results[name] = r;
  log(r.skipped ? `  ${name}: skipped (${r.skipped})` : `  ${name}: ${Math.round(r.opsPerSec).toLocaleString('en-US')} ops/s`);
}

const callbackRead = (fd) => (b, p) => new Promise((res, rej) => fs.read(fd, b, 0, bs, p, (e, n) => (e ? rej(e) : res(n))));
const support = isSupported();
if (!support.ok) log(`io_uring unavailable (${support.reason}): Ring rows skipped`);

/** 4 KiB random reads from the page cache: Ring against Node's fs and fio io_uring. */
async function pageCache() {
  const results = {};
  const fd = fs.openSync(file, 'r');
  const fh = await fs.promises.open(file, 'r');
  await run(results, 'fs.promises FileHandle.read', () => measureAsync((b, p) => fh.read(b, 0, bs, p), () => Buffer.alloc(bs)));
  await run(results, 'fs.read (callback)', () => measureAsync(callbackRead(fd), () => Buffer.alloc(bs)));
  await run(results, 'fs.readSync', () => measureSync((b, p) => fs.readSync(fd, b, 0, bs, p)));
  if (support.ok) {
    const ring = new Ring({ entries: Math.max(64, depth * 2) });
    await run(results, 'Ring.read (Buffer, copied)', () => measureAsync((b, p) => ring.read(fd, b, p), () => Buffer.alloc(bs)));
    await run(results, 'Ring.read (alignedBuffer, zero-copy)', () => measureAsync((b, p) => ring.read(fd, b, p), () => alignedBuffer(bs)));
    await ring.destroy();
  }
  await run(results, `fio io_uring QD${depth}`, () => runFio('io_uring'));
  await fh.close();
  fs.closeSync(fd);
  const best = 'Ring.read (alignedBuffer, zero-copy)';
  const copied = 'Ring.read (Buffer, copied)';
  const fio = `fio io_uring QD${depth}`;
  return {
    title: `page cache: random ${bs}-byte reads, depth ${depth}`,
    baseline: 'fs.read (callback)',
    results,
    ratios: {
      ring_vs_fs_promises: [best, 'fs.promises FileHandle.read', 4],
      ring_vs_fs_read: [best, 'fs.read (callback)', 1.5],
      ring_vs_fs_readSync: [best, 'fs.readSync'],
      ring_vs_fio: [best, fio, 0.75],
      ring_buffer_vs_fs_promises: [copied, 'fs.promises FileHandle.read'],
      ring_buffer_vs_fs_read: [copied, 'fs.read (callback)'],
      ring_buffer_vs_fio: [copied, fio],
    },
  };
}

/** 4 KiB random O_DIRECT reads: Aio (and Ring) against Node's fs.read pool and fio libaio. */
async function direct() {
  const results = {};
  let fd;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
  } catch (e) {
    log(`O_DIRECT refused for ${file} (${e.code}): direct workload skipped`);
    return undefined;
  }
  await run(results, 'fs.read (callback, O_DIRECT)', () => measureAsync(callbackRead(fd), () => alignedBuffer(bs)));
  const aio = new Aio({ maxEvents: Math.max(64, depth * 2) });
  await run(results, 'Aio.read (alignedBuffer)', () => measureAsync((b, p) => aio.read(fd, b, p), () => alignedBuffer(bs)));
  await run(results, 'Aio.read (Buffer, copied)', () => measureAsync((b, p) => aio.read(fd, b, p), () => Buffer.alloc(bs)));
  await aio.destroy();
  if (support.ok) {
    const ring = new Ring({ entries: Math.max(64, depth * 2) });
    await run(results, 'Ring.read (alignedBuffer, O_DIRECT)', () => measureAsync((b, p) => ring.read(fd, b, p), () => alignedBuffer(bs)));
    await ring.destroy();
  }
  await run(results, `fio libaio QD${depth} direct`, () => runFio('libaio', true));
  await run(results, `fio io_uring QD${depth} direct`, () => runFio('io_uring', true));
  fs.closeSync(fd);
  const best = 'Aio.read (alignedBuffer)';
  return {
    title: `O_DIRECT: random ${bs}-byte reads, depth ${depth}`,
    baseline: 'fs.read (callback, O_DIRECT)',
    results,
    ratios: {
      aio_vs_fio_libaio: [best, `fio libaio QD${depth} direct`, 0.9],
      aio_vs_fs_read_pool: [best, 'fs.read (callback, O_DIRECT)', 1.8],
      aio_buffer_vs_fio_libaio: ['Aio.read (Buffer, copied)', `fio libaio QD${depth} direct`],
      ring_direct_vs_fio_io_uring: ['Ring.read (alignedBuffer, O_DIRECT)', `fio io_uring QD${depth} direct`],
    },
  };
}

function report(w) {
  const rate = (name) => w.results[name]?.opsPerSec;
  const ratios = {};
  for (const [key, [a, b]] of Object.entries(w.ratios)) ratios[key] = rate(a) && rate(b) ? rate(a) / rate(b) : null;
  const rows = Object.entries(w.results).map(([name, r]) => [
    name,
    r.skipped ? 'skipped' : Math.round(r.opsPerSec).toLocaleString('en-US'),
    r.skipped ? '' : ((r.opsPerSec * bs) / 2 ** 20).toFixed(0),
    r.skipped ? '' : r.cpuUsPerOp.toFixed(2),
    r.skipped || !rate(w.baseline) ? '' : `${(r.opsPerSec / rate(w.baseline)).toFixed(2)}x`,
  ]);
  const header = ['contender', 'ops/s', 'MiB/s', 'CPU µs/op', `vs ${w.baseline}`];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(`\n${w.title}, ${duration}s each, ${(fileSize / 2 ** 20).toFixed(0)} MiB file, ${os.cpus().length} CPUs, Node ${process.version}, Linux ${os.release()}\n`);
  console.log(line(header));
  console.log(`|${widths.map((wd, i) => (i === 0 ? '-'.repeat(wd + 2) : `${'-'.repeat(wd + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  console.log('\nratios (goal):');
  for (const [key, v] of Object.entries(ratios)) {
    const goal = w.ratios[key][2];
    const verdict = v === null || goal === undefined ? '' : v >= goal ? '  met' : '  MISSED';
    console.log(`  ${key.padEnd(28)} ${v === null ? 'n/a' : `${v.toFixed(2)}x`}${goal ? ` (>= ${goal}x)${verdict}` : ''}`);
  }
  return ratios;
}

const workloads = {};
if (opt.workload !== 'direct') workloads.page_cache = await pageCache();
if (opt.workload !== 'page-cache') {
  const w = await direct();
  if (w) workloads.direct = w;
}
const allRatios = {};
const allResults = {};
for (const [key, w] of Object.entries(workloads)) {
  Object.assign(allRatios, report(w));
  allResults[key] = w.results;
}
if (opt.json) {
  console.log(JSON.stringify({ date: new Date().toISOString(), node: process.version, kernel: os.release(), bs, depth, duration, results: allResults, ratios: allRatios }));
}
