// uring-aio/liburing: liburing's names over Ring, and the Python package's Simple File
// Example in this API, run as a user would.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ts from 'typescript';
import * as liburing from 'uring-aio/liburing';
import { OPS } from '../dist/ops.js';
import { fifo, opTest, pattern, ringTest, tmpDir, tmpFile } from './helpers.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

ringTest('simple-file-example: examples/liburing-simple-file.ts prints what the Python example prints', (t) => {
  const source = fs.readFileSync(path.join(root, 'examples', 'liburing-simple-file.ts'), 'utf8');
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  // As a user has it: the package under node_modules next to the program.
  const out = tmpDir();
  fs.mkdirSync(path.join(out, 'node_modules'));
  fs.symlinkSync(root, path.join(out, 'node_modules', 'uring-aio'), 'dir');
  const script = path.join(out, 'liburing-simple-file.cjs');
  fs.writeFileSync(script, js);
  const file = path.join(tmpDir(), 'liburing-test-file.txt');
  const r = spawnSync(process.execPath, [script, file], { encoding: 'utf8', timeout: 30000 });
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.regex(lines[0], /^fd: \d+$/);
  t.deepEqual(lines.slice(1), ['wrote: 11', 'read: hello world', 'closed.']);
  t.is(fs.readFileSync(file, 'utf8'), 'hello world');
});

ringTest('prep-names: every liburing name of the opcode table is exported as a function', (t) => {
  const names = new Set(Object.values(OPS).map((e) => e.liburing));
  for (const name of names) t.is(typeof liburing[name], 'function', name);
  t.deepEqual(Object.keys(liburing.prep).sort(), [...names].sort());
});

ringTest('require-entry: require("uring-aio/liburing") gives the same functions', (t) => {
  const required = createRequire(import.meta.url)('uring-aio/liburing');
  t.is(typeof required.io_uring_queue_init, 'function');
  t.is(typeof required.io_uring_prep_splice, 'function');
});

ringTest('get-sqe-full: io_uring_get_sqe returns null once entries SQEs wait unsubmitted', async (t) => {
  const ring = liburing.io_uring_queue_init(4);
  const sqes = Array.from({ length: 4 }, () => liburing.io_uring_get_sqe(ring));
  t.true(sqes.every((s) => s instanceof liburing.io_uring_sqe));
  t.is(liburing.io_uring_get_sqe(ring), null);
  sqes.forEach((s) => liburing.io_uring_prep_nop(s));
  t.is(liburing.io_uring_submit(ring), 4);
  t.not(liburing.io_uring_get_sqe(ring), null, 'submitting frees the queue');
  await liburing.io_uring_queue_exit(ring);
});

ringTest('user-data-order: CQEs carry user_data, and a failed op gives -errno that trap_error throws', async (t) => {
  const ring = liburing.io_uring_queue_init(8);
  const data = pattern(4096, 2);
  const fd = fs.openSync(tmpFile(data), 'r');
  const buf = Buffer.alloc(4096);
  let sqe = liburing.io_uring_get_sqe(ring);
  liburing.io_uring_prep_read(sqe, fd, buf, 4096, 0);
  liburing.io_uring_sqe_set_data(sqe, { tag: 'good' });
  sqe = liburing.io_uring_get_sqe(ring);
  liburing.io_uring_prep_read(sqe, 999999, Buffer.alloc(1), 1, 0);
  liburing.io_uring_sqe_set_data64(sqe, 42n);
  t.is(await liburing.io_uring_submit_and_wait(ring, 2), 2);
  const seen = [];
  for (let cqe = liburing.io_uring_peek_cqe(ring); cqe !== null; cqe = liburing.io_uring_peek_cqe(ring)) {
    seen.push([liburing.io_uring_cqe_get_data(cqe), cqe.res]);
    liburing.io_uring_cqe_seen(ring, cqe);
  }
  t.deepEqual(seen.find(([d]) => d === 42n), [42n, -9]);
  t.deepEqual(seen.find(([d]) => d?.tag === 'good')[1], 4096);
  t.true(buf.equals(data));
  t.throws(() => liburing.trap_error(-9), { code: 'EBADF' });
  t.is(liburing.trap_error(7), 7);
  fs.closeSync(fd);
  await liburing.io_uring_queue_exit(ring);
});

