// uring-aio/liburing: the names a liburing (C) or Python `Liburing` user knows, over
// `Ring`. Every io_uring_prep_* function comes from the opcode table (lib/ops.ts), so
// it takes liburing's arguments minus the SQE and has the same safety as the rest:
// a prep only records the arguments, io_uring_submit hands them to the ring, which
// copies or owns every byte the kernel touches until the completion is reaped.
import { constants as fsConstants } from 'node:fs';
import { IoError, invalidArgType, invalidArgValue, invalidState } from './errors';
import { checkSqe, io_uring_sqe, preps, type Prep } from './liburing-sqe';
export type { __kernel_timespec, epoll_event, futex_waitv, io_uring_iovec, msghdr, open_how } from './liburing-sqe';
import { LiburingTarget, OPS, SQE_ASYNC, SQE_DRAIN, SQE_HARDLINK, SQE_LINK, type Prepared } from './ops';
import { Ring, ringInternals, type RingOptions } from './ring';
import type { TrackExtra } from './source';
import { AT_FDCWD } from './stats';
import { validateInteger, validateView } from './validate';

export { io_uring_sqe };
export type { Prep };
// io_uring_prep_nop, io_uring_prep_read, ...: one per liburing name of the opcode table.
export * from './liburing-preps';

// IOSQE_* flags for io_uring_sqe_set_flags (the ones uring-aio supports).
/** Start only after every SQE submitted before it has completed (5.2). */
export const IOSQE_IO_DRAIN = 1 << 1;
/** The next SQE starts only after this one succeeded (5.3). */
export const IOSQE_IO_LINK = 1 << 2;
/** The next SQE starts after this one, whatever its result (5.5). */
export const IOSQE_IO_HARDLINK = 1 << 3;
/** Go to a kernel worker at once, without a non-blocking attempt (5.6). */
export const IOSQE_ASYNC = 1 << 4;
/** io_uring_prep_fsync `fsync_flags`: fdatasync(2) semantics. */
export const IORING_FSYNC_DATASYNC = 1;
/** CQE flag: more CQEs of this (multishot) operation follow. */
export const IORING_CQE_F_MORE = 1 << 1;
/** A zero-copy send's notification: the kernel no longer uses the memory sent (6.0). */
export const IORING_CQE_F_NOTIF = 1 << 3;
/** io_uring_prep_timeout flag: `ts` is an absolute time. */
export const IORING_TIMEOUT_ABS = 1;
/** io_uring_prep_timeout flag: CLOCK_BOOTTIME (5.15). */
export const IORING_TIMEOUT_BOOTTIME = 1 << 2;
/** io_uring_prep_timeout flag: CLOCK_REALTIME (5.15). */
export const IORING_TIMEOUT_REALTIME = 1 << 3;
/** io_uring_prep_timeout flag: firing counts as success for a link (5.16). */
export const IORING_TIMEOUT_ETIME_SUCCESS = 1 << 5;
/** io_uring_prep_timeout flag: fire every `ts`, `count` times (0: until cancelled) (6.4). */
export const IORING_TIMEOUT_MULTISHOT = 1 << 6;
/** Poll flag: multishot (5.13). */
export const IORING_POLL_ADD_MULTI = 1;
/** io_uring_prep_poll_update flag: change the poll's events. */
export const IORING_POLL_UPDATE_EVENTS = 1 << 1;
/** io_uring_prep_poll_update flag: change the user_data its CQEs carry. */
export const IORING_POLL_UPDATE_USER_DATA = 1 << 2;
/** io_uring_prep_cancel_fd flag: cancel every request on the fd, not the first (5.19). */
export const IORING_ASYNC_CANCEL_ALL = 1;
/** Cancel by fd (set by io_uring_prep_cancel_fd itself) (5.19). */
export const IORING_ASYNC_CANCEL_FD = 1 << 1;
/** Cancel any request (refused by this layer: it would reach the ring's own requests). */
export const IORING_ASYNC_CANCEL_ANY = 1 << 2;
/** io_uring_prep_cancel_fd flag: `fd` is a registered file (6.0). */
export const IORING_ASYNC_CANCEL_FD_FIXED = 1 << 3;
/** io_uring_prep_cmd_sock command: bytes received and not yet read (6.7). */
export const SOCKET_URING_OP_SIOCINQ = 0;
/** io_uring_prep_cmd_sock command: bytes not yet sent (6.7). */
export const SOCKET_URING_OP_SIOCOUTQ = 1;
/** io_uring_prep_unlinkat flag: remove a directory. */
export const AT_REMOVEDIR = 0x200;
/** io_uring_prep_linkat flag: follow `oldpath` if it is a symlink. */
export const AT_SYMLINK_FOLLOW = 0x400;
/** io_uring_prep_statx flag: do not follow a final symlink. */
export const AT_SYMLINK_NOFOLLOW = 0x100;
export { AT_FDCWD };
/** open(2) flag O_RDONLY, as `node:fs` `constants.O_RDONLY`. */
export const O_RDONLY = fsConstants.O_RDONLY;
/** open(2) flag O_WRONLY, as `node:fs` `constants.O_WRONLY`. */
export const O_WRONLY = fsConstants.O_WRONLY;
/** open(2) flag O_RDWR, as `node:fs` `constants.O_RDWR`. */
export const O_RDWR = fsConstants.O_RDWR;
/** open(2) flag O_CREAT, as `node:fs` `constants.O_CREAT`. */
export const O_CREAT = fsConstants.O_CREAT;
/** open(2) flag O_EXCL, as `node:fs` `constants.O_EXCL`. */
export const O_EXCL = fsConstants.O_EXCL;
/** open(2) flag O_TRUNC, as `node:fs` `constants.O_TRUNC`. */
export const O_TRUNC = fsConstants.O_TRUNC;
/** open(2) flag O_APPEND, as `node:fs` `constants.O_APPEND`. */
export const O_APPEND = fsConstants.O_APPEND;
/** open(2) flag O_DIRECT, as `node:fs` `constants.O_DIRECT`. */
export const O_DIRECT = fsConstants.O_DIRECT;
/** open(2) flag O_NONBLOCK, as `node:fs` `constants.O_NONBLOCK`. */
export const O_NONBLOCK = fsConstants.O_NONBLOCK;

