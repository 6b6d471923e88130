// The opcode table's TypeScript half: one entry per `Ring` operation. An entry checks
// the arguments with Node's error codes and says what goes down to the native table
// (`op`: the Rust entry's name in crates/ring-core/src/op.rs; `nums` and `objs` in
// that entry's field order) and how the result comes back (`map`). The `Ring` method,
// the `ring.chain()` method, the probe name and the docs row all come from it.
import { closeSync } from 'node:fs';
import { constants as osConstants, endianness, release } from 'node:os';
import { ownedMemory } from './buffer';
import { IoError, fromNative, invalidArgType, invalidArgValue, nativeErrno, outOfRange } from './errors';
import type { NativeMemory } from './native';
import { parseOpenFlags, type OpenFlags } from './flags';
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, STATX_MASK, STATX_SIZE, Stats } from './stats';
import { BufferRing, COPIED_CHUNK, decodeAddress, decodeSocketOption, encodeAddress, encodeSocketOption, peerAddress, socketOptionSize, vectorsFor, type RingChunk, type SocketAddress, type SocketAddressInput } from './net';
import { native } from './native';
import {
  parseMode,
  shownPath,
  validateBoolean,
  validateFd,
  validateInteger,
  validateLength,
  validatePath,
  validatePosition,
  validateSignal,
  validateView,
  validateViews,
  validateFdList,
  IOV_MAX,
  type KernelPath,
} from './validate';

const { EFAULT, ETIME } = osConstants.errno;

/** Options every `Ring` operation takes. */
export interface RingOpOptions {
  /** Aborts the operation; the promise rejects with an AbortError. */
  signal?: AbortSignal;
  /**
   * Milliseconds the operation may take (IORING_OP_LINK_TIMEOUT linked behind it,
   * kernel 5.5). Past it the kernel cancels the operation and the promise rejects
   * with an IoError whose code is 'ETIME'.
   */
  timeout?: number;
  /**
   * IOSQE_IO_DRAIN (kernel 5.2): start only after every operation queued before it
   * has completed, and hold back the ones queued after it until it has.
   */
  drain?: boolean;
  /**
   * IOSQE_ASYNC (kernel 5.6): skip the non-blocking attempt and hand the operation
   * to a kernel worker thread at once (for I/O known to block).
   */
  async?: boolean;
  /**
   * IOSQE_FIXED_FILE (kernel 5.1): the operation's fd is an index into the files
   * registered with `ring.registerFiles()`.
   */
  fixedFile?: boolean;
}

/** Options of operations that take a path: `dirfd` resolves a relative path. */
export interface PathOpOptions extends RingOpOptions {
  /** Directory fd a relative path is resolved against (default: the working directory). */
  dirfd?: number;
}

export interface ReadWriteOptions extends RingOpOptions {
  /** RWF_* flags for this operation (`constants.RWF_DSYNC`, `RWF_NOWAIT`, ...; preadv2(2)). */
  rwFlags?: number;
}

export interface FsyncOptions extends RingOpOptions {
  /** fdatasync(2) semantics: flush data and only the metadata needed to read it. */
  datasync?: boolean;
  /** Start of the range to sync (with `length`; default: the whole file). */
  offset?: number;
  /** Bytes to sync from `offset` (0: to the end of the file). */
  length?: number;
}

export interface StatOptions extends PathOpOptions {
  /** Do not follow a final symlink (lstat). */
  followSymlinks?: boolean;
}

export interface StatxOptions extends PathOpOptions {
  /** AT_* flags for statx(2) (AT_SYMLINK_NOFOLLOW = 0x100, AT_STATX_DONT_SYNC = 0x4000, ...). */
  flags?: number;
  /** STATX_* fields to ask for (default: the basic stats and the birth time). */
  mask?: number;
}

export interface FallocateOptions extends RingOpOptions {
  /** fallocate(2) mode flags (FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2, ...). */
  mode?: number;
}

export interface RenameOptions extends PathOpOptions {
  /** renameat2(2) flags: RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2. */
  flags?: number;
  /** Directory fd the new path is resolved against (default: `dirfd`). */
  newDirfd?: number;
}

export interface UnlinkOptions extends PathOpOptions {
  /** unlinkat(2) flags: AT_REMOVEDIR (0x200) removes a directory, as `rmdir` does. */
  flags?: number;
}

export interface LinkOptions extends PathOpOptions {
  /** Directory fd the new path is resolved against (default: `dirfd`). */
  newDirfd?: number;
  /** Follow `existing` if it is a symlink (AT_SYMLINK_FOLLOW). */
  followSymlinks?: boolean;
}

export interface OpenHowOptions extends PathOpOptions {
  /** Node flag string or O_* bits (O_CLOEXEC is always added). */
  flags?: OpenFlags;
  /** File mode for a created file (default 0o666). */
  mode?: number | string;
  /** RESOLVE_* bits (`constants.RESOLVE_BENEATH`, `RESOLVE_NO_SYMLINKS`, ...; openat2(2)). */
  resolve?: number;
}

export interface TimeoutOptions extends RingOpOptions {
  /** Also complete once this many other completions have arrived (default 0: time only). */
  count?: number;
  /** `ms` is an absolute time on `clock`, in milliseconds since its epoch. */
  absolute?: boolean;
  /** The clock: 'monotonic' (default), 'boottime' (5.15) or 'realtime' (5.15). */
  clock?: 'monotonic' | 'boottime' | 'realtime';
}

export interface XattrSetOptions extends RingOpOptions {
  /** XATTR_CREATE = 1 (fail if it exists) or XATTR_REPLACE = 2 (fail if it does not). */
  flags?: number;
}

export interface XattrGetOptions extends RingOpOptions {
  /** Largest value to read, in bytes (default 65536, the kernel's limit). */
  size?: number;
}

export interface PipeOptions extends RingOpOptions {
  /** O_* flags for pipe2(2): O_NONBLOCK, O_DIRECT (packet mode). O_CLOEXEC is always added. */
  flags?: number;
}

/**
 * An earlier operation of the same ring that `pollRemove`, `pollUpdate`,
 * `timeoutRemove` and `timeoutUpdate` act on: the promise its call returned, or the
 * async iterable of a multishot call (once its first `next()` started it).
 */
export type RingTarget = PromiseLike<unknown> | AsyncIterable<unknown>;

export interface PollUpdateOptions extends RingOpOptions {
  /**
   * Replace the events the poll waits for with `events` (IORING_POLL_UPDATE_EVENTS;
   * default true). With false the poll is armed again for the events it had.
   */
  updateEvents?: boolean;
  /**
   * IORING_POLL_UPDATE_USER_DATA is not offered by `Ring` (true rejects with
   * ERR_INVALID_ARG_VALUE): the ring knows each operation by its user_data, so one
   * moved to another would complete unclaimed. `uring-aio/liburing`'s
   * `io_uring_prep_poll_update` relabels its own user_data instead.
   */
  updateUserData?: false;
}

export interface TimeoutUpdateOptions extends RingOpOptions {
  /** `ms` is an absolute time on the timeout's clock (IORING_TIMEOUT_ABS). */
  absolute?: boolean;
  /**
   * The timeout's clock, if you want it checked: the kernel keeps the clock the
   * timeout was made with, so another one rejects with ERR_INVALID_ARG_VALUE.
   */
  clock?: 'monotonic' | 'boottime' | 'realtime';
}

export interface CancelFdOptions extends RingOpOptions {
  /**
   * Cancel every operation on `fd` (IORING_ASYNC_CANCEL_ALL; default true), resolving
   * to how many; false cancels the first one found and resolves to 0.
   */
  all?: boolean;
}

/** One ready descriptor of `epollWait`. */
export interface EpollEvent {
  /** EPOLL* bits (`constants.EPOLLIN`, `EPOLLOUT`, ...). */
  events: number;
  /** The `data` given to `epollCtl` (the fd when none was given), a number below 2^53. */
  data: number;
}

/** What `waitid` found, from the `siginfo_t` the kernel wrote. */
export interface WaitidResult {
  /** The child's pid (0 with WNOHANG when no child had changed state). */
  pid: number;
  /** Its real user id. */
  uid: number;
  /** Its exit status (CLD_EXITED), or the signal that stopped or killed it. */
  status: number;
  /** `si_code`: CLD_EXITED (1), CLD_KILLED (2), CLD_DUMPED (3), CLD_STOPPED (5), CLD_CONTINUED (6). */
  code: number;
}

/** One futex word of `futexWaitv`. */
export interface FutexWaiter {
  /** Byte offset of the 32-bit word in the memory (a multiple of 4). */
  offset: number;
  /** The value it must hold for the wait to start (else EAGAIN). */
  value: number;
  /** FUTEX2_SIZE_U32 (2), with FUTEX2_PRIVATE (128) by default: 130. */
  flags?: number;
}

/** A range of a registered buffer for `readvFixed`/`writevFixed`. */
export interface FixedRange {
  /** Byte offset inside registered buffer `index`. */
  offset: number;
  /** Bytes from `offset`. */
  length: number;
}

/** IOSQE_* bits as the native `submit` takes them. */
export const SQE_DRAIN = 1;
export const SQE_ASYNC = 2;
export const SQE_LINK = 4;
export const SQE_HARDLINK = 8;
export const SQE_FIXED_FILE = 16;

/** An operation ready for the ring: what goes down, and how its result comes back. */
export interface Prepared<R = number> {
  /** The Rust table entry's name (set from the `OpEntry`). */
  op: string;
  nums: number[];
  objs: unknown[];
  /** Library-owned memory the op uses in place (its window is in `nums`). */
  memory?: NativeMemory;
  /** The system call named in errors. */
  syscall: string;
  path?: string;
  dest?: string;
  map?: (result: number) => R;
  /** A negative result that counts as success (ETIME for a timeout). */
  okErrno?: number;
  signal?: AbortSignal;
  /** SQE_* bits. */
  flags: number;
  /** Milliseconds of a linked timeout, or -1. */
  timeout: number;
  /** The operation this one acts on (a `RingTarget`), which `resolve` turns into its id. */
  target?: unknown;
  /**
   * Completes the arguments from the ring the operation goes to (a target's op id, a
   * registered buffer), when it is submitted; throwing rejects the operation.
   */
  resolve?: (ring: RingContext) => void;
  /** Adjusts the op for a place inside a linked chain (`ring.chain()`). */
  linked?: () => void;
  /**
   * A multishot op's iteration: `numbered` yields 1, 2, 3, ... instead of results;
   * `count` (0: endless) is how many in all, `setCount` re-arms it for what is left.
   */
  multishot?: { numbered: boolean; count: number; setCount: (left: number) => void };
  /**
   * A plain read or write (no `rwFlags`): it takes the binding's fast entry (zero-copy
   * for library memory) unless an SQE flag or timeout applies, when `rwArgs` gives
   * the table entry's arguments instead.
   */
  rw?: PlainReadWrite;
  /**
   * A zero-copy send: its first completion (IORING_CQE_F_MORE) carries the result,
   * and the operation settles with it only at the notification (IORING_CQE_F_NOTIF)
   * that says the kernel released the memory.
   */
  zeroCopy?: boolean;
  /**
   * The views in `objs` are the operation's own (statx's output), made for it and
   * never seen by the caller before it settles: it may wait in the turn's rows like an
   * operation whose objects are all strings.
   */
  ownViews?: boolean;
  /**
   * The plain system call to make on the JS thread where the kernel lacks the opcode
   * (socket, bind, listen: none of them blocks); its result goes through `map`.
   */
  fallback?: () => number;
  /**
   * Run `fallback` even where the kernel has the opcode: the command it would take is
   * newer than the opcode (socket options, 6.7) or refuses these arguments
   * (getsockopt below SOL_SOCKET).
   */
  syscallFirst?: boolean;
  /** A multishot op over a stream of completions (recvMultishot): see `StreamHooks`. */
  stream?: StreamHooks;
  /** The socket a multishot op reads: `ring.close(fd)` ends its loop first. */
  fd?: number;
  /** The provided buffer ring the op selects from (`bufRing` of the native submit). */
  bufRing?: BufferRing;
}

/** How a multishot op's completions become values, and when it arms again. */
export interface StreamHooks {
  /** The value a completion yields (undefined: none), from its result and CQE flags. */
  value(result: number, flags: number): unknown;
  /** After a final completion that is not an error: whether to arm again (false: the loop ends). */
  rearm(result: number): boolean;
  /**
   * A final error to recover from: a promise after which the op is armed again
   * (ENOBUFS: once a buffer is free); undefined if the error ends the loop.
   */
  recover(result: number): Promise<void> | undefined;
  /** A value the loop left unread (it was left early): release what it holds. */
  discard(value: unknown): void;
  /**
   * Values left unread when the loop is left go to the socket's next loop (received
   * bytes must not be lost) instead of `discard`; `close(fd)` and `destroy()` discard them.
   */
  keepsUnread?: boolean;
}

/** A pending operation of a ring, as `RingContext.target` finds it. */
export interface TargetOp {
  /** The native op id (its SQE's user_data). */
  id: number;
  /** What it was submitted with (`nums` in its Rust entry's order). */
  prepared: Prepared<unknown>;
}

/** What an operation may ask of the ring it is submitted to (`Prepared.resolve`). */
export interface RingContext {
  /**
   * The pending operation `target` stands for (a `RingTarget` of this ring) if an
   * entry whose `op` is one of `ops` made it; else throws an IoError ENOENT, as the
   * kernel answers for an operation it does not have.
   */
  target(target: unknown, ops: readonly string[], syscall: string): TargetOp;
  /** Registered buffer `index` (`ring.fixedBuffers[index]`), or undefined. */
  fixedBuffer(index: number): Buffer | undefined;
  /** `fd` is being closed: the multishot loops reading it end (their ops are cancelled). */
  closing(fd: number): void;
}

/**
 * A liburing `user_data` standing for an SQE already submitted on the same `io_uring`
 * (the target of `io_uring_prep_poll_remove` and the like): `uring-aio/liburing` puts
 * that SQE's operation in its place when it submits. `relabel` carries the new
 * user_data of IORING_POLL_UPDATE_USER_DATA.
 */
