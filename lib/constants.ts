// Kernel constants for the AIO and ring options, each with the kernel that added it.
import { constants as fsConstants } from 'node:fs';

export const constants = Object.freeze({
  /** High-priority I/O, polled where the device supports it (4.6). */
  RWF_HIPRI: 0x01,
  /** Per-I/O O_DSYNC (4.7). */
  RWF_DSYNC: 0x02,
  /** Per-I/O O_SYNC (4.7). */
  RWF_SYNC: 0x04,
  /** Fail with EAGAIN instead of blocking (4.14). */
  RWF_NOWAIT: 0x08,
  /** Per-I/O O_APPEND (4.16). */
  RWF_APPEND: 0x10,
  /** Per-I/O negation of O_APPEND (6.9). */
  RWF_NOAPPEND: 0x20,
  /** Untorn write (6.11). */
  RWF_ATOMIC: 0x40,
  /** Buffered I/O that drops its page-cache pages afterwards (6.14). */
  RWF_DONTCACHE: 0x80,
  POLLIN: 0x001,
  POLLPRI: 0x002,
  POLLOUT: 0x004,
  POLLERR: 0x008,
  POLLHUP: 0x010,
  POLLNVAL: 0x020,
  POLLRDNORM: 0x040,
  POLLRDBAND: 0x080,
  POLLWRNORM: 0x100,
  POLLWRBAND: 0x200,
  POLLRDHUP: 0x2000,
  /** I/O priority classes for `priority.class` (IOCB_FLAG_IOPRIO, 4.18). */
  IOPRIO_CLASS_RT: 1,
  IOPRIO_CLASS_BE: 2,
  IOPRIO_CLASS_IDLE: 3,
  O_DIRECT: fsConstants.O_DIRECT,
  /** openat2 `resolve`: no crossing into another mount (5.6). */
  RESOLVE_NO_XDEV: 0x01,
  /** openat2 `resolve`: no magic links such as /proc/self/fd/N (5.6). */
  RESOLVE_NO_MAGICLINKS: 0x02,
  /** openat2 `resolve`: no symlinks at all (5.6). */
  RESOLVE_NO_SYMLINKS: 0x04,
  /** openat2 `resolve`: stay beneath `dirfd`: no `..` out of it, no absolute paths (5.6). */
  RESOLVE_BENEATH: 0x08,
  /** openat2 `resolve`: treat `dirfd` as the root (5.6). */
  RESOLVE_IN_ROOT: 0x10,
  /** openat2 `resolve`: only from the dentry cache, else EAGAIN (5.12). */
  RESOLVE_CACHED: 0x20,
  /** rename `flags`: fail with EEXIST if the target exists (3.15). */
  RENAME_NOREPLACE: 0x1,
  /** rename `flags`: swap the two paths atomically (3.15). */
  RENAME_EXCHANGE: 0x2,
  /** splice/tee `flags` (2.6.17). */
  SPLICE_F_MOVE: 0x1,
  SPLICE_F_NONBLOCK: 0x2,
  SPLICE_F_MORE: 0x4,
  /** fadvise `advice` (2.6). */
  POSIX_FADV_NORMAL: 0,
  POSIX_FADV_RANDOM: 1,
  POSIX_FADV_SEQUENTIAL: 2,
  POSIX_FADV_WILLNEED: 3,
  POSIX_FADV_DONTNEED: 4,
  POSIX_FADV_NOREUSE: 5,
  /** syncFileRange `flags` (2.6.17). */
  SYNC_FILE_RANGE_WAIT_BEFORE: 1,
  SYNC_FILE_RANGE_WRITE: 2,
  SYNC_FILE_RANGE_WAIT_AFTER: 4,
  /** setxattr `flags` (2.4). */
  XATTR_CREATE: 1,
  XATTR_REPLACE: 2,
  /** epoll events for `epollCtl` and `epollWait` (2.6). */
  EPOLLIN: 0x001,
  EPOLLPRI: 0x002,
  EPOLLOUT: 0x004,
  EPOLLERR: 0x008,
  EPOLLHUP: 0x010,
  EPOLLRDHUP: 0x2000,
  /** epoll flags: one wake-up per arming (2.6.2), edge-triggered (2.6). */
  EPOLLONESHOT: 0x40000000,
  EPOLLET: 0x80000000,
  /** `epollCtl` ops (2.6). */
  EPOLL_CTL_ADD: 1,
  EPOLL_CTL_DEL: 2,
  EPOLL_CTL_MOD: 3,
  /** `waitid` idtypes: any child, a pid, a process group (2.6.9), a pidfd (5.4). */
  P_ALL: 0,
  P_PID: 1,
  P_PGID: 2,
  P_PIDFD: 3,
  /** `waitid` options (2.6.9). */
  WNOHANG: 0x00000001,
  WSTOPPED: 0x00000002,
  WEXITED: 0x00000004,
  WCONTINUED: 0x00000008,
  WNOWAIT: 0x01000000,
  /** `waitid` result `code`s (si_code of SIGCHLD). */
  CLD_EXITED: 1,
  CLD_KILLED: 2,
  CLD_DUMPED: 3,
  CLD_TRAPPED: 4,
  CLD_STOPPED: 5,
  CLD_CONTINUED: 6,
  /** futex2 flags of a `futexWaitv` word (6.7): a 32-bit word, private to this process. */
  FUTEX2_SIZE_U32: 0x02,
  FUTEX2_PRIVATE: 0x80,
  /** `uringCmd` socket commands (6.7): bytes unread, bytes unsent. */
  SOCKET_URING_OP_SIOCINQ: 0,
  SOCKET_URING_OP_SIOCOUTQ: 1,
  SOCKET_URING_OP_GETSOCKOPT: 2,
  SOCKET_URING_OP_SETSOCKOPT: 3,
  /** Address families for `socket` (the same on every Linux architecture). */
  AF_UNIX: 1,
  AF_INET: 2,
  AF_INET6: 10,
  /** Socket types for `socket`, with the flags that may be or-ed in (2.6.27). */
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_SEQPACKET: 5,
  SOCK_NONBLOCK: 0o4000,
  SOCK_CLOEXEC: 0o2000000,
  /** Protocols for `socket` (0 picks the type's default); with SOL_SOCKET, the levels of `setsockopt`. */
  IPPROTO_TCP: 6,
  IPPROTO_UDP: 17,
  IPPROTO_IPV6: 41,
  SOL_SOCKET: 1,
  /** `setsockopt`/`getsockopt` names at SOL_SOCKET (asm-generic values: x86, arm, riscv). */
  SO_REUSEADDR: 2,
  SO_SNDBUF: 7,
  SO_RCVBUF: 8,
  SO_KEEPALIVE: 9,
  SO_LINGER: 13,
  SO_REUSEPORT: 15,
  /** At IPPROTO_TCP. */
  TCP_NODELAY: 1,
  TCP_KEEPIDLE: 4,
  /** At IPPROTO_IPV6. */
  IPV6_V6ONLY: 26,
  /** `shutdown` `how`. */
  SHUT_RD: 0,
  SHUT_WR: 1,
  SHUT_RDWR: 2,
  /** send/recv `flags` (MSG_NOSIGNAL and MSG_WAITALL are always added to sends). */
  MSG_OOB: 0x1,
  MSG_PEEK: 0x2,
  MSG_DONTROUTE: 0x4,
  MSG_CTRUNC: 0x8,
  MSG_TRUNC: 0x20,
  MSG_DONTWAIT: 0x40,
  MSG_EOR: 0x80,
  MSG_WAITALL: 0x100,
  MSG_NOSIGNAL: 0x4000,
  MSG_MORE: 0x8000,
});