const SQE_FLAGS: ReadonlyArray<[number, number]> = [
  [IOSQE_IO_DRAIN, SQE_DRAIN],
  [IOSQE_IO_LINK, SQE_LINK],
  [IOSQE_IO_HARDLINK, SQE_HARDLINK],
  [IOSQE_ASYNC, SQE_ASYNC],
];
const SUPPORTED_SQE_FLAGS = SQE_FLAGS.reduce((all, [flag]) => all | flag, 0);

/** A ring as liburing sees it: SQEs prepared and not yet submitted, CQEs not yet seen. */
export class io_uring {
  /** @internal */ ring: Ring | undefined;
  /** @internal */ readonly sqes: io_uring_sqe[] = [];
  /** @internal */ readonly cqes: io_uring_cqe[] = [];
  /** @internal io_uring_wait_cqe and io_uring_submit_and_wait calls waiting for a CQE. */
  readonly waiters: Array<{ wake: () => void; fail: (e: Error) => void }> = [];
  /** @internal */ entries = 0;
  /**
   * @internal The submitted SQEs not yet completed, by user_data: what
   * io_uring_prep_poll_remove and the like name (the last submitted wins a tie).
   */
  readonly inFlight = new Map<unknown, { sqe: io_uring_sqe; target: Promise<unknown> }>();
}

/** A completion: `res` as the kernel gave it (negative errno on failure), `user_data` as set. */
export class io_uring_cqe {
  /** @internal The io_uring whose queue it was posted to (io_uring_cqe_seen checks it). */
  owner: io_uring | undefined;

  constructor(
    /** The value io_uring_sqe_set_data gave the SQE. */
    readonly user_data: unknown,
    /** The kernel's result: -errno on failure (a timeout that fired: -62, -ETIME). */
    readonly res: number,
    /** IORING_CQE_F_MORE (more CQEs of a multishot operation follow), IORING_CQE_F_NOTIF, or 0. */
    readonly flags: number,
    /**
     * The result as `Ring` gives it (a Stats for statx, a Buffer for getxattr, [r, w]
     * for pipe), or for a failed operation its full error (an IoError with path and
     * syscall), which `trap_error(cqe)` throws.
     */
    readonly value: unknown,
  ) {}
}

