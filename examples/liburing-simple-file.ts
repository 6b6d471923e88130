// The Python `Liburing` package's "Simple File Example" in uring-aio/liburing: open a
// file with O_CREAT | O_RDWR, write "hello world", read it back, close it; every step
// is one SQE, submitted and waited for.
//
//   compile it with tsc (or run it with Node 22.6+ --experimental-strip-types)
import {
  AT_FDCWD, O_CREAT, O_RDWR, iovec, io_uring, io_uring_cqe_seen, io_uring_get_sqe,
  io_uring_prep_close, io_uring_prep_openat, io_uring_prep_read, io_uring_prep_write,
  io_uring_queue_exit, io_uring_queue_init, io_uring_submit, io_uring_wait_cqe,
  io_uring_sqe, trap_error,
} from 'uring-aio/liburing';

/** The next SQE; this example never has more than one in flight. */
function sqeOf(ring: io_uring): io_uring_sqe {
  const sqe = io_uring_get_sqe(ring);
  if (sqe === null) throw new Error('submission queue full');
  return sqe;
}

async function open(ring: io_uring, path: string, flags: number, mode = 0o660, dirFd = AT_FDCWD): Promise<number> {
  // A relative `path` with AT_FDCWD is relative to the working directory.
  io_uring_prep_openat(sqeOf(ring), dirFd, path, flags, mode);
  return submitAndWait(ring); // the fd
}

async function write(ring: io_uring, fd: number, data: Uint8Array, offset = 0): Promise<number> {
  const iov = new iovec(data);
  io_uring_prep_write(sqeOf(ring), fd, iov[0]!.iov_base, iov[0]!.iov_len, offset);
  return submitAndWait(ring); // bytes written
}

async function read(ring: io_uring, fd: number, length: number, offset = 0): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const iov = new iovec(buffer);
  io_uring_prep_read(sqeOf(ring), fd, iov[0]!.iov_base, iov[0]!.iov_len, offset);
  const readLength = await submitAndWait(ring); // bytes actually read
  return buffer.subarray(0, readLength);
}

async function close(ring: io_uring, fd: number): Promise<void> {
  io_uring_prep_close(sqeOf(ring), fd);
  await submitAndWait(ring); // no error means success
}

async function submitAndWait(ring: io_uring): Promise<number> {
  io_uring_submit(ring);
  const cqe = await io_uring_wait_cqe(ring);
  // cqe.res >= 0 is the result; < 0 is -errno, which trap_error throws as an IoError.
  const result = trap_error(cqe.res);
  io_uring_cqe_seen(ring, cqe);
  return result;
}

async function main(path = process.argv[2] ?? '/tmp/liburing-test-file.txt'): Promise<void> {
  const ring = new io_uring();
  io_uring_queue_init(8, ring, 0);
  try {
    const fd = await open(ring, path, O_CREAT | O_RDWR);
    console.log('fd:', fd);
    const length = await write(ring, fd, Buffer.from('hello world'));
    console.log('wrote:', length);
    const content = await read(ring, fd, length);
    console.log('read:', content.toString());
    await close(ring, fd);
    console.log('closed.');
  } finally {
    await io_uring_queue_exit(ring);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