export class LiburingTarget {
  constructor(readonly userData: unknown, readonly relabel?: { userData: unknown }) {}
}

/** The arguments of a read or write that can take the fast entry. */
export interface PlainReadWrite {
  write: boolean;
  fd: number;
  buffer: ArrayBufferView;
  position: number | bigint;
}

/**
 * One entry: the liburing name of its prep function, the Rust entry it goes down as
 * (`op`), and how a call is prepared.
 */
export interface OpEntry<A extends unknown[], R> {
  liburing: string;
  op: string;
  prepare: (...args: A) => Prepared<R>;
  /**
   * The `Ring` method's arguments from the liburing prep function's (minus the SQE),
   * where the two differ (`uring-aio/liburing`).
   */
  fromLiburing?: (...args: any[]) => unknown[];
  /**
   * Sets what the liburing arguments ask for and the `Ring` method has no option for
   * (a timeout's IORING_TIMEOUT_MULTISHOT), on the prepared op.
   */
  adjustLiburing?: (p: Prepared<unknown>, ...args: any[]) => void;
  /**
   * The release that added the flag this entry relies on, where the opcode itself is
   * older (the probe sees only opcodes): `ring.supports()` also checks the release.
   */
  flagSince?: string;
}

/**
 * A multishot entry: its `Ring` method returns an async iterable of results; `rearm`
 * says whether it starts again when the kernel ends it on its own (poll does; a
 * counted timeout is simply done).
 */
export interface MultishotEntry<A extends unknown[], R> extends OpEntry<A, R> {
  multishot: { rearm: boolean };
}

function multishotEntry<A extends unknown[], R>(
  liburing: string,
  op: string,
  rearm: boolean,
  prepare: (...args: A) => Prepared<R>,
  flagSince?: string,
): MultishotEntry<A, R> {
  return { liburing, op, prepare, multishot: { rearm }, flagSince };
}

function entry<A extends unknown[], R = number>(
  liburing: string,
  op: string,
  prepare: (...args: A) => Prepared<R>,
  fromLiburing?: (...args: any[]) => unknown[],
  adjustLiburing?: (p: Prepared<unknown>, ...args: any[]) => void,
): OpEntry<A, R> {
  return { liburing, op, prepare, fromLiburing, adjustLiburing };
}

/** Whether the running kernel's release is at least `version` ('5.19'). */
export function releaseAtLeast(version: string): boolean {
  const [major = 0, minor = 0] = release().split('.').map((n) => Number.parseInt(n, 10));
  const [wantMajor = 0, wantMinor = 0] = version.split('.').map(Number);
  return major > wantMajor || (major === wantMajor && minor >= wantMinor);
}

/** The first `n` bytes of a view, as liburing's (buf, nbytes) pairs give them. */
function firstBytes(buf: unknown, n: unknown): ArrayBufferView {
  validateView(buf, 'buf');
  validateInteger(n, 'nbytes', 0, buf.byteLength);
  return new Uint8Array(buf.buffer, buf.byteOffset, n);
}

/** liburing's (iovecs, nr_vecs): the first `nr` of an array of views or `{ iov_base, iov_len }`. */
function firstVecs(iovecs: unknown, nr: unknown): ArrayBufferView[] {
  if (!Array.isArray(iovecs)) throw invalidArgType('iovecs', 'an instance of Array', iovecs);
  validateInteger(nr, 'nr_vecs', 0, iovecs.length);
  return iovecs.slice(0, nr).map((v: unknown) =>
    ArrayBuffer.isView(v) ? v : firstBytes((v as { iov_base?: unknown })?.iov_base, (v as { iov_len?: unknown })?.iov_len));
}

/** liburing's `struct __kernel_timespec` as `{ tv_sec, tv_nsec }`, or milliseconds. */
function timespecMs(ts: unknown): number {
  if (typeof ts === 'number') return ts;
  const t = ts as { tv_sec?: unknown; tv_nsec?: unknown } | null;
  if (t === null || typeof t !== 'object') throw invalidArgType('ts', 'of type object or number', ts);
  validateInteger(t.tv_sec ?? 0, 'ts.tv_sec', 0, Number.MAX_SAFE_INTEGER);
  validateInteger(t.tv_nsec ?? 0, 'ts.tv_nsec', 0, 999_999_999);
  return Number(t.tv_sec ?? 0) * 1000 + Number(t.tv_nsec ?? 0) / 1e6;
}

const CLOCK_OF_FLAGS: Record<number, 'monotonic' | 'boottime' | 'realtime'> = { 0: 'monotonic', 4: 'boottime', 8: 'realtime' };

const O_CLOEXEC = 0o2000000;
const AT_REMOVEDIR = 0x200;
const AT_SYMLINK_FOLLOW = 0x400;
const IORING_FSYNC_DATASYNC = 1;
const TIMEOUT_ABS = 1;
const TIMEOUT_MULTISHOT = 1 << 6;
const TIMEOUT_ETIME_SUCCESS = 1 << 5;
const TIMEOUT_CLOCKS = { monotonic: 0, boottime: 4, realtime: 8 } as const;
const XATTR_SIZE_MAX = 65536;
const UINT32_MAX = 2 ** 32 - 1;
/** Relative timeouts are kept below ~31 years (the native side clamps there too). */
const MAX_TIMEOUT_MS = 1e12;
/** Absolute times (ms since the clock's epoch) up to the year 2255. */
const MAX_ABSOLUTE_MS = 9e12;

const INT32_MAX = 2 ** 31 - 1;
const TIMEOUT_CLOCK_MASK = 12;
const TIMEOUT_UPDATE = 2;
/** The Rust entries a poll or a timeout target was made by. */
const POLL_OPS = ['poll', 'pollMultishot'] as const;
const TIMEOUT_OPS = ['timeout'] as const;
/** The ops other ops can name as their target (pollRemove, timeoutUpdate, ...). */
export const TARGET_OPS: ReadonlySet<string> = new Set([...POLL_OPS, ...TIMEOUT_OPS]);
const POLL_ADD_MULTI = 1;
const POLL_UPDATE_EVENTS = 2;
const POLL_UPDATE_USER_DATA = 4;
const ASYNC_CANCEL_ALL = 1;
const ASYNC_CANCEL_FD = 2;
const ASYNC_CANCEL_FD_FIXED = 8;
/**
 * `struct epoll_event`: packed, 12 bytes, on x86 (the uapi's EPOLL_PACKED); 16 bytes
 * with the data 8-byte aligned elsewhere (aarch64). Rust refuses an output too small
 * for `maxEvents` of its own size, so a mistake here cannot overrun it.
 */
const EPOLL_PACKED = process.arch === 'x64' || process.arch === 'ia32';
const EPOLL_EVENT_SIZE = EPOLL_PACKED ? 12 : 16;
const EPOLL_DATA_OFFSET = EPOLL_PACKED ? 4 : 8;
const EPOLL_MAX_EVENTS = 2 ** 20;
/** sizeof(siginfo_t). */
const SIGINFO_SIZE = 128;
const FUTEX2_SIZE_U32 = 0x02;
const FUTEX_WAITV_MAX = 128;

const NONE: never[] = [];

/** The common options of every operation, checked: signal, SQE flags, link timeout. */
function common(options: RingOpOptions | undefined, syscall: string): Prepared<never> {
  if (options !== undefined && (options === null || typeof options !== 'object')) throw invalidArgType('options', 'of type object', options);
  const signal = options?.signal;
  validateSignal(signal);
  let flags = 0;
  let timeout = -1;
  if (options !== undefined) {
    validateBoolean(options.drain, 'options.drain');
    validateBoolean(options.async, 'options.async');
    validateBoolean(options.fixedFile, 'options.fixedFile');
    if (options.drain === true) flags |= SQE_DRAIN;
    if (options.async === true) flags |= SQE_ASYNC;
    if (options.fixedFile === true) flags |= SQE_FIXED_FILE;
    if (options.timeout !== undefined) {
      timeout = milliseconds(options.timeout, 'options.timeout');
    }
  }
  return { op: '', nums: NONE, objs: NONE, syscall, signal, flags, timeout };
}

export function milliseconds(value: unknown, name: string, max = MAX_TIMEOUT_MS): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!(value >= 0 && value <= max)) throw outOfRange(name, `>= 0 && <= ${max}`, value);
  return value;
}

function dirfdOf(options: PathOpOptions | undefined): number {
  return validDirfd(options?.dirfd, 'options.dirfd', AT_FDCWD);
}

function validDirfd(dirfd: unknown, name: string, fallback: number): number {
  if (dirfd === undefined) return fallback;
  validateInteger(dirfd, name, AT_FDCWD, 2 ** 31 - 1);
  return dirfd;
}

function bitsOf(value: unknown, name: string): number {
  if (value === undefined) return 0;
  validateInteger(value, name, 0, UINT32_MAX);
  return value;
}

/** A position as the native table takes it: a number, -1 for "the file position". */
function positionNumber(pos: number | bigint): number {
  if (typeof pos === 'bigint') throw outOfRange('position', `<= ${Number.MAX_SAFE_INTEGER} with options`, pos);
  return pos;
}

/** The table entry's arguments of a plain read or write (`Prepared.rw`). */
export function rwArgs(p: Prepared<unknown>): void {
  const rw = p.rw!;
  p.nums = [rw.fd, positionNumber(rw.position), 0];
  p.objs = [rw.buffer];
  // An alignedBuffer is used in place (the binding checks the view lies inside it).
  p.memory = ownedMemory(rw.buffer);
}

/** -1 or null for "no offset" (a pipe), else an offset >= 0. */
function spliceOffset(value: unknown, name: string): number {
  if (value === null || value === undefined || value === -1) return -1;
  return validateLength(value, name);
}

function withPath<R>(p: Prepared<R>, path: KernelPath): Prepared<R> {
  p.path = shownPath(path);
  return p;
}

const toVoid = (): void => undefined;

/**
 * A view of library-owned memory (an `alignedBuffer`, or a registered buffer from
 * `ring.fixedBuffers`) as the native side takes it: the memory, then its window.
 * Operations whose memory's address matters (futexes, madvise, registered buffers)
 * take only these: the library keeps the memory alive until the completion is reaped.
 */
function libraryWindow(view: unknown, name: string): [NativeMemory, number, number] {
  validateView(view, name);
  const memory = ownedMemory(view);
  if (memory === undefined) throw invalidArgValue(name, view, 'must be library-owned memory: an alignedBuffer() or one of ring.fixedBuffers');
  return [memory, view.byteOffset, view.byteLength];
}

/** readFixed and writeFixed. */
function fixedReadWrite(syscall: string, fd: number, buffer: ArrayBufferView, index: number, position: unknown, options: ReadWriteOptions | undefined): Prepared {
  validateFd(fd);
  const [memory, offset, length] = libraryWindow(buffer, 'buffer');
  validateInteger(index, 'index', 0, 16383);
  const p = common(options, syscall) as Prepared;
  p.nums = [fd, offset, length, index, positionNumber(validatePosition(position)), bitsOf(options?.rwFlags, 'options.rwFlags')];
  p.memory = memory;
  return p;
}

/** MADV_* values madvise takes: ones that only advise or drop contents. */
const MADVISE_ADVICE = new Set([0, 1, 2, 3, 4, 8, 20, 21, 22, 23]);

/** FUTEX2_SIZE_U32 | FUTEX2_PRIVATE: a 32-bit word in this process's memory. */
const FUTEX2_U32_PRIVATE = 0x02 | 0x80;
const FUTEX_BITSET_MATCH_ANY = 0xffffffff;

export interface FutexOptions extends RingOpOptions {
  /** Bitset the wait and the wake must share (default: any). */
  mask?: number;
}

function futexPrepared(syscall: string, word: ArrayBufferView, value: number, options: FutexOptions | undefined): Prepared {
  const [memory, offset, length] = libraryWindow(word, 'word');
  if (length < 4 || offset % 4 !== 0) throw invalidArgValue('word', word, 'must be at least 4 bytes at a 4-byte-aligned offset');
  const mask = options?.mask ?? FUTEX_BITSET_MATCH_ANY;
  validateInteger(mask, 'options.mask', 1, UINT32_MAX);
  const p = common(options, syscall) as Prepared;
  p.nums = [offset, 4, value, mask, FUTEX2_U32_PRIVATE];
  p.memory = memory;
  return p;
}

/** read and write: the fast entry unless `rwFlags` asks for the table's. */
function readWrite(write: boolean, fd: number, buffer: ArrayBufferView, position: unknown, options: ReadWriteOptions | undefined): Prepared {
  validateFd(fd);
  validateView(buffer, 'buffer');
  const pos = validatePosition(position);
  const p = common(options, write ? 'write' : 'read') as Prepared;
  const rwFlags = bitsOf(options?.rwFlags, 'options.rwFlags');
  if (rwFlags === 0) {
    p.rw = { write, fd, buffer, position: pos };
  } else {
    p.nums = [fd, positionNumber(pos), rwFlags];
    p.objs = [buffer];
    p.memory = ownedMemory(buffer);
  }
  return p;
}

/** readv and writev. */
function vectored(syscall: string, fd: number, buffers: readonly ArrayBufferView[], position: unknown, options: ReadWriteOptions | undefined): Prepared {
  validateFd(fd);
  validateViews(buffers, 'buffers');
  const p = common(options, syscall) as Prepared;
  p.nums = [fd, positionNumber(validatePosition(position)), bitsOf(options?.rwFlags, 'options.rwFlags')];
  p.objs = [vectorsFor(fd, buffers)];
  return p;
}

function statxPrepared(options: PathOpOptions | undefined, dirfd: number, path: KernelPath, flags: number, mask: number, shown: string | undefined): Prepared<Stats> {
  const raw = new Uint8Array(STATX_SIZE);
  const p = common(options, 'statx') as Prepared<Stats>;
  p.nums = [dirfd, flags, mask];
  p.objs = [path, raw];
  p.ownViews = true;
  p.path = shown;
  p.map = () => new Stats(raw);
  return p;
}

