// Shared test helpers: real temp files, real FIFOs, real child processes.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { Aio, Ring, isSupported } from '../dist/index.js';

export const support = isSupported();
if (!support.ok) console.warn(`io_uring unavailable, ring tests skip: ${support.reason}`);

/** `test` where io_uring works, `test.skip` elsewhere (like liburing's test/ skips). */
export const ringTest = support.ok ? test : test.skip;

/** The `Ring` operations this kernel supports (`ring.probe()`), asked once. */
let supportedOps;
function supportedOperations() {
  if (supportedOps === undefined) {
    const ring = new Ring({ entries: 4 });
    supportedOps = new Set(ring.probe());
    void ring.destroy();
  }
  return supportedOps;
}

/**
 * `test` when this kernel has every one of the `Ring` operations `ops`, else a skip
 * that names what is missing (or `why`).
 */
export function opTest(ops, title, fn, why) {
  const missing = support.ok ? ops.filter((op) => !supportedOperations().has(op)) : ops;
  if (missing.length === 0 && why === undefined) return test(title, fn);
  const reason = why ?? (support.ok ? `this kernel lacks ${missing.join(', ')}` : 'io_uring unavailable');
  return test.skip(`${title} (skipped: ${reason})`, fn);
}

let aioWorks = true;
try {
  await new Aio({ maxEvents: 1 }).destroy();
} catch (e) {
  aioWorks = false;
  console.warn(`kernel AIO unavailable, Aio tests skip: ${e.message}`);
}
/** `test` where kernel AIO works (io_setup succeeds), `test.skip` elsewhere. */
export const aioTest = aioWorks ? test : test.skip;

export const distUrl = new URL('../dist/index.js', import.meta.url).href;
export const distPath = fileURLToPath(distUrl);

/** A fresh directory on a real file system (os.tmpdir()), removed at process exit. */
const made = [];
process.on('exit', () => made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

export function tmpDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uring-aio-test-'));
  made.push(dir);
  return dir;
}

/** A file with `contents`, in a fresh temp dir. */
export function tmpFile(contents = Buffer.alloc(0), name = 'data.bin') {
  const file = path.join(tmpDir(), name);
  fs.writeFileSync(file, contents);
  return file;
}

/**
 * A real FIFO: `readFd` (O_RDWR, so reads never see EOF), `pollFd` (O_RDONLY: kernel
 * AIO poll accepts only files on a single wait queue) and `writeFd`.
 */
export function fifo() {
  const file = path.join(tmpDir(), 'fifo');
  execFileSync('mkfifo', [file]);
  const pollFd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const readFd = fs.openSync(file, 'r+');
  const writeFd = fs.openSync(file, 'w');
  return { file, readFd, pollFd, writeFd, close: () => [pollFd, readFd, writeFd].forEach((fd) => fs.closeSync(fd)) };
}

/** Runs an ES module snippet in a child Node process; `DIST` is the package entry. */
export function runChild(code, { args = [], timeout = 30000, input } = {}) {
  const start = performance.now();
  const result = spawnSync(process.execPath, [...args, '--input-type=module', '-e', code.replaceAll('DIST', JSON.stringify(distUrl))], {
    encoding: 'utf8',
    timeout,
    input,
  });
  return { ...result, ms: performance.now() - start };
}

/**
 * `runChild` without blocking this process: resolves to the same record. A child
 * still running at `timeout` is killed with SIGKILL (`signal` says so).
 */
export function runChildAsync(code, { args = [], timeout = 30000 } = {}) {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args, '--input-type=module', '-e', code.replaceAll('DIST', JSON.stringify(distUrl))], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, ms: performance.now() - start });
    });
  });
}

/** Deterministic pseudo-random bytes. */
export function pattern(size, seed = 1) {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