/**
 * What `io_uring_cqes()` returns: slots for CQEs, which `io_uring_wait_cqe(ring, cqes)`,
 * `io_uring_peek_cqe(ring, cqes)` and `io_uring_peek_batch_cqe(ring, cqes, count)` fill
 * from `cqes[0]` on, as the Python package's `io_uring_cqes` array of CQE pointers.
 */
export type io_uring_cqes = io_uring_cqe[];

/** io_uring_cqes(no = 1): an array of `no` CQE slots, empty until a wait or a peek fills them (Python's `io_uring_cqes`). */
export function io_uring_cqes(no = 1): io_uring_cqes {
  validateInteger(no, 'no', 1, 2 ** 32 - 1);
  const cqes: io_uring_cqe[] = [];
  cqes.length = no;
  return cqes;
}

function checkCqes(cqes: unknown): asserts cqes is io_uring_cqe[] {
  if (!Array.isArray(cqes)) throw invalidArgType('cqes', 'an instance of Array (io_uring_cqes())', cqes);
}

/** One entry of an `iovec`. */
export interface iovec_entry {
  /** The bytes, a view of the buffer given to `new iovec()`. */
  iov_base: Uint8Array;
  /** Their length. */
  iov_len: number;
}

/** An iovec array: `iov[i].iov_base` (a Uint8Array) and `iov[i].iov_len`, as Python's `iovec`. */
export class iovec extends Array<iovec_entry> {
  /** One entry per view, in order. */
  constructor(...buffers: ArrayBufferView[]) {
    super();
    for (const [i, b] of buffers.entries()) {
      validateView(b, `buffers[${i}]`);
      this.push({ iov_base: new Uint8Array(b.buffer, b.byteOffset, b.byteLength), iov_len: b.byteLength });
    }
  }

  /** Array methods that make a new array (`map`, `slice`, ...) make a plain one. */
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }
}

function live(ring: io_uring): Ring {
  if (!(ring instanceof io_uring)) throw invalidArgType('ring', 'an instance of io_uring', ring);
  if (ring.ring === undefined) throw invalidState('the ring is not initialised (io_uring_queue_init) or was exited');
  return ring.ring;
}

// IORING_SETUP_* flags io_uring_queue_init takes (uapi values).
/** io_uring_queue_init flag: busy-poll for completions (O_DIRECT on poll queues). */
export const IORING_SETUP_IOPOLL = 1 << 0;
/** io_uring_queue_init flag: a kernel thread polls the submission queue. */
export const IORING_SETUP_SQPOLL = 1 << 1;
/** io_uring_queue_init flag: clamp `entries` to the maximum (always on here). */
export const IORING_SETUP_CLAMP = 1 << 4;
/** io_uring_queue_init flag: keep submitting past a failing SQE (always on here, 5.18). */
export const IORING_SETUP_SUBMIT_ALL = 1 << 7;
/** io_uring_queue_init flag: no interrupting the thread to post completions (5.19). */
export const IORING_SETUP_COOP_TASKRUN = 1 << 8;
/** io_uring_queue_init flag: flag pending completion work (always on here with COOP_TASKRUN). */
export const IORING_SETUP_TASKRUN_FLAG = 1 << 9;
/** io_uring_queue_init flag: one thread submits (6.0). */
export const IORING_SETUP_SINGLE_ISSUER = 1 << 12;
/** io_uring_queue_init flag: completion work runs when the ring asks for completions (6.1). */
export const IORING_SETUP_DEFER_TASKRUN = 1 << 13;

/** Each flag as a `RingOptions` field; CLAMP, SUBMIT_ALL and TASKRUN_FLAG are what every Ring sets anyway. */
const SETUP_FLAGS: ReadonlyArray<[number, (options: RingOptions) => void]> = [
  [IORING_SETUP_IOPOLL, (o) => { o.iopoll = true; }],
  [IORING_SETUP_SQPOLL, (o) => { o.sqpoll = true; }],
  [IORING_SETUP_COOP_TASKRUN, (o) => { o.coopTaskrun = true; }],
  [IORING_SETUP_SINGLE_ISSUER, (o) => { o.singleIssuer = true; }],
  [IORING_SETUP_DEFER_TASKRUN, (o) => { o.deferTaskrun = true; }],
  [IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_TASKRUN_FLAG, () => {}],
];
const SUPPORTED_SETUP_FLAGS = SETUP_FLAGS.reduce((all, [flag]) => all | flag, 0);