function xattrName(name: unknown): string {
  if (typeof name !== 'string') throw invalidArgType('name', 'of type string', name);
  if (name.includes('\0')) throw invalidArgValue('name', name, 'must be a string without null bytes');
  return name;
}

function xattrValue(value: unknown): ArrayBufferView {
  const view = typeof value === 'string' ? Buffer.from(value) : value;
  validateView(view, 'value');
  if (view.byteLength > XATTR_SIZE_MAX) throw outOfRange('value.byteLength', `<= ${XATTR_SIZE_MAX}`, view.byteLength);
  return view;
}

function xattrSize(options: XattrGetOptions | undefined): Uint8Array {
  const size = options?.size ?? XATTR_SIZE_MAX;
  validateInteger(size, 'options.size', 1, XATTR_SIZE_MAX);
  return Buffer.alloc(size);
}

/** Whether this CPU is little-endian (how structs the kernel wrote are read back). */
const LE = endianness() === 'LE';

/** A `RingTarget` argument, checked for its type; the ring finds the operation when it is submitted. */
function targetArg(target: unknown): object {
  if (target === null || (typeof target !== 'object' && typeof target !== 'function')) {
    throw invalidArgType('target', 'a Promise or async iterable returned by an operation of this ring', target);
  }
  return target;
}

/** pollRemove and timeoutRemove: the target's op id, found at submission. */
function removePrepared(syscall: string, target: unknown, ops: readonly string[], options: RingOpOptions | undefined): Prepared<void> {
  const t = targetArg(target);
  const p = common(options, syscall) as Prepared<void>;
  p.target = t;
  p.nums = [0];
  p.resolve = (ring) => {
    p.nums[0] = ring.target(p.target, ops, syscall).id;
  };
  p.map = toVoid;
  return p;
}

/** The clock of IORING_TIMEOUT_* `flags` (liburing); both clock bits are refused. */
function clockOfFlags(flags: number): 'monotonic' | 'boottime' | 'realtime' {
  const clock = CLOCK_OF_FLAGS[flags & TIMEOUT_CLOCK_MASK];
  if (clock === undefined) throw invalidArgValue('flags', flags, 'may name one clock: IORING_TIMEOUT_BOOTTIME or IORING_TIMEOUT_REALTIME');
  return clock;
}

/**
 * readvFixed and writevFixed: `ranges` of registered buffer `index`, each
 * `{ offset, length }` or a view of that buffer; the buffer is found at submission.
 * Rust refuses (EFAULT) a range that reaches outside it.
 */
function fixedVectored(syscall: string, fd: number, index: number, ranges: readonly (FixedRange | ArrayBufferView)[], position: unknown, options: ReadWriteOptions | undefined): Prepared {
  validateFd(fd);
  validateInteger(index, 'index', 0, 16383);
  if (!Array.isArray(ranges)) throw invalidArgType('ranges', 'an instance of Array', ranges);
  validateInteger(ranges.length, 'ranges.length', 0, IOV_MAX);
  const checked = ranges.map((r: unknown, i): FixedRange | ArrayBufferView => {
    if (ArrayBuffer.isView(r)) return r;
    if (r === null || typeof r !== 'object') throw invalidArgType(`ranges[${i}]`, 'of type object or an ArrayBufferView', r);
    const { offset, length } = r as Partial<FixedRange>;
    return { offset: validateLength(offset, `ranges[${i}].offset`), length: validateLength(length, `ranges[${i}].length`) };
  });
  const pos = positionNumber(validatePosition(position));
  const rwFlags = bitsOf(options?.rwFlags, 'options.rwFlags');
  const p = common(options, syscall) as Prepared;
  p.resolve = (ring) => {
    const buffer = ring.fixedBuffer(index);
    if (buffer === undefined) throw new IoError(-EFAULT, syscall, undefined, undefined, `no registered buffer ${index} (the fixedBuffers ring option)`);
    const nums = [fd, buffer.byteOffset, buffer.byteLength, checked.length];
    for (const r of checked) {
      if (ArrayBuffer.isView(r)) {
        const start = r.byteOffset - buffer.byteOffset;
        if (r.buffer !== buffer.buffer || start < 0) throw new IoError(-EFAULT, syscall, undefined, undefined, `a view that is not inside registered buffer ${index}`);
        nums.push(start, r.byteLength);
      } else {
        nums.push(r.offset, r.length);
      }
    }
    nums.push(pos, rwFlags, index);
    p.nums = nums;
    p.memory = ownedMemory(buffer);
  };
  return p;
}

/** The `struct epoll_event`s epollWait's output holds. */
function epollEvents(out: Uint8Array, count: number): EpollEvent[] {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  return Array.from({ length: count }, (_, i) => ({
    events: view.getUint32(i * EPOLL_EVENT_SIZE, LE),
    data: Number(view.getBigUint64(i * EPOLL_EVENT_SIZE + EPOLL_DATA_OFFSET, LE)),
  }));
}

/** The fields of a `siginfo_t` (64-bit layout) that waitid fills. */
function waitidResult(info: Uint8Array): WaitidResult {
  const view = new DataView(info.buffer, info.byteOffset, info.byteLength);
  return { pid: view.getInt32(16, LE), uid: view.getUint32(20, LE), status: view.getInt32(24, LE), code: view.getInt32(8, LE) };
}

/** Options of `socket`. */
export type SocketOptions = RingOpOptions;

/** Options of `accept` and `acceptMultishot`. */
export interface AcceptOptions extends RingOpOptions {
  /** SOCK_NONBLOCK for the new socket (SOCK_CLOEXEC is always added). */
  flags?: number;
}

/** Options of `bind`. */
export interface BindOptions extends RingOpOptions {
  /**
   * SO_REUSEADDR on a TCP socket before binding (default true, as node:net sets it):
   * a server restarted while its last connections sit in TIME_WAIT gets its port.
   * Datagram and Unix sockets are left alone.
   */
  reuseAddress?: boolean;
  /**
   * SO_REUSEPORT before binding (default false; `reusePort` of node:net's `listen`):
   * sockets of one user bind the same port, and the kernel spreads connections (or
   * datagrams) over them, for a server per thread or process.
   */
  reusePort?: boolean;
}

/** Options of `send`, `recv`, `sendZc`, `recvmsg`. */
export interface SendRecvOptions extends RingOpOptions {
  /** MSG_* flags (`constants.MSG_WAITALL`, `MSG_PEEK`, `MSG_MORE`, ...); MSG_NOSIGNAL and MSG_WAITALL are always added to sends. */
  flags?: number;
}

/** Options of `sendmsg` and `sendmsgZc`. */
export interface SendmsgOptions extends SendRecvOptions {
  /** Where to send the datagram (an unconnected UDP socket); none for a connected socket. */
  address?: SocketAddressInput;
}

/** What `accept` and `acceptMultishot` give: the new socket and its peer. */
export interface Accepted {
  /** The new connection's socket. */
  fd: number;
  /** The peer's address (undefined if the peer was gone before it could be read). */
  address: SocketAddress | undefined;
}

/** What `recvmsg` gives. */
export interface RecvmsgResult {
  /** Bytes received, spread over the buffers in order. */
  bytesRead: number;
  /** The sender (a datagram's source), if the socket reports one. */
  address: SocketAddress | undefined;
  /** MSG_* flags the kernel set: MSG_TRUNC when a datagram was longer than the buffers. */
  flags: number;
}

/** Options of `recvMultishot`. */
export interface RecvMultishotOptions {
  /** The provided buffer ring the kernel receives into (`ring.bufferRing()`). */
  bufferRing: BufferRing;
  /** MSG_* flags. */
  flags?: number;
  /** Ends the loop with an AbortError. */
  signal?: AbortSignal;
}

/** Options of `acceptMultishot`. */
export interface AcceptMultishotOptions {
  /** SOCK_NONBLOCK for the new sockets (SOCK_CLOEXEC is always added). */
  flags?: number;
  /**
   * Called with an accept that failed for want of resources (EMFILE, ENFILE: out of
   * descriptors; ENOBUFS, ENOMEM), as node:net's server emits 'error' for them: the loop
   * goes on accepting after a pause of 10 ms (the connection waits in the backlog
   * meanwhile). Without it, the first such error of the thread is a process warning.
   */
  onError?: (error: IoError) => void;
  /** Ends the loop with an AbortError. */
  signal?: AbortSignal;
}

const SOL_SOCKET = 1;
const { EBADF, ENOTSOCK } = osConstants.errno;
let socketCommandsKnown: boolean | undefined;
/** Whether the kernel takes SOCKET_URING_OP_GETSOCKOPT/SETSOCKOPT (6.7); asked once. */
function socketCommands(): boolean {
  socketCommandsKnown ??= releaseAtLeast('6.7');
  return socketCommandsKnown;
}

/** Accept failures for want of resources: the listener is fine, a later accept may work. */
const ACCEPT_RECOVERABLE = new Set([-osConstants.errno.EMFILE, -osConstants.errno.ENFILE, -osConstants.errno.ENOBUFS, -osConstants.errno.ENOMEM]);
/** How long an accept loop that failed so waits before it accepts again (the connection waits in the backlog). */
const ACCEPT_PAUSE_MS = 10;
/** Whether a loop without `onError` has warned (once per thread). */
let acceptWarned = false;

const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;
/**
 * MSG_WAITALL on a send: io_uring (5.19) sends the rest of a stream socket's data
 * after a partial send instead of completing short, so a send settles with every
 * byte (node:net's `write` semantics) or an error; datagram sockets ignore it.
 */
const MSG_WAITALL = 0x100;
/** What every send adds to the caller's MSG_* flags. */
const SEND_FLAGS = MSG_NOSIGNAL | MSG_WAITALL;
/** IORING_CQE_F_BUFFER: the CQE names a provided buffer in its upper 16 bits. */
const CQE_F_BUFFER = 1;
const CQE_BUFFER_SHIFT = 16;
/** The `ADDR_OUT` buffer of ring-core: socklen_t, flags word, sockaddr_storage. */
const ADDR_OUT = 8 + 128;
const { ENOBUFS } = osConstants.errno;

/** Data to send: a view, or a string (UTF-8). */
function sendData(data: unknown, name = 'data'): ArrayBufferView {
  const view = typeof data === 'string' ? Buffer.from(data) : data;
  if (!ArrayBuffer.isView(view)) throw invalidArgType(name, 'of type string or an instance of Buffer, TypedArray, or DataView', data);
  return view;
}

function msgFlags(options: SendRecvOptions | undefined): number {
  return bitsOf(options?.flags, 'options.flags');
}

function acceptFlags(options: AcceptOptions | AcceptMultishotOptions | undefined): number {
  const flags = bitsOf(options?.flags, 'options.flags');
  if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) !== 0) throw invalidArgValue('options.flags', flags, 'may hold only SOCK_NONBLOCK and SOCK_CLOEXEC');
  return flags | SOCK_CLOEXEC;
}

/**
 * Socket `fd`, made by the ring (socket, accept), remembered so that it is closed when
 * this thread ends (a Worker's exit: its peers see the connection end, as node:net's
 * handles close) unless `ring.close(fd)` closed it first.
 */
function adopted(fd: number): number {
  native().adoptSocket(fd);
  return fd;
}

/** The peer of accepted socket `fd` (getpeername(2): a multishot accept writes no address). */
function peerOf(fd: number): SocketAddress | undefined {
  try {
    return peerAddress(fd);
  } catch {
    return undefined;
  }
}

/** The address in an `ADDR_OUT` buffer the kernel filled. */
function addressIn(out: Uint8Array): SocketAddress | undefined {
  const length = new DataView(out.buffer, out.byteOffset, 8).getUint32(0, LE);
  return decodeAddress(out.subarray(8, 8 + Math.min(length, 128)));
}

/** sendmsg and sendmsgZc. */
function sendmsgPrepared(syscall: string, fd: number, buffers: readonly ArrayBufferView[], options: SendmsgOptions | undefined): Prepared {
  validateFd(fd);
  validateViews(buffers, 'buffers');
  const address = options?.address === undefined ? new Uint8Array(0) : encodeAddress(options.address, 'options.address');
  const p = common(options, syscall) as Prepared;
  p.nums = [fd, msgFlags(options) | SEND_FLAGS];
  // Every view: past IOV_MAX the kernel refuses the message whole (EMSGSIZE), as
  // sendmsg(2) and node:dgram do, instead of sending a truncated one.
  p.objs = [buffers, address];
  return p;
}

/** liburing's `struct msghdr` as `{ msg_iov, msg_name }`: views and an address object. */
function fromMsghdr(msg: unknown): [ArrayBufferView[], SocketAddressInput | undefined] {
  const m = msg as { msg_iov?: unknown; msg_iovlen?: unknown; msg_name?: unknown } | null;
  if (m === null || typeof m !== 'object') throw invalidArgType('msg', 'of type object', msg);
  const iov = m.msg_iov;
  if (!Array.isArray(iov)) throw invalidArgType('msg.msg_iov', 'an instance of Array', iov);
  const n = m.msg_iovlen === undefined ? iov.length : m.msg_iovlen;
  return [firstVecs(iov, n), (m.msg_name ?? undefined) as SocketAddressInput | undefined];
}

