// uring-aio: Linux kernel asynchronous I/O for Node.js.
import { fromNative } from './errors';
import { LoadError } from './loader';
import { native } from './native';
import { constants as osConstants } from 'node:os';

export { Ring, Chain } from './ring';
export type { RingOptions, ChainSubmitOptions, RingMessage } from './ring';
export type {
  RingOpOptions,
  PathOpOptions,
  ReadWriteOptions,
  FsyncOptions,
  StatOptions,
  StatxOptions,
  FallocateOptions,
  RenameOptions,
  UnlinkOptions,
  LinkOptions,
  OpenHowOptions,
  TimeoutOptions,
  XattrSetOptions,
  XattrGetOptions,
  PipeOptions,
  FutexOptions,
  RingOps,
  RingTarget,
  PollUpdateOptions,
  TimeoutUpdateOptions,
  CancelFdOptions,
  EpollEvent,
  WaitidResult,
  FutexWaiter,
  FixedRange,
  SocketOptions,
  AcceptOptions,
  BindOptions,
  AcceptMultishotOptions,
  SendRecvOptions,
  SendmsgOptions,
  RecvMultishotOptions,
  Accepted,
  RecvmsgResult,
} from './ops';
export { BufferRing, localAddress, peerAddress } from './net';
export type { RingChunk, BufferRingOptions, SocketAddress, SocketAddressInput, InetAddress, UnixAddress, Linger, SocketOptionValue, SocketOptionResult, RawSocketOption, SolSocket, IpprotoTcp, IpprotoIpv6, SocketOptionMethods } from './net';
export type { OpOptions } from './source';
export { Batch, BatchOp, BatchSqe, ENTRY_FIELDS, RESULT_FIELDS } from './batch';
export type { FixedBuffersOptions } from './batch';
export { Aio, AioContext, eventfd } from './aio';
export type { AioOptions, AioOpOptions, AioPriority, AioRequest, AioEvent, AioGetEventsOptions } from './aio';
export { constants } from './constants';
export { IoError, AbortError } from './errors';
export type { OpenFlags } from './flags';
export { Stats } from './stats';
export { alignedBuffer } from './buffer';

/**
 * A new epoll instance (epoll_create1(2) with EPOLL_CLOEXEC) for `ring.epollCtl` and
 * `ring.epollWait`: Node has no epoll fd of its own to offer. Returns the fd; close it
 * with `fs.closeSync` (or `ring.close`). Throws an IoError (EMFILE, ENOMEM, ...).
 */
export function epollCreate(): number {
  try {
    return native().epollCreate();
  } catch (e) {
    throw fromNative(e, 'epoll_create1');
  }
}

/** What `isSupported()` found: io_uring works here, or why not. */
export type Support =
  | {
    /** io_uring works here. */
    ok: true;
  }
  | {
    /** io_uring cannot be used here. */
    ok: false;
    /** `EPERM` (seccomp, io_uring_disabled), `ENOSYS`, `ENOMEM`, or an `ERR_URING_AIO_*` loader code. */
    code: string;
    /** The negative errno, when a system call failed. */
    errno?: number;
    /** Why, and what to do about it. */
    reason: string;
  };

let support: Support | undefined;

/**
 * Whether io_uring works here. Probes once (a 2-entry ring, created and closed) on the
 * first call, never at import. `code` is 'EPERM' for seccomp or the
 * kernel.io_uring_disabled sysctl, 'ENOSYS' for kernels without it, 'ENOMEM' for memlock,
 * and an ERR_URING_AIO_* code where the native addon cannot load (not Linux, no
 * binary for this platform, glibc/musl mismatch).
 */
export function isSupported(): Support {
  if (support !== undefined) return support;
  let addon: ReturnType<typeof native>;
  try {
    addon = native();
  } catch (e) {
    if (!(e instanceof LoadError)) throw e;
    return (support = { ok: false, code: e.code, reason: e.message });
  }
  const { errno, reason } = addon.probeIoUring();
  if (errno === 0) return (support = { ok: true });
  const code = Object.entries(osConstants.errno).find(([, n]) => n === errno)?.[0] ?? `E${errno}`;
  return (support = { ok: false, code, errno: -errno, reason });
}
