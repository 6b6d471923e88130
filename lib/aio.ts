// Aio: the Linux kernel AIO interface (io_setup, io_submit, io_getevents, io_cancel,
// io_destroy) as promises, with the same ownership rule and errors as Ring.
import { constants as osConstants } from 'node:os';
import type { FixedBuffersOptions } from './batch';
import { ownedMemory } from './buffer';
import { IoError, fromNative, invalidArgType, invalidArgValue, invalidState, nativeErrno, unknownSignal, useAfterClose } from './errors';
import { native, type NativeAio, type NativeMemory } from './native';
import { CompletionSource, type OpOptions, type Pending, type TrackExtra, signalOf, submitBatchOf, toVoid } from './source';
import { iovMax, validateFd, validateInteger, validateObject, validateOffset, validateView, validateViews } from './validate';

const { EINVAL, EAGAIN } = osConstants.errno;

/** IOCB_CMD_* of each request kind (include/uapi/linux/aio_abi.h). */
const CMD = { pread: 0, pwrite: 1, fsync: 2, fdsync: 3, poll: 5, preadv: 7, pwritev: 8 } as const;

/**
 * The turn's reads and writes of library memory (alignedBuffer), as rows of numbers
 * (src/aio.rs `push_rows`): write, fd, memory index, offset in the memory, length,
 * position, RWF_* flags, ioprio. They reach the native side `submitBatch` rows per
 * call (or the turn's rows in one call at its end), instead of one call each: a
 * native call that takes a NativeMemory costs more than the rest of the operation's
 * user-space work.
 */
const ROW = 8;
/** Rows held at most before they are handed over mid-turn (with `submitBatch: 0`). */
const ROWS = 256;

/** What a request asked for, kept until it settles so that its error can explain itself. */
interface RequestInfo {
  opcode: number;
  fd: number;
  position: number | bigint;
  /** The one buffer's length, or the views of a vectored request. */
  length: number;
  views: readonly ArrayBufferView[] | undefined;
  /** Library memory used in place (an alignedBuffer view), at `memoryOffset`. */
  memory: NativeMemory | undefined;
  memoryOffset: number;
  rwFlags: number;
  prio: number;
  eventfd: number | undefined;
}

/** The iocb fields only AioContext requests set, and the op's TrackExtra (for res2 and its id). */
interface LowLevel {
  eventfd: number | undefined;
  /** aio_reqprio as given (0-0xffff), or undefined. */
  reqprio: number | undefined;
  extra: TrackExtra;
}

export interface AioOptions {
  /** io_setup(2)'s nr_events: how many requests may be in the kernel at once (default 128). */
  maxEvents?: number;
  /**
   * At most this many requests per io_submit (default 4; 0: everything queued in one
   * call at the end of the JS turn). As soon as this many are queued they go to the
   * kernel, inside the call that queued the last one; the rest go at the end of the
   * turn. The kernel dispatches a submitted batch to the device all at once, so
   * large batches make completions arrive together and the queue run in lockstep;
   * small ones, submitted early, keep the device busy while JS prepares the next
   * (see the README's O_DIRECT benchmark).
   */
  submitBatch?: number;
  /**
   * A pool of `count` page-aligned buffers of `size` bytes for `aio.batch()`: batch
   * entries read into and write from them by index (plain library memory; AIO
   * registers nothing with the kernel).
   */
  fixedBuffers?: FixedBuffersOptions;
}

export interface AioPriority {
  /**
   * 'rt' (real time, needs CAP_SYS_ADMIN or CAP_SYS_NICE), 'be' (best effort), 'idle',
   * or 'none' (the thread's own priority, from its nice value).
   */
  class: 'rt' | 'be' | 'idle' | 'none';
  /**
   * The class data, IOPRIO_PRIO_DATA: 0 to 8191 (13 bits; default 4, 0 for 'none').
   * The kernel decides what it accepts (ioprio_check_cap): 'idle' takes any level;
   * 'rt' and 'be' use levels 0 (highest) to 7 (lowest), and take larger values only
   * on kernels that read bits 3-12 as hints (Linux 6.5 and later; EINVAL before);
   * 'none' takes level 0 (and hint bits). A priority the kernel refuses rejects with
   * its EINVAL or EPERM, saying why.
   */
  level?: number;
}