ringTest('link-flags: IOSQE_IO_LINK orders a write before its read; a chain left open by the last SQE still runs', async (t) => {
  const ring = liburing.io_uring_queue_init(8);
  const fd = fs.openSync(tmpFile(Buffer.alloc(0)), 'r+');
  const back = Buffer.alloc(5);
  let sqe = liburing.io_uring_get_sqe(ring);
  liburing.io_uring_prep_write(sqe, fd, Buffer.from('chain'), 5, 0);
  liburing.io_uring_sqe_set_flags(sqe, liburing.IOSQE_IO_LINK);
  sqe = liburing.io_uring_get_sqe(ring);
  liburing.io_uring_prep_read(sqe, fd, back, 5, 0);
  liburing.io_uring_sqe_set_flags(sqe, liburing.IOSQE_IO_LINK);
  await liburing.io_uring_submit_and_wait(ring, 2);
  t.is(back.toString(), 'chain');
  t.throws(() => liburing.io_uring_sqe_set_flags(liburing.io_uring_get_sqe(ring), 1), { code: 'ERR_INVALID_ARG_VALUE' }, 'IOSQE_FIXED_FILE is not supported yet');
  fs.closeSync(fd);
  await liburing.io_uring_queue_exit(ring);
});

ringTest('timeout-prep: io_uring_prep_timeout takes a timespec and completes with -ETIME', async (t) => {
  const ring = liburing.io_uring_queue_init(4);
  liburing.io_uring_prep_timeout(liburing.io_uring_get_sqe(ring), { tv_sec: 0, tv_nsec: 20_000_000 }, 0, 0);
  liburing.io_uring_submit(ring);
  const cqe = await liburing.io_uring_wait_cqe(ring);
  t.is(cqe.res, -62);
  liburing.io_uring_cqe_seen(ring, cqe);
  await liburing.io_uring_queue_exit(ring);
});

ringTest('splice-prep: io_uring_prep_splice in liburing order moves bytes into a pipe', async (t) => {
  const ring = liburing.io_uring_queue_init(4);
  const data = pattern(1000, 6);
  const fd = fs.openSync(tmpFile(data), 'r');
  const p = fifo();
  liburing.io_uring_prep_splice(liburing.io_uring_get_sqe(ring), fd, 0, p.writeFd, -1, 1000, 0);
  liburing.io_uring_submit(ring);
  const cqe = await liburing.io_uring_wait_cqe(ring);
  t.is(liburing.trap_error(cqe.res), 1000);
  const out = Buffer.alloc(1000);
  fs.readSync(p.readFd, out);
  t.true(out.equals(data));
  p.close();
  fs.closeSync(fd);
  await liburing.io_uring_queue_exit(ring);
});

ringTest('bad-use: prep on a non-SQE, submit on an exited ring, and bad nbytes throw coded errors', async (t) => {
  const ring = liburing.io_uring_queue_init(4);
  t.throws(() => liburing.io_uring_prep_nop({}), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => liburing.io_uring_prep_read(liburing.io_uring_get_sqe(ring), 0, Buffer.alloc(4), 8, 0), { code: 'ERR_OUT_OF_RANGE' });
  await liburing.io_uring_queue_exit(ring);
  t.throws(() => liburing.io_uring_submit(ring), { code: 'ERR_INVALID_STATE' });
});

ringTest('queue-init-flags: setup flags become the Ring options of the same names; unknown ones are refused', async (t) => {
  const ring = liburing.io_uring_queue_init(8, undefined, liburing.IORING_SETUP_SINGLE_ISSUER | liburing.IORING_SETUP_COOP_TASKRUN | liburing.IORING_SETUP_CLAMP);
  const sqe = liburing.io_uring_get_sqe(ring);
  liburing.io_uring_prep_nop(sqe);
  liburing.io_uring_sqe_set_data(sqe, 'flagged');
  liburing.io_uring_submit(ring);
  const cqe = await liburing.io_uring_wait_cqe(ring);
  t.is(cqe.user_data, 'flagged');
  t.is(cqe.res, 0);
  await liburing.io_uring_queue_exit(ring);
  const polled = liburing.io_uring_queue_init(4, undefined, liburing.IORING_SETUP_IOPOLL);
  t.true(polled.ring.native !== undefined, 'an IOPOLL ring was set up');
  await liburing.io_uring_queue_exit(polled);
  t.throws(() => liburing.io_uring_queue_init(4, undefined, 1 << 3), { code: 'ERR_INVALID_ARG_VALUE' }, 'IORING_SETUP_CQSIZE needs params this layer does not take');
});

