import fs from 'node:fs';
import path from 'node:path';
import { IoError, Ring } from '../dist/index.js';
import { ringTest, tmpDir, tmpFile } from './helpers.mjs';

ringTest('enoent: a missing file is an IoError shaped exactly like Node fs errors', async (t) => {
  const ring = new Ring();
  const err = await t.throwsAsync(ring.open('/x/y'));
  t.true(err instanceof IoError);
  t.true(err instanceof Error);
  t.is(err.code, 'ENOENT');
  t.is(err.errno, -2);
  t.is(err.syscall, 'openat');
  t.is(err.path, '/x/y');
  t.is(err.message, "ENOENT: no such file or directory, openat '/x/y'");
  const nodeErr = t.throws(() => fs.openSync('/x/y'));
  t.is(err.errno, nodeErr.errno);
  t.is(err.code, nodeErr.code);
  await ring.destroy();
});

ringTest('ebadf: reading a closed descriptor rejects EBADF and the ring stays usable', async (t) => {
  const ring = new Ring();
  const file = tmpFile(Buffer.from('x'));
  const fd = await ring.open(file);
  await ring.close(fd);
  // Not `fd` itself: the other tests of this file run concurrently, and their next
  // open takes the lowest free number, this one. A number far above any of theirs is
  // as closed and stays so.
  const closed = fd + 4096;
  const err = await t.throwsAsync(ring.read(closed, Buffer.alloc(1), 0), { instanceOf: IoError });
  t.is(err.code, 'EBADF');
  t.is(err.syscall, 'read');
  t.is(await ring.nop(), 0);
  await ring.destroy();
});

ringTest('eisdir: reading a directory rejects EISDIR', async (t) => {
  const ring = new Ring();
  const fd = await ring.open(tmpDir());
  const err = await t.throwsAsync(ring.read(fd, Buffer.alloc(8), 0));
  t.is(err.code, 'EISDIR');
  await ring.destroy();
});

ringTest('eexist: exclusive create of an existing file rejects EEXIST with the path', async (t) => {
  const ring = new Ring();
  const file = tmpFile(Buffer.from('x'));
  const err = await t.throwsAsync(ring.open(file, 'wx'));
  t.is(err.code, 'EEXIST');
  t.is(err.message, `EEXIST: file already exists, openat '${file}'`);
  await ring.destroy();
});

