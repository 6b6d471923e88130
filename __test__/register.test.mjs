// uring-aio/fs/register: `node --import uring-aio/fs/register` (or --require) routes
// node:fs/promises, require('fs').promises and require('fs/promises') to uring-aio/fs
// for every module, opt-in, with uring-aio/fs's fallback. Each test runs a child Node
// from the repository root, where the package name resolves to this package.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { isSupported } from '../dist/index.js';
import { testUnless, tmpDir } from './helpers.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const uringFsPath = path.join(root, 'dist', 'fs.js');
/** The module the flags name, by path: the scripts live outside the package. */
const registerPath = JSON.stringify(path.join(root, 'dist', 'register.js'));
const ringTest = testUnless(isSupported().ok ? undefined : isSupported().reason, 'io_uring tests');

/** Runs `file` with Node `flags` from the repository root; resolves to its exit and output. */
function node(flags, file, env = {}) {
  return new Promise((resolve) => {
    execFile(process.execPath, [...flags, file], { cwd: root, env: { ...process.env, ...env }, timeout: 30000, encoding: 'utf8' },
      (error, stdout, stderr) => resolve({ status: error?.code ?? 0, signal: error?.signal ?? null, stdout, stderr }));
  });
}

/** Writes `code` into a fresh file named `name`. */
function script(name, code) {
  const file = path.join(tmpDir(), name);
  fs.writeFileSync(file, code);
  return file;
}

/** An ES module that prints, as JSON, which of the ways to reach fs/promises give uring-aio/fs's functions. */
const esmProbe = () => script('probe.mjs', `
  import { readFile } from 'node:fs/promises';
  import fsp from 'fs/promises';
  import nodeFs, { promises } from 'node:fs';
  import { createRequire } from 'node:module';
  const require = createRequire(import.meta.url);
  const uring = require(${JSON.stringify(uringFsPath)});
  const register = require(${registerPath});
  const file = ${JSON.stringify(path.join(tmpDir(), 'data.txt'))};
  await fsp.writeFile(file, 'routed');
  console.log(JSON.stringify({
    active: register.active, backend: register.backend, reason: register.backendReason, routed: register.routed,
    forms: [
      readFile === uring.readFile,
      fsp.stat === uring.stat,
      nodeFs.promises.open === uring.open,
      promises.mkdir === uring.mkdir,
      // Not copyFile: uring-aio/fs's is node:fs/promises' own, so nothing routes it.
      (await import('node:fs/promises')).lstat === uring.lstat,
      require('fs/promises').writeFile === uring.writeFile,
      require('fs').promises.rename === uring.rename,
    ],
    read: await readFile(file, 'utf8'),
  }));
`);

ringTest('register-import-routes-every-form: node --import uring-aio/fs/register routes named, default and require forms of fs/promises', async (t) => {
  const r = await node(['--import', 'uring-aio/fs/register'], esmProbe());
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.true(out.active);
  t.is(out.backend, 'io_uring');
  t.deepEqual(out.forms, [true, true, true, true, true, true, true]);
  t.true(['open', 'readFile', 'writeFile', 'stat', 'lstat', 'rename', 'unlink', 'mkdir'].every((name) => out.routed.includes(name)), out.routed.join());
  t.false(out.routed.includes('copyFile'), 'copyFile is node:fs/promises\' own in uring-aio/fs: not routed');
  t.regex(out.reason, /^node:fs\/promises routed to uring-aio\/fs \((\w+, )+\w+\): io_uring works/);
  t.is(out.read, 'routed');
});

ringTest('register-require-routes-every-form: node --require uring-aio/fs/register routes CommonJS require forms', async (t) => {
  const file = script('probe.cjs', `
    const uring = require(${JSON.stringify(uringFsPath)});
    const fsp = require('fs/promises');
    const register = require(${registerPath});
    (async () => {
      const esm = await import('node:fs/promises');
      console.log(JSON.stringify([register.active, fsp.readFile === uring.readFile, require('node:fs').promises.stat === uring.stat,
        esm.readFile === uring.readFile, esm.default.lstat === uring.lstat, (await fsp.stat(__filename)).isFile()]));
    })();
  `);
  const r = await node(['--require', 'uring-aio/fs/register'], file);
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), [true, true, true, true, true, true]);
});