export interface AioOpOptions extends OpOptions {
  /** RWF_* flags for aio_rw_flags (kernel 4.13): constants.RWF_DSYNC, RWF_NOWAIT, ... */
  rwFlags?: number;
  /** I/O priority via IOCB_FLAG_IOPRIO (kernel 4.18). */
  priority?: AioPriority;
}

/** IOPRIO_CLASS_* (include/uapi/linux/ioprio.h). */
const PRIORITY_CLASSES = { none: 0, rt: 1, be: 2, idle: 3 } as const;
/** IOPRIO_PRIO_MASK: the 13 bits of data below the class. */
const PRIORITY_DATA_MAX = 0x1fff;

function rwFlagsOf(options: AioOpOptions | undefined): number {
  const flags = options?.rwFlags ?? 0;
  validateInteger(flags, 'options.rwFlags', 0, 2 ** 31 - 1);
  return flags;
}

/** IOPRIO_PRIO_VALUE(class, level), or -1 for none. */
function priorityOf(options: AioOpOptions | undefined): number {
  const p = options?.priority;
  if (p === undefined) return -1;
  validateObject(p, 'options.priority');
  const cls = Object.hasOwn(PRIORITY_CLASSES, p.class) ? PRIORITY_CLASSES[p.class] : undefined;
  if (cls === undefined) throw invalidArgValue('options.priority.class', p.class, "must be one of 'rt', 'be', 'idle', 'none'");
  // Only what cannot be expressed is refused here; the kernel judges the rest.
  const level = p.level ?? (cls === 0 ? 0 : 4);
  validateInteger(level, 'options.priority.level', 0, PRIORITY_DATA_MAX);
  return (cls << 13) | level;
}

/** The IoError of a request that failed with `result` (-errno), explained by what it asked for. */
function requestError(info: RequestInfo, result: number, syscall: string): IoError {
  const lengths = info.views === undefined ? [info.length] : info.views.map((v) => v.byteLength);
  const detail = native().explainAioRequestError(-result, info.opcode, info.fd, info.position, lengths,
    info.memory, info.memoryOffset, info.rwFlags, info.prio, info.eventfd ?? -1);
  return new IoError(result, syscall, undefined, undefined, detail ?? undefined);
}

/** Submits one AioContext request through its Aio (set by Aio's static block). */
let submitRequest: (aio: Aio, request: AioRequest, low: LowLevel) => Promise<unknown>;
/** The native context of an Aio, also while destroy() waits (set by Aio's static block). */
let nativeOf: (aio: Aio) => NativeAio | undefined;

/**
 * A kernel AIO context (io_setup). Completions arrive through an eventfd
 * (IOCB_FLAG_RESFD) on the same event-loop wiring as Ring; requests go to the kernel
 * `submitBatch` per io_submit, as soon as that many are queued, and the rest at the
 * end of the JS turn; more than `maxEvents` wait in a queue.
 *
 * Kernel AIO is truly asynchronous only for O_DIRECT on files (and for poll). Buffered
 * reads and writes of regular files run synchronously inside io_submit, on the JS
 * thread: use O_DIRECT with `alignedBuffer`, or `rwFlags: RWF_NOWAIT` to get EAGAIN
 * instead of blocking, or Ring.
 */
export class Aio extends CompletionSource<NativeAio> {
  constructor(options?: AioOptions) {
    super('The AIO context');
    validateObject(options, 'options');
    const maxEvents = options?.maxEvents ?? 128;
    validateInteger(maxEvents, 'options.maxEvents', 1, 2 ** 20);
    const submitBatch = submitBatchOf(options, 4);
    try {
      this.native = new (native().NativeAio)(maxEvents, submitBatch, this.dispatch, this.table);
    } catch (e) {
      const errno = nativeErrno(e);
      if (errno === undefined) throw e;
      // The eventfd is made first; its EMFILE, say, must not read as io_setup's.
      throw new IoError(-errno, native().aioSetupSyscall(errno), undefined, undefined, native().explainAioSetupError(errno));
    }
    this.#maxEvents = maxEvents;
    this.#handle = this.native!.handle;
    this.#rowsPerPush = submitBatch === 0 ? ROWS : Math.min(submitBatch, ROWS);
    if (options?.fixedBuffers !== undefined) this.registerPool(options.fixedBuffers, 'io_setup');
  }

