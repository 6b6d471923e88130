// Shared test helpers: real temp files, real FIFOs, real child processes.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { Aio, Ring, isSupported } from '../dist/index.js';

/**
 * With CI=true, a test this machine could run must run: where io_uring, kernel AIO,
 * O_DIRECT or the seccomp helper is missing, the tests that need it fail (saying why)
 * instead of skipping. Elsewhere they skip, and the runner reports each skip.
 */
export const strictSkips = process.env.CI === 'true';

/** `test` when `reason` is undefined; otherwise a reported skip (a failure under CI=true). */
export function testUnless(reason, what) {
  if (reason === undefined) return test;
  console.warn(`${what} ${strictSkips ? 'fail (CI=true)' : 'skip'}: ${reason}`);
  if (!strictSkips) return test.skip;
  return (title) => test(title, (t) => t.fail(`needs ${what.replace(/ tests?$/, '')}, which this machine lacks: ${reason}`));
}

export const support = isSupported();

/** `test` where io_uring works, a reported skip elsewhere (like liburing's test/ skips). */
export const ringTest = testUnless(support.ok ? undefined : support.reason, 'io_uring tests');

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

let aioUnavailable;
try {
  await new Aio({ maxEvents: 1 }).destroy();
} catch (e) {
  aioUnavailable = e.message;
}
/** `test` where kernel AIO works (io_setup succeeds), a reported skip elsewhere. */
export const aioTest = testUnless(aioUnavailable, 'kernel AIO tests');

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

/** Whether files in `dir` open with O_DIRECT (tmpfs refuses it with EINVAL). */
function takesDirect(dir) {
  const file = path.join(dir, '.direct-probe');
  try {
    fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_RDWR | fs.constants.O_DIRECT, 0o600));
    return true;
  } catch (e) {
    if (e.code === 'EINVAL') return false;
    throw e;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/**
 * A fresh directory whose file system takes O_DIRECT: the temp dir if it does, else
 * one under the working directory (the repository, on a real file system), decided
 * once. `undefined` where neither does; `noDirectReason` then says why.
 */
export const directDir = (() => {
  let base;
  if (takesDirect(os.tmpdir())) base = os.tmpdir();
  else if (takesDirect(process.cwd())) base = process.cwd();
  if (base === undefined) return undefined;
  return () => {
    const dir = fs.mkdtempSync(path.join(base, '.uring-aio-direct-'));
    made.push(dir);
    return dir;
  };
})();
export const noDirectReason = directDir === undefined ? `neither ${os.tmpdir()} nor ${process.cwd()} takes O_DIRECT` : undefined;

/** A file with `contents`, in a fresh temp dir. *//** A file with `contents`, in a fresh temp dir. */
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
  return runAsync(process.execPath, [...args, '--input-type=module', '-e', code.replaceAll('DIST', JSON.stringify(distUrl))], { timeout });
}

/** Runs `file` with `args` without blocking this process; resolves like `runChildAsync`. */
export function runAsync(file, args, { timeout = 30000 } = {}) {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