/**
 * io_uring_queue_init(entries, ring, flags): sets up `ring` (a new one if omitted)
 * with `entries` submission queue entries. `flags` may hold IORING_SETUP_IOPOLL,
 * SQPOLL, COOP_TASKRUN, SINGLE_ISSUER and DEFER_TASKRUN (the `Ring` options of the
 * same names); CLAMP, SUBMIT_ALL and TASKRUN_FLAG are always on. Returns the ring.
 */
export function io_uring_queue_init(entries: number, ring: io_uring = new io_uring(), flags = 0): io_uring {
  if (!(ring instanceof io_uring)) throw invalidArgType('ring', 'an instance of io_uring', ring);
  if (ring.ring !== undefined) throw invalidState('the ring is already initialised');
  validateInteger(flags, 'flags', 0, 2 ** 32 - 1);
  if ((flags & ~SUPPORTED_SETUP_FLAGS) !== 0) {
    throw invalidArgValue('flags', flags, 'may hold only IORING_SETUP_IOPOLL, SQPOLL, CLAMP, SUBMIT_ALL, COOP_TASKRUN, TASKRUN_FLAG, SINGLE_ISSUER and DEFER_TASKRUN');
  }
  const options: RingOptions = { entries };
  for (const [flag, set] of SETUP_FLAGS) if ((flags & flag) !== 0) set(options);
  ring.ring = new Ring(options);
  ring.entries = ring.ring.entries;
  return ring;
}

/**
 * io_uring_queue_exit(ring): cancels what is in flight, waits for it, and frees the
 * ring. An io_uring_wait_cqe or io_uring_submit_and_wait still waiting rejects
 * (ERR_INVALID_STATE): no CQE will come.
 */
export function io_uring_queue_exit(ring: io_uring): Promise<void> {
  const r = live(ring);
  ring.ring = undefined;
  ring.sqes.length = 0;
  ring.cqes.length = 0;
  ring.inFlight.clear();
  const exited = invalidState('io_uring_queue_exit ran while this wait was pending');
  for (const waiter of ring.waiters.splice(0)) waiter.fail(exited);
  return r.destroy();
}

/** io_uring_get_sqe(ring): the next free SQE, or null when `entries` are already prepared and unsubmitted. */
export function io_uring_get_sqe(ring: io_uring): io_uring_sqe | null {
  live(ring);
  if (ring.sqes.length >= ring.entries) return null;
  const sqe = new io_uring_sqe();
  ring.sqes.push(sqe);
  return sqe;
}

/** io_uring_sqe_set_data(sqe, data): any value, handed back as the CQE's `user_data`. */
export function io_uring_sqe_set_data(sqe: io_uring_sqe, data: unknown): void {
  checkSqe(sqe).user_data = data;
}

/** io_uring_sqe_set_data64: the same, for a number or bigint. */
export const io_uring_sqe_set_data64 = io_uring_sqe_set_data;

/** io_uring_cqe_get_data(cqe): the SQE's user data. */
export function io_uring_cqe_get_data(cqe: io_uring_cqe): unknown {
  return cqe.user_data;
}

/** io_uring_sqe_set_flags(sqe, flags): IOSQE_IO_DRAIN, IOSQE_IO_LINK, IOSQE_IO_HARDLINK, IOSQE_ASYNC. */
export function io_uring_sqe_set_flags(sqe: io_uring_sqe, flags: number): void {
  checkSqe(sqe);
  validateInteger(flags, 'flags', 0, 0xff);
  if ((flags & ~SUPPORTED_SQE_FLAGS) !== 0) {
    throw invalidArgValue('flags', flags, 'may hold only IOSQE_IO_DRAIN, IOSQE_IO_LINK, IOSQE_IO_HARDLINK and IOSQE_ASYNC');
  }
  checkSqe(sqe).sqeFlags = flags;
}

/**
 * io_uring_submit(ring): hands every prepared SQE to the kernel, in order, in one
 * io_uring_enter; returns how many. Each one's CQE arrives for io_uring_wait_cqe /
 * io_uring_peek_cqe. An SQE got but never prepared is a NOP, as in liburing.
 */
