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
});