test('register-fallback: with uring-aio/fs on its fallback nothing is replaced, and the reason says why', async (t) => {
  const r = await node(['--import', 'uring-aio/fs/register'], esmProbe(), { URING_AIO_FS_BACKEND: 'node:fs' });
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.false(out.active);
  t.is(out.backend, 'node:fs');
  t.deepEqual(out.routed, []);
  t.deepEqual(out.forms, [false, false, false, false, false, false, false]);
  t.regex(out.reason, /^node:fs\/promises left as it is: URING_AIO_FS_BACKEND=node:fs/);
  t.is(out.read, 'routed');
});

test('register-opt-in: importing uring-aio/fs alone leaves node:fs/promises as it is', async (t) => {
  const r = await node([], esmProbe().replace(`const register = require(${registerPath});`, 'const register = {};'));
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout).forms, [false, false, false, false, false, false, false]);
});

test('register-after-fs: a register loaded after uring-aio/fs replaces nothing and says to load it first', async (t) => {
  const file = script('late.cjs', `
    const uring = require(${JSON.stringify(uringFsPath)});
    const register = require(${registerPath});
    console.log(JSON.stringify([register.active, require('fs/promises').readFile === uring.readFile, register.backendReason]));
  `);
  const r = await node([], file);
  t.is(r.status, 0, r.stderr);
  const [active, routed, reason] = JSON.parse(r.stdout);
  t.false(active);
  t.false(routed);
  t.regex(reason, /uring-aio\/fs was loaded before uring-aio\/fs\/register: load the register module first/);
});

ringTest('register-fallback-calls-no-loop: calls uring-aio/fs hands to node:fs/promises (bigint stat, recursive mkdir and rmdir) complete', async (t) => {
  // uring-aio/fs sends these to node:fs/promises; with the shared object routed back to
  // uring-aio/fs they would recurse until the stack overflowed.
  const dir = path.join(tmpDir(), 'a');
  const file = script('fallbacks.mjs', `
    import fsp from 'node:fs/promises';
    import { active } from ${JSON.stringify(path.join(root, 'esm', 'register.mjs'))};
    const made = await fsp.mkdir(${JSON.stringify(path.join(dir, 'b', 'c'))}, { recursive: true });
    const big = await fsp.stat(${JSON.stringify(dir)}, { bigint: true });
    await fsp.rmdir(${JSON.stringify(dir)}, { recursive: true }).catch((e) => fsp.rm(${JSON.stringify(dir)}, { recursive: true }));
    console.log(active, made, typeof big.size, await fsp.access(${JSON.stringify(dir)}).then(() => 'left', (e) => e.code));
  `);
  const r = await node(['--import', 'uring-aio/fs/register'], file);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), `true ${dir} bigint ENOENT`);
});

ringTest('register-errors-as-node: a routed readFile of a missing file rejects as node:fs/promises does', async (t) => {
  const missing = path.join(tmpDir(), 'missing.txt');
  const file = script('enoent.mjs', `
    import { readFile } from 'node:fs/promises';
    const e = await readFile(${JSON.stringify(missing)}).catch((e) => e);
    console.log(JSON.stringify({ name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, message: e.message }));
  `);
  const [routed, plain] = await Promise.all([node(['--import', 'uring-aio/fs/register'], file), node([], file)]);
  t.is(routed.status, 0, routed.stderr);
  t.deepEqual(JSON.parse(routed.stdout), JSON.parse(plain.stdout));
});

ringTest('register-worker: a Worker of a process started with --import is routed too', async (t) => {
  const workerFile = script('worker.cjs', `
    const { parentPort } = require('node:worker_threads');
    const register = require(${registerPath});
    parentPort.postMessage([register.active, require('fs/promises').readFile === require(${JSON.stringify(uringFsPath)}).readFile]);
  `);
  const file = script('main.mjs', `
    import { Worker } from 'node:worker_threads';
    const worker = new Worker(${JSON.stringify(workerFile)});
    worker.once('message', (m) => { console.log(JSON.stringify(m)); worker.terminate(); });
  `);
  const r = await node(['--import', 'uring-aio/fs/register'], file);
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), [true, true]);
});