  readonly #maxEvents: number;
  /** The turn's rows (see `ROW`), their ops, and how many rows go over in one native call. */
  readonly #rows = new Float64Array(ROWS * ROW);
  readonly #rowOps: (Pending | undefined)[] = [];
  #rowCount = 0;
  readonly #rowsPerPush: number;
  /** The native context's handle for `pushAioRows` (a plain function: cheaper than a method call). */
  readonly #handle: number;
  /** The native side's index of each NativeMemory rows name (`registerMemory`), forgotten with the memory. */
  readonly #memoryIndex = new WeakMap<NativeMemory, number>();

  /** @internal */
  protected get defaultBatchCapacity(): number {
    return this.#maxEvents;
  }

  /** io_submit calls made so far (one per `submitBatch` requests, and one per JS turn for the rest). */
  get submitCalls(): number {
    return this.native?.submits ?? 0;
  }

  /** Submits queued requests now (one io_submit) instead of at the end of the turn. */
  submitNow(): void {
    this.flushNative();
  }

  /** @internal */
  protected override get queued(): number {
    return this.#rowCount;
  }

  /** @internal */
  protected override pushQueued(): void {
    if (this.#rowCount > 0) this.#pushRows(false);
  }

  /** @internal The turn's rows and the submission in one native call. */
  protected override flushNative(): number {
    if (this.#rowCount > 0) this.#pushRows(true);
    else this.native?.flush();
    return 0;
  }

  /** Hands the turn's rows to the native side (and, with `submit`, submits) and tracks each op under its id. */
  #pushRows(submit: boolean): void {
    const count = this.#rowCount;
    this.#rowCount = 0;
    const rows = this.#rows;
    const ops = this.#rowOps;
    let failure: unknown;
    try {
      if (this.native === undefined) throw useAfterClose('The AIO context');
      native().pushAioRows(this.#handle, rows, count, submit);
    } catch (e) {
      failure = e;
    }
    for (let i = 0; i < count; i++) {
      const op = ops[i]!;
      ops[i] = undefined;
      if (failure === undefined) this.adopt(op, rows[i * ROW]!);
      else op.reject(fromNative(failure, op.syscall));
    }
  }

  /**
   * Queues a read or write of library memory as a row, with the promise `track` would
   * give; rejects (never throws) on a destroyed context.
   */
  #queueRow(write: boolean, fd: number, memory: NativeMemory, memoryOffset: number, length: number, position: number, flags: number, prio: number, extra: TrackExtra): Promise<number> {
    const native = this.native;
    if (this.destroyed || native === undefined) return Promise.reject(useAfterClose('The AIO context'));
    let index = this.#memoryIndex.get(memory);
    if (index === undefined) {
      index = native.registerMemory(memory);
      this.#memoryIndex.set(memory, index);
    }
    const i = this.#rowCount++;
    const rows = this.#rows;
    const at = i * ROW;
    rows[at] = write ? 1 : 0;
    rows[at + 1] = fd;
    rows[at + 2] = index;
    rows[at + 3] = memoryOffset;
    rows[at + 4] = length;
    rows[at + 5] = position;
    rows[at + 6] = flags;
    rows[at + 7] = prio;
    const { promise, op } = this.deferred<number>(write ? 'pwrite' : 'pread', undefined, undefined, undefined, undefined, extra);
    this.#rowOps[i] = op;
    if (this.#rowCount >= this.#rowsPerPush) this.#pushRows(false);
    return promise;
  }

  /** @internal */
  protected override errorFor(op: Pending, result: number): Error {
    const info = op.extra?.info as RequestInfo | undefined;
    return info === undefined ? super.errorFor(op, result) : requestError(info, result, op.syscall);
  }

  static {
    submitRequest = (aio, request, low) => aio.#request(request, low);
    nativeOf = (aio) => aio.native;
  }

  /** An AioContext request: the same validation and submission as the methods. */
  #request(request: AioRequest, low: LowLevel): Promise<unknown> {
    const r = request as AioRequest & { rwFlags?: number; priority?: AioPriority };
    const options: AioOpOptions = { rwFlags: r.rwFlags, priority: r.priority };
    switch (request.command) {
      case 'pread': return this.#rw(false, request.fd, request.buffer, request.offset, options, low);
      case 'pwrite': return this.#rw(true, request.fd, request.buffer, request.offset, options, low);
      case 'preadv': return this.#vectored(false, request.fd, request.buffers, request.offset, options, low);
      case 'pwritev': return this.#vectored(true, request.fd, request.buffers, request.offset, options, low);
      case 'fsync': return this.#fsync(request.fd, false, undefined, low);
      case 'fdsync': return this.#fsync(request.fd, true, undefined, low);
      case 'poll': return this.#poll(request.fd, request.events, undefined, low);
      default: throw invalidArgValue('request.command', (request as { command: unknown }).command, "must be one of 'pread', 'pwrite', 'preadv', 'pwritev', 'fsync', 'fdsync', 'poll'");
    }
  }

  #rw(write: boolean, fd: number, buffer: ArrayBufferView, position: number | bigint, options: AioOpOptions | undefined, low?: LowLevel): Promise<number> {
    validateFd(fd);
    validateView(buffer, 'buffer');
    const pos = validateOffset(position);
    const signal = signalOf(options);
    const flags = rwFlagsOf(options);
    const prio = low?.reqprio ?? priorityOf(options);
    const resfd = low?.eventfd;
    const memory = ownedMemory(buffer);
    const syscall = write ? 'pwrite' : 'pread';
    // Read once: on a Buffer these are getter calls V8 does not inline.
    const length = buffer.byteLength;
    const memoryOffset = buffer.byteOffset;
    const extra: TrackExtra = low?.extra ?? {};
    extra.info = {
      opcode: write ? CMD.pwrite : CMD.pread, fd, position: pos, length, views: undefined,
      memory, memoryOffset, rwFlags: flags, prio, eventfd: resfd,
    } satisfies RequestInfo;
    if (memory !== undefined) {
      // AioContext requests (`low`) need their id at once, and an op with a signal must
      // be in the native queue when it aborts (a file read or write in the kernel
      // cannot be cancelled): those, and bigint positions, take a call each.
      if (low === undefined && signal === undefined && typeof pos === 'number') return this.#queueRow(write, fd, memory, memoryOffset, length, pos, flags, prio, extra);
      return this.track(syscall, signal, (a) => a.rwShared(write, fd, memory, memoryOffset, length, pos, flags, prio, resfd), undefined, undefined, undefined, extra);
    }
    return this.track(syscall, signal, write
      ? (a) => a.pwrite(fd, buffer, pos, flags, prio, resfd)
      : (a) => a.pread(fd, buffer, pos, flags, prio, resfd), undefined, undefined, undefined, extra);
  }

