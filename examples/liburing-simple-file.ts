// The Python `Liburing` package's "Simple File Example" in uring-aio/liburing, call for
// call: open a file with O_CREAT | O_RDWR, write "hello world", read it back, close it;
// every step is one SQE, submitted and waited for into `cqes` (io_uring_cqes()). The
// differences: each wait is awaited (nothing blocks the thread), and
// io_uring_get_sqe's null (a full submission queue) is checked.
//
//   compile it with tsc (or run it with Node 22.6+ --experimental-strip-types)
import {
  AT_FDCWD, O_CREAT, O_RDWR, iovec, io_uring, io_uring_cqe_seen, io_uring_cqes, io_uring_get_sqe,
  io_uring_prep_close, io_uring_prep_openat, io_uring_prep_read, io_uring_prep_write,
  io_uring_queue_exit, io_uring_queue_init, io_uring_submit, io_uring_wait_cqe,
  io_uring_sqe, trap_error,
} from 'uring-aio/liburing';

/** The next SQE; this example never has more than one in flight. */
function getSqe(ring: io_uring): io_uring_sqe {
  const sqe = io_uring_get_sqe(ring); // sqe (submission queue entry)
  if (sqe === null) throw new Error('submission queue full');
  return sqe;
}

async function open(ring: io_uring, cqes: io_uring_cqes, path: string, flags: number, mode = 0o660, dirFd = AT_FDCWD): Promise<number> {
  // A relative `path` with AT_FDCWD is relative to the working directory.
  io_uring_prep_openat(getSqe(ring), dirFd, path, flags, mode);
  return submitAndWait(ring, cqes); // the fd
}

async function write(ring: io_uring, cqes: io_uring_cqes, fd: number, data: Uint8Array, offset = 0): Promise<number> {
  const iov = new iovec(data);
  io_uring_prep_write(getSqe(ring), fd, iov[0]!.iov_base, iov[0]!.iov_len, offset);
  return submitAndWait(ring, cqes); // bytes written
}

async function read(ring: io_uring, cqes: io_uring_cqes, fd: number, length: number, offset = 0): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const iov = new iovec(buffer);
  io_uring_prep_read(getSqe(ring), fd, iov[0]!.iov_base, iov[0]!.iov_len, offset);
  const readLength = await submitAndWait(ring, cqes); // bytes actually read
  return buffer.subarray(0, readLength);
}

async function close(ring: io_uring, cqes: io_uring_cqes, fd: number): Promise<void> {
  io_uring_prep_close(getSqe(ring), fd);
  await submitAndWait(ring, cqes); // no error means success
}

async function submitAndWait(ring: io_uring, cqes: io_uring_cqes): Promise<number> {
  io_uring_submit(ring); // submit the entry
  await io_uring_wait_cqe(ring, cqes); // wait for it to finish
  const cqe = cqes[0]!; // cqe (completion queue entry)
  // cqe.res >= 0 is the result; < 0 is -errno, which trap_error throws as an IoError
  // (trap_error(cqe) throws the operation's own error, with its syscall and path).
  const result = trap_error(cqe.res);
  io_uring_cqe_seen(ring, cqe); // done with it: clear it from the completion queue
  return result;
}

async function main(path = process.argv[2] ?? '/tmp/liburing-test-file.txt'): Promise<void> {
  const ring = new io_uring();
  const cqes = io_uring_cqes();
  try {
    io_uring_queue_init(8, ring, 0);
    const fd = await open(ring, cqes, path, O_CREAT | O_RDWR);
    console.log('fd:', fd);
    const length = await write(ring, cqes, fd, Buffer.from('hello world'));
    console.log('wrote:', length);
    const content = await read(ring, cqes, fd, length);
    console.log('read:', content.toString());
    await close(ring, cqes, fd);
    console.log('closed.');
  } finally {
    await io_uring_queue_exit(ring);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
