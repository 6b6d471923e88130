// uring-aio/liburing as the seed (the Python `Liburing` package) uses it: io_uring_cqes()
// and io_uring_wait_cqe(ring, cqes); trap_error(cqe) with the operation's own error;
// waits that io_uring_queue_exit ends; and the misuse C would not catch, refused with
// Node's codes (a CQE of another ring, an SQE prepared again after it was submitted).
import fs from 'node:fs';
import net from 'node:net';
import * as liburing from 'uring-aio/liburing';
import { Ring, constants as c, localAddress } from '../dist/index.js';
import { fifo, opTest, ringTest, tmpFile } from './helpers.mjs';

const {
  AT_FDCWD, IORING_CQE_F_MORE, O_RDONLY, io_uring, io_uring_cq_advance, io_uring_cq_ready, io_uring_cqe_seen,
  io_uring_cqes, io_uring_get_sqe, io_uring_peek_batch_cqe, io_uring_peek_cqe, io_uring_prep_nop,
  io_uring_prep_openat, io_uring_prep_poll_add, io_uring_prep_read, io_uring_queue_exit, io_uring_queue_init,
  io_uring_sqe_set_data, io_uring_sqe_set_flags, io_uring_submit, io_uring_submit_and_wait, io_uring_wait_cqe,
  trap_error,
} = liburing;

ringTest('cqes-wait: io_uring_wait_cqe(ring, cqes) puts the CQE in cqes[0], as the Python package does', async (t) => {
  const ring = new io_uring();
  const cqes = io_uring_cqes();
  t.is(cqes.length, 1);
  t.is(cqes[0], undefined, 'empty until a wait fills it');
  io_uring_queue_init(8, ring, 0);
  const file = tmpFile(Buffer.from('seed'));
  io_uring_prep_openat(io_uring_get_sqe(ring), AT_FDCWD, file, O_RDONLY, 0);
  io_uring_submit(ring);
  const resolved = await io_uring_wait_cqe(ring, cqes);
  const cqe = cqes[0];
  t.is(cqe, resolved, 'the promise resolves to the same CQE');
  const fd = trap_error(cqe.res);
  io_uring_cqe_seen(ring, cqe);
  const buf = Buffer.alloc(4);
  io_uring_prep_read(io_uring_get_sqe(ring), fd, buf, 4, 0);
  io_uring_submit(ring);
  await io_uring_wait_cqe(ring, cqes);
  t.is(trap_error(cqes[0].res), 4);
  t.is(buf.toString(), 'seed');
  io_uring_cqe_seen(ring, cqes[0]);
  fs.closeSync(fd);
  await io_uring_queue_exit(ring);
});

ringTest('cqes-peek-batch: io_uring_peek_batch_cqe fills io_uring_cqes(n) and io_uring_cq_advance consumes them', async (t) => {
  const ring = io_uring_queue_init(8);
  for (let i = 0; i < 3; i++) {
    const sqe = io_uring_get_sqe(ring);
    io_uring_prep_nop(sqe);
    io_uring_sqe_set_data(sqe, i);
  }
  await io_uring_submit_and_wait(ring, 3);
  t.is(io_uring_cq_ready(ring), 3);
  const cqes = io_uring_cqes(8);
  t.is(io_uring_peek_batch_cqe(ring, cqes, 8), 3);
  t.deepEqual(cqes.slice(0, 3).map((cqe) => cqe.user_data).sort(), [0, 1, 2]);
  io_uring_cq_advance(ring, 3);
  t.is(io_uring_cq_ready(ring), 0);
  t.is(io_uring_peek_cqe(ring, cqes), null);
  t.throws(() => io_uring_peek_batch_cqe(ring, {}, 1), { code: 'ERR_INVALID_ARG_TYPE' });
  await io_uring_queue_exit(ring);
});

ringTest('trap-error-cqe: trap_error(cqe) throws the operation\'s own error, with syscall and path', async (t) => {
  const ring = io_uring_queue_init(4);
  io_uring_prep_openat(io_uring_get_sqe(ring), AT_FDCWD, '/no/such/dir/file', O_RDONLY, 0);
  io_uring_submit(ring);
  const cqe = await io_uring_wait_cqe(ring);
  t.is(cqe.res, -2);
  const error = t.throws(() => trap_error(cqe), { code: 'ENOENT' });
  t.is(error.syscall, 'openat');
  t.is(error.path, '/no/such/dir/file');
  t.is(error.message, "ENOENT: no such file or directory, openat '/no/such/dir/file'");
  // res alone has only the errno: the syscall given, and no path.
  const bare = t.throws(() => trap_error(cqe.res), { code: 'ENOENT' });
  t.is(bare.syscall, 'io_uring');
  t.is(bare.path, undefined);
  t.throws(() => trap_error('x'), { code: 'ERR_INVALID_ARG_TYPE' });
  io_uring_cqe_seen(ring, cqe);
  await io_uring_queue_exit(ring);
});

ringTest('trap-error-cqe-success: trap_error(cqe) returns the result of a CQE that succeeded', async (t) => {
  const ring = io_uring_queue_init(4);
  io_uring_prep_nop(io_uring_get_sqe(ring));
  io_uring_submit(ring);
  t.is(trap_error(await io_uring_wait_cqe(ring)), 0);
  await io_uring_queue_exit(ring);
});