opTest(['timeoutMultishot'], 'timeout-multishot-prep: IORING_TIMEOUT_MULTISHOT gives count CQEs, each but the last with IORING_CQE_F_MORE', async (t) => {
  const ring = liburing.io_uring_queue_init(4);
  const sqe = liburing.io_uring_get_sqe(ring);
  liburing.io_uring_prep_timeout(sqe, { tv_sec: 0, tv_nsec: 5_000_000 }, 3, liburing.IORING_TIMEOUT_MULTISHOT);
  liburing.io_uring_sqe_set_data(sqe, 'tick');
  liburing.io_uring_submit(ring);
  const seen = [];
  for (let i = 0; i < 3; i++) {
    const cqe = await liburing.io_uring_wait_cqe(ring);
    seen.push([cqe.user_data, cqe.res, cqe.flags & liburing.IORING_CQE_F_MORE]);
    liburing.io_uring_cqe_seen(ring, cqe);
  }
  t.deepEqual(seen, [['tick', -62, liburing.IORING_CQE_F_MORE], ['tick', -62, liburing.IORING_CQE_F_MORE], ['tick', -62, 0]]);
  t.is(liburing.io_uring_peek_cqe(ring), null);
  await liburing.io_uring_queue_exit(ring);
});

opTest(['timeout', 'nop'], 'timeout-etime-success-prep: IORING_TIMEOUT_ETIME_SUCCESS keeps the link going when the timeout fires', async (t) => {
  const ring = liburing.io_uring_queue_init(4);
  let sqe = liburing.io_uring_get_sqe(ring);
  liburing.io_uring_prep_timeout(sqe, { tv_sec: 0, tv_nsec: 1_000_000 }, 0, liburing.IORING_TIMEOUT_ETIME_SUCCESS);
  liburing.io_uring_sqe_set_flags(sqe, liburing.IOSQE_IO_LINK);
  liburing.io_uring_sqe_set_data(sqe, 'timeout');
  sqe = liburing.io_uring_get_sqe(ring);
  liburing.io_uring_prep_nop(sqe);
  liburing.io_uring_sqe_set_data(sqe, 'nop');
  await liburing.io_uring_submit_and_wait(ring, 2);
  const res = Object.fromEntries(ring.cqes.map((c) => [c.user_data, c.res]));
  t.deepEqual(res, { timeout: -62, nop: 0 }, 'without the flag the nop would be -ECANCELED');
  await liburing.io_uring_queue_exit(ring);
});

ringTest('timeout-prep-flags-refused: io_uring_prep_timeout refuses unknown flag bits and two clocks', async (t) => {
  const ring = liburing.io_uring_queue_init(4);
  const sqe = liburing.io_uring_get_sqe(ring);
  t.throws(() => liburing.io_uring_prep_timeout(sqe, 10, 0, 1 << 10), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => liburing.io_uring_prep_timeout(sqe, 10, 0, liburing.IORING_TIMEOUT_BOOTTIME | liburing.IORING_TIMEOUT_REALTIME), { code: 'ERR_INVALID_ARG_VALUE' });
  await liburing.io_uring_queue_exit(ring);
});

opTest(['cancelFd', 'read'], 'cancel-fd-prep-flags: io_uring_prep_cancel_fd cancels one request on the fd, or every one with IORING_ASYNC_CANCEL_ALL', async (t) => {
  const ring = liburing.io_uring_queue_init(8);
  const p = fifo();
  for (let i = 0; i < 3; i++) {
    const sqe = liburing.io_uring_get_sqe(ring);
    liburing.io_uring_prep_read(sqe, p.readFd, Buffer.alloc(1), 1, -1);
    liburing.io_uring_sqe_set_data(sqe, 'read');
  }
  liburing.io_uring_submit(ring);
  await new Promise((resolve) => setImmediate(resolve));
  let sqe = liburing.io_uring_get_sqe(ring);
  liburing.io_uring_prep_cancel_fd(sqe, p.readFd, 0);
  liburing.io_uring_sqe_set_data(sqe, 'one');
  await liburing.io_uring_submit_and_wait(ring, 2);
  t.deepEqual(ring.cqes.map((c) => [c.user_data, c.res]).sort(), [['one', 0], ['read', -125]]);
  ring.cqes.length = 0;
  sqe = liburing.io_uring_get_sqe(ring);
  liburing.io_uring_prep_cancel_fd(sqe, p.readFd, liburing.IORING_ASYNC_CANCEL_ALL);
  liburing.io_uring_sqe_set_data(sqe, 'all');
  await liburing.io_uring_submit_and_wait(ring, 3);
  t.deepEqual(ring.cqes.map((c) => [c.user_data, c.res]).sort(), [['all', 2], ['read', -125], ['read', -125]]);
  p.close();
  await liburing.io_uring_queue_exit(ring);
});

