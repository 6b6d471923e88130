#!/usr/bin/env node
// The benchmark suite: uring-aio (Ring promises, the Ring batch path, Aio) against
// Node's fs (sync, callback, promises) and fio (io_uring, libaio, batched or not), one
// thread, one run, the same file and depth for every contender; and a loopback TCP echo
// server over uring-aio against one over node:net, driven by bench/echo-client. Prints
// progress, one table per workload, the ratios the project's goals name, and writes the
// tables, a JSON record and an SVG chart to bench/results/.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as uringFs from '../dist/fs.js';
import { Aio, Ring, alignedBuffer, isSupported } from '../dist/index.js';
import { renderChart } from './chart.mjs';

const HELP = `Usage: npm run bench -- [options]

Workloads (one thread each; the file workloads give every contender the same file):
  nop        the per-operation floor: ring.nop() at depth 1 and --depth, the batch
             path's nop, a plain JS promise loop, and a C liburing nop loop
             (bench/nop-liburing.c, built with gcc and liburing-dev when present)
  pc-qd1     random reads from the page cache, depth 1 (latency)
  pc-qd32    random reads from the page cache, depth --depth
  direct     random O_DIRECT reads, depth --depth
  seq        sequential 128 KiB reads from the page cache, depth --depth
  write      random writes into the page cache, depth --depth
  backlog    peak memory of 100,000 plain-Buffer reads queued at once
  fs-small   readFile of 10,000 files of 4 KiB, 64 at a time: uring-aio/fs against
             node:fs/promises (files in bench/data/small, created once)
  fs-stat    stat of the same 10,000 files, 64 at a time
  fs-1g      readFile of one 1 GiB file (bench/data/read-1GiB.bin, created once)
  fs-copy-small  copyFile of the fs-small files, 64 at a time (each onto <file>.copy)
  fs-copy-1g copyFile of the fs-1g file
  fs-rss     peak memory of 10,000 readFile calls of 2.4 KB files at once
  echo       loopback TCP echo: a uring-aio server (Ring: multishot accept, multishot
             receive into a provided buffer ring, send) against a node:net server,
             each in a process of its own, driven by bench/echo-client (Rust, built
             with cargo when this workload runs) at 64 connections x 64 B, 64 x 16 KiB
             and 1 x 64 B, one message in flight per connection; requests/s, p50/p99
             round-trip latency, server CPU per request, and echo_vs_node_net
  http       HTTP/1.1 keep-alive "Hello, world!": examples/http-hello.ts (Ring) against
             the same responder on node:http and on node:net, each in a process of its
             own, loaded by bench/echo-client --http at 64 connections, one request in
             flight per connection; requests/s, latency, server CPU, http_vs_node_http

Contenders where the machine has them: fs.readSync/writeSync, fs.read/write (callback),
fs.promises FileHandle, Ring (one promise per op), the Ring batch path (await submit()
and submitSync()), Aio (O_DIRECT), fio io_uring and libaio, with and without batched
submission.

Options:
  --duration <s>    seconds per contender, split over the rounds (default 3)
  --rounds <n>      interleaved rounds: every contender runs once per round, so slow
                    drift of the disk or the VM falls on all of them alike (default 3)
  --depth <n>       operations in flight (default 32)
  --bs <bytes>      block size of the random workloads (default 4096)
  --seq-bs <bytes>  block size of the sequential workload (default 131072)
  --size <MiB>      size of the files the benchmark creates (default 256)
  --file <path>     file to read (default: bench/data/read-<size>MiB.bin, created)
  --workload <list> comma-separated workloads above, or all (default all)
  --only <list>     comma-separated contenders to run, by name prefix (ratios whose
                    contenders did not run are n/a), e.g. --only "Aio.read,fio libaio";
                    the echo rows are "node:net (...)" and "Ring (...)", the http rows
                    "node:http (...)", "node:net (...)" and "Ring (...)"
  --out <dir>       where results.md, results.json and results.svg go (default bench/results)
  --json            print one JSON object as the last line
  --help            this text
`;