ringTest('exit-rejects-wait: a wait_cqe pending at io_uring_queue_exit rejects instead of never settling', async (t) => {
  const ring = io_uring_queue_init(4);
  const waiting = io_uring_wait_cqe(ring);
  await io_uring_queue_exit(ring);
  await t.throwsAsync(waiting, { code: 'ERR_INVALID_STATE' });
});

ringTest('exit-rejects-submit-and-wait: a submit_and_wait pending at io_uring_queue_exit rejects', async (t) => {
  const ring = io_uring_queue_init(4);
  const p = fifo();
  // A poll on an empty pipe never completes by itself.
  io_uring_prep_poll_add(io_uring_get_sqe(ring), p.readFd, c.POLLIN);
  const waiting = io_uring_submit_and_wait(ring, 1);
  const exited = io_uring_queue_exit(ring);
  await t.throwsAsync(waiting, { code: 'ERR_INVALID_STATE' });
  await exited;
  p.close();
});

ringTest('exit-then-init: an exited ring set up again does not receive the old ring\'s completions', async (t) => {
  const ring = io_uring_queue_init(4);
  const p = fifo();
  io_uring_prep_poll_add(io_uring_get_sqe(ring), p.readFd, c.POLLIN);
  io_uring_submit(ring);
  await io_uring_queue_exit(ring); // the poll is cancelled: its CQE belongs to the old ring
  io_uring_queue_init(4, ring, 0);
  const sqe = io_uring_get_sqe(ring);
  io_uring_prep_nop(sqe);
  io_uring_sqe_set_data(sqe, 'new');
  io_uring_submit(ring);
  const cqe = await io_uring_wait_cqe(ring);
  t.is(cqe.user_data, 'new');
  io_uring_cqe_seen(ring, cqe);
  t.is(io_uring_peek_cqe(ring), null);
  await io_uring_queue_exit(ring);
  p.close();
});

ringTest('cqe-seen-foreign: io_uring_cqe_seen refuses a non-ring, a non-CQE and another ring\'s CQE with coded errors', async (t) => {
  const a = io_uring_queue_init(4);
  const b = io_uring_queue_init(4);
  io_uring_prep_nop(io_uring_get_sqe(a));
  io_uring_submit(a);
  const cqe = await io_uring_wait_cqe(a);
  t.throws(() => io_uring_cqe_seen({}, cqe), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => io_uring_cqe_seen(a, {}), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => io_uring_cqe_seen(b, cqe), { code: 'ERR_INVALID_ARG_VALUE' });
  t.is(io_uring_peek_cqe(a), cqe, 'a refused call consumes nothing');
  io_uring_cqe_seen(a, cqe);
  io_uring_cqe_seen(a, cqe); // seen twice: nothing left to consume
  t.is(io_uring_peek_cqe(a), null);
  await Promise.all([io_uring_queue_exit(a), io_uring_queue_exit(b)]);
});

ringTest('reprep-submitted: preparing, tagging or flagging an SQE after it was submitted is refused', async (t) => {
  const ring = io_uring_queue_init(4);
  const sqe = io_uring_get_sqe(ring);
  io_uring_prep_nop(sqe);
  io_uring_prep_nop(sqe); // before io_uring_submit an SQE may be prepared again, as in C
  io_uring_submit(ring);
  t.throws(() => io_uring_prep_nop(sqe), { code: 'ERR_INVALID_STATE' });
  t.throws(() => io_uring_prep_read(sqe, 0, Buffer.alloc(1), 1, 0), { code: 'ERR_INVALID_STATE' });
  t.throws(() => io_uring_sqe_set_data(sqe, 1), { code: 'ERR_INVALID_STATE' });
  t.throws(() => io_uring_sqe_set_flags(sqe, 0), { code: 'ERR_INVALID_STATE' });
  const cqe = await io_uring_wait_cqe(ring);
  t.is(cqe.res, 0, 'the one submitted ran as it was');
  io_uring_cqe_seen(ring, cqe);
  t.is(io_uring_peek_cqe(ring), null, 'nothing else was queued');
  await io_uring_queue_exit(ring);
});

opTest(['socket', 'bind', 'listen', 'acceptMultishot'], 'multishot-accept-prep: io_uring_prep_multishot_accept in liburing order (fd, addr, addrlen, flags)', async (t) => {
  const ring = io_uring_queue_init(4);
  const helper = new Ring({ entries: 4 });
  const fd = await helper.socket(c.AF_INET, c.SOCK_STREAM);
  await helper.bind(fd, { address: '127.0.0.1', port: 0 });
  await helper.listen(fd);
  liburing.io_uring_prep_multishot_accept(io_uring_get_sqe(ring), fd, null, null, 0);
  io_uring_submit(ring);
  const { port } = localAddress(fd);
  const clients = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
  for (let i = 0; i < 2; i++) {
    const cqe = await io_uring_wait_cqe(ring);
    t.true(cqe.res >= 0, `accepted fd ${cqe.res}`);
    t.is(cqe.flags & IORING_CQE_F_MORE, IORING_CQE_F_MORE, 'one request goes on accepting');
    t.is(cqe.value.fd, cqe.res);
    fs.closeSync(cqe.res);
    io_uring_cqe_seen(ring, cqe);
  }
  for (const s of clients) s.destroy();
  await io_uring_queue_exit(ring);
  await helper.close(fd);
  await helper.destroy();
});