/** Every `Ring` operation, by method name. */
export const OPS = {
  /** IORING_OP_NOP (5.1): a round trip through the ring. Resolves to 0. */
  nop: entry('io_uring_prep_nop', 'nop', (options?: RingOpOptions) => common(options, 'nop')),

  /**
   * Opens `path` (IORING_OP_OPENAT, 5.6). `flags` is a Node flag string ('r', 'w+',
   * 'ax', ...) or O_* bits; O_CLOEXEC is always added. Resolves to the fd.
   */
  open: entry('io_uring_prep_openat', 'open', (path: string | Uint8Array | URL, flags: OpenFlags = 'r', mode: number | string = 0o666, options?: PathOpOptions) => {
    const p = validatePath(path);
    const f = parseOpenFlags(flags);
    const m = parseMode(mode, 'mode', 0o666);
    const prepared = common(options, 'openat') as Prepared;
    prepared.nums = [dirfdOf(options), f, m];
    prepared.objs = [p];
    return withPath(prepared, p);
  }, (dfd: number, path: string | Uint8Array | URL, flags: number, mode: number) => [path, flags, mode, { dirfd: dfd }]),

  /**
   * openat2(2) (IORING_OP_OPENAT2, 5.6): `resolve` restricts how the path is walked
   * (`constants.RESOLVE_BENEATH` refuses `..` and absolute paths out of `dirfd`).
   */
  openat2: entry('io_uring_prep_openat2', 'openat2', (path: string | Uint8Array | URL, options?: OpenHowOptions) => {
    const p = validatePath(path);
    const f = parseOpenFlags(options?.flags ?? 'r');
    const m = parseMode(options?.mode ?? 0o666, 'options.mode', 0o666);
    const resolve = bitsOf(options?.resolve, 'options.resolve');
    const prepared = common(options, 'openat2') as Prepared;
    // O_CREAT/O_TMPFILE take the mode; openat2 refuses a mode with neither.
    const creates = (f & 0o100) !== 0 || (f & 0o20000000) !== 0;
    prepared.nums = [dirfdOf(options), f | O_CLOEXEC, creates ? m : 0, resolve];
    prepared.objs = [p];
    return withPath(prepared, p);
  }, (dfd: number, path: string | Uint8Array | URL, how: { flags?: number; mode?: number; resolve?: number }) => [path, { dirfd: dfd, flags: how?.flags, mode: how?.mode, resolve: how?.resolve }]),

  /** Closes `fd` (IORING_OP_CLOSE, 5.6). */
  close: entry('io_uring_prep_close', 'close', (fd: number, options?: RingOpOptions) => {
    validateFd(fd);
    const p = common(options, 'close') as Prepared<void>;
    p.nums = [fd];
    p.map = toVoid;
    // A multishot accept or receive holds its socket open in the kernel: end the
    // loops reading `fd` first (their cancels reach the kernel before this close).
    // A socket the ring made is no longer its to close when the thread ends.
    p.resolve = (ring) => {
      native().releaseSocket(fd);
      ring.closing(fd);
    };
    return p;
  }),

  /**
   * Reads up to `buffer.byteLength` bytes at `position` (IORING_OP_READ, 5.6).
   * `position` undefined, null or -1 reads at the file position and advances it.
   * Resolves to the bytes read: fewer at end of file, 0 past it.
   */
  read: entry('io_uring_prep_read', 'read', (fd: number, buffer: ArrayBufferView, position?: number | bigint | null, options?: ReadWriteOptions) =>
    readWrite(false, fd, buffer, position, options), (fd: number, buf: ArrayBufferView, nbytes: number, offset: number | bigint) => [fd, firstBytes(buf, nbytes), offset]),

  /**
   * Writes `buffer` at `position` (IORING_OP_WRITE, 5.6); the bytes are taken when
   * the call is made. Resolves to the bytes written: all of them for a regular file
   * up to 2 GiB - 4 KiB (the kernel's cap on one write, MAX_RW_COUNT), fewer for a
   * larger buffer or where the file takes less (a full pipe or disk).
   */
  write: entry('io_uring_prep_write', 'write', (fd: number, buffer: ArrayBufferView, position?: number | bigint | null, options?: ReadWriteOptions) =>
    readWrite(true, fd, buffer, position, options), (fd: number, buf: ArrayBufferView, nbytes: number, offset: number | bigint) => [fd, firstBytes(buf, nbytes), offset]),

  /**
   * Reads into `buffer`, a window of registered buffer `index` (`ring.fixedBuffers`,
   * IORING_OP_READ_FIXED, 5.1): zero-copy, and the kernel skips pinning the pages.
   */
  readFixed: entry('io_uring_prep_read_fixed', 'readFixed', (fd: number, buffer: ArrayBufferView, index: number, position?: number | null, options?: ReadWriteOptions) =>
    fixedReadWrite('read', fd, buffer, index, position, options),
  (fd: number, buf: ArrayBufferView, nbytes: number, offset: number, bufIndex: number) => [fd, firstBytes(buf, nbytes), bufIndex, offset]),

  /** Writes from a window of registered buffer `index` (IORING_OP_WRITE_FIXED, 5.1). */
  writeFixed: entry('io_uring_prep_write_fixed', 'writeFixed', (fd: number, buffer: ArrayBufferView, index: number, position?: number | null, options?: ReadWriteOptions) =>
    fixedReadWrite('write', fd, buffer, index, position, options),
  (fd: number, buf: ArrayBufferView, nbytes: number, offset: number, bufIndex: number) => [fd, firstBytes(buf, nbytes), bufIndex, offset]),

  /**
   * Scatter read into ranges of registered buffer `index` (`ring.fixedBuffers[index]`,
   * IORING_OP_READV_FIXED, 6.15): each range is `{ offset, length }` inside it, or a
   * view of it (a `subarray`). Zero-copy; a range reaching outside the buffer rejects
   * with EFAULT before anything reaches the kernel. Resolves to the bytes read.
   */
  readvFixed: entry('io_uring_prep_readv_fixed', 'readvFixed', (fd: number, index: number, ranges: readonly (FixedRange | ArrayBufferView)[], position?: number | null, options?: ReadWriteOptions) =>
    fixedVectored('readv', fd, index, ranges, position, options),
  (fd: number, iovecs: unknown[], nrVecs: number, offset: number, flags: number, bufIndex: number) => [fd, bufIndex, firstVecs(iovecs, nrVecs), offset, { rwFlags: flags }]),

  /** Gather write from ranges of registered buffer `index` (IORING_OP_WRITEV_FIXED, 6.15), as `readvFixed`. */
  writevFixed: entry('io_uring_prep_writev_fixed', 'writevFixed', (fd: number, index: number, ranges: readonly (FixedRange | ArrayBufferView)[], position?: number | null, options?: ReadWriteOptions) =>
    fixedVectored('writev', fd, index, ranges, position, options),
  (fd: number, iovecs: unknown[], nrVecs: number, offset: number, flags: number, bufIndex: number) => [fd, bufIndex, firstVecs(iovecs, nrVecs), offset, { rwFlags: flags }]),

  /** Scatter read into `buffers` in order (IORING_OP_READV, 5.1). */
  readv: entry('io_uring_prep_readv', 'readv', (fd: number, buffers: readonly ArrayBufferView[], position?: number | bigint | null, options?: ReadWriteOptions) =>
    vectored('readv', fd, buffers, position, options), (fd: number, iovecs: unknown[], nr: number, offset: number | bigint) => [fd, firstVecs(iovecs, nr), offset]),

  /** Gather write from `buffers` in order (IORING_OP_WRITEV, 5.1). */
  writev: entry('io_uring_prep_writev', 'writev', (fd: number, buffers: readonly ArrayBufferView[], position?: number | bigint | null, options?: ReadWriteOptions) =>
    vectored('writev', fd, buffers, position, options), (fd: number, iovecs: unknown[], nr: number, offset: number | bigint) => [fd, firstVecs(iovecs, nr), offset]),

  /**
   * fsync(2), or fdatasync(2) with `{ datasync: true }` (IORING_OP_FSYNC, 5.1), of
   * the whole file or of `{ offset, length }`.
   */
  fsync: entry('io_uring_prep_fsync', 'fsync', (fd: number, options?: FsyncOptions) => {
    validateFd(fd);
    validateBoolean(options?.datasync, 'options.datasync');
    const datasync = options?.datasync === true;
    const p = common(options, datasync ? 'fdatasync' : 'fsync') as Prepared<void>;
    const offset = options?.offset === undefined ? 0 : validateLength(options.offset, 'options.offset');
    const length = options?.length ?? 0;
    validateInteger(length, 'options.length', 0, UINT32_MAX);
    p.nums = [fd, datasync ? IORING_FSYNC_DATASYNC : 0, offset, length];
    p.map = toVoid;
    return p;
  }, (fd: number, flags = 0) => [fd, { datasync: (flags & IORING_FSYNC_DATASYNC) !== 0 }]),

  /** Waits until `fd` has one of `events` (POLL* bits; IORING_OP_POLL_ADD, 5.1). Resolves to the events that are ready. */
  poll: entry('io_uring_prep_poll_add', 'poll', (fd: number, events: number, options?: RingOpOptions) => {
    validateFd(fd);
    validateInteger(events, 'events', 1, 0xffff);
    const p = common(options, 'poll') as Prepared;
    p.nums = [fd, events];
    return p;
  }),

  /**
   * Yields the ready events each time `fd` has one of `events` (IORING_OP_POLL_ADD
   * with IORING_POLL_ADD_MULTI, 5.13), as an async iterable: `for await (const revents
   * of ring.pollMultishot(fd, POLLIN))`. Leaving the loop (`break`, `return`, a throw)
   * cancels it and waits for its last completion; `signal` ends it with an AbortError.
   */
  pollMultishot: multishotEntry('io_uring_prep_poll_multishot', 'pollMultishot', true, (fd: number, events: number, options?: RingOpOptions) => {
    validateFd(fd);
    validateInteger(events, 'events', 1, 0xffff);
    const p = common(options, 'poll') as Prepared;
    p.nums = [fd, events];
    return p;
  }, '5.13'),

  /**
   * Removes a pending `poll()` or `pollMultishot()` of this ring (IORING_OP_POLL_REMOVE,
   * 5.1): `target` is the promise `poll()` returned or the async iterable of
   * `pollMultishot()` (once started). The poll rejects with ECANCELED; this resolves to
   * undefined, or rejects with ENOENT if `target` is not a poll pending on this ring.
   */
  pollRemove: entry('io_uring_prep_poll_remove', 'pollRemove', (target: RingTarget, options?: RingOpOptions) =>
    removePrepared('poll_remove', target, POLL_OPS, options), (userData: unknown) => [new LiburingTarget(userData)]),

  /**
   * Makes a pending poll of this ring (`target`, as for `pollRemove`) wait for
   * `events` instead (IORING_OP_POLL_REMOVE with IORING_POLL_UPDATE_EVENTS, 5.13); it
   * stays one-shot or multishot and keeps its promise or iterator, which see the
   * events it reports from then on. Resolves to undefined; ENOENT if `target` is not
   * a poll pending on this ring.
   */
  pollUpdate: { ...entry('io_uring_prep_poll_update', 'pollUpdate', (target: RingTarget, events: number, options?: PollUpdateOptions) => {
    const t = targetArg(target);
    validateBoolean(options?.updateEvents, 'options.updateEvents');
    if (options?.updateUserData !== undefined && options.updateUserData !== false) {
      throw invalidArgValue('options.updateUserData', options.updateUserData, 'is not offered by Ring: the ring knows each operation by its user_data (uring-aio/liburing relabels its own)');
    }
    const updateEvents = options?.updateEvents !== false;
    if (updateEvents) validateInteger(events, 'events', 1, 0xffff);
    const p = common(options, 'poll_update') as Prepared<void>;
    p.target = t;
    p.nums = [0, updateEvents ? events : 0, POLL_UPDATE_EVENTS];
    p.resolve = (ring) => {
      const found = ring.target(p.target, POLL_OPS, 'poll_update');
      p.nums[0] = found.id;
      // The target's `nums` are [fd, events]: without new events it is armed again
      // with its own; with them, they are its own from now on.
      if (updateEvents) found.prepared.nums[1] = p.nums[1]!;
      else p.nums[1] = found.prepared.nums[1]!;
    };
    p.map = toVoid;
    return p;
  }, (oldUserData: unknown, newUserData: unknown, pollMask: number, flags: number) => {
    validateInteger(flags, 'flags', 0, UINT32_MAX);
    if ((flags & ~(POLL_UPDATE_EVENTS | POLL_UPDATE_USER_DATA | POLL_ADD_MULTI)) !== 0 || (flags & (POLL_UPDATE_EVENTS | POLL_UPDATE_USER_DATA)) === 0) {
      throw invalidArgValue('flags', flags, 'must hold IORING_POLL_UPDATE_EVENTS or IORING_POLL_UPDATE_USER_DATA (and may hold IORING_POLL_ADD_MULTI); io_uring_prep_poll_remove removes');
    }
    const relabel = (flags & POLL_UPDATE_USER_DATA) !== 0 ? { userData: newUserData } : undefined;
    return [new LiburingTarget(oldUserData, relabel), pollMask, { updateEvents: (flags & POLL_UPDATE_EVENTS) !== 0 }];
  }), flagSince: '5.13' },

  /** sync_file_range(2) (IORING_OP_SYNC_FILE_RANGE, 5.2); `length` 0 means to the end of the file. */
  syncFileRange: entry('io_uring_prep_sync_file_range', 'syncFileRange', (fd: number, offset: number, length: number, flags = 0, options?: RingOpOptions) => {
    validateFd(fd);
    const off = validateLength(offset, 'offset');
    validateInteger(length, 'length', 0, UINT32_MAX);
    validateInteger(flags, 'flags', 0, 7);
    const p = common(options, 'sync_file_range') as Prepared<void>;
    p.nums = [fd, off, length, flags];
    p.map = toVoid;
    return p;
  }, (fd: number, len: number, offset: number, flags = 0) => [fd, offset, len, flags]),

  /**
   * Resolves after `ms` milliseconds, or once `count` other completions arrived
   * (IORING_OP_TIMEOUT, 5.4). The kernel's -ETIME is its success.
   */
  timeout: entry('io_uring_prep_timeout', 'timeout', (ms: number, options?: TimeoutOptions) => {
    const time = milliseconds(ms, 'ms', options?.absolute === true ? MAX_ABSOLUTE_MS : MAX_TIMEOUT_MS);
    const count = options?.count ?? 0;
    validateInteger(count, 'options.count', 0, UINT32_MAX);
    validateBoolean(options?.absolute, 'options.absolute');
    const clock = options?.clock ?? 'monotonic';
    if (!Object.hasOwn(TIMEOUT_CLOCKS, clock)) throw invalidArgValue('options.clock', clock, "must be 'monotonic', 'boottime' or 'realtime'");
    const p = common(options, 'timeout') as Prepared<void>;
    p.nums = [time, count, (options?.absolute === true ? TIMEOUT_ABS : 0) | TIMEOUT_CLOCKS[clock]];
    p.okErrno = -ETIME;
    // In a chain, its -ETIME must not fail the link (IORING_TIMEOUT_ETIME_SUCCESS, 5.16).
    p.linked = () => { p.nums[2] |= TIMEOUT_ETIME_SUCCESS; };
    p.map = toVoid;
    return p;
  }, (ts: unknown, count = 0, flags = 0) => {
    validateInteger(flags, 'flags', 0, UINT32_MAX);
    if ((flags & ~(TIMEOUT_ABS | TIMEOUT_CLOCK_MASK | TIMEOUT_ETIME_SUCCESS | TIMEOUT_MULTISHOT)) !== 0) {
      throw invalidArgValue('flags', flags, 'may hold only IORING_TIMEOUT_ABS, BOOTTIME, REALTIME, ETIME_SUCCESS and MULTISHOT');
    }
    return [timespecMs(ts), { count, absolute: (flags & TIMEOUT_ABS) !== 0, clock: clockOfFlags(flags) }];
  }, (p: Prepared<unknown>, _ts: unknown, _count: unknown, flags = 0) => {
    // What Ring.timeout has no option for: IORING_TIMEOUT_ETIME_SUCCESS (5.16) and
    // IORING_TIMEOUT_MULTISHOT (6.4; `count` is then the number of expirations, and each
    // one but the last is a CQE with IORING_CQE_F_MORE).
    p.nums[2]! |= flags & (TIMEOUT_ETIME_SUCCESS | TIMEOUT_MULTISHOT);
  }),

  /**
   * Yields 1, 2, 3, ... every `ms` milliseconds (IORING_OP_TIMEOUT with
   * IORING_TIMEOUT_MULTISHOT, 6.4), `count` times (0: until the loop is left or
   * `signal` aborts), as an async iterable.
   */
  timeoutMultishot: multishotEntry('io_uring_prep_timeout', 'timeout', true, (ms: number, options?: { count?: number; signal?: AbortSignal }) => {
    const time = milliseconds(ms, 'ms');
    const count = options?.count ?? 0;
    validateInteger(count, 'options.count', 0, UINT32_MAX);
    const p = common(options, 'timeout') as Prepared;
    p.nums = [time, count, TIMEOUT_MULTISHOT];
    p.okErrno = -ETIME;
    // Ticks are numbered across re-arms (after a full CQ the kernel ends it early).
    p.multishot = { numbered: true, count, setCount: (left) => { p.nums[1] = left; } };
    return p;
  }, '6.4'),

  /**
   * Removes a pending `timeout()` or `timeoutMultishot()` of this ring
   * (IORING_OP_TIMEOUT_REMOVE, 5.5): `target` is the promise or the async iterable (once
   * started) the call returned. The timeout rejects with ECANCELED; this resolves to
   * undefined, or rejects with ENOENT if `target` is not a timeout pending on this ring.
   */
  timeoutRemove: entry('io_uring_prep_timeout_remove', 'timeoutRemove', (target: RingTarget, options?: RingOpOptions) =>
    removePrepared('timeout_remove', target, TIMEOUT_OPS, options), (userData: unknown, flags = 0) => {
    if (flags !== 0) throw invalidArgValue('flags', flags, 'must be 0 (io_uring_prep_timeout_update updates a timeout)');
    return [new LiburingTarget(userData)];
  }),

  /**
   * Restarts a pending timeout of this ring (`target`, as for `timeoutRemove`) to fire
   * `ms` milliseconds from now, or at `ms` on its clock with `{ absolute: true }`
   * (IORING_OP_TIMEOUT_REMOVE with IORING_TIMEOUT_UPDATE, 5.11); a counted timeout no
   * longer counts completions. Resolves to undefined; ENOENT if `target` is not a
   * timeout pending on this ring.
   */
  timeoutUpdate: { ...entry('io_uring_prep_timeout_update', 'timeoutUpdate', (target: RingTarget, ms: number, options?: TimeoutUpdateOptions) => {
    const t = targetArg(target);
    validateBoolean(options?.absolute, 'options.absolute');
    const absolute = options?.absolute === true;
    const time = milliseconds(ms, 'ms', absolute ? MAX_ABSOLUTE_MS : MAX_TIMEOUT_MS);
    const clock = options?.clock;
    if (clock !== undefined && !Object.hasOwn(TIMEOUT_CLOCKS, clock)) throw invalidArgValue('options.clock', clock, "must be 'monotonic', 'boottime' or 'realtime'");
    const p = common(options, 'timeout_update') as Prepared<void>;
    p.target = t;
    p.nums = [0, time, absolute ? TIMEOUT_ABS : 0];
    p.resolve = (ring) => {
      const found = ring.target(p.target, TIMEOUT_OPS, 'timeout_update');
      // The target's `nums` are [ms, count, flags].
      if (clock !== undefined && (found.prepared.nums[2]! & TIMEOUT_CLOCK_MASK) !== TIMEOUT_CLOCKS[clock]) {
        throw invalidArgValue('options.clock', clock, "must be the timeout's own clock (the kernel keeps it)");
      }
      p.nums[0] = found.id;
    };
    p.map = toVoid;
    return p;
  }, (ts: unknown, userData: unknown, flags = 0) => {
    validateInteger(flags, 'flags', 0, UINT32_MAX);
    if ((flags & ~(TIMEOUT_ABS | TIMEOUT_CLOCK_MASK | TIMEOUT_UPDATE)) !== 0) {
      throw invalidArgValue('flags', flags, 'may hold only IORING_TIMEOUT_ABS, BOOTTIME and REALTIME');
    }
    const clock = (flags & TIMEOUT_CLOCK_MASK) === 0 ? undefined : clockOfFlags(flags);
    return [new LiburingTarget(userData), timespecMs(ts), { absolute: (flags & TIMEOUT_ABS) !== 0, clock }];
  }), flagSince: '5.11' },

  /** fallocate(2) (IORING_OP_FALLOCATE, 5.6). */
  fallocate: entry('io_uring_prep_fallocate', 'fallocate', (fd: number, offset: number | bigint, length: number | bigint, options?: FallocateOptions) => {
    validateFd(fd);
    const off = validateLength(offset, 'offset');
    const len = validateLength(length, 'length');
    const mode = options?.mode ?? 0;
    validateInteger(mode, 'options.mode', 0, 2 ** 31 - 1);
    const p = common(options, 'fallocate') as Prepared<void>;
    p.nums = [fd, mode, off, len];
    p.map = toVoid;
    return p;
  }, (fd: number, mode: number, offset: number, len: number) => [fd, offset, len, { mode }]),

  /** statx(2) of `path` (IORING_OP_STATX, 5.6). Follows symlinks unless told not to. */
  stat: entry('io_uring_prep_statx', 'statx', (path: string | Uint8Array | URL, options?: StatOptions) => {
    const p = validatePath(path);
    validateBoolean(options?.followSymlinks, 'options.followSymlinks');
    const flags = options?.followSymlinks === false ? AT_SYMLINK_NOFOLLOW : 0;
    return statxPrepared(options, dirfdOf(options), p, flags, STATX_MASK, shownPath(p));
  }),

  /** statx(2) of a symlink itself. */
  lstat: entry('io_uring_prep_statx', 'statx', (path: string | Uint8Array | URL, options?: PathOpOptions) => {
    const p = validatePath(path);
    return statxPrepared(options, dirfdOf(options), p, AT_SYMLINK_NOFOLLOW, STATX_MASK, shownPath(p));
  }),

  /** statx(2) of an open descriptor (AT_EMPTY_PATH). */
  fstat: entry('io_uring_prep_statx', 'statx', (fd: number, options?: RingOpOptions) => {
    validateFd(fd);
    return statxPrepared(options, fd, '', AT_EMPTY_PATH, STATX_MASK, undefined);
  }),

  /** statx(2) with the caller's AT_* `flags` and STATX_* `mask`. */
  statx: entry('io_uring_prep_statx', 'statx', (path: string | Uint8Array | URL, options?: StatxOptions) => {
    const p = validatePath(path);
    const flags = bitsOf(options?.flags, 'options.flags');
    const mask = options?.mask === undefined ? STATX_MASK : bitsOf(options.mask, 'options.mask');
    return statxPrepared(options, dirfdOf(options), p, flags, mask, shownPath(p));
  }, (dfd: number, path: string | Uint8Array | URL, flags: number, mask: number) => [path, { dirfd: dfd, flags, mask }]),

  /** posix_fadvise(2) (IORING_OP_FADVISE, 5.6): POSIX_FADV_* `advice` for a range (`length` 0: to the end). */
  fadvise: entry('io_uring_prep_fadvise', 'fadvise', (fd: number, offset: number, length: number, advice: number, options?: RingOpOptions) => {
    validateFd(fd);
    const off = validateLength(offset, 'offset');
    validateInteger(length, 'length', 0, UINT32_MAX);
    const len = length;
    validateInteger(advice, 'advice', 0, 5);
    const p = common(options, 'fadvise64') as Prepared<void>;
    p.nums = [fd, off, len, advice];
    p.map = toVoid;
    return p;
  }),

  /**
   * splice(2) (IORING_OP_SPLICE, 5.7): moves up to `length` bytes between a pipe and
   * a file or another pipe; an offset of null or -1 means "none" (a pipe's side).
   * Resolves to the bytes moved.
   */
  splice: entry('io_uring_prep_splice', 'splice', (fdIn: number, offIn: number | null, fdOut: number, offOut: number | null, length: number, flags = 0, options?: RingOpOptions) => {
    validateInteger(fdIn, 'fdIn', 0, 2 ** 31 - 1);
    validateInteger(fdOut, 'fdOut', 0, 2 ** 31 - 1);
    const inOff = spliceOffset(offIn, 'offIn');
    const outOff = spliceOffset(offOut, 'offOut');
    validateInteger(length, 'length', 0, UINT32_MAX);
    validateInteger(flags, 'flags', 0, 0xf);
    const p = common(options, 'splice') as Prepared;
    p.nums = [fdIn, inOff, fdOut, outOff, length, flags];
    return p;
  }),

  /** tee(2) between two pipes (IORING_OP_TEE, 5.8). Resolves to the bytes duplicated. */
  tee: entry('io_uring_prep_tee', 'tee', (fdIn: number, fdOut: number, length: number, flags = 0, options?: RingOpOptions) => {
    validateInteger(fdIn, 'fdIn', 0, 2 ** 31 - 1);
    validateInteger(fdOut, 'fdOut', 0, 2 ** 31 - 1);
    validateInteger(length, 'length', 0, UINT32_MAX);
    validateInteger(flags, 'flags', 0, 0xf);
    const p = common(options, 'tee') as Prepared;
    p.nums = [fdIn, fdOut, length, flags];
    return p;
  }),

  /** rename(2), or renameat2(2) with `{ flags }` (IORING_OP_RENAMEAT, 5.11). */
  rename: entry('io_uring_prep_renameat', 'rename', (from: string | Uint8Array | URL, to: string | Uint8Array | URL, options?: RenameOptions) => {
    const a = validatePath(from, 'oldPath');
    const b = validatePath(to, 'newPath');
    const flags = bitsOf(options?.flags, 'options.flags');
    const dirfd = dirfdOf(options);
    const p = common(options, 'renameat') as Prepared<void>;
    p.nums = [dirfd, validDirfd(options?.newDirfd, 'options.newDirfd', dirfd), flags];
    p.objs = [a, b];
    p.path = shownPath(a);
    p.dest = shownPath(b);
    p.map = toVoid;
    return p;
  }, (olddfd: number, oldpath: string | Uint8Array | URL, newdfd: number, newpath: string | Uint8Array | URL, flags = 0) => [oldpath, newpath, { dirfd: olddfd, newDirfd: newdfd, flags }]),

  /** unlink(2) (IORING_OP_UNLINKAT, 5.11). */
  unlink: entry('io_uring_prep_unlinkat', 'unlink', (path: string | Uint8Array | URL, options?: UnlinkOptions) => {
    const p = validatePath(path);
    const prepared = common(options, 'unlinkat') as Prepared<void>;
    prepared.nums = [dirfdOf(options), bitsOf(options?.flags, 'options.flags')];
    prepared.objs = [p];
    prepared.map = toVoid;
    return withPath(prepared, p);
  }, (dfd: number, path: string | Uint8Array | URL, flags = 0) => [path, { dirfd: dfd, flags }]),

  /** rmdir(2) (IORING_OP_UNLINKAT with AT_REMOVEDIR, 5.11). */
  rmdir: entry('io_uring_prep_unlinkat', 'unlink', (path: string | Uint8Array | URL, options?: PathOpOptions) => {
    const p = validatePath(path);
    const prepared = common(options, 'unlinkat') as Prepared<void>;
    prepared.nums = [dirfdOf(options), AT_REMOVEDIR];
    prepared.objs = [p];
    prepared.map = toVoid;
    return withPath(prepared, p);
  }),

  /** mkdir(2) (IORING_OP_MKDIRAT, 5.15). */
  mkdir: entry('io_uring_prep_mkdirat', 'mkdir', (path: string | Uint8Array | URL, mode: number | string = 0o777, options?: PathOpOptions) => {
    const p = validatePath(path);
    const m = parseMode(mode, 'mode', 0o777);
    const prepared = common(options, 'mkdirat') as Prepared<void>;
    prepared.nums = [dirfdOf(options), m];
    prepared.objs = [p];
    prepared.map = toVoid;
    return withPath(prepared, p);
  }, (dfd: number, path: string | Uint8Array | URL, mode: number) => [path, mode, { dirfd: dfd }]),

  /** Makes `path` a symlink to `target` (IORING_OP_SYMLINKAT, 5.15). */
  symlink: entry('io_uring_prep_symlinkat', 'symlink', (target: string | Uint8Array | URL, path: string | Uint8Array | URL, options?: PathOpOptions) => {
    const t = validatePath(target, 'target');
    const p = validatePath(path);
    const prepared = common(options, 'symlinkat') as Prepared<void>;
    prepared.nums = [dirfdOf(options)];
    prepared.objs = [t, p];
    prepared.path = shownPath(t);
    prepared.dest = shownPath(p);
    prepared.map = toVoid;
    return prepared;
  }, (target: string | Uint8Array | URL, newdirfd: number, linkpath: string | Uint8Array | URL) => [target, linkpath, { dirfd: newdirfd }]),

  /** Makes `newPath` a hard link to `existing` (IORING_OP_LINKAT, 5.15). */
  link: entry('io_uring_prep_linkat', 'link', (existing: string | Uint8Array | URL, newPath: string | Uint8Array | URL, options?: LinkOptions) => {
    const a = validatePath(existing, 'existingPath');
    const b = validatePath(newPath, 'newPath');
    validateBoolean(options?.followSymlinks, 'options.followSymlinks');
    const dirfd = dirfdOf(options);
    const prepared = common(options, 'linkat') as Prepared<void>;
    prepared.nums = [dirfd, validDirfd(options?.newDirfd, 'options.newDirfd', dirfd), options?.followSymlinks === true ? AT_SYMLINK_FOLLOW : 0];
    prepared.objs = [a, b];
    prepared.path = shownPath(a);
    prepared.dest = shownPath(b);
    prepared.map = toVoid;
    return prepared;
  }, (olddfd: number, oldpath: string | Uint8Array | URL, newdfd: number, newpath: string | Uint8Array | URL, flags = 0) => [oldpath, newpath, { dirfd: olddfd, newDirfd: newdfd, followSymlinks: (flags & AT_SYMLINK_FOLLOW) !== 0 }]),

  /**
   * Posts a message to another ring (IORING_OP_MSG_RING, 5.18): `target` (a Ring, or
   * a ring's `ringFd`, which works across threads) receives `{ data, result }` in
   * `target.messages()`. `data` is an integer below 2^52. Resolves once posted.
   */
  msgRing: entry('io_uring_prep_msg_ring', 'msgRing', (target: { readonly ringFd: number } | number, data: number, result = 0, options?: RingOpOptions) => {
    const fd = typeof target === 'number' ? target : (target !== null && typeof target === 'object' ? target.ringFd : undefined);
    if (fd === undefined) throw invalidArgType('target', 'a Ring or a ring fd', target);
    validateInteger(fd, 'target', 0, 2 ** 31 - 1);
    validateInteger(data, 'data', 0, 2 ** 52 - 1);
    validateInteger(result, 'result', -(2 ** 31), 2 ** 31 - 1);
    const p = common(options, 'msg_ring') as Prepared<void>;
    p.nums = [fd, result, data];
    p.map = toVoid;
    return p;
  }, (fd: number, len: number, data: number) => [fd, data, len]),

  /**
   * epoll_ctl(2) (IORING_OP_EPOLL_CTL, 5.6): adds (`constants.EPOLL_CTL_ADD`),
   * modifies (`EPOLL_CTL_MOD`) or removes (`EPOLL_CTL_DEL`) `fd` on the epoll instance
   * `epfd` (from `epollCreate()`), with EPOLL* `events`. `data` (a number below 2^53;
   * default `fd`) comes back with each of its events from `epollWait`.
   */
  epollCtl: entry('io_uring_prep_epoll_ctl', 'epollCtl', (epfd: number, fd: number, op: number, events: number, data?: number, options?: RingOpOptions) => {
    validateInteger(epfd, 'epfd', 0, INT32_MAX);
    validateFd(fd);
    validateInteger(op, 'op', 1, 3);
    validateInteger(events, 'events', 0, UINT32_MAX);
    const d = data ?? fd;
    validateInteger(d, 'data', 0, Number.MAX_SAFE_INTEGER);
    const p = common(options, 'epoll_ctl') as Prepared<void>;
    p.nums = [epfd, fd, op, events, d];
    p.map = toVoid;
    return p;
  }, (epfd: number, fd: number, op: number, ev?: { events?: number; data?: number } | null) => [epfd, fd, op, ev?.events ?? 0, ev?.data]),

  /**
   * epoll_wait(2) (IORING_OP_EPOLL_WAIT, 6.15): waits until the epoll instance `epfd`
   * has ready descriptors and resolves to up to `maxEvents` of them, as
   * `{ events, data }`. `flags` must be 0 (Linux 6.18 refuses others with EINVAL).
   */
  epollWait: entry('io_uring_prep_epoll_wait', 'epollWait', (epfd: number, maxEvents: number, flags = 0, options?: RingOpOptions) => {
    validateInteger(epfd, 'epfd', 0, INT32_MAX);
    validateInteger(maxEvents, 'maxEvents', 1, EPOLL_MAX_EVENTS);
    validateInteger(flags, 'flags', 0, UINT32_MAX);
    const out = new Uint8Array(maxEvents * EPOLL_EVENT_SIZE);
    const p = common(options, 'epoll_wait') as Prepared<EpollEvent[]>;
    p.nums = [epfd, maxEvents, flags];
    p.objs = [out];
    p.map = (count) => epollEvents(out, count);
    return p;
  }, (fd: number, _events: unknown, maxevents: number, flags = 0) => [fd, maxevents, flags]),

  /**
   * waitid(2) (IORING_OP_WAITID, 6.7): waits for a child of this process to change
   * state. `idtype`: `constants.P_PID`, `P_PGID`, `P_ALL`, `P_PIDFD`; `options`:
   * `WEXITED`, `WSTOPPED`, `WCONTINUED`, with `WNOHANG`, `WNOWAIT` (leave the child
   * waitable, as Node's own child_process needs it to be). Resolves to
   * `{ pid, uid, status, code }` from the `siginfo_t` the kernel wrote; ECHILD if there
   * is no such child.
   */
  waitid: entry('io_uring_prep_waitid', 'waitid', (idtype: number, id: number, options: number, flags = 0, opOptions?: RingOpOptions) => {
    validateInteger(idtype, 'idtype', 0, 3);
    validateInteger(id, 'id', 0, UINT32_MAX);
    validateInteger(options, 'options', 0, INT32_MAX);
    validateInteger(flags, 'flags', 0, UINT32_MAX);
    const info = new Uint8Array(SIGINFO_SIZE);
    const p = common(opOptions, 'waitid') as Prepared<WaitidResult>;
    p.nums = [idtype, id, options, flags];
    p.objs = [info];
    p.map = () => waitidResult(info);
    return p;
  }, (idtype: number, id: number, _infop: unknown, options: number, flags = 0) => [idtype, id, options, flags]),

  /** fsetxattr(2) (IORING_OP_FSETXATTR, 5.19): sets extended attribute `name` ('user.x') of `fd`. */
  fsetxattr: entry('io_uring_prep_fsetxattr', 'fsetxattr', (fd: number, name: string, value: string | ArrayBufferView, options?: XattrSetOptions) => {
    validateFd(fd);
    const n = xattrName(name);
    const v = xattrValue(value);
    const p = common(options, 'fsetxattr') as Prepared<void>;
    p.nums = [fd, bitsOf(options?.flags, 'options.flags')];
    p.objs = [n, v];
    p.map = toVoid;
    return p;
  }, (fd: number, name: string, value: ArrayBufferView, flags: number, len: number) => [fd, name, firstBytes(value, len), { flags }]),

  /** setxattr(2) (IORING_OP_SETXATTR, 5.19). */
  setxattr: entry('io_uring_prep_setxattr', 'setxattr', (path: string | Uint8Array | URL, name: string, value: string | ArrayBufferView, options?: XattrSetOptions) => {
    const p = validatePath(path);
    const n = xattrName(name);
    const v = xattrValue(value);
    const prepared = common(options, 'setxattr') as Prepared<void>;
    prepared.nums = [bitsOf(options?.flags, 'options.flags')];
    prepared.objs = [p, n, v];
    prepared.map = toVoid;
    return withPath(prepared, p);
  }, (name: string, value: ArrayBufferView, path: string | Uint8Array | URL, flags: number, len: number) => [path, name, firstBytes(value, len), { flags }]),

  /** fgetxattr(2) (IORING_OP_FGETXATTR, 5.19). Resolves to the value as a Buffer. */
  fgetxattr: entry('io_uring_prep_fgetxattr', 'fgetxattr', (fd: number, name: string, options?: XattrGetOptions) => {
    validateFd(fd);
    const n = xattrName(name);
    const out = xattrSize(options);
    const p = common(options, 'fgetxattr') as Prepared<Buffer>;
    p.nums = [fd];
    p.objs = [n, out];
    p.map = (length) => Buffer.from(out.buffer, out.byteOffset, length);
    return p;
  }, (fd: number, name: string, _value: unknown, len: number) => [fd, name, { size: len }]),

  /** getxattr(2) (IORING_OP_GETXATTR, 5.19). Resolves to the value as a Buffer. */
  getxattr: entry('io_uring_prep_getxattr', 'getxattr', (path: string | Uint8Array | URL, name: string, options?: XattrGetOptions) => {
    const p = validatePath(path);
    const n = xattrName(name);
    const out = xattrSize(options);
    const prepared = common(options, 'getxattr') as Prepared<Buffer>;
    prepared.objs = [p, n, out];
    prepared.map = (length) => Buffer.from(out.buffer, out.byteOffset, length);
    return withPath(prepared, p);
  }, (name: string, _value: unknown, path: string | Uint8Array | URL, len: number) => [path, name, { size: len }]),

  /**
   * Cancels the operations in flight on `fd` (IORING_OP_ASYNC_CANCEL with
   * IORING_ASYNC_CANCEL_FD, 5.19); each rejects with ECANCELED. By default every one
   * (IORING_ASYNC_CANCEL_ALL), resolving to how many; `{ all: false }` cancels the
   * first one found and resolves to 0 (ENOENT if there is none). With
   * `{ fixedFile: true }`, `fd` is a registered file's index
   * (IORING_ASYNC_CANCEL_FD_FIXED, 6.0).
   */
  cancelFd: { ...entry('io_uring_prep_cancel_fd', 'cancelFd', (fd: number, options?: CancelFdOptions) => {
    validateFd(fd);
    validateBoolean(options?.all, 'options.all');
    const p = common(options, 'io_uring_cancel') as Prepared;
    let flags = options?.all === false ? 0 : ASYNC_CANCEL_ALL;
    if ((p.flags & SQE_FIXED_FILE) !== 0) {
      // `fd` is a registered file's index: the cancel's own flag says so
      // (IORING_ASYNC_CANCEL_FD_FIXED, 6.0), not the SQE's.
      p.flags &= ~SQE_FIXED_FILE;
      flags |= ASYNC_CANCEL_FD_FIXED;
    }
    p.nums = [fd, flags];
    return p;
  }, (fd: number, flags = 0) => {
    validateInteger(flags, 'flags', 0, UINT32_MAX);
    if ((flags & ~(ASYNC_CANCEL_ALL | ASYNC_CANCEL_FD | ASYNC_CANCEL_FD_FIXED)) !== 0) {
      throw invalidArgValue('flags', flags, 'may hold only IORING_ASYNC_CANCEL_ALL, IORING_ASYNC_CANCEL_FD and IORING_ASYNC_CANCEL_FD_FIXED');
    }
    return [fd, { all: (flags & ASYNC_CANCEL_ALL) !== 0, fixedFile: (flags & ASYNC_CANCEL_FD_FIXED) !== 0 }];
  }), flagSince: '5.19' },

  /**
   * Sets option `name` at `level` of socket `fd` (setsockopt(2); IORING_OP_URING_CMD
   * with SOCKET_URING_OP_SETSOCKOPT, 6.7, and the system call on older kernels: it
   * never blocks): `ring.setsockopt(fd, constants.IPPROTO_TCP, constants.TCP_NODELAY,
   * true)`. The value's type follows the option (`SocketOptionValue`): boolean for
   * SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE, TCP_NODELAY, IPV6_V6ONLY; a number for
   * SO_RCVBUF, SO_SNDBUF, TCP_KEEPIDLE (seconds); `{ onoff, linger }` for SO_LINGER;
   * an int, a boolean or the option's bytes for any other.
   */
  // Before uringCmd: its io_uring_prep_cmd_sock is the liburing one (the last entry of a name wins).
  setsockopt: { ...entry('io_uring_prep_cmd_sock', 'setsockopt', (fd: number, level: number, name: number, value: unknown, options?: RingOpOptions) => {
    validateFd(fd);
    validateInteger(level, 'level', 0, INT32_MAX);
    validateInteger(name, 'name', 0, INT32_MAX);
    const bytes = encodeSocketOption(level, name, value);
    const p = common(options, 'setsockopt') as Prepared<void>;
    p.nums = [fd, level, name];
    p.objs = [bytes];
    p.map = toVoid;
    p.syscallFirst = !socketCommands();
    p.fallback = () => {
      native().setsockoptNow(fd, level, name, bytes);
      return 0;
    };
    return p;
  }), flagSince: '6.7' },

  /**
   * Reads option `name` at `level` of socket `fd` (getsockopt(2); IORING_OP_URING_CMD
   * with SOCKET_URING_OP_GETSOCKOPT, 6.7, for SOL_SOCKET, which is all that command
   * takes; the system call otherwise: it never blocks). Resolves to the value as
   * `setsockopt` takes it, or a Buffer of the option's bytes for an option without
   * a type (at most 256).
   */
  getsockopt: { ...entry('io_uring_prep_cmd_sock', 'getsockopt', (fd: number, level: number, name: number, options?: RingOpOptions) => {
    validateFd(fd);
    validateInteger(level, 'level', 0, INT32_MAX);
    validateInteger(name, 'name', 0, INT32_MAX);
    const out = new Uint8Array(socketOptionSize(level, name));
    const p = common(options, 'getsockopt') as Prepared<unknown>;
    p.nums = [fd, level, name];
    p.objs = [out];
    p.map = (length) => decodeSocketOption(level, name, out.subarray(0, length));
    p.syscallFirst = level !== SOL_SOCKET || !socketCommands();
    p.fallback = () => {
      const bytes = native().getsockoptNow(fd, level, name);
      out.set(bytes.subarray(0, out.byteLength));
      return Math.min(bytes.byteLength, out.byteLength);
    };
    return p;
  }), flagSince: '6.7' },

  /**
   * A socket command (IORING_OP_URING_CMD, 5.19; socket commands 6.7): `cmdOp`
   * `constants.SOCKET_URING_OP_SIOCINQ` resolves to the bytes waiting to be read on
   * socket `fd`, `SOCKET_URING_OP_SIOCOUTQ` to the bytes not yet sent. EOPNOTSUPP on a
   * file that takes no commands. Other commands are not offered: GETSOCKOPT and
   * SETSOCKOPT need an option buffer and a field the 16-byte command builder cannot
   * set, and NVMe passthrough needs 128-byte SQEs and 32-byte CQEs (see the README).
   */
  uringCmd: { ...entry('io_uring_prep_cmd_sock', 'uringCmd', (fd: number, cmdOp: number, options?: RingOpOptions) => {
    validateFd(fd);
    validateInteger(cmdOp, 'cmdOp', 0, UINT32_MAX);
    if (cmdOp > 1) throw invalidArgValue('cmdOp', cmdOp, 'must be SOCKET_URING_OP_SIOCINQ (0) or SOCKET_URING_OP_SIOCOUTQ (1)');
    const p = common(options, 'uring_cmd') as Prepared;
    p.nums = [fd, cmdOp];
    return p;
  }, (cmdOp: number, fd: number, level = 0, optname = 0, optval: unknown = null, optlen = 0) => {
    if (level !== 0 || optname !== 0 || optlen !== 0 || (optval !== null && optval !== undefined)) {
      throw invalidArgValue('level', level, 'with optname, optval and optlen, must be 0/NULL: only SOCKET_URING_OP_SIOCINQ and SIOCOUTQ are offered');
    }
    return [fd, cmdOp];
  }), flagSince: '6.7' },

  /**
   * Replaces registered files from index `offset` with `fds` (-1: an empty slot),
   * from the ring (IORING_OP_FILES_UPDATE, 5.6). Resolves to how many were updated.
   */
  filesUpdate: entry('io_uring_prep_files_update', 'filesUpdate', (fds: readonly number[], offset = 0, options?: RingOpOptions) => {
    validateFdList(fds, 'fds');
    validateInteger(offset, 'offset', 0, 2 ** 31 - 1);
    const p = common(options, 'io_uring_register') as Prepared;
    p.nums = [offset];
    p.objs = [Int32Array.from(fds)];
    return p;
  }, (fds: number[], nrFds: number, offset: number) => [fds.slice(0, nrFds), offset]),

  /** A regular fd for registered file `index` (IORING_OP_FIXED_FD_INSTALL, 6.8), close-on-exec unless `{ cloexec: false }`. */
  fixedFdInstall: entry('io_uring_prep_fixed_fd_install', 'fixedFdInstall', (index: number, options?: RingOpOptions & { cloexec?: boolean }) => {
    validateInteger(index, 'index', 0, 2 ** 31 - 1);
    validateBoolean(options?.cloexec, 'options.cloexec');
    const p = common(options, 'io_uring_fixed_fd_install') as Prepared;
    p.nums = [index, options?.cloexec === false ? 1 : 0];
    return p;
  }, (fd: number, flags = 0) => [fd, { cloexec: (flags & 1) === 0 }]),

  /**
   * madvise(2) on whole pages of library-owned memory (IORING_OP_MADVISE, 5.6):
   * `buffer` must start and end on a page boundary (an `alignedBuffer` of a multiple
   * of the page size), and not be registered buffers (their pages are pinned);
   * `advice` is an MADV_* that only advises or drops contents (MADV_DONTNEED = 4,
   * MADV_WILLNEED = 3, ...; others are refused).
   */
  madvise: entry('io_uring_prep_madvise', 'madvise', (buffer: ArrayBufferView, advice: number, options?: RingOpOptions) => {
    const [memory, offset, length] = libraryWindow(buffer, 'buffer');
    if (!MADVISE_ADVICE.has(advice)) throw invalidArgValue('advice', advice, 'must be one of MADV_NORMAL, RANDOM, SEQUENTIAL, WILLNEED, DONTNEED, FREE, COLD, PAGEOUT, POPULATE_READ, POPULATE_WRITE (0-4, 8, 20-23)');
    const p = common(options, 'madvise') as Prepared<void>;
    p.nums = [offset, length, advice];
    p.memory = memory;
    p.map = toVoid;
    return p;
  }, (buf: ArrayBufferView, length: number, advice: number) => [firstBytes(buf, length), advice]),

  /**
   * Waits while the 32-bit word at `word` (library-owned memory) equals `expected`,
   * until a `futexWake` on it (IORING_OP_FUTEX_WAIT, 6.7). Resolves to 0 when woken;
   * rejects EAGAIN if the word did not hold `expected`.
   */
  futexWait: entry('io_uring_prep_futex_wait', 'futexWait', (word: ArrayBufferView, expected: number, options?: FutexOptions) => {
    validateInteger(expected, 'expected', 0, UINT32_MAX);
    return futexPrepared('futex_wait', word, expected, options);
  }, (futex: ArrayBufferView, val: number, mask: number) => [futex, val, { mask }]),

  /** Wakes up to `count` waiters on `word` (IORING_OP_FUTEX_WAKE, 6.7). Resolves to how many woke. */
  futexWake: entry('io_uring_prep_futex_wake', 'futexWake', (word: ArrayBufferView, count = 1, options?: FutexOptions) => {
    validateInteger(count, 'count', 1, 2 ** 31 - 1);
    return futexPrepared('futex_wake', word, count, options);
  }, (futex: ArrayBufferView, val: number, mask: number) => [futex, val, { mask }]),

  /**
   * Waits until one of several 32-bit futex words in `memory` (library-owned: an
   * `alignedBuffer`) is woken, each while it holds its `value` (IORING_OP_FUTEX_WAITV,
   * 6.7): `waiters` are `{ offset, value, flags? }` (1 to 128), `offset` in bytes from
   * the start of `memory`. Resolves to the index in `waiters` of the word woken;
   * rejects EAGAIN if a word did not hold its value.
   */
  futexWaitv: entry('io_uring_prep_futex_waitv', 'futexWaitv', (memory: ArrayBufferView, waiters: readonly FutexWaiter[], options?: RingOpOptions) => {
    const [mem, offset, length] = libraryWindow(memory, 'memory');
    if (!Array.isArray(waiters)) throw invalidArgType('waiters', 'an instance of Array', waiters);
    validateInteger(waiters.length, 'waiters.length', 1, FUTEX_WAITV_MAX);
    const nums = [offset, length, waiters.length];
    waiters.forEach((w: unknown, i) => {
      if (w === null || typeof w !== 'object') throw invalidArgType(`waiters[${i}]`, 'of type object', w);
      const { offset: at, value, flags = FUTEX2_U32_PRIVATE } = w as FutexWaiter;
      validateInteger(at, `waiters[${i}].offset`, 0, Math.max(0, length - 4));
      if (length < 4 || (offset + at) % 4 !== 0) throw invalidArgValue(`waiters[${i}].offset`, at, 'must name 4 bytes of memory at a 4-byte-aligned offset');
      validateInteger(value, `waiters[${i}].value`, 0, UINT32_MAX);
      if (flags !== FUTEX2_SIZE_U32 && flags !== FUTEX2_U32_PRIVATE) throw invalidArgValue(`waiters[${i}].flags`, flags, 'must be FUTEX2_SIZE_U32 (2), with FUTEX2_PRIVATE (128) or without');
      nums.push(at, value, flags);
    });
    const p = common(options, 'futex_waitv') as Prepared;
    p.nums = nums;
    p.memory = mem;
    return p;
  }, (futex: unknown, nrFutex: number, flags = 0) => {
    if (!Array.isArray(futex)) throw invalidArgType('futex', 'an instance of Array', futex);
    validateInteger(nrFutex, 'nr_futex', 1, futex.length);
    validateInteger(flags, 'flags', 0, 0);
    // Each `uaddr` is a view of the same alignedBuffer: the words are its offsets.
    const entries = futex.slice(0, nrFutex).map((f: { uaddr?: unknown; val?: unknown; flags?: unknown } | null, i) => {
      validateView(f?.uaddr, `futex[${i}].uaddr`);
      return { uaddr: f!.uaddr as ArrayBufferView, value: f!.val, flags: f!.flags };
    });
    const memory = new Uint8Array(entries[0]!.uaddr.buffer);
    return [memory, entries.map((e, i) => {
      if (e.uaddr.buffer !== memory.buffer) throw invalidArgValue(`futex[${i}].uaddr`, e.uaddr, 'must be in the same memory as futex[0].uaddr');
      return { offset: e.uaddr.byteOffset, value: e.value, flags: e.flags };
    })];
  }),

  /** ftruncate(2) (IORING_OP_FTRUNCATE, 6.9). */
  ftruncate: entry('io_uring_prep_ftruncate', 'ftruncate', (fd: number, length: number | bigint = 0, options?: RingOpOptions) => {
    validateFd(fd);
    const len = validateLength(length, 'length');
    const p = common(options, 'ftruncate') as Prepared<void>;
    p.nums = [fd, len];
    p.map = toVoid;
    return p;
  }),

  /** pipe2(2) (IORING_OP_PIPE, 6.16). Resolves to `[readFd, writeFd]`. */
  pipe: entry('io_uring_prep_pipe', 'pipe', (options?: PipeOptions) => {
    const flags = bitsOf(options?.flags, 'options.flags');
    const fds = new Int32Array(2);
    const p = common(options, 'pipe2') as Prepared<[number, number]>;
    p.nums = [flags | O_CLOEXEC];
    p.objs = [fds];
    p.map = () => [fds[0], fds[1]];
    return p;
  }, (_fds: unknown, flags = 0) => [{ flags }]),

  /**
   * A new socket (IORING_OP_SOCKET, 5.19): `domain` `constants.AF_INET`, `AF_INET6` or
   * `AF_UNIX`, `type` `SOCK_STREAM` or `SOCK_DGRAM` (with `SOCK_NONBLOCK` if wanted;
   * `SOCK_CLOEXEC` is always added), `protocol` 0 for the type's own. Resolves to the
   * fd. On a kernel without the opcode it is socket(2) on the JS thread (it never
   * blocks).
   */
  socket: entry('io_uring_prep_socket', 'socket', (domain: number, type: number, protocol: number = 0, options?: SocketOptions) => {
    validateInteger(domain, 'domain', 0, INT32_MAX);
    validateInteger(type, 'type', 0, INT32_MAX);
    validateInteger(protocol, 'protocol', 0, INT32_MAX);
    const p = common(options, 'socket') as Prepared;
    p.nums = [domain, type | SOCK_CLOEXEC, protocol];
    p.fallback = () => native().socketNow(domain, type | SOCK_CLOEXEC, protocol);
    p.map = adopted;
    return p;
  }, (domain: number, type: number, protocol: number) => [domain, type, protocol]),

  /**
   * Binds socket `fd` to `address` (IORING_OP_BIND, 6.11): `{ address: '127.0.0.1',
   * port }`, `{ address: '::1', port }` or `{ path }` (port 0: the kernel picks one;
   * `localAddress(fd)` tells which). A TCP socket gets SO_REUSEADDR first, as node:net
   * gives it (`options.reuseAddress`), and SO_REUSEPORT with `options.reusePort`. On a
   * kernel without the opcode it is bind(2) on the JS thread (it never blocks).
   */
  bind: entry('io_uring_prep_bind', 'bind', (fd: number, address: SocketAddressInput, options?: BindOptions) => {
    validateFd(fd);
    const addr = encodeAddress(address);
    const p = common(options, 'bind') as Prepared<void>;
    validateBoolean(options?.reuseAddress, 'options.reuseAddress');
    validateBoolean(options?.reusePort, 'options.reusePort');
    const reuseAddress = options?.reuseAddress ?? true;
    const reusePort = options?.reusePort ?? false;
    if ((reuseAddress || reusePort) && !('path' in address)) {
      try {
        native().beforeBind(fd, reuseAddress, reusePort);
      } catch (e) {
        // A bad fd is the bind's own error to report.
        const errno = nativeErrno(e);
        if (errno !== EBADF && errno !== ENOTSOCK) throw fromNative(e, 'setsockopt');
      }
    }
    p.nums = [fd];
    p.objs = [addr];
    p.map = toVoid;
    p.fallback = () => {
      native().bindNow(fd, addr);
      return 0;
    };
    return p;
  }, (fd: number, addr: SocketAddressInput) => [fd, addr]),

  /**
   * Makes socket `fd` listen (IORING_OP_LISTEN, 6.11), with up to `backlog` (default
   * 511, as Node's) connections waiting. On a kernel without the opcode it is
   * listen(2) on the JS thread (it never blocks).
   */
  listen: entry('io_uring_prep_listen', 'listen', (fd: number, backlog: number = 511, options?: RingOpOptions) => {
    validateFd(fd);
    validateInteger(backlog, 'backlog', 0, INT32_MAX);
    const p = common(options, 'listen') as Prepared<void>;
    p.nums = [fd, backlog];
    p.map = toVoid;
    p.fallback = () => {
      native().listenNow(fd, backlog);
      return 0;
    };
    return p;
  }),

  /**
   * Accepts a connection on listening socket `fd` (IORING_OP_ACCEPT, 5.5). Resolves to
   * `{ fd, address }`: the new socket (close-on-exec) and its peer's address.
   */
  accept: entry('io_uring_prep_accept', 'accept', (fd: number, options?: AcceptOptions) => {
    validateFd(fd);
    const out = new Uint8Array(ADDR_OUT);
    const p = common(options, 'accept') as Prepared<Accepted>;
    p.nums = [fd, acceptFlags(options)];
    p.objs = [out];
    p.map = (newFd) => ({ fd: adopted(newFd), address: addressIn(out) });
    return p;
  }, (fd: number, _addr: unknown, _addrlen: unknown, flags = 0) => [fd, { flags }]),

  /**
   * Yields `{ fd, address }` for each connection accepted on listening socket `fd`
   * (IORING_OP_ACCEPT with IORING_ACCEPT_MULTISHOT, 5.19), from one request: `for await
   * (const { fd, address } of ring.acceptMultishot(listener))`. The kernel writes no
   * address for a multishot accept (one buffer would be overwritten by each), so
   * `address` comes from getpeername(2) on the new fd. Leaving the loop cancels it and
   * waits for its last completion; `ring.close(fd)` ends it; `signal` ends it with
   * an AbortError. Running out of descriptors (EMFILE) does not end it: see
   * `options.onError`.
   */
  acceptMultishot: { ...multishotEntry('io_uring_prep_multishot_accept', 'acceptMultishot', true, (fd: number, options?: AcceptMultishotOptions) => {
    validateFd(fd);
    const onError = options?.onError;
    if (onError !== undefined && typeof onError !== 'function') throw invalidArgType('options.onError', 'of type function', onError);
    const p = common(options as RingOpOptions, 'accept') as Prepared<Accepted>;
    p.nums = [fd, acceptFlags(options)];
    p.map = (newFd) => ({ fd: adopted(newFd), address: peerOf(newFd) });
    p.fd = fd;
    p.stream = {
      value: (newFd) => p.map!(newFd),
      // The kernel ended it on its own (a full CQ): accept on.
      rearm: () => true,
      recover: (result) => {
        if (!ACCEPT_RECOVERABLE.has(result)) return undefined;
        const error = new IoError(result, 'accept');
        if (onError !== undefined) onError(error);
        else if (!acceptWarned) {
          acceptWarned = true;
          process.emitWarning(`acceptMultishot goes on after ${error.message} (pass options.onError to handle it)`, { code: error.code, type: 'UringAioWarning' });
        }
        return new Promise<void>((resolve) => setTimeout(resolve, ACCEPT_PAUSE_MS));
      },
      // A connection accepted after the loop was left: nobody will close it.
      discard: (conn) => {
        native().releaseSocket((conn as Accepted).fd);
        closeSync((conn as Accepted).fd);
      },
    };
    return p;
  }, '5.19'),
    // liburing's (fd, addr, addrlen, flags): the peer comes from getpeername(2), not `addr`.
    fromLiburing: (fd: number, _addr: unknown, _addrlen: unknown, flags = 0) => [fd, { flags }] },

  /** Connects socket `fd` to `address` (IORING_OP_CONNECT, 5.5), as `bind` writes it. */
  connect: entry('io_uring_prep_connect', 'connect', (fd: number, address: SocketAddressInput, options?: RingOpOptions) => {
    validateFd(fd);
    const addr = encodeAddress(address);
    const p = common(options, 'connect') as Prepared<void>;
    p.nums = [fd];
    p.objs = [addr];
    p.map = toVoid;
    return p;
  }, (fd: number, addr: SocketAddressInput) => [fd, addr]),

  /**
   * Sends `data` (a view, or a string as UTF-8) on socket `fd` (IORING_OP_SEND, 5.6);
   * the bytes are taken when the call is made. Resolves to the bytes sent: on a
   * stream socket all of them (MSG_WAITALL is always added: the kernel goes on after a
   * partial send, as node:net's `write` does), fewer only on a non-blocking socket
   * whose buffer filled, or when an error (a reset, a cancel, a `timeout`) stopped it
   * after some bytes went; a datagram goes whole or not at all.
   */
  send: entry('io_uring_prep_send', 'send', (fd: number, data: ArrayBufferView | string, options?: SendRecvOptions) => {
    validateFd(fd);
    const view = sendData(data);
    const p = common(options, 'send') as Prepared;
    p.nums = [fd, msgFlags(options) | SEND_FLAGS];
    p.objs = [view];
    return p;
  }, (fd: number, buf: ArrayBufferView, len: number, flags = 0) => [fd, firstBytes(buf, len), { flags }]),

  /**
   * Receives into `buffer` from socket `fd` (IORING_OP_RECV, 5.6). Resolves to the
   * bytes received: 0 at end of stream (the peer shut its side down).
   */
  recv: entry('io_uring_prep_recv', 'recv', (fd: number, buffer: ArrayBufferView, options?: SendRecvOptions) => {
    validateFd(fd);
    validateView(buffer, 'buffer');
    const p = common(options, 'recv') as Prepared;
    p.nums = [fd, msgFlags(options)];
    p.objs = [buffer];
    return p;
  }, (fd: number, buf: ArrayBufferView, len: number, flags = 0) => [fd, firstBytes(buf, len), { flags }]),

  /**
   * Yields each chunk received on socket `fd` as a `RingChunk`, a Buffer over a
   * buffer of `bufferRing` (IORING_OP_RECV with IORING_RECV_MULTISHOT and
   * IOSQE_BUFFER_SELECT, 6.0): zero-copy, in order, until the peer ends the stream
   * (the loop ends) or an error (ECONNRESET: the loop throws it). Give each chunk back
   * with `chunk.release()` / `bufferRing.release(chunk)` once read (a collected chunk is
   * given back too, later). When every buffer is held the kernel stops receiving
   * (ENOBUFS) and the loop starts it again once one is released; the data waits in the
   * socket meanwhile. Leaving the loop cancels it and waits for its last completion;
   * chunks received and not yet yielded then (the kernel may have filled several) are
   * kept, in order, and the next `recvMultishot` of `fd` on this ring yields them
   * first, so breaking out of a loop loses no byte; `ring.close(fd)` and `destroy()`
   * give them back to their buffer ring. `ring.close(fd)` ends the loop.
   */
  recvMultishot: { ...multishotEntry('io_uring_prep_recv_multishot', 'recvMultishot', true, (fd: number, options: RecvMultishotOptions) => {
    validateFd(fd);
    if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
    const ring = options.bufferRing;
    if (!(ring instanceof BufferRing)) throw invalidArgType('options.bufferRing', 'an instance of BufferRing', ring);
    const p = common({ signal: options.signal }, 'recv') as Prepared<RingChunk>;
    p.nums = [fd, msgFlags(options)];
    p.bufRing = ring;
    p.fd = fd;
    p.stream = {
      value: (result, flags) => {
        // Copied into the ring's arena as this row was written (at most copyUpTo bytes).
        if (flags >= COPIED_CHUNK) return ring.copied(Math.floor(flags / COPIED_CHUNK) - 1, result);
        if ((flags & CQE_F_BUFFER) === 0) return undefined;
        const bid = flags >>> CQE_BUFFER_SHIFT;
        if (result <= 0) {
          ring.giveBack(bid);
          return undefined;
        }
        return ring.chunk(bid, result);
      },
      // A final completion with data: the kernel ended it on its own (a full CQ);
      // one without is the end of the stream.
      rearm: (result) => result > 0,
      recover: (result) => (result === -ENOBUFS ? ring.whenAvailable() : undefined),
      discard: (chunk) => ring.release(chunk as Buffer),
      keepsUnread: true,
    };
    return p;
  }, '6.0'), fromLiburing: (): never => {
    // liburing's CQEs would carry buffer ids nothing gives back: not offered there.
    throw invalidArgValue('io_uring_prep_recv_multishot', 'liburing', 'is not offered by uring-aio/liburing: use ring.recvMultishot(fd, { bufferRing }), whose chunks give their buffers back');
  } },

  /**
   * sendmsg(2) (IORING_OP_SENDMSG, 5.3): sends `buffers` as one message, to
   * `options.address` if given (a datagram on an unconnected UDP socket). Resolves to
   * the bytes sent.
   */
  sendmsg: entry('io_uring_prep_sendmsg', 'sendmsg', (fd: number, buffers: readonly ArrayBufferView[], options?: SendmsgOptions) =>
    sendmsgPrepared('sendmsg', fd, buffers, options), (fd: number, msg: unknown, flags = 0) => {
    const [iov, address] = fromMsghdr(msg);
    return [fd, iov, { address, flags }];
  }),

  /**
   * recvmsg(2) (IORING_OP_RECVMSG, 5.3): receives one message into `buffers`. Resolves
   * to `{ bytesRead, address, flags }`: the sender's address (a datagram's source) and
   * the kernel's MSG_* flags (MSG_TRUNC: the datagram was longer than the buffers).
   */
  recvmsg: entry('io_uring_prep_recvmsg', 'recvmsg', (fd: number, buffers: readonly ArrayBufferView[], options?: SendRecvOptions) => {
    validateFd(fd);
    validateViews(buffers, 'buffers');
    const out = new Uint8Array(ADDR_OUT);
    const p = common(options, 'recvmsg') as Prepared<RecvmsgResult>;
    p.nums = [fd, msgFlags(options)];
    // Past IOV_MAX the kernel refuses it (EMSGSIZE) rather than cut a datagram short.
    p.objs = [buffers, out];
    p.map = (bytesRead) => ({ bytesRead, address: addressIn(out), flags: new DataView(out.buffer, out.byteOffset, 8).getInt32(4, LE) });
    return p;
  }, (fd: number, msg: unknown, flags = 0) => [fd, fromMsghdr(msg)[0], { flags }]),

  /**
   * Zero-copy send (IORING_OP_SEND_ZC, 6.0): as `send`, but the network stack sends
   * from the library's copy of `data` in place instead of copying it again. Resolves
   * to the bytes sent only once the kernel's notification (IORING_CQE_F_NOTIF) says
   * it no longer uses the memory; but a send that failed, timed out (`timeout`), was
   * aborted or was ended by `destroy()` settles at its first completion (ETIME, an
   * AbortError, ECANCELED, or the bytes that went before it), since a peer that never
   * reads can hold the notification back for ever: the library keeps the memory until
   * the notification comes (or, past `destroy()`, never frees it). Worth it for large
   * sends (tens of KiB and up).
   */
  sendZc: entry('io_uring_prep_send_zc', 'sendZc', (fd: number, data: ArrayBufferView | string, options?: SendRecvOptions) => {
    validateFd(fd);
    const view = sendData(data);
    const p = common(options, 'send') as Prepared;
    p.nums = [fd, msgFlags(options) | SEND_FLAGS];
    p.objs = [view];
    p.zeroCopy = true;
    return p;
  }, (fd: number, buf: ArrayBufferView, len: number, flags = 0) => [fd, firstBytes(buf, len), { flags }]),

  /** Zero-copy sendmsg (IORING_OP_SENDMSG_ZC, 6.1): `sendmsg`, settling as `sendZc` does. */
  sendmsgZc: entry('io_uring_prep_sendmsg_zc', 'sendmsgZc', (fd: number, buffers: readonly ArrayBufferView[], options?: SendmsgOptions) => {
    const p = sendmsgPrepared('sendmsg', fd, buffers, options);
    p.zeroCopy = true;
    return p;
  }, (fd: number, msg: unknown, flags = 0) => {
    const [iov, address] = fromMsghdr(msg);
    return [fd, iov, { address, flags }];
  }),

  /** shutdown(2) (IORING_OP_SHUTDOWN, 5.11): `how` `constants.SHUT_RD`, `SHUT_WR` or `SHUT_RDWR`. */
  shutdown: entry('io_uring_prep_shutdown', 'shutdown', (fd: number, how: number, options?: RingOpOptions) => {
    validateFd(fd);
    validateInteger(how, 'how', 0, 2);
    const p = common(options, 'shutdown') as Prepared<void>;
    p.nums = [fd, how];
    p.map = toVoid;
    return p;
  }),
};