ringTest('rename-error: a failed rename names both paths', async (t) => {
  const ring = new Ring();
  const dir = tmpDir();
  const err = await t.throwsAsync(ring.rename(path.join(dir, 'a'), path.join(dir, 'b')));
  t.is(err.code, 'ENOENT');
  t.is(err.dest, path.join(dir, 'b'));
  t.regex(err.message, / -> '/);
  await ring.destroy();
});

ringTest('ebadf-write: writing to a read-only descriptor rejects EBADF', async (t) => {
  const ring = new Ring();
  const fd = await ring.open(tmpFile(Buffer.from('x')), 'r');
  t.is((await t.throwsAsync(ring.write(fd, Buffer.from('y'), 0))).code, 'EBADF');
  await ring.destroy();
});

/** `fn()` must return a promise that rejects with `expected` (never throw), as node:fs/promises does. */
async function rejects(t, fn, expected) {
  let pending;
  try {
    pending = fn();
  } catch (e) {
    t.fail(`${fn} threw ${e?.code} synchronously instead of rejecting`);
    return;
  }
  t.true(pending instanceof Promise, String(fn));
  const err = await pending.then(() => undefined, (e) => e);
  t.is(err?.code, expected.code, String(fn));
  t.true(err instanceof expected.type, `${err?.name} for ${fn}`);
}

ringTest('bad-arguments: invalid arguments reject with Node-coded errors and submit nothing', async (t) => {
  const ring = new Ring();
  const buf = Buffer.alloc(4);
  const TYPE = { code: 'ERR_INVALID_ARG_TYPE', type: TypeError };
  const RANGE = { code: 'ERR_OUT_OF_RANGE', type: RangeError };
  const VALUE = { code: 'ERR_INVALID_ARG_VALUE', type: TypeError };
  await rejects(t, () => ring.read('3', buf, 0), TYPE);
  await rejects(t, () => ring.read(1.5, buf, 0), RANGE);
  await rejects(t, () => ring.read(-1, buf, 0), RANGE);
  await rejects(t, () => ring.read(2 ** 31, buf, 0), RANGE);
  await rejects(t, () => ring.read(0, 'not a buffer', 0), TYPE);
  await rejects(t, () => ring.read(0, new ArrayBuffer(4), 0), TYPE);
  await rejects(t, () => ring.read(0, buf, -2), RANGE);
  await rejects(t, () => ring.read(0, buf, 2 ** 53), RANGE);
  await rejects(t, () => ring.read(0, buf, 1.5), RANGE);
  await rejects(t, () => ring.read(0, buf, 2n ** 63n), RANGE);
  await rejects(t, () => ring.read(0, buf, '0'), TYPE);
  await rejects(t, () => ring.read(0, buf, 0, 'opts'), TYPE);
  await rejects(t, () => ring.read(0, buf, 0, { signal: {} }), TYPE);
  await rejects(t, () => ring.readv(0, buf, 0), TYPE);
  await rejects(t, () => ring.writev(0, [buf, 'x'], 0), TYPE);
  await rejects(t, () => ring.open('/tmp/x', 'rw'), VALUE);
  await rejects(t, () => ring.open('/tmp/x', {}), VALUE);
  await rejects(t, () => ring.open('/tmp/x', 'r', 'xyz'), VALUE);
  await rejects(t, () => ring.open('/tmp/x', 'r', -1), RANGE);
  await rejects(t, () => ring.open(42), TYPE);
  await rejects(t, () => ring.open('/tmp/\u0000x'), VALUE);
  await rejects(t, () => ring.fsync(0, { datasync: 1 }), TYPE);
  await rejects(t, () => ring.fallocate(0, -1, 10), RANGE);
  await rejects(t, () => ring.stat(undefined), TYPE);
  t.throws(() => new Ring({ entries: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => new Ring({ entries: '8' }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => new Ring({ submitBatch: 1.5 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => new Ring({ submitBatch: '8' }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => new Ring(5), { code: 'ERR_INVALID_ARG_TYPE' });
  t.is(ring.inFlight, 0, 'nothing was submitted');
  t.is(ring.submitCalls, 0, 'the kernel was never entered');
  t.is(await ring.nop(), 0, 'the ring stays usable');
  await ring.destroy();
});

ringTest('bad-arguments: error messages follow Node wording', async (t) => {
  const ring = new Ring();
  const err = await t.throwsAsync(ring.read('3', Buffer.alloc(1)));
  t.is(err.message, `The "fd" argument must be of type number. Received type string ('3')`);
  const range = await t.throwsAsync(ring.read(-1, Buffer.alloc(1)));
  t.is(range.message, 'The value of "fd" is out of range. It must be >= 0 && <= 2147483647. Received -1');
  return ring.destroy();
});

ringTest('async-stack: an IoError carries the async frames of the code that awaited it', async (t) => {
  const ring = new Ring();
  async function openTheMissingFile() {
    await ring.open('/no/such/dir/file');
  }
  const err = await openTheMissingFile().catch((e) => e);
  t.is(err.code, 'ENOENT');
  t.regex(err.stack, /^Error: ENOENT: no such file or directory, openat '\/no\/such\/dir\/file'\n/);
  t.regex(err.stack, /at async openTheMissingFile \(.*errors\.test\.mjs:\d+:\d+\)/);
  await ring.destroy();
});

ringTest('native-refusal-value: a table entry that refuses its arguments returns -errno, not a thrown string', async (t) => {
  const { native } = await import('../dist/native.js');
  const ring = new Ring();
  const statx = native().opTable().findIndex((row) => row.name === 'statx');
  // No arguments at all: the Rust entry finds no dirfd to read.
  t.is(ring.native.submit(statx, 0, -1, [], [], undefined), -22);
  t.is(ring.inFlight, 0, 'nothing was queued');
  await ring.destroy();
});

ringTest('native-error-structured: a failed native call throws an Error with a numeric errno, not a number in its message', async (t) => {
  const ring = new Ring();
  // Straight at the binding, under lib/: registering a descriptor that is not open.
  const error = t.throws(() => ring.native.registerFiles([2 ** 30]));
  t.is(error.errno, -9, 'EBADF as Node numbers it');
  t.is(error.message, 'Bad file descriptor (os error 9)');
  t.false(/^\d+$/.test(error.message));
  await ring.destroy();
});

ringTest('register-error: a failed register call is an IoError with code, errno and syscall', async (t) => {
  const ring = new Ring();
  const error = t.throws(() => ring.registerFiles([2 ** 30]), { instanceOf: IoError });
  t.like(error, { code: 'EBADF', errno: -9, syscall: 'io_uring_register' });
  await ring.destroy();
});