  /** IOCB_CMD_PREAD: reads up to `buffer.byteLength` bytes at `position`. */
  read(fd: number, buffer: ArrayBufferView, position: number | bigint, options?: AioOpOptions): Promise<number> {
    return this.#rw(false, fd, buffer, position, options);
  }

  /** IOCB_CMD_PWRITE: writes `buffer` at `position` (bytes taken at the call). */
  write(fd: number, buffer: ArrayBufferView, position: number | bigint, options?: AioOpOptions): Promise<number> {
    return this.#rw(true, fd, buffer, position, options);
  }

  #vectored(write: boolean, fd: number, buffers: readonly ArrayBufferView[], position: number | bigint, options: AioOpOptions | undefined, low?: LowLevel): Promise<number> {
    validateFd(fd);
    validateViews(buffers, 'buffers');
    const pos = validateOffset(position);
    const signal = signalOf(options);
    const flags = rwFlagsOf(options);
    const prio = low?.reqprio ?? priorityOf(options);
    const resfd = low?.eventfd;
    const views = iovMax(buffers);
    const extra: TrackExtra = low?.extra ?? {};
    extra.info = {
      opcode: write ? CMD.pwritev : CMD.preadv, fd, position: pos, length: 0, views,
      memory: undefined, memoryOffset: 0, rwFlags: flags, prio, eventfd: resfd,
    } satisfies RequestInfo;
    return this.track(write ? 'pwritev' : 'preadv', signal, write
      ? (a) => a.pwritev(fd, views, pos, flags, prio, resfd)
      : (a) => a.preadv(fd, views, pos, flags, prio, resfd), undefined, undefined, undefined, extra);
  }

  /** IOCB_CMD_PREADV (kernel 2.6.19). */
  readv(fd: number, buffers: readonly ArrayBufferView[], position: number | bigint, options?: AioOpOptions): Promise<number> {
    return this.#vectored(false, fd, buffers, position, options);
  }

  /** IOCB_CMD_PWRITEV (kernel 2.6.19). */
  writev(fd: number, buffers: readonly ArrayBufferView[], position: number | bigint, options?: AioOpOptions): Promise<number> {
    return this.#vectored(true, fd, buffers, position, options);
  }

  /** What explains a failure of a request with no buffers (fsync, poll). */
  static #plainInfo(opcode: number, fd: number, eventfd: number | undefined): RequestInfo {
    return { opcode, fd, position: 0, length: 0, views: [], memory: undefined, memoryOffset: 0, rwFlags: 0, prio: -1, eventfd };
  }

  #fsync(fd: number, datasync: boolean, options: OpOptions | undefined, low?: LowLevel): Promise<void> {
    validateFd(fd);
    const signal = signalOf(options);
    const resfd = low?.eventfd;
    const extra: TrackExtra = low?.extra ?? {};
    extra.info = Aio.#plainInfo(datasync ? CMD.fdsync : CMD.fsync, fd, resfd);
    return this.track(datasync ? 'fdatasync' : 'fsync', signal, (a) => a.fsync(fd, datasync, resfd), undefined, toVoid, undefined, extra);
  }

  /** IOCB_CMD_FSYNC (kernel 4.18). */
  fsync(fd: number, options?: OpOptions): Promise<void> {
    return this.#fsync(fd, false, options);
  }

  /** IOCB_CMD_FDSYNC (kernel 4.18). */
  fdsync(fd: number, options?: OpOptions): Promise<void> {
    return this.#fsync(fd, true, options);
  }

  #poll(fd: number, events: number, options: OpOptions | undefined, low?: LowLevel): Promise<number> {
    validateFd(fd);
    validateInteger(events, 'events', 1, 0xffff);
    const signal = signalOf(options);
    const resfd = low?.eventfd;
    const extra: TrackExtra = low?.extra ?? {};
    extra.info = Aio.#plainInfo(CMD.poll, fd, resfd);
    return this.track('poll', signal, (a) => a.poll(fd, events, resfd), undefined, undefined, undefined, extra);
  }

  /** IOCB_CMD_POLL (kernel 4.19): resolves with the ready events (constants.POLLIN, ...). */
  poll(fd: number, events: number, options?: OpOptions): Promise<number> {
    return this.#poll(fd, events, options);
  }
}