/**
 * Defines one method per entry on `prototype` (Ring's, Chain's): `method` makes it
 * from the entry. Each call prepares its arguments with the entry and tags the result
 * with the entry's native op.
 */
export function defineOps(
  prototype: object,
  method: (prepare: (args: unknown[]) => Prepared<unknown>, entry: OpEntry<unknown[], unknown> & Partial<MultishotEntry<unknown[], unknown>>) => (...args: unknown[]) => unknown,
  singleShotOnly = false,
): void {
  for (const name of Object.keys(OPS) as OpName[]) {
    const entry = OPS[name] as OpEntry<unknown[], unknown> & Partial<MultishotEntry<unknown[], unknown>>;
    if (singleShotOnly && entry.multishot !== undefined) continue;
    const prepare = (args: unknown[]): Prepared<unknown> => {
      const prepared = entry.prepare(...args);
      prepared.op = entry.op;
      return prepared;
    };
    Object.defineProperty(prototype, name, { configurable: true, writable: true, value: method(prepare, entry) });
  }
}

export type OpTable = typeof OPS;
export type OpName = keyof OpTable;
type ArgsOf<E> = E extends OpEntry<infer A, unknown> ? A : never;
// `any` for the arguments: `prepare` is compared contravariantly, so `unknown[]` never matches.
type ResultOf<E> = E extends OpEntry<any, infer R> ? R : never;

/** An entry whose method yields many results (its `multishot` part). */
type Multishot = { multishot: object };

/**
 * The `Ring` method of each entry: its arguments, and a promise of its result (an
 * async iterable of results for a multishot entry).
 */

export type RingOps = {
  // `keyof OpTable` written out (not `OpName`): a mapped type over `keyof` keeps each
  // entry's doc comment, so an editor shows it on hover over `ring.read`.
  [K in keyof OpTable]: OpTable[K] extends Multishot
    ? (...args: ArgsOf<OpTable[K]>) => AsyncIterableIterator<ResultOf<OpTable[K]>>
    : (...args: ArgsOf<OpTable[K]>) => Promise<ResultOf<OpTable[K]>>;
};
/** The names of the entries that complete once (multishot ones cannot be linked). */
export type SingleShotName = { [K in OpName]: OpTable[K] extends { multishot: object } ? never : K }[OpName];

/** The `ring.chain()` method of each single-shot entry: the same arguments, the builder back. */
export type ChainOps<C> = {
  [K in keyof OpTable as OpTable[K] extends Multishot ? never : K]: (...args: ArgsOf<OpTable[K]>) => C;
};