const { values: opt } = parseArgs({
  options: {
    duration: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    depth: { type: 'string', default: '32' },
    bs: { type: 'string', default: '4096' },
    'seq-bs': { type: 'string', default: '131072' },
    size: { type: 'string', default: '256' },
    file: { type: 'string' },
    workload: { type: 'string', default: 'all' },
    only: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
    // Internal: run one contender of one workload once and print its result as JSON
    // (how the UV_USE_IO_URING=1 contenders run, in a process of their own).
    child: { type: 'string' },
  },
});
if (opt.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const fail = (message) => {
  console.error(`bench: ${message}\n\n${HELP}`);
  process.exit(2);
};
const numberOption = (name, min, integer = true) => {
  const v = Number(opt[name]);
  if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) fail(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${opt[name]}`);
  return v;
};
const duration = numberOption('duration', 0.1, false);
const rounds = numberOption('rounds', 1);
/** Seconds of one contender's run in one round. */
const slice = duration / rounds;
if (slice < 0.1) fail(`--duration / --rounds must leave at least 0.1 s per run, got ${slice} s`);
const depth = numberOption('depth', 1);
const bs = numberOption('bs', 512);
const seqBs = numberOption('seq-bs', 512);
const sizeMiB = numberOption('size', 1);
const ALL = ['nop', 'pc-qd1', 'pc-qd32', 'direct', 'seq', 'write', 'backlog', 'fs-small', 'fs-stat', 'fs-1g', 'fs-copy-small', 'fs-copy-1g', 'fs-rss', 'echo', 'http'];
const chosen = opt.workload === 'all' ? ALL : opt.workload.split(',');
for (const w of chosen) if (!ALL.includes(w)) fail(`unknown workload '${w}'`);
/** Whether a workload that reads or writes the benchmark's files runs (nop, echo, http and the fs workloads need none). */
const usesFiles = chosen.some((w) => !['nop', 'echo', 'http', 'fs-small', 'fs-stat', 'fs-1g', 'fs-copy-small', 'fs-copy-1g', 'fs-rss'].includes(w));

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(opt.out ?? path.join(here, 'results'));
const log = (msg) => process.stderr.write(`${msg}\n`);
const support = isSupported();
if (!support.ok) log(`io_uring unavailable (${support.reason}): Ring rows are skipped`);
const fio = spawnSync('fio', ['--version'], { encoding: 'utf8' });
const fioVersion = fio.status === 0 ? fio.stdout.trim() : undefined;
if (!fioVersion) log('fio not installed: its rows are skipped (bench/ensure-tools.sh installs it as root)');

function ensureFile(file, fill) {
  if (fs.existsSync(file) && fs.statSync(file).size === sizeMiB * 2 ** 20) return;
  log(`creating ${file} (${sizeMiB} MiB)...`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(2 ** 20);
  for (let i = 0; i < sizeMiB; i++) fs.writeSync(fd, fill ? chunk.fill(i & 0xff) : chunk);
  fs.closeSync(fd);
}
const readFile = opt.file ?? path.join(here, 'data', `read-${sizeMiB}MiB.bin`);
if (!opt.file && usesFiles) ensureFile(readFile, true);
const writeFile = path.join(here, 'data', `write-${sizeMiB}MiB.bin`);
if (usesFiles && fs.statSync(readFile).size < Math.max(bs, seqBs)) fail(`${readFile} is smaller than one block`);

function warm(file) {
  const fd = fs.openSync(file, 'r');
  const chunk = Buffer.alloc(2 ** 20);
  while (fs.readSync(fd, chunk) > 0);
  fs.closeSync(fd);
}

function flushToDisk(file) {
  const fd = fs.openSync(file, 'r+');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

/** Positions every contender of a workload visits in the same order. */
function positions(pattern, blockSize, size) {
  const blocks = Math.floor(size / blockSize);
  const out = new Float64Array(1 << 16);
  for (let i = 0; i < out.length; i++) out[i] = (pattern === 'seq' ? i % blocks : Math.floor(Math.random() * blocks)) * blockSize;
  return out;
}

/** Latency samples (µs): one op in 8 is timed, so timing costs little. */
class Latency {
  samples = new Float64Array(1 << 18);
  n = 0;
  add(us) {
    if (this.n < this.samples.length) this.samples[this.n++] = us;
  }
  summary() {
    if (this.n === 0) return {};
    const s = this.samples.subarray(0, this.n).sort();
    return { p50Us: s[Math.floor(this.n * 0.5)], p99Us: s[Math.min(this.n - 1, Math.floor(this.n * 0.99))] };
  }
}

function summarize(ops, t0, cpu0, latency) {
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { ops, seconds, opsPerSec: ops / seconds, cpuUsPerOp: (cpu.user + cpu.system) / ops, ...latency.summary() };
}

/**
 * `lanes` concurrent loops of `step(lane, i)` (a promise) for `slice` seconds, timing
 * one step in `timeEvery`; `setup(lane)` gives each loop its state.
 */
async function measureLanes(lanes, setup, step, timeEvery = 8) {
  const latency = new Latency();
  let ops = 0;
  let stop = false;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + slice * 1000;
  const lane = async () => {
    const state = setup();
    for (let i = 0; !stop; i++) {
      if (i % timeEvery === 0) {
        const start = performance.now();
        await step(state);
        latency.add((performance.now() - start) * 1000);
      } else {
        await step(state);
      }
      if ((++ops & 63) === 0 || timeEvery === 1) stop ||= performance.now() >= deadline;
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return summarize(ops, t0, cpu0, latency);
}

/** `lanes` loops of `op(buffer, position)` (a promise) for `slice` seconds. */
function measureAsync(w, op, makeBuffer, lanes = w.depth) {
  const at = w.positions;
  let next = 0;
  return measureLanes(lanes, makeBuffer, (buf) => op(buf, at[next++ & 0xffff]));
}

/** A synchronous loop of `op(buffer, position)`. */
function measureSync(w, op) {
  const latency = new Latency();
  const buf = Buffer.alloc(w.bs, 0x5a);
  const at = w.positions;
  let ops = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + slice * 1000;
  for (;;) {
    if ((ops & 7) === 0) {
      const start = performance.now();
      op(buf, at[ops & 0xffff]);
      latency.add((performance.now() - start) * 1000);
    } else {
      op(buf, at[ops & 0xffff]);
    }
    if ((++ops & 1023) === 0 && performance.now() >= deadline) break;
  }
  return summarize(ops, t0, cpu0, latency);
}

/**
 * The batch path of a Ring (or, with `aio`, an Aio): `depth` entries per batch,
 * refilled when the batch completes.
 */
async function measureBatch(w, fd, sync, aio = false) {
  const fixedBuffers = { count: w.depth, size: w.bs };
  const ring = aio ? new Aio({ maxEvents: Math.max(64, w.depth * 2), fixedBuffers }) : new Ring({ entries: Math.max(w.depth, 8), fixedBuffers });
  for (const b of ring.fixedBuffers) b.fill(0x5a);
  const batch = ring.batch(w.depth);
  const latency = new Latency();
  const at = w.positions;
  const write = w.kind === 'write';
  let ops = 0;
  let batches = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + slice * 1000;
  for (;;) {
    batch.clear();
    for (let i = 0; i < w.depth; i++) {
      if (write) batch.write(fd, i, at[(ops + i) & 0xffff]);
      else batch.read(fd, i, at[(ops + i) & 0xffff]);
    }
    const start = performance.now();
    if (sync) batch.submitSync();
    else await batch.submit();
    if ((batches++ & 7) === 0) latency.add((performance.now() - start) * 1000);
    const failed = batch.error(0);
    if (failed) throw failed;
    ops += w.depth;
    if ((batches & 31) === 0 && performance.now() >= deadline) break;
  }
  const r = summarize(ops, t0, cpu0, latency);
  await ring.destroy();
  return { ...r, latencyOf: 'batch' };
}

/** Clock ticks per second of /proc's CPU times (getconf CLK_TCK; 100 on Linux). */
const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** fio with `engine`; `batched` submits and reaps up to `depth` per call. */
function runFio(w, engine, batched) {
  if (!fioVersion) return { skipped: 'fio not installed' };
  const args = [
    '--name=bench', `--filename=${w.file}`, `--rw=${w.kind === 'write' ? 'randwrite' : w.pattern === 'seq' ? 'read' : 'randread'}`,
    `--bs=${w.bs}`, `--ioengine=${engine}`, `--iodepth=${w.depth}`, `--direct=${w.direct ? 1 : 0}`, '--invalidate=0',
    `--runtime=${Math.round(slice * 1000)}ms`, '--time_based', '--numjobs=1', '--thread', '--lat_percentiles=1', '--output-format=json',
    `--size=${fs.statSync(w.file).size}`,
  ];
  if (batched) args.push(`--iodepth_batch_submit=${w.depth}`, '--iodepth_batch_complete_min=1', `--iodepth_batch_complete_max=${w.depth}`);
  // fio's own CPU figures count its job thread only; the kernel's io-wq workers that
  // run its punted writes are threads of the process too. A shell that waited for fio
  // reads the whole process's CPU time from its own /proc stat (children's user and
  // system time, fields 16 and 17, in clock ticks), as the other rows count theirs.
  const r = spawnSync('sh', ['-c', 'fio "$@"; s=$?; cat /proc/$$/stat >&2; exit $s', 'sh', ...args], { encoding: 'utf8' });
  if (r.status !== 0) return { skipped: `fio failed: ${r.stderr.trim().split('\n').slice(-2, -1)[0] ?? r.status}` };
  const job = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))).jobs[0];
  const io = w.kind === 'write' ? job.write : job.read;
  const seconds = io.runtime / 1000;
  const pct = io.lat_ns?.percentile ?? {};
  const stat = r.stderr.trim().split('\n').pop().split(') ').pop().split(' ');
  // Fields 16 and 17 of /proc/PID/stat; after "comm) " the list starts at field 3.
  const childTicks = Number(stat[16 - 3]) + Number(stat[17 - 3]);
  const wholeProcessUs = (childTicks * 1e6) / clockTicks;
  return {
    ops: io.total_ios,
    seconds,
    opsPerSec: io.iops,
    cpuUsPerOp: Number.isFinite(wholeProcessUs) && wholeProcessUs > 0
      ? wholeProcessUs / io.total_ios
      : (((job.usr_cpu + job.sys_cpu) / 100) * seconds * 1e6) / io.total_ios,
    p50Us: pct['50.000000'] / 1000,
    p99Us: pct['99.000000'] / 1000,
  };
}

/** `w.depth` loops of `call(file)` over `w.files` (readFile or stat), each call timed. */
function measureFiles(w, call) {
  let next = 0;
  return measureLanes(w.depth, () => undefined, () => call(w.files[next++ % w.files.length]), 1);
}

/** The small files of the fs-small and fs-stat workloads (made once, kept in bench/data). */
function smallFiles(count, size, name = 'small') {
  const dir = path.join(here, 'data', name);
  fs.mkdirSync(dir, { recursive: true });
  const files = Array.from({ length: count }, (_, i) => path.join(dir, `f${i}`));
  if (!files.every((f) => fs.existsSync(f) && fs.statSync(f).size === size)) {
    log(`creating ${count} files of ${size} B in ${dir}...`);
    for (const [i, f] of files.entries()) fs.writeFileSync(f, Buffer.alloc(size, i & 0xff));
  }
  return files;
}

const callbackOp = (fd, write, len) => (b, p) =>
  new Promise((res, rej) => (write ? fs.write : fs.read)(fd, b, 0, len, p, (e, n) => (e ? rej(e) : res(n))));

const LIBUV_URING = '(UV_USE_IO_URING=1)';
const suitePath = fileURLToPath(import.meta.url);

/** Contender `name` of workload `w`, measured once in a child process with `env` added. */
function runInChild(w, name, env) {
  const args = [suitePath, '--child', name, '--workload', w.key, '--duration', String(slice), '--rounds', '1', '--depth', String(depth), '--bs', String(bs), '--seq-bs', String(seqBs), '--size', String(sizeMiB)];
  if (opt.file) args.push('--file', opt.file);
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  const last = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !last) return { skipped: `child exited ${r.status}: ${r.stderr.trim().split('\n').pop()}` };
  return JSON.parse(last);
}

/** One side of the backlog-memory workload, in a process of its own (backlog-child.mjs). */
function runBacklogChild(w, which) {
  const r = spawnSync(process.execPath, [path.join(here, 'backlog-child.mjs'), which, w.file, String(w.count), String(w.bs)], { encoding: 'utf8' });
  const last = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !last) return { skipped: `child exited ${r.status}: ${r.stderr.trim().split('\n').pop()}` };
  return JSON.parse(last);
}

// The echo workload. Each server runs in a process of its own and speaks the protocol of
// bench/echo-server-control.mjs; bench/echo-client drives it and prints one JSON line.
const ECHO_SERVERS = [['node:net', 'echo-node-net.mjs'], ['Ring', 'echo-uring.mjs']];
const ECHO_SHAPES = [
  { connections: 64, size: 64 },
  { connections: 64, size: 16384 },
  { connections: 1, size: 64 },
];
/** The http workload's servers (the first is its baseline) and its one shape (`http`: echo-client --http). */
const HTTP_SERVERS = [['node:http', 'http-node-http.mjs'], ['node:net', 'http-node-net.mjs'], ['Ring', 'http-uring.mjs']];
const HTTP_SHAPES = [{ connections: 64, size: 0, http: true }];
const echoShape = ({ connections, size, http }) => (http ? `${connections} conn, keep-alive` : `${connections} conn × ${size >= 1024 ? `${size / 1024} KiB` : `${size} B`}`);
const echoRow = (server, shape) => `${server} (${echoShape(shape)})`;
/** Seconds each echo run warms up before measuring (connections open, JIT warm). */
const echoWarmup = Math.min(0.5, Math.max(0.1, slice / 4));
/** Why a server script cannot run in this build, once it said so (asked once). */
const echoUnavailable = new Map();

/**
 * Builds bench/echo-client with cargo (a no-op when it is up to date) and returns
 * `{ path }` of the binary, or `{ skipped }` with the reason.
 */
function buildEchoClient() {
  log('building bench/echo-client (cargo build --release -p echo-client)...');
  const r = spawnSync('cargo', ['build', '--release', '-p', 'echo-client', '--message-format=json-render-diagnostics'], {
    cwd: path.join(here, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 2 ** 20,
  });
  if (r.error) return { skipped: `cannot run cargo to build bench/echo-client (${r.error.code})` };
  if (r.status !== 0) return { skipped: 'cargo build of bench/echo-client failed' };
  for (const line of r.stdout.split('\n')) {
    if (!line.includes('"compiler-artifact"')) continue;
    const m = JSON.parse(line);
    if (m.target?.name === 'echo-client' && m.executable) return { path: m.executable };
  }
  return { skipped: 'cargo built no echo-client binary' };
}

/** JSON lines of `child`'s stdout, one per call of the result; null once it closed. */
function jsonLines(child, who) {
  const queue = [];
  const waiting = [];
  let closed = false;
  readline.createInterface({ input: child.stdout })
    .on('line', (line) => {
      let value;
      try {
        value = JSON.parse(line);
      } catch {
        return;
      }
      if (waiting.length) waiting.shift()(value);
      else queue.push(value);
    })
    .on('close', () => {
      closed = true;
      for (const resolve of waiting.splice(0)) resolve(null);
    });
  return (timeoutMs) => {
    if (queue.length) return Promise.resolve(queue.shift());
    if (closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const take = (value) => {
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(take), 1);
        reject(new Error(`${who} said nothing for ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.push(take);
    });
  };
}