/**
 * A new eventfd(2) (EFD_CLOEXEC; EFD_NONBLOCK with `nonblocking`) for an AioRequest's
 * `eventfd`: the caller owns it and closes it with `fs.closeSync`. Reading 8 bytes from
 * it (`fs.readSync(fd, buf8)`) returns the number of completions signalled since the
 * last read, as a little-endian 64-bit counter, and resets it (a blocking descriptor
 * waits while it is 0).
 */
export function eventfd(options?: { nonblocking?: boolean }): number {
  validateObject(options, 'options');
  const nonblocking = options?.nonblocking ?? false;
  if (typeof nonblocking !== 'boolean') throw invalidArgType('options.nonblocking', 'of type boolean', nonblocking);
  try {
    return native().createEventfd(nonblocking);
  } catch (e) {
    const errno = nativeErrno(e);
    if (errno === undefined) throw e;
    throw new IoError(-errno, 'eventfd');
  }
}

/** The iocb fields every AioContext request may set. */
interface AioRequestCommon {
  /** Returned with the request's event. */
  data?: unknown;
  /**
   * An eventfd of yours (see `eventfd()`) that the kernel signals when this request
   * completes (IOCB_FLAG_RESFD with aio_resfd, kernel 2.6.22), instead of the
   * context's own. The context then learns of the completion only when it next
   * collects events: at each `getEvents` call, when another request's completion wakes
   * it, and every 10 ms while such requests are in flight.
   */
  eventfd?: number;
}

/** The iocb fields of reads and writes. */
interface AioRequestRw extends AioRequestCommon {
  /** RWF_* flags for aio_rw_flags (kernel 4.13). */
  rwFlags?: number;
  /** I/O priority as class and level (IOCB_FLAG_IOPRIO, kernel 4.18). */
  priority?: AioPriority;
  /**
   * The raw aio_reqprio with IOCB_FLAG_IOPRIO (kernel 4.18): an ioprio value,
   * `(class << 13) | level` (linux/ioprio.h), 0 to 0xffff. The kernel refuses an
   * invalid one with EINVAL, and the real-time class (1) without CAP_SYS_ADMIN or
   * CAP_SYS_NICE with EPERM. Not together with `priority`.
   */
  reqprio?: number;
}

