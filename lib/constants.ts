// Kernel constants for the AIO and ring options, each with the kernel that added it.
import { constants as fsConstants } from 'node:fs';

/** Kernel constants for flags and options of `Ring`, `Aio` and `AioContext`, each with the Linux release that added it. */
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
  /** poll events: data to read. */
  POLLIN: 0x001,
  /** poll events: urgent data to read. */
  POLLPRI: 0x002,
  /** poll events: writing will not block. */
  POLLOUT: 0x004,
  /** poll events: an error condition (always reported). */
  POLLERR: 0x008,
  /** poll events: hang-up (always reported). */
  POLLHUP: 0x010,
  /** poll events: the fd is not open (always reported). */
  POLLNVAL: 0x020,
  /** poll events: normal data to read. */
  POLLRDNORM: 0x040,
  /** poll events: priority-band data to read. */
  POLLRDBAND: 0x080,
  /** poll events: normal data may be written. */
  POLLWRNORM: 0x100,
  /** poll events: priority-band data may be written. */
  POLLWRBAND: 0x200,
  /** poll events: the peer closed its writing half (2.6.17). */
  POLLRDHUP: 0x2000,
  /** I/O priority classes for `priority.class` (IOCB_FLAG_IOPRIO, 4.18). */
  IOPRIO_CLASS_RT: 1,
  /** Best-effort I/O priority class (the default). */
  IOPRIO_CLASS_BE: 2,
  /** Idle I/O priority class: served when no other I/O is waiting. */
  IOPRIO_CLASS_IDLE: 3,
  /** open flag: bypass the page cache (needs aligned memory, offsets and lengths). */
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
  /** splice/tee `flags`: do not block on the pipes. */
  SPLICE_F_NONBLOCK: 0x2,
  /** splice/tee `flags`: more data follows (a hint to sockets). */
  SPLICE_F_MORE: 0x4,
  /** fadvise `advice` (2.6). */
  POSIX_FADV_NORMAL: 0,
  /** fadvise `advice`: random access; no read-ahead. */
  POSIX_FADV_RANDOM: 1,
  /** fadvise `advice`: sequential access; more read-ahead. */
  POSIX_FADV_SEQUENTIAL: 2,
  /** fadvise `advice`: read the range into the page cache now. */
  POSIX_FADV_WILLNEED: 3,
  /** fadvise `advice`: drop the range from the page cache. */
  POSIX_FADV_DONTNEED: 4,
  /** fadvise `advice`: the data is read once. */
  POSIX_FADV_NOREUSE: 5,
  /** syncFileRange `flags` (2.6.17). */
  SYNC_FILE_RANGE_WAIT_BEFORE: 1,
  /** syncFileRange `flags`: start writing out the dirty pages of the range. */
  SYNC_FILE_RANGE_WRITE: 2,
  /** syncFileRange `flags`: wait for the range's write-out to finish. */
  SYNC_FILE_RANGE_WAIT_AFTER: 4,
  /** setxattr `flags` (2.4). */
  XATTR_CREATE: 1,
  /** setxattr `flags`: fail with ENODATA if the attribute does not exist. */
  XATTR_REPLACE: 2,
  /** epoll events for `epollCtl` and `epollWait` (2.6). */
  EPOLLIN: 0x001,
  /** epoll events: urgent data to read. */
  EPOLLPRI: 0x002,
  /** epoll events: writing will not block. */
  EPOLLOUT: 0x004,
  /** epoll events: an error condition (always reported). */
  EPOLLERR: 0x008,
  /** epoll events: hang-up (always reported). */
  EPOLLHUP: 0x010,
  /** epoll events: the peer closed its writing half (2.6.17). */
  EPOLLRDHUP: 0x2000,
  /** epoll flags: one wake-up per arming (2.6.2), edge-triggered (2.6). */
  EPOLLONESHOT: 0x40000000,
  /** epoll flag: edge-triggered (2.6). */
  EPOLLET: 0x80000000,
  /** `epollCtl` ops (2.6). */
  EPOLL_CTL_ADD: 1,
  /** `epollCtl` op: remove the fd. */
  EPOLL_CTL_DEL: 2,
  /** `epollCtl` op: change the fd's events. */
  EPOLL_CTL_MOD: 3,
  /** `waitid` idtypes: any child, a pid, a process group (2.6.9), a pidfd (5.4). */
  P_ALL: 0,
  /** `waitid` idtype: the child whose pid is `id`. */
  P_PID: 1,
  /** `waitid` idtype: any child in process group `id`. */
  P_PGID: 2,
  /** `waitid` idtype: the child whose pidfd is `id` (5.4). */
  P_PIDFD: 3,
  /** `waitid` options (2.6.9). */
  WNOHANG: 0x00000001,
  /** `waitid` options: children stopped by a signal. */
  WSTOPPED: 0x00000002,
  /** `waitid` options: children that exited. */
  WEXITED: 0x00000004,
  /** `waitid` options: stopped children resumed by SIGCONT. */
  WCONTINUED: 0x00000008,
  /** `waitid` options: leave the child waitable (Node's `child_process` reaps its own children). */
  WNOWAIT: 0x01000000,
  /** `waitid` result `code`s (si_code of SIGCHLD). */
  CLD_EXITED: 1,
  /** `waitid` `code`: killed by a signal. */
  CLD_KILLED: 2,
  /** `waitid` `code`: killed by a signal, with a core dump. */
  CLD_DUMPED: 3,
  /** `waitid` `code`: a traced child trapped. */
  CLD_TRAPPED: 4,
  /** `waitid` `code`: stopped by a signal. */
  CLD_STOPPED: 5,
  /** `waitid` `code`: resumed by SIGCONT. */
  CLD_CONTINUED: 6,
  /** futex2 flags of a `futexWaitv` word (6.7): a 32-bit word, private to this process. */
  FUTEX2_SIZE_U32: 0x02,
  /** futex2 flag: the word is private to this process (the default of `futexWaitv`). */
  FUTEX2_PRIVATE: 0x80,
  /** `uringCmd` socket commands (6.7): bytes unread, bytes unsent. */
  SOCKET_URING_OP_SIOCINQ: 0,
  /** `uringCmd` socket command: bytes not yet sent. */
  SOCKET_URING_OP_SIOCOUTQ: 1,
  /** `uringCmd` socket command behind `getsockopt` (6.7, SOL_SOCKET only). */
  SOCKET_URING_OP_GETSOCKOPT: 2,
  /** `uringCmd` socket command behind `setsockopt` (6.7). */
  SOCKET_URING_OP_SETSOCKOPT: 3,
  /** Address families for `socket` (the same on every Linux architecture). */
  AF_UNIX: 1,
  /** Address family: IPv4. */
  AF_INET: 2,
  /** Address family: IPv6. */
  AF_INET6: 10,
  /** Socket types for `socket`, with the flags that may be or-ed in (2.6.27). */
  SOCK_STREAM: 1,
  /** Socket type: datagrams (UDP). */
  SOCK_DGRAM: 2,
  /** Socket type: ordered, reliable datagrams (AF_UNIX). */
  SOCK_SEQPACKET: 5,
  /** Socket flag, or-ed into the type: non-blocking (2.6.27). */
  SOCK_NONBLOCK: 0o4000,
  /** Socket flag: close on exec (always added by `socket`). */
  SOCK_CLOEXEC: 0o2000000,
  /** Protocols for `socket` (0 picks the type's default); with SOL_SOCKET, the levels of `setsockopt`. */
  IPPROTO_TCP: 6,
  /** Protocol: UDP. */
  IPPROTO_UDP: 17,
  /** Protocol, and the `setsockopt` level of IPv6 options. */
  IPPROTO_IPV6: 41,
  /** The `setsockopt`/`getsockopt` level of socket options (SO_*). */
  SOL_SOCKET: 1,
  /** `setsockopt`/`getsockopt` names at SOL_SOCKET (asm-generic values: x86, arm, riscv): reuse a port in TIME_WAIT. */
  SO_REUSEADDR: 2,
  /** At SOL_SOCKET: the send buffer's size in bytes (the kernel doubles it). */
  SO_SNDBUF: 7,
  /** At SOL_SOCKET: the receive buffer's size in bytes (the kernel doubles it). */
  SO_RCVBUF: 8,
  /** At SOL_SOCKET: send keepalive probes on an idle connection. */
  SO_KEEPALIVE: 9,
  /** At SOL_SOCKET: what close does with unsent data (`{ onoff, linger }`). */
  SO_LINGER: 13,
  /** At SOL_SOCKET: several sockets bind the same port, the kernel spreads connections (3.9). */
  SO_REUSEPORT: 15,
  /** At IPPROTO_TCP: send small segments at once (no Nagle delay). */
  TCP_NODELAY: 1,
  /** At IPPROTO_TCP: idle seconds before the first keepalive probe. */
  TCP_KEEPIDLE: 4,
  /** At IPPROTO_IPV6. */
  IPV6_V6ONLY: 26,
  /** `shutdown` `how`. */
  SHUT_RD: 0,
  /** `shutdown` `how`: stop sending (the peer reads end of stream). */
  SHUT_WR: 1,
  /** `shutdown` `how`: stop both. */
  SHUT_RDWR: 2,
  /** send/recv `flags` (MSG_NOSIGNAL and MSG_WAITALL are always added to sends). */
  MSG_OOB: 0x1,
  /** send/recv `flags`: read without taking the data from the queue. */
  MSG_PEEK: 0x2,
  /** send/recv `flags`: send only to directly connected hosts. */
  MSG_DONTROUTE: 0x4,
  /** recvmsg result `flags`: control data was cut short. */
  MSG_CTRUNC: 0x8,
  /** recv `flags`: return the real length of a longer datagram; recvmsg result: a datagram did not fit. */
  MSG_TRUNC: 0x20,
  /** send/recv `flags`: do not block (EAGAIN instead). */
  MSG_DONTWAIT: 0x40,
  /** send `flags`: end of record (SOCK_SEQPACKET). */
  MSG_EOR: 0x80,
  /** recv `flags`: wait until the whole buffer is filled. */
  MSG_WAITALL: 0x100,
  /** send `flags`: no SIGPIPE on a broken connection (always added). */
  MSG_NOSIGNAL: 0x4000,
  /** send `flags`: more data follows; hold back a partial frame. */
  MSG_MORE: 0x8000,
});