const lastLine = (text) => text.trim().split('\n').pop() || 'no output';

/**
 * One echo run: starts `script`'s server, runs echo-client against it with `shape`,
 * and samples the server's CPU time when the client's warmup ends and when it stops.
 */
async function runEcho(client, script, shape) {
  if (client.skipped) return { skipped: client.skipped };
  if (echoUnavailable.has(script)) return { skipped: echoUnavailable.get(script) };
  const server = spawn(process.execPath, [path.join(here, script)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let serverErr = '';
  server.stderr.setEncoding('utf8').on('data', (text) => { serverErr += text; });
  const serverExit = new Promise((resolve) => server.on('close', (code) => resolve(code)));
  // A server that dies must not crash the suite on a write to its stdin.
  server.stdin.on('error', () => {});
  const fromServer = jsonLines(server, script);
  let generator;
  try {
    const ready = await fromServer(15_000);
    if (!ready) return { skipped: `${script} exited ${await serverExit}: ${lastLine(serverErr)}` };
    if (ready.unavailable) {
      echoUnavailable.set(script, `not available: ${ready.unavailable}`);
      return { skipped: echoUnavailable.get(script) };
    }
    generator = spawn(client.path, [
      '--port', String(ready.port), '--connections', String(shape.connections), ...(shape.http ? ['--http'] : ['--size', String(shape.size)]),
      '--warmup', String(echoWarmup), '--duration', String(slice), '--max-requests', String(Math.ceil(slice * 1e6)),
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let clientErr = '';
    generator.stderr.setEncoding('utf8').on('data', (text) => { clientErr += text; });
    const fromClient = jsonLines(generator, 'echo-client');
    const bound = (echoWarmup + slice) * 1000 + 10_000;
    const phase = await fromClient(bound);
    if (phase?.phase !== 'measure') return { skipped: `echo-client: ${lastLine(clientErr)}` };
    server.stdin.write('cpu\n');
    const atWarmEnd = await fromServer(5_000);
    const r = await fromClient(bound);
    if (r?.requests === undefined) return { skipped: `echo-client: ${lastLine(clientErr)}` };
    server.stdin.end('stop\n');
    const atEnd = await fromServer(5_000);
    if (atWarmEnd?.cpuUs === undefined || atEnd?.cpuUs === undefined) return { skipped: `${script} did not report its CPU time: ${lastLine(serverErr)}` };
    if (r.requests === 0) return { skipped: `no request answered (${r.errors} connection errors${r.firstError ? `: ${r.firstError}` : ''})` };
    const serverCpuUs = atEnd.cpuUs - atWarmEnd.cpuUs;
    return {
      ops: r.requests,
      seconds: r.seconds,
      opsPerSec: r.requestsPerSec,
      cpuUsPerOp: serverCpuUs / r.requests,
      p50Us: r.p50Us,
      p99Us: r.p99Us,
      clientCpuUsPerOp: r.cpuUsPerRequest,
      serverCores: serverCpuUs / (r.seconds * 1e6),
      clientCores: r.cpuUs / (r.seconds * 1e6),
      errors: r.errors,
      ...shape,
    };
  } finally {
    if (generator && generator.exitCode === null) generator.kill();
    server.stdin.end();
    const kill = setTimeout(() => server.kill('SIGKILL'), 5_000);
    await serverExit;
    clearTimeout(kill);
  }
}

/** The echo (or http) workload's rows: every shape, the baseline first, so each set runs back to back. */
function echoContenders(w) {
  const list = [];
  for (const shape of w.shapes) {
    for (const [server, script] of w.servers) {
      list.push([echoRow(server, shape), () => {
        w.echoClient ??= buildEchoClient();
        return runEcho(w.echoClient, script, shape);
      }]);
    }
  }
  return list;
}

/**
 * Builds bench/nop-liburing.c once (gcc, liburing-dev) and returns `{ path }` of the
 * binary, or `{ skipped }` with the reason.
 */
function buildNopLiburing() {
  const out = path.join(here, 'data', 'nop-liburing');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const r = spawnSync('gcc', ['-O2', '-o', out, path.join(here, 'nop-liburing.c'), '-luring'], { encoding: 'utf8' });
  if (r.error) return { skipped: `cannot run gcc (${r.error.code})` };
  if (r.status !== 0) return { skipped: `gcc failed (liburing-dev missing?): ${lastLine(r.stderr)}` };
  return { path: out };
}

/** The C liburing nop loop at `lanes` in flight, in a process of its own. */
function runNopLiburing(w, lanes) {
  w.nopBinary ??= buildNopLiburing();
  if (w.nopBinary.skipped) return { skipped: w.nopBinary.skipped };
  const r = spawnSync(w.nopBinary.path, [String(slice), String(lanes)], { encoding: 'utf8' });
  if (r.status !== 0) return { skipped: `nop-liburing exited ${r.status}: ${lastLine(r.stderr)}` };
  return JSON.parse(lastLine(r.stdout));
}

/** The batch path's nops: `depth` per batch, refilled when the batch completes. */
async function measureBatchNop(w) {
  const ring = new Ring({ entries: Math.max(w.depth, 8) });
  const batch = ring.batch(w.depth);
  let ops = 0;
  let batches = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + slice * 1000;
  for (;;) {
    batch.clear();
    for (let i = 0; i < w.depth; i++) batch.nop();
    batch.submitSync();
    ops += w.depth;
    if ((batches++ & 31) === 0 && performance.now() >= deadline) break;
  }
  const r = summarize(ops, t0, cpu0, new Latency());
  await ring.destroy();
  return r;
}

/** The nop workload's rows: the per-operation floor of each path. */
function nopContenders(w) {
  const ringNop = (lanes) => async () => {
    if (!support.ok) return { skipped: 'io_uring unavailable' };
    const ring = new Ring({ entries: Math.max(64, lanes * 2) });
    const r = await measureLanes(lanes, () => undefined, () => ring.nop());
    await ring.destroy();
    return r;
  };
  return [
    [`JS promise loop (depth ${w.depth})`, () => measureLanes(w.depth, () => undefined, () => Promise.resolve(0))],
    ['Ring.nop (depth 1)', ringNop(1)],
    [`Ring.nop (depth ${w.depth})`, ringNop(w.depth)],
    [`Ring batch nop (submitSync(), ${w.depth} per batch)`, () => (support.ok ? measureBatchNop(w) : { skipped: 'io_uring unavailable' })],
    [`liburing nop loop in C (depth ${w.depth})`, () => runNopLiburing(w, w.depth)],
  ];
}

/** The contenders of workload `w`, in table order: [name, run] pairs. */
function contenders(w) {
  if (w.kind === 'nop') {
    const only = opt.only?.split(',').map((p) => p.trim()).filter(Boolean);
    return { list: nopContenders(w).filter(([name]) => !only || only.some((p) => name.startsWith(p))), close: async () => {} };
  }
  if (w.kind === 'backlog' && w.op === 'readFile') {
    const list = [
      ['node:fs/promises', () => runBacklogChild(w, 'readFile node:fs/promises')],
      ['uring-aio/fs', () => (uringFs.backend === 'io_uring' ? runBacklogChild(w, 'readFile uring-aio/fs') : { skipped: uringFs.backendReason })],
    ];
    return { list, close: async () => {} };
  }
  if (w.kind === 'backlog') {
    const list = [
      ['fs.promises FileHandle.read', () => runBacklogChild(w, 'promises')],
      ['Ring.read (Buffer)', () => (support.ok ? runBacklogChild(w, 'ring') : { skipped: 'io_uring unavailable' })],
    ];
    return { list, close: async () => {} };
  }
  const only = opt.only?.split(',').map((p) => p.trim()).filter(Boolean);
  if (w.kind === 'fs') {
    const ops = {
      stat: (impl) => (f) => impl.stat(f),
      readFile: (impl) => (f) => impl.readFile(f),
      // Each copy overwrites the last one of the same file (the truncate path).
      copyFile: (impl) => (f) => impl.copyFile(f, `${f}.copy`),
    };
    const call = ops[w.op];
    const list = [['node:fs/promises', () => measureFiles(w, call(fs.promises))]];
    if (!opt.child) list.push([`node:fs/promises ${LIBUV_URING}`, () => runInChild(w, 'node:fs/promises', { UV_USE_IO_URING: '1' })]);
    list.push(['uring-aio/fs', () => (uringFs.backend === 'io_uring' ? measureFiles(w, call(uringFs)) : { skipped: uringFs.backendReason })]);
    return { list: only ? list.filter(([name]) => only.some((p) => name.startsWith(p))) : list, close: async () => {} };
  }
  if (w.kind === 'echo') {
    const list = echoContenders(w).filter(([name]) => !only || only.some((p) => name.startsWith(p)));
    return { list, close: async () => {} };
  }
  const write = w.kind === 'write';
  const flags = write ? fs.constants.O_WRONLY : fs.constants.O_RDONLY | (w.direct ? fs.constants.O_DIRECT : 0);
  const list = [];
  let fd;
  let fh;
  const open = () => (fd ??= fs.openSync(w.file, flags));
  const plain = () => Buffer.alloc(w.bs, 0x5a);
  const aligned = () => alignedBuffer(w.bs).fill(0x5a);
  if (!w.direct) {
    list.push([write ? 'fs.writeSync' : 'fs.readSync', () => measureSync(w, (b, p) => (write ? fs.writeSync : fs.readSync)(open(), b, 0, w.bs, p))]);
  }
  const callbackName = `${write ? 'fs.write' : 'fs.read'} (callback)`;
  list.push([callbackName, () => measureAsync(w, callbackOp(open(), write, w.bs), w.direct ? aligned : plain)]);
  const promisesName = `fs.promises FileHandle.${write ? 'write' : 'read'}`;
  if (!w.direct) {
    list.push([promisesName, async () => {
      fh ??= await fs.promises.open(w.file, write ? 'r+' : 'r');
      return measureAsync(w, (b, p) => (write ? fh.write(b, 0, w.bs, p) : fh.read(b, 0, w.bs, p)), plain);
    }]);
  }
  // libuv's own io_uring backend: libuv reads UV_USE_IO_URING when the process starts,
  // so these run in a child process each (the in-process Node rows stay in this one,
  // where the Ring rows also run: same JIT state and heap for the rows compared most).
  if (!opt.child) {
    list.push([`${callbackName} ${LIBUV_URING}`, () => runInChild(w, callbackName, { UV_USE_IO_URING: '1' })]);
    if (!w.direct) list.push([`${promisesName} ${LIBUV_URING}`, () => runInChild(w, promisesName, { UV_USE_IO_URING: '1' })]);
  }
  if (w.direct) {
    list.push(['Aio.read (alignedBuffer)', async () => {
      const aio = new Aio({ maxEvents: Math.max(64, w.depth * 2) });
      const r = await measureAsync(w, (b, p) => aio.read(open(), b, p), aligned);
      await aio.destroy();
      return r;
    }]);
  }
  const ringOp = write ? 'Ring.write' : 'Ring.read';
  // Device I/O gains from submitting every 8 ops (the device starts early); page-cache
  // I/O, which completes inside the submission, from one submission per turn.
  const ringRows = w.direct
    ? [[`${ringOp} (alignedBuffer, submitBatch 8)`, aligned, 8]]
    : [
      [`${ringOp} (Buffer)`, plain, 0],
      [`${ringOp} (alignedBuffer, zero-copy)`, aligned, 0],
      // Like for like with libuv's SQPOLL ring (10 ms idle), and the ring path alone.
      [`${ringOp} (Buffer, sqpoll)`, plain, 0, { sqpoll: { idleMs: 10 } }],
      [`${ringOp} (Buffer, inline: false)`, plain, 0, { inline: false }],
    ];
  for (const [name, makeBuffer, submitBatch, extra] of ringRows) {
    list.push([name, async () => {
      if (!support.ok) return { skipped: 'io_uring unavailable' };
      const ring = new Ring({ entries: Math.max(64, w.depth * 2), submitBatch, ...extra });
      const r = await measureAsync(w, (b, p) => (write ? ring.write(open(), b, p) : ring.read(open(), b, p)), makeBuffer);
      await ring.destroy();
      return r;
    }]);
  }
  if (w.direct) list.push(['Aio batch (submitSync())', () => measureBatch(w, open(), true, true)]);
  list.push(['Ring batch (await submit())', () => (support.ok ? measureBatch(w, open(), false) : { skipped: 'io_uring unavailable' })]);
  list.push(['Ring batch (submitSync())', () => (support.ok ? measureBatch(w, open(), true) : { skipped: 'io_uring unavailable' })]);
  if (w.depth === 1) {
    list.push(['fio psync', () => runFio(w, 'psync', false)]);
    list.push(['fio io_uring', () => runFio(w, 'io_uring', false)]);
  } else {
    list.push(['fio io_uring', () => runFio(w, 'io_uring', false)]);
    list.push(['fio io_uring batched', () => runFio(w, 'io_uring', true)]);
    // Buffered libaio runs inside io_submit (synchronously); it is here for reference.
    list.push(['fio libaio', () => runFio(w, 'libaio', false)]);
    list.push(['fio libaio batched', () => runFio(w, 'libaio', true)]);
  }
  if (only) list.splice(0, list.length, ...list.filter(([name]) => only.some((p) => name.startsWith(p))));
  const close = async () => {
    if (fd !== undefined) fs.closeSync(fd);
    await fh?.close();
  };
  return { list, close };
}

const zeroCopy = 'Ring.read (alignedBuffer, zero-copy)';
const LIBUV_READ = `fs.read (callback) ${LIBUV_URING}`;
const WORKLOADS = {
  nop: {
    title: `the per-operation floor: nops, depth ${depth}`, kind: 'nop', bs: 0, depth,
    baseline: `JS promise loop (depth ${depth})`, fio: `liburing nop loop in C (depth ${depth})`,
    ratios: {
      nop_ring_per_sec: { a: `Ring.nop (depth ${depth})`, absolute: true, goal: 1.5e6 },
      nop_cpu_us: { a: `Ring.nop (depth ${depth})`, metric: 'cpuUsPerOp', absolute: true, goal: 0.7, lowerIsBetter: true },
      nop_ring_vs_promise_loop: { a: `Ring.nop (depth ${depth})`, b: `JS promise loop (depth ${depth})` },
      nop_depth1_per_sec: { a: 'Ring.nop (depth 1)', absolute: true },
      nop_batch_vs_liburing: { a: `Ring batch nop (submitSync(), ${depth} per batch)`, b: `liburing nop loop in C (depth ${depth})` },
    },
  },
  'pc-qd1': {
    title: `page cache, random ${bs} B reads, depth 1`, kind: 'read', pattern: 'random', bs, depth: 1, file: readFile,
    baseline: 'fs.read (callback)', fio: 'fio io_uring',
    ratios: {
      depth1_latency_vs_fio: { a: zeroCopy, b: 'fio io_uring', metric: 'p50Us', goal: 1.5, lowerIsBetter: true },
      depth1_ring_vs_fs_read: { a: zeroCopy, b: 'fs.read (callback)' },
      depth1_buffer_vs_read_sync: { a: 'Ring.read (Buffer)', b: 'fs.readSync', goal: 0.8 },
    },
  },
  'pc-qd32': {
    title: `page cache, random ${bs} B reads, depth ${depth}`, kind: 'read', pattern: 'random', bs, depth, file: readFile,
    baseline: 'fs.read (callback)', fio: 'fio io_uring batched',
    ratios: {
      batch_vs_fio: { a: 'Ring batch (submitSync())', b: 'fio io_uring batched', goal: 1.0 },
      batch_vs_fs_read: { a: 'Ring batch (submitSync())', b: 'fs.read (callback)', goal: 2.5 },
      batch_async_vs_fio: { a: 'Ring batch (await submit())', b: 'fio io_uring batched' },
      batch_async_vs_fs_read: { a: 'Ring batch (await submit())', b: 'fs.read (callback)' },
      ring_vs_fio: { a: zeroCopy, b: 'fio io_uring', goal: 0.75 },
      ring_vs_fs_promises: { a: zeroCopy, b: 'fs.promises FileHandle.read', goal: 4 },
      ring_vs_fs_read: { a: zeroCopy, b: 'fs.read (callback)', goal: 1.5 },
      ring_buffer_vs_fs_read: { a: 'Ring.read (Buffer)', b: 'fs.read (callback)' },
      ring_vs_libuv_uring: { a: 'Ring.read (Buffer)', b: LIBUV_READ, goal: 1.0 },
      ring_sqpoll_vs_libuv_uring: { a: 'Ring.read (Buffer, sqpoll)', b: LIBUV_READ, goal: 1.3 },
      ring_cpu_vs_libuv_uring: { a: 'Ring.read (Buffer)', b: LIBUV_READ, metric: 'cpuUsPerOp', goal: 0.7, lowerIsBetter: true },
      ring_path_vs_libuv_uring: { a: 'Ring.read (Buffer, inline: false)', b: LIBUV_READ },
      ring_zero_vs_libuv_uring: { a: zeroCopy, b: LIBUV_READ, goal: 1.5 },
      ring_buffer_vs_zero_copy: { a: 'Ring.read (Buffer)', b: zeroCopy, goal: 0.9 },
    },
  },
  direct: {
    title: `O_DIRECT, random ${bs} B reads, depth ${depth}`, kind: 'read', pattern: 'random', bs, depth, file: readFile, direct: true,
    baseline: 'fs.read (callback)', fio: 'fio libaio',
    ratios: {
      aio_vs_fio_libaio: { a: 'Aio.read (alignedBuffer)', b: 'fio libaio', goal: 0.95 },
      aio_vs_fs_read_pool: { a: 'Aio.read (alignedBuffer)', b: 'fs.read (callback)', goal: 1.8 },
      aio_batch_vs_fio_libaio_batched: { a: 'Aio batch (submitSync())', b: 'fio libaio batched' },
      direct_ring_vs_fio_io_uring: { a: 'Ring.read (alignedBuffer, submitBatch 8)', b: 'fio io_uring' },
      direct_batch_vs_fio_io_uring_batched: { a: 'Ring batch (submitSync())', b: 'fio io_uring batched' },
    },
  },
  seq: {
    title: `page cache, sequential ${seqBs / 1024} KiB reads, depth ${depth}`, kind: 'read', pattern: 'seq', bs: seqBs, depth, file: readFile,
    baseline: 'fs.read (callback)', fio: 'fio io_uring batched',
    ratios: {
      seq_ring_vs_fs_read: { a: zeroCopy, b: 'fs.read (callback)' },
      seq_copy_vs_best_node: {
        a: 'Ring.read (Buffer)',
        b: ['fs.readSync', 'fs.read (callback)', 'fs.promises FileHandle.read', `fs.read (callback) ${LIBUV_URING}`, `fs.promises FileHandle.read ${LIBUV_URING}`],
        goal: 1.0,
      },
      seq_batch_vs_fio: { a: 'Ring batch (submitSync())', b: 'fio io_uring batched' },
    },
  },
  backlog: {
    title: `memory: 100,000 plain-Buffer ${bs} B reads queued at once, none awaited`, kind: 'backlog', pattern: 'random', bs, depth: 100_000, count: 100_000, file: readFile,
    baseline: 'fs.promises FileHandle.read', fio: 'fio io_uring',
    ratios: {
      backlog_rss_vs_fs_promises: { a: 'Ring.read (Buffer)', b: 'fs.promises FileHandle.read', metric: 'peakRssMiB', goal: 1.2, lowerIsBetter: true },
    },
  },
  'fs-small': {
    title: 'readFile of 10,000 files of 4 KiB, 64 at a time', kind: 'fs', op: 'readFile', bs: 4096, depth: 64, count: 10_000,
    baseline: 'node:fs/promises',
    ratios: { readfile_small_vs_node: { a: 'uring-aio/fs', b: 'node:fs/promises', goal: 2.0 } },
  },
  'fs-stat': {
    title: 'stat of 10,000 files, 64 at a time', kind: 'fs', op: 'stat', bs: 0, depth: 64, count: 10_000,
    baseline: 'node:fs/promises',
    ratios: { stat_many_vs_node: { a: 'uring-aio/fs', b: 'node:fs/promises', goal: 2.0 } },
  },
  'fs-1g': {
    title: 'readFile of one 1 GiB file', kind: 'fs', op: 'readFile', bs: 2 ** 30, depth: 1, count: 1, big: true,
    baseline: 'node:fs/promises',
    ratios: { readfile_1g_vs_node: { a: 'uring-aio/fs', b: 'node:fs/promises', goal: 1.0 } },
  },
  'fs-copy-small': {
    title: 'copyFile of 10,000 files of 4 KiB, 64 at a time', kind: 'fs', op: 'copyFile', bs: 4096, depth: 64, count: 10_000,
    baseline: 'node:fs/promises',
    ratios: { copyfile_small_vs_node: { a: 'uring-aio/fs', b: 'node:fs/promises', goal: 1.0 } },
  },
  'fs-copy-1g': {
    title: 'copyFile of one 1 GiB file', kind: 'fs', op: 'copyFile', bs: 2 ** 30, depth: 1, count: 1, big: true,
    baseline: 'node:fs/promises',
    ratios: { copyfile_1g_vs_node: { a: 'uring-aio/fs', b: 'node:fs/promises', goal: 1.0 } },
  },
  'fs-rss': {
    title: 'memory: readFile of 10,000 files of 2.4 KB, all at once', kind: 'backlog', op: 'readFile', bs: 2400, depth: 10_000, count: 10_000,
    baseline: 'node:fs/promises',
    ratios: { readfile_many_rss_vs_node: { a: 'uring-aio/fs', b: 'node:fs/promises', metric: 'peakRssMiB', goal: 1.2, lowerIsBetter: true } },
  },
  write: {
    title: `page cache, random ${bs} B writes, depth ${depth}`, kind: 'write', pattern: 'random', bs, depth, file: writeFile,
    baseline: 'fs.write (callback)', fio: 'fio io_uring batched',
    ratios: {
      write_ring_vs_fs_write: { a: 'Ring.write (alignedBuffer, zero-copy)', b: 'fs.write (callback)' },
      write_vs_fs_write: { a: 'Ring.write (Buffer)', b: 'fs.write (callback)', goal: 1.3 },
      write_vs_fio: { a: 'Ring.write (Buffer)', b: 'fio io_uring', goal: 0.9 },
      write_batch_vs_fs_write: { a: 'Ring batch (submitSync())', b: 'fs.write (callback)' },
      write_batch_vs_fio: { a: 'Ring batch (submitSync())', b: 'fio io_uring batched' },
    },
  },
  echo: {
    title: 'loopback TCP echo, one message in flight per connection', kind: 'echo', shapes: ECHO_SHAPES, servers: ECHO_SERVERS,
    ratios: {
      echo_vs_node_net: { a: echoRow('Ring', ECHO_SHAPES[0]), b: echoRow('node:net', ECHO_SHAPES[0]), goal: 1.5 },
      echo_16k_vs_node_net: { a: echoRow('Ring', ECHO_SHAPES[1]), b: echoRow('node:net', ECHO_SHAPES[1]) },
      echo_cpu_vs_node_net: { a: echoRow('Ring', ECHO_SHAPES[0]), b: echoRow('node:net', ECHO_SHAPES[0]), metric: 'cpuUsPerOp', lowerIsBetter: true },
      echo_latency_vs_node_net: { a: echoRow('Ring', ECHO_SHAPES[2]), b: echoRow('node:net', ECHO_SHAPES[2]), metric: 'p50Us', lowerIsBetter: true },
    },
  },
  http: {
    title: 'loopback HTTP/1.1 keep-alive hello, one request in flight per connection', kind: 'echo', shapes: HTTP_SHAPES, servers: HTTP_SERVERS,
    ratios: {
      http_vs_node_http: { a: echoRow('Ring', HTTP_SHAPES[0]), b: echoRow('node:http', HTTP_SHAPES[0]), goal: 1.3 },
      http_vs_node_net: { a: echoRow('Ring', HTTP_SHAPES[0]), b: echoRow('node:net', HTTP_SHAPES[0]) },
      http_cpu_vs_node_http: { a: echoRow('Ring', HTTP_SHAPES[0]), b: echoRow('node:http', HTTP_SHAPES[0]), metric: 'cpuUsPerOp', lowerIsBetter: true },
    },
  },
};

const plan = chosen.map((key) => ({ key, ...WORKLOADS[key] }));
if (plan.some((w) => w.kind === 'write')) ensureFile(writeFile, false);
const total = plan.reduce((n, w) => n + contenders(w).list.length, 0) * rounds;
log(`${total} runs of ${slice.toFixed(2)} s (${rounds} rounds): about ${Math.ceil((total * (slice + 0.3)) / 60)} min`);
let step = 0;

const median = (values) => {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
};

/** A contender's rounds as one result: the totals, and the median round's latencies. */
function mergeRounds(runs) {
  const skipped = runs.find((r) => r.skipped);
  if (skipped) return skipped;
  const ops = runs.reduce((n, r) => n + r.ops, 0);
  const seconds = runs.reduce((n, r) => n + r.seconds, 0);
  return {
    ops,
    seconds,
    opsPerSec: ops / seconds,
    cpuUsPerOp: runs.reduce((n, r) => n + r.cpuUsPerOp * r.ops, 0) / ops,
    p50Us: median(runs.map((r) => r.p50Us)),
    p99Us: median(runs.map((r) => r.p99Us)),
    ...(runs[0].peakRssMiB !== undefined ? { peakRssMiB: median(runs.map((r) => r.peakRssMiB)) } : {}),
    rounds: runs.map((r) => r.opsPerSec),
    ...(runs[0].latencyOf ? { latencyOf: runs[0].latencyOf } : {}),
    ...(runs[0].clientCpuUsPerOp !== undefined ? {
      clientCpuUsPerOp: runs.reduce((n, r) => n + r.clientCpuUsPerOp * r.ops, 0) / ops,
      serverCores: median(runs.map((r) => r.serverCores)),
      clientCores: median(runs.map((r) => r.clientCores)),
      errors: runs.reduce((n, r) => n + r.errors, 0),
      connections: runs[0].connections,
      size: runs[0].size,
      http: runs[0].http,
    } : {}),
  };
}

/** What a workload reads: its positions, or for the fs workloads its files. */
function prepare(w) {
  if (w.kind === 'fs') {
    if (w.big) {
      w.files = [path.join(here, 'data', 'read-1GiB.bin')];
      if (!fs.existsSync(w.files[0]) || fs.statSync(w.files[0]).size !== w.bs) {
        log(`creating ${w.files[0]} (1 GiB)...`);
        const fd = fs.openSync(w.files[0], 'w');
        const chunk = Buffer.alloc(2 ** 20);
        for (let i = 0; i < 1024; i++) fs.writeSync(fd, chunk.fill(i & 0xff));
        fs.closeSync(fd);
      }
    } else {
      w.files = smallFiles(w.count, 4096);
    }
    return;
  }
  if (w.kind === 'backlog' && w.op === 'readFile') {
    // The child reads f0..f<count-1> of this directory (the files are warmed first).
    w.files = smallFiles(w.count, w.bs, 'small-2400');
    w.file = path.dirname(w.files[0]);
    return;
  }
  if (w.file) w.positions = positions(w.pattern, w.bs, fs.statSync(w.file).size);
}

if (opt.child) {
  // One contender, once, for the parent's table (see runInChild).
  const w = plan[0];
  prepare(w);
  const entry = contenders(w).list.find(([name]) => name === opt.child);
  if (!entry) fail(`no contender '${opt.child}' in workload ${w.key}`);
  const r = await entry[1]();
  await contenders(w).close();
  console.log(JSON.stringify(r));
  process.exit(0);
}

for (const w of plan) {
  prepare(w);
  if (opt.child === undefined) for (const f of w.files ?? (w.file ? [w.file] : [])) warm(f);
  w.results = {};
  if (w.direct) {
    try {
      fs.closeSync(fs.openSync(w.file, fs.constants.O_RDONLY | fs.constants.O_DIRECT));
    } catch (e) {
      log(`O_DIRECT refused for ${w.file} (${e.code}): workload ${w.key} skipped`);
      w.skipped = `O_DIRECT refused (${e.code})`;
      step += contenders(w).list.length * rounds;
      continue;
    }
  }
  const { list, close } = contenders(w);
  const runs = new Map(list.map(([name]) => [name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const [name, measure] of list) {
      step++;
      const label = `[${String(step).padStart(String(total).length)}/${total}] ${w.key}, round ${round}/${rounds}: ${name}`;
      // Writeback of the pages the previous contender dirtied would slow this one:
      // flush them first, untimed.
      if (w.kind === 'write') flushToDisk(w.file);
      let r;
      try {
        r = await measure();
      } catch (e) {
        r = { skipped: `${e.code ?? e.name}: ${e.message}` };
      }
      runs.get(name).push(r);
      log(r.skipped ? `${label}: skipped (${r.skipped})` : `${label}: ${Math.round(r.opsPerSec).toLocaleString('en-US')} ops/s`);
    }
  }
  for (const [name, r] of runs) w.results[name] = mergeRounds(r);
  await close();
}

/** `b` of a ratio: one contender, or the fastest of a list that ran. */
function bestOf(w, b) {
  if (!Array.isArray(b)) return b;
  const ran = b.filter((name) => w.results[name]?.opsPerSec > 0);
  return ran.sort((x, y) => w.results[y].opsPerSec - w.results[x].opsPerSec)[0];
}

/** Ratio `a / b` of a workload (of latencies when `metric` is set); with `absolute`, `a`'s value itself. */
function ratioOf(w, { a, b, metric = 'opsPerSec', absolute = false }) {
  const x = w.results[a]?.[metric];
  if (absolute) return x > 0 ? x : null;
  const y = w.results[bestOf(w, b)]?.[metric];
  return x > 0 && y > 0 ? x / y : null;
}

/** The lowest and highest per-round ratio of throughputs `a / b` (round i against round i). */
function roundRange(w, { a, b, metric = 'opsPerSec', absolute = false }) {
  const x = w.results[a]?.rounds;
  if (absolute) return metric === 'opsPerSec' && x?.length > 1 ? [Math.min(...x), Math.max(...x)] : null;
  const y = w.results[bestOf(w, b)]?.rounds;
  if (metric !== 'opsPerSec' || !x || !y || x.length < 2) return null;
  const each = x.map((v, i) => v / y[i]).filter(Number.isFinite);
  return each.length ? [Math.min(...each), Math.max(...each)] : null;
}

const fmt = (v, digits = 0) => (v === undefined || v === null || Number.isNaN(v) ? '' : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}${fioVersion ? `, ${fioVersion}` : ''}`;
const date = new Date().toISOString();
const lines = [`Benchmark of ${date.slice(0, 10)}: ${machine}. ${duration} s per contender in ${rounds} interleaved round${rounds > 1 ? 's' : ''}, one thread.`, ''];
const ratios = {};

/** A markdown table under `### title`: first column left-aligned, the others right. */
function markdownTable(title, header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const row = (cells) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [`### ${title}`, '', row(header), `|${widths.map((n, i) => (i === 0 ? '-'.repeat(n + 2) : `${'-'.repeat(n + 1)}:`)).join('|')}|`, ...rows.map(row), ''];
}

/** The echo (or http) workload's table: each row against the baseline server's row of the same shape. */
function echoTable(w) {
  const [baseline] = w.servers[0];
  const header = ['contender', 'requests/s', 'MiB/s', 'p50 µs', 'p99 µs', 'server CPU µs/req', 'server cores', 'client cores', 'errors', `vs ${baseline}`];
  const rows = Object.entries(w.results).map(([name, r]) => {
    if (r.skipped) return [name, `skipped: ${r.skipped}`, ...header.slice(2).map(() => '')];
    const base = w.results[echoRow(baseline, r)]?.opsPerSec;
    return [
      name, fmt(r.opsPerSec), fmt((r.opsPerSec * r.size) / 2 ** 20), fmt(r.p50Us, 1), fmt(r.p99Us, 1), fmt(r.cpuUsPerOp, 2),
      fmt(r.serverCores, 2), fmt(r.clientCores, 2), fmt(r.errors), base ? `${(r.opsPerSec / base).toFixed(2)}x` : '',
    ];
  });
  return [
    ...markdownTable(w.title, header, rows),
    'Latency is the client\'s round trip of one message (http: request to whole response). MiB/s counts one direction (http: none). Server CPU is the server',
    'process\'s CPU time over the measured window; cores is CPU time over wall time: a Node server saturates',
    'near 1.0, and a client near 1.0 would mean the load generator, not the server, set the pace.',
    '',
  ];
}

for (const w of plan) {
  if (w.skipped) {
    lines.push(`### ${w.title}`, '', `skipped: ${w.skipped}`, '');
    continue;
  }
  for (const [key, spec] of Object.entries(w.ratios)) ratios[key] = { value: ratioOf(w, spec), range: roundRange(w, spec), ...spec, b: spec.absolute ? undefined : bestOf(w, spec.b) ?? String(spec.b) };
  if (w.kind === 'echo') {
    lines.push(...echoTable(w));
    continue;
  }
  const base = w.results[w.baseline]?.opsPerSec;
  const ref = w.results[w.fio]?.opsPerSec;
  const memory = w.kind === 'backlog';
  const withRef = w.fio !== undefined && w.fio !== w.baseline;
  const header = ['contender', 'ops/s', 'MiB/s', memory ? 'peak RSS MiB' : 'p50 µs', 'p99 µs', 'CPU µs/op', `vs ${w.baseline}`, ...(withRef ? [`vs ${w.fio}`] : [])];
  const rows = Object.entries(w.results).map(([name, r]) => (r.skipped
    ? [name, `skipped: ${r.skipped}`, ...header.slice(2).map(() => '')]
    : [
      r.latencyOf === 'batch' ? `${name} ¹` : name,
      fmt(r.opsPerSec, r.opsPerSec < 10 ? 2 : 0),
      fmt((r.opsPerSec * w.bs) / 2 ** 20),
      memory ? fmt(r.peakRssMiB) : fmt(r.p50Us, 1),
      fmt(r.p99Us, 1),
      fmt(r.cpuUsPerOp, 2),
      base ? `${(r.opsPerSec / base).toFixed(2)}x` : '',
      ...(withRef ? [ref ? `${(r.opsPerSec / ref).toFixed(2)}x` : ''] : []),
    ]));
  lines.push(...markdownTable(w.title, header, rows));
}
lines.push(
  '¹ batch rows time whole batches: their p50/p99 is the latency of a batch of `depth` operations.',
  'CPU µs/op counts every thread of the measured process (getrusage(RUSAGE_SELF): io-wq and SQPOLL kernel threads',
  'included; for fio, the whole fio process, read from /proc by the shell that waited for it).',
  '', 'Ratios (goal):', '',
);
for (const [key, r] of Object.entries(ratios)) {
  // Absolute values (ops/s, µs) print as numbers, ratios with an x.
  const unit = r.absolute ? '' : 'x';
  const show = (v) => (r.absolute && v >= 1000 ? fmt(v) : `${v.toFixed(2)}${unit}`);
  const shown = r.value === null ? 'n/a' : show(r.value);
  let goal = '';
  if (r.goal !== undefined && r.value !== null) {
    const met = r.lowerIsBetter ? r.value <= r.goal : r.value >= r.goal;
    goal = ` (goal ${r.lowerIsBetter ? '<=' : '>='} ${show(r.goal)}: ${met ? 'met' : 'MISSED'})`;
  }
  const range = r.range ? `, rounds ${show(r.range[0])}-${show(r.range[1])}` : '';
  lines.push(`- \`${key}\` ${shown}${goal}${range}: ${r.a}${r.absolute ? '' : ` / ${r.b}`}${r.metric ? ` (${r.metric})` : ''}`);
}
const table = lines.join('\n');
console.log(`\n${table}`);

fs.mkdirSync(outDir, { recursive: true });
const record = {
  date,
  machine,
  node: process.version,
  kernel: os.release(),
  fio: fioVersion ?? null,
  duration,
  rounds,
  depth,
  workloads: Object.fromEntries(plan.map((w) => [w.key, { title: w.title, bs: w.bs, depth: w.depth, shapes: w.shapes, skipped: w.skipped, results: w.results }])),
  ratios: Object.fromEntries(Object.entries(ratios).map(([k, r]) => [k, r.value])),
  ratioRanges: Object.fromEntries(Object.entries(ratios).filter(([, r]) => r.range).map(([k, r]) => [k, r.range])),
};
fs.writeFileSync(path.join(outDir, 'results.md'), `${table}\n`);
fs.writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify(record, null, 2)}\n`);
// The echo rows of different shapes differ by orders of magnitude: one panel per shape.
const panels = plan.filter((w) => !w.skipped).flatMap((w) => (w.kind !== 'echo' ? [w] : w.shapes.map((shape) => ({
  title: `loopback ${shape.http ? 'HTTP' : 'TCP echo'}, ${echoShape(shape)}`,
  unit: 'requests/s',
  results: Object.fromEntries(Object.entries(w.results).filter(([name]) => name.endsWith(`(${echoShape(shape)})`))),
})).filter((panel) => Object.values(panel.results).some((r) => !r.skipped))));
fs.writeFileSync(path.join(outDir, 'results.svg'), renderChart(panels, `uring-aio benchmark, ${date.slice(0, 10)}: ${machine}`));
log(`\nwrote ${path.join(outDir, 'results.md')}, results.json and results.svg`);
if (opt.json) console.log(JSON.stringify(record));