/** One request for AioContext.submit: the fields of a struct iocb. */
export type AioRequest =
  | (AioRequestRw & { command: 'pread' | 'pwrite'; fd: number; buffer: ArrayBufferView; offset: number | bigint })
  | (AioRequestRw & { command: 'preadv' | 'pwritev'; fd: number; buffers: ArrayBufferView[]; offset: number | bigint })
  | (AioRequestCommon & { command: 'fsync' | 'fdsync'; fd: number })
  | (AioRequestCommon & { command: 'poll'; fd: number; events: number });

/** One struct io_event: `res` is the result, or a negated errno (-ECANCELED when cancelled). */
export interface AioEvent {
  data: unknown;
  request: AioRequest;
  res: number;
  /**
   * The kernel's io_event.res2. Every kernel since 5.16 reports 0 (completions lost
   * their second value then); before, some drivers (USB gadget functionfs) set it. 0
   * for a request settled without reaching the kernel.
   */
  res2: number;
  /** For a negative `res`: the IoError it is, with the explanation Aio's methods give. */
  error?: IoError;
}

export interface AioGetEventsOptions {
  /** Milliseconds to wait for `minNr` events (default: as long as it takes). */
  timeout?: number;
  /**
   * Collect with io_pgetevents (kernel 4.18) instead of io_getevents, with these
   * signals (names such as 'SIGINT', or numbers 1-64) as the thread's signal mask for
   * the duration of the call. See `AioContext.getEvents`.
   */
  sigmask?: readonly (string | number)[];
}

/** `options.sigmask` as signal numbers, checked the way Node checks signal names. */
function signalsOf(sigmask: unknown): number[] {
  if (!Array.isArray(sigmask)) throw invalidArgType('options.sigmask', 'an instance of Array', sigmask);
  return sigmask.map((signal: unknown, i) => {
    if (typeof signal === 'string') {
      const n = (osConstants.signals as Record<string, number>)[signal];
      if (n === undefined) throw unknownSignal(signal);
      return n;
    }
    if (typeof signal === 'number') {
      validateInteger(signal, `options.sigmask[${i}]`, 1, 64);
      return signal;
    }
    throw invalidArgType(`options.sigmask[${i}]`, 'of type string or number', signal);
  });
}

/** How often a context with eventfd requests in flight collects their events. */
const FOREIGN_POLL_MS = 10;

/**
 * The AIO syscalls 1:1, still memory-safe: `submit` is one io_submit for the whole
 * array, `getEvents` collects with io_getevents or io_pgetevents (without blocking
 * the thread), `cancel` is io_cancel, `destroy` is io_destroy after every request has
 * settled.
 */
export class AioContext {
  readonly #aio: Aio;
  readonly #ready: AioEvent[] = [];
  /** Requests in flight, with their op's TrackExtra (id, res2). */
  readonly #inFlight = new Map<AioRequest, TrackExtra>();
  readonly #waiters = new Set<() => void>();
  /** Events delivered so far (getEvents waits for the ones it collected). */
  #delivered = 0;
  /** Requests in flight that signal the caller's eventfd, and the timer that collects them. */
  #foreign = 0;
  #foreignTimer: ReturnType<typeof setInterval> | undefined;

  constructor(maxEvents = 128) {
    // No cap: one submit() is one io_submit, as with the syscall.
    this.#aio = new Aio({ maxEvents, submitBatch: 0 });
  }

