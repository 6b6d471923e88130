// Shared test helpers: real temp files, real FIFOs, real child processes.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { isSupported } from '../dist/index.js';

export const support = isSupported();
if (!support.ok) console.warn(`io_uring unavailable, ring tests skip: ${support.reason}`);

/** `test` where io_uring works, `test.skip` elsewhere (like liburing's test/ skips). */
export const ringTest = support.ok ? test : test.skip;

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
