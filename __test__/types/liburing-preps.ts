// Compiled by `npm run lint` (tsconfig.examples.json), never run: the io_uring_prep_*
// functions take liburing's parameters in liburing's order, so a call in another order,
// or with an argument of the wrong type, does not compile (each @ts-expect-error below
// is itself an error if the line compiles).
import {
  AT_FDCWD, O_RDONLY, io_uring, io_uring_cqes, io_uring_get_sqe, io_uring_peek_batch_cqe,
  io_uring_prep_openat, io_uring_prep_read, io_uring_prep_readv, io_uring_prep_recvmsg, io_uring_prep_splice,
  io_uring_prep_statx, io_uring_prep_timeout, io_uring_prep_write, io_uring_queue_init, io_uring_wait_cqe,
  trap_error, type io_uring_cqe, type io_uring_sqe,
} from 'uring-aio/liburing';

declare const ring: io_uring;
declare const sqe: io_uring_sqe;
const buf = Buffer.alloc(4);

// liburing's order: (sqe, fd, buf, nbytes, offset).
io_uring_prep_read(sqe, 0, buf, 4, 0);
io_uring_prep_write(sqe, 1, buf, buf.length, 0n);
// @ts-expect-error the buffer where the fd goes (issue 23's example)
io_uring_prep_read(sqe, Buffer.alloc(4), 0, 4);
// @ts-expect-error the Ring method's order (fd, buffer, position): nbytes is missing
io_uring_prep_read(sqe, 0, buf, 0);
// @ts-expect-error no SQE
io_uring_prep_read(0, buf, 4, 0);

// (sqe, dfd, path, flags, mode): a Node flag string is the Ring method's, not liburing's.
io_uring_prep_openat(sqe, AT_FDCWD, 'file', O_RDONLY, 0o644);
// @ts-expect-error 'r' is not an O_* number
io_uring_prep_openat(sqe, AT_FDCWD, 'file', 'r', 0o644);
// @ts-expect-error the path first, as ring.open() has it
io_uring_prep_openat(sqe, 'file', AT_FDCWD, O_RDONLY, 0o644);

io_uring_prep_readv(sqe, 0, [buf, { iov_base: buf, iov_len: 2 }], 2, 0);
// @ts-expect-error iovecs are views or { iov_base, iov_len }
io_uring_prep_readv(sqe, 0, [4], 1, 0);

io_uring_prep_statx(sqe, AT_FDCWD, 'file', 0, 0x7ff, null);
io_uring_prep_timeout(sqe, { tv_sec: 1, tv_nsec: 0 }, 0, 0);
// @ts-expect-error a timespec or milliseconds, not a string
io_uring_prep_timeout(sqe, '1s', 0, 0);
io_uring_prep_splice(sqe, 3, null, 4, -1, 1000, 0);
io_uring_prep_recvmsg(sqe, 3, { msg_iov: [buf] }, 0);
// @ts-expect-error a msghdr, not the views alone
io_uring_prep_recvmsg(sqe, 3, [buf], 0);

// The Python package's forms: io_uring_cqes() and io_uring_wait_cqe(ring, cqes).
async function pythonForms(): Promise<number> {
  const r = io_uring_queue_init(8, new io_uring(), 0);
  const cqes = io_uring_cqes();
  const s = io_uring_get_sqe(r);
  if (s !== null) io_uring_prep_read(s, 0, buf, 4, 0);
  await io_uring_wait_cqe(r, cqes);
  const cqe: io_uring_cqe = cqes[0]!;
  const fromPromise: io_uring_cqe = await io_uring_wait_cqe(ring);
  const batch: number = io_uring_peek_batch_cqe(r, io_uring_cqes(8), 8);
  // trap_error takes the CQE (its own error, path and all) or a res.
  return trap_error(cqe) + trap_error(fromPromise.res) + batch;
}
void pythonForms;