  /** Requests submitted and not yet completed. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Submits `requests` with one io_submit and returns how many were accepted. Like
   * io_submit(2), it stops at the first request refused: that one throws if it is
   * the first, otherwise the count of those before it is returned, and neither it nor
   * any after it was submitted (they report no event). Refused are invalid arguments
   * (TypeError/RangeError with Node's codes, before any syscall), a request object
   * still in flight (submitted, its event not yet reported: ERR_INVALID_STATE), and
   * whatever the kernel refuses at io_submit (an IoError with syscall 'io_submit':
   * EBADF for a descriptor or `eventfd` that is not open, EINVAL for a command the
   * file does not support, an `eventfd` that is not one or an invalid priority, EPERM
   * for the real-time class without the capability, ...). A read or write that the
   * kernel would run inside io_submit (a pipe, FIFO, socket or character device,
   * without RWF_NOWAIT) is refused the same way with EAGAIN, instead of blocking the
   * thread. Requests beyond the context's room wait in a queue and go to the kernel
   * as events free it; a refusal then comes as their event.
   */
  submit(requests: readonly AioRequest[]): number {
    if (this.#aio.destroyed) throw useAfterClose('The AIO context');
    if (!Array.isArray(requests)) throw invalidArgType('requests', 'an instance of Array', requests);
    const started: { request: AioRequest; extra: TrackExtra; settled: Promise<unknown> }[] = [];
    let invalid: unknown;
    for (const [i, request] of requests.entries()) {
      const extra: TrackExtra = {};
      try {
        validateObject(request, `requests[${i}]`);
        if (request === null || typeof request !== 'object') throw invalidArgType(`requests[${i}]`, 'of type object', request);
        if (this.#inFlight.has(request)) {
          throw invalidState(`requests[${i}] is already in flight: a request object can be submitted again once its event has been reported`);
        }
        started.push({ request, extra, settled: submitRequest(this.#aio, request, lowLevelOf(request, `requests[${i}]`, extra)) });
      } catch (e) {
        invalid = e;
        break;
      }
      this.#inFlight.set(request, extra);
    }
    // One io_submit for what was queued; a refusal ends the call there (an op that
    // never got an id failed natively and reports its event like any other).
    const queued = started.filter((s) => s.extra.id !== undefined);
    const [index, errno] = nativeOf(this.#aio)?.flushExact(queued.map((s) => s.extra.id!)) ?? [];
    const refused = index === undefined ? undefined : queued[index]!;
    const accepted = refused === undefined ? started.length : started.indexOf(refused);
    for (const [i, { request, extra, settled }] of started.entries()) {
      if (i >= accepted) {
        // Withdrawn: the refused one settles with its errno, the rest with ECANCELED.
        this.#inFlight.delete(request);
        settled.then(undefined, () => {});
        continue;
      }
      const foreign = request.eventfd !== undefined;
      if (foreign) this.#foreignStarted();
      settled.then(
        (res) => this.#push(request, extra, typeof res === 'number' ? res : 0, foreign, undefined),
        (err) => this.#push(request, extra, err?.errno ?? -EINVAL, foreign, err instanceof IoError ? err : undefined),
      );
    }
    if (accepted === 0) {
      if (refused !== undefined) {
        const error = requestError(refused.extra.info as RequestInfo, -errno!, 'io_submit');
        Error.captureStackTrace(error, AioContext.prototype.submit); // the caller first, as Node's errors
        throw error;
      }
      if (invalid !== undefined) throw invalid;
    }
    return accepted;
  }

  #push(request: AioRequest, extra: TrackExtra, res: number, foreign: boolean, error: IoError | undefined): void {
    this.#inFlight.delete(request);
    if (foreign && --this.#foreign === 0) {
      clearInterval(this.#foreignTimer);
      this.#foreignTimer = undefined;
    }
    const event: AioEvent = { data: request.data, request, res, res2: extra.rowExtra ?? 0 };
    if (error !== undefined) event.error = error;
    this.#ready.push(event);
    this.#delivered++;
    for (const wake of this.#waiters) wake();
  }

  #foreignStarted(): void {
    if (this.#foreign++ > 0) return;
    // Their completions signal the caller's eventfd, not the library's: look for them.
    this.#foreignTimer = setInterval(() => {
      try {
        nativeOf(this.#aio)?.collect();
      } catch {
        // A failed io_getevents here is reported by the next getEvents call.
      }
    }, FOREIGN_POLL_MS);
    this.#foreignTimer.unref();
  }

  /**
   * Resolves with between `minNr` and `nr` events once `minNr` are ready, or with what
   * is ready when `options.timeout` ms pass (undefined: wait as long as it takes; a
   * number in place of `options` is the timeout).
   *
   * Each call first collects what the kernel has completed, without waiting: one
   * io_getevents(min 0, timeout 0) on the context, or with `options.sigmask` one
   * io_pgetevents with those signals blocked for the call (kernel 4.18; ENOSYS, or
   * EINTR when a signal the mask leaves unblocked arrives, reject with an IoError
   * saying so). The events it collected are part of the result; the thread never
   * sleeps in the kernel: further events arrive through the event loop.
   */
  async getEvents(minNr: number, nr: number, options?: number | AioGetEventsOptions): Promise<AioEvent[]> {
    validateInteger(minNr, 'minNr', 0, 2 ** 31 - 1);
    validateInteger(nr, 'nr', Math.max(1, minNr), 2 ** 31 - 1);
    let timeout: number | undefined;
    let sigmask: number[] | undefined;
    if (typeof options === 'number') {
      timeout = options;
      validateInteger(timeout, 'timeoutMs', 0, 2 ** 31 - 1);
    } else if (options !== undefined) {
      validateObject(options, 'options');
      timeout = options.timeout;
      if (timeout !== undefined) validateInteger(timeout, 'options.timeout', 0, 2 ** 31 - 1);
      if (options.sigmask !== undefined) sigmask = signalsOf(options.sigmask);
    }
    const mustSee = this.#delivered + this.#collect(sigmask);
    const deadline = timeout === undefined ? Infinity : performance.now() + timeout;
    // Loop: another getEvents may take the events that woke this one. The collected
    // events come through the event loop within a turn, deadline or not.
    for (;;) {
      const collectedArrived = this.#delivered >= mustSee;
      if (collectedArrived && this.#ready.length >= minNr) break;
      const left = deadline - performance.now();
      if (collectedArrived && left <= 0) break;
      await new Promise<void>((resolve) => {
        const waiters = this.#waiters;
        const timer = left > 0 && left !== Infinity ? setTimeout(done, left) : undefined;
        function done() {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
    return this.#ready.splice(0, nr);
  }

  /** io_getevents / io_pgetevents without waiting; how many events it took. */
  #collect(sigmask: number[] | undefined): number {
    const n = nativeOf(this.#aio);
    if (n === undefined) return 0; // destroyed: every event has been delivered
    try {
      return n.collect(sigmask);
    } catch (e) {
      const errno = nativeErrno(e);
      if (errno === undefined) throw e;
      const syscall = sigmask === undefined ? 'io_getevents' : 'io_pgetevents';
      throw new IoError(-errno, syscall, undefined, undefined, native().explainAioError(syscall, errno) ?? undefined);
    }
  }

  /**
   * io_cancel: true if the request is cancelled (it had not reached the kernel, or
   * io_cancel succeeded: its event reports -ECANCELED); false if it is not in flight,
   * or if the kernel could not cancel it (io_cancel's EINVAL or EAGAIN: file reads and
   * writes, O_DIRECT included, are never cancellable): it then completes normally.
   * Only polls are reliably cancellable.
   */
  cancel(request: AioRequest): boolean {
    const id = this.#inFlight.get(request)?.id;
    const n = nativeOf(this.#aio);
    if (id === undefined || n === undefined) return false;
    const answer = n.ioCancel(id);
    if (answer === 0) return true;
    if (answer === -1 || answer === EINVAL || answer === EAGAIN) return false;
    throw new IoError(-answer, 'io_cancel', undefined, undefined, native().explainAioError('io_cancel', answer) ?? undefined);
  }

  /** Cancels what is pending, waits for every event, then io_destroy. */
  destroy(): Promise<void> {
    return this.#aio.destroy();
  }
}

/** The iocb fields of `request` that Aio's methods lack, checked. */
function lowLevelOf(request: AioRequest, name: string, extra: TrackExtra): LowLevel {
  const { eventfd, reqprio, priority } = request as AioRequestRw;
  if (eventfd !== undefined) validateInteger(eventfd, `${name}.eventfd`, 0, 2 ** 31 - 1);
  if (reqprio !== undefined) {
    if (request.command !== 'pread' && request.command !== 'pwrite' && request.command !== 'preadv' && request.command !== 'pwritev') {
      throw invalidArgValue(`${name}.reqprio`, reqprio, 'applies to reads and writes only');
    }
    validateInteger(reqprio, `${name}.reqprio`, 0, 0xffff);
    if (priority !== undefined) throw invalidArgValue(`${name}.reqprio`, reqprio, 'cannot be combined with priority');
  }
  return { eventfd, reqprio, extra };
}