export function io_uring_submit(ring: io_uring): number {
  const r = live(ring);
  const sqes = ring.sqes.splice(0);
  let linkOpen = false;
  for (const sqe of sqes) {
    sqe.submitted = true;
    const prepared = sqe.prepared ?? prepareNop();
    for (const [flag, bit] of SQE_FLAGS) if ((sqe.sqeFlags & flag) !== 0) prepared.flags |= bit;
    linkOpen = (sqe.sqeFlags & (IOSQE_IO_LINK | IOSQE_IO_HARDLINK)) !== 0;
    const map = prepared.map;
    const relabel = resolveTarget(ring, prepared);
    // A multishot op's intermediate CQEs carry IORING_CQE_F_MORE, as in liburing.
    const onMore = (res: number): void => complete(ring, r, new io_uring_cqe(sqe.user_data, res, IORING_CQE_F_MORE, map === undefined ? res : map(res)));
    const extra: TrackExtra = { onMore };
    prepared.map = (res: number) => {
      // In completion order, before any later CQE is made: the target's later CQEs
      // carry the new user_data.
      relabel?.();
      // A zero-copy send's last CQE is its notification, flagged as in liburing.
      const flags = (extra.rowExtra ?? 0) & IORING_CQE_F_NOTIF;
      return new io_uring_cqe(sqe.user_data, res, flags, map === undefined ? res : map(res));
    };
    const target = ringInternals.submit(r, prepared, extra);
    const entry = { sqe, target };
    ring.inFlight.set(sqe.user_data, entry);
    const done = (): void => {
      if (ring.inFlight.get(sqe.user_data) === entry) ring.inFlight.delete(sqe.user_data);
    };
    target.then(
      (cqe) => {
        done();
        complete(ring, r, cqe as io_uring_cqe);
      },
      (e: unknown) => {
        done();
        complete(ring, r, new io_uring_cqe(sqe.user_data, errnoOf(e), 0, e));
      },
    );
  }
  // liburing ends a chain with the submission: so do we.
  if (linkOpen) ringInternals.endChain(r);
  return sqes.length;
}

/**
 * An SQE that names another by user_data (io_uring_prep_poll_remove, _poll_update,
 * _timeout_remove, _timeout_update) gets that SQE's operation as its target; an
 * unknown user_data stays as it is and the ring answers ENOENT. Returns what a
 * successful IORING_POLL_UPDATE_USER_DATA does: relabel the target.
 */
function resolveTarget(ring: io_uring, prepared: Prepared<unknown>): (() => void) | undefined {
  const ref = prepared.target;
  if (!(ref instanceof LiburingTarget)) return undefined;
  const found = ring.inFlight.get(ref.userData);
  if (found === undefined) return undefined;
  prepared.target = found.target;
  const relabel = ref.relabel;
  if (relabel === undefined) return undefined;
  return () => {
    if (ring.inFlight.get(ref.userData) === found) ring.inFlight.delete(ref.userData);
    found.sqe.user_data = relabel.userData;
    ring.inFlight.set(relabel.userData, found);
  };
}

/**
 * io_uring_submit_and_wait(ring, waitNr): submits, then resolves once `waitNr` CQEs are
 * ready. Rejects (ERR_INVALID_STATE) if io_uring_queue_exit runs first.
 */
export async function io_uring_submit_and_wait(ring: io_uring, waitNr: number): Promise<number> {
  validateInteger(waitNr, 'waitNr', 0, 2 ** 31 - 1);
  const submitted = io_uring_submit(ring);
  while (ring.cqes.length < waitNr) await nextCompletion(ring);
  return submitted;
}

/**
 * io_uring_wait_cqe(ring[, cqes]): resolves to the oldest CQE not yet seen, waiting for
 * one if needed; given `cqes` (from `io_uring_cqes()`), also puts it in `cqes[0]`, as
 * the Python package does. Await it: nothing blocks the thread. Rejects
 * (ERR_INVALID_STATE) if io_uring_queue_exit runs first.
 */
export async function io_uring_wait_cqe(ring: io_uring, cqes?: io_uring_cqes): Promise<io_uring_cqe> {
  live(ring);
  if (cqes !== undefined) checkCqes(cqes);
  while (ring.cqes.length === 0) await nextCompletion(ring);
  const cqe = ring.cqes[0]!;
  if (cqes !== undefined) cqes[0] = cqe;
  return cqe;
}