ringTest('cancel-fd-prep-refused: io_uring_prep_cancel_fd refuses IORING_ASYNC_CANCEL_ANY and unknown bits', async (t) => {
  const ring = liburing.io_uring_queue_init(4);
  const sqe = liburing.io_uring_get_sqe(ring);
  t.throws(() => liburing.io_uring_prep_cancel_fd(sqe, 0, liburing.IORING_ASYNC_CANCEL_ANY), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => liburing.io_uring_prep_cancel_fd(sqe, 0, 1 << 9), { code: 'ERR_INVALID_ARG_VALUE' });
  await liburing.io_uring_queue_exit(ring);
});

opTest(['poll', 'pollRemove'], 'poll-remove-prep: io_uring_prep_poll_remove names a submitted poll by its user_data; an unknown one is -ENOENT', async (t) => {
  const ring = liburing.io_uring_queue_init(4);
  const p = fifo();
  let sqe = liburing.io_uring_get_sqe(ring);
  liburing.io_uring_prep_poll_add(sqe, p.pollFd, 1 /* POLLIN */);
  liburing.io_uring_sqe_set_data64(sqe, 7n);
  liburing.io_uring_submit(ring);
  sqe = liburing.io_uring_get_sqe(ring);
  liburing.io_uring_prep_poll_remove(sqe, 7n);
  liburing.io_uring_sqe_set_data(sqe, 'remove');
  sqe = liburing.io_uring_get_sqe(ring);
  liburing.io_uring_prep_poll_remove(sqe, 8n);
  liburing.io_uring_sqe_set_data(sqe, 'unknown');
  await liburing.io_uring_submit_and_wait(ring, 3);
  const res = new Map(ring.cqes.map((c) => [c.user_data, c.res]));
  t.is(res.get(7n), -125, 'the poll was cancelled');
  t.is(res.get('remove'), 0);
  t.is(res.get('unknown'), -2);
  p.close();
  await liburing.io_uring_queue_exit(ring);
});

opTest(['poll', 'pollUpdate'], "poll-update-prep: IORING_POLL_UPDATE_EVENTS | IORING_POLL_UPDATE_USER_DATA changes a poll's events and the user_data of its CQE", async (t) => {
  t.timeout(20_000);
  const ring = liburing.io_uring_queue_init(4);
  const p = fifo();
  let sqe = liburing.io_uring_get_sqe(ring);
  liburing.io_uring_prep_poll_add(sqe, p.pollFd, 4 /* POLLOUT: never, on a FIFO's read-only end */);
  liburing.io_uring_sqe_set_data(sqe, 'old');
  sqe = liburing.io_uring_get_sqe(ring);
  liburing.io_uring_prep_poll_update(sqe, 'old', 'new', 1 /* POLLIN */, liburing.IORING_POLL_UPDATE_EVENTS | liburing.IORING_POLL_UPDATE_USER_DATA);
  liburing.io_uring_sqe_set_data(sqe, 'update');
  await liburing.io_uring_submit_and_wait(ring, 1);
  t.deepEqual([ring.cqes[0].user_data, ring.cqes[0].res], ['update', 0]);
  fs.writeSync(p.writeFd, 'x');
  await liburing.io_uring_submit_and_wait(ring, 2);
  t.is(ring.cqes[1].user_data, 'new');
  t.is(ring.cqes[1].res & 1, 1);
  p.close();
  await liburing.io_uring_queue_exit(ring);
});

opTest(['timeout', 'timeoutUpdate'], 'timeout-update-prep: io_uring_prep_timeout_update in the same submission restarts the timeout it names', async (t) => {
  t.timeout(20_000);
  const ring = liburing.io_uring_queue_init(4);
  let sqe = liburing.io_uring_get_sqe(ring);
  liburing.io_uring_prep_timeout(sqe, { tv_sec: 60, tv_nsec: 0 }, 0, 0);
  liburing.io_uring_sqe_set_data(sqe, 'long');
  sqe = liburing.io_uring_get_sqe(ring);
  liburing.io_uring_prep_timeout_update(sqe, { tv_sec: 0, tv_nsec: 1_000_000 }, 'long', 0);
  liburing.io_uring_sqe_set_data(sqe, 'update');
  await liburing.io_uring_submit_and_wait(ring, 2);
  t.deepEqual(Object.fromEntries(ring.cqes.map((c) => [c.user_data, c.res])), { update: 0, long: -62 });
  await liburing.io_uring_queue_exit(ring);
});