/** io_uring_peek_cqe(ring[, cqes]): the oldest CQE not yet seen (also put in `cqes[0]`), or null. */
export function io_uring_peek_cqe(ring: io_uring, cqes?: io_uring_cqes): io_uring_cqe | null {
  live(ring);
  if (cqes !== undefined) checkCqes(cqes);
  const cqe = ring.cqes[0] ?? null;
  if (cqe !== null && cqes !== undefined) cqes[0] = cqe;
  return cqe;
}

/**
 * io_uring_peek_batch_cqe(ring, cqes, count): puts up to `count` CQEs not yet seen, oldest
 * first, in `cqes[0]`, `cqes[1]`, ..., without waiting; returns how many. Mark them
 * consumed with io_uring_cq_advance(ring, n) or io_uring_cqe_seen for each.
 */
export function io_uring_peek_batch_cqe(ring: io_uring, cqes: io_uring_cqes, count: number): number {
  live(ring);
  checkCqes(cqes);
  validateInteger(count, 'count', 0, 2 ** 32 - 1);
  const n = Math.min(count, ring.cqes.length);
  for (let i = 0; i < n; i++) cqes[i] = ring.cqes[i]!;
  return n;
}

/** io_uring_cq_ready(ring): how many CQEs wait to be seen. */
export function io_uring_cq_ready(ring: io_uring): number {
  live(ring);
  return ring.cqes.length;
}

/** io_uring_cq_advance(ring, nr): marks the `nr` oldest CQEs consumed (at most those waiting). */
export function io_uring_cq_advance(ring: io_uring, nr: number): void {
  live(ring);
  validateInteger(nr, 'nr', 0, 2 ** 32 - 1);
  ring.cqes.splice(0, nr);
}

/**
 * io_uring_cqe_seen(ring, cqe): marks `cqe` consumed. A CQE another io_uring posted is
 * refused (ERR_INVALID_ARG_VALUE); one already seen is left as it is.
 */
export function io_uring_cqe_seen(ring: io_uring, cqe: io_uring_cqe): void {
  if (!(ring instanceof io_uring)) throw invalidArgType('ring', 'an instance of io_uring', ring);
  if (!(cqe instanceof io_uring_cqe)) throw invalidArgType('cqe', 'an instance of io_uring_cqe', cqe);
  if (cqe.owner !== ring) throw invalidArgValue('cqe', cqe, 'is not a CQE of this ring');
  const i = ring.cqes.indexOf(cqe);
  if (i >= 0) ring.cqes.splice(i, 1);
}

/**
 * trap_error(cqe) or trap_error(res[, syscall]): returns the result, or throws the
 * error of a failed one (Python's `trap_error`). Given the CQE, it throws the
 * operation's own IoError, with its syscall and path (`ENOENT: ..., openat 'x'`);
 * given `res` alone, an IoError made from the errno, naming `syscall` (default
 * 'io_uring') and no path.
 */
export function trap_error(cqe: io_uring_cqe): number;
export function trap_error(res: number, syscall?: string): number;
export function trap_error(result: number | io_uring_cqe, syscall = 'io_uring'): number {
  if (result instanceof io_uring_cqe) {
    if (result.res >= 0) return result.res;
    throw result.value instanceof Error ? result.value : new IoError(result.res, syscall);
  }
  if (typeof result !== 'number') throw invalidArgType('res', 'of type number or an instance of io_uring_cqe', result);
  if (result < 0) throw new IoError(result, syscall);
  return result;
}

/** Posts `cqe` for `ring`, unless `ring` was exited (or set up again) since `r` made it. */
function complete(ring: io_uring, r: Ring, cqe: io_uring_cqe): void {
  if (ring.ring !== r) return;
  cqe.owner = ring;
  ring.cqes.push(cqe);
  for (const waiter of ring.waiters.splice(0)) waiter.wake();
}

function nextCompletion(ring: io_uring): Promise<void> {
  live(ring);
  return new Promise((wake, fail) => ring.waiters.push({ wake, fail }));
}

function errnoOf(e: unknown): number {
  const errno = (e as { errno?: unknown })?.errno;
  return typeof errno === 'number' && errno < 0 ? errno : -22;
}

function prepareNop(): Prepared<unknown> {
  const p = OPS.nop.prepare();
  p.op = OPS.nop.op;
  return p;
}

/** Every io_uring_prep_* function, by name (for code that looks them up). */
export const prep: Readonly<Record<string, Prep>> = Object.freeze({ ...preps });
