// Aio: the Linux kernel AIO interface (io_setup, io_submit, io_getevents, io_cancel,
// io_destroy) as promises, with the same ownership rule and errors as Ring.
import { constants as osConstants } from 'node:os';
import type { FixedBuffersOptions } from './batch';
import { ownedMemory } from './buffer';
import { IoError, invalidArgType, invalidArgValue, nativeErrno, useAfterClose } from './errors';
import { native, type NativeAio } from './native';
import { CompletionSource, type OpOptions, type Pending, signalOf, submitBatchOf, toVoid } from './source';
import { iovMax, validateFd, validateInteger, validateObject, validateOffset, validateView, validateViews } from './validate';

const { EINVAL, EAGAIN, ECANCELED } = osConstants.errno;

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
  /** 'rt' (real time, needs CAP_SYS_ADMIN), 'be' (best effort) or 'idle'. */
  class: 'rt' | 'be' | 'idle';
  /** 0 (highest) to 7 (lowest); ignored for 'idle'. */
  level?: number;
}

export interface AioOpOptions extends OpOptions {
  /** RWF_* flags for aio_rw_flags (kernel 4.13): constants.RWF_DSYNC, RWF_NOWAIT, ... */
  rwFlags?: number;
  /** I/O priority via IOCB_FLAG_IOPRIO (kernel 4.18). */
  priority?: AioPriority;
}

const PRIORITY_CLASSES = { rt: 1, be: 2, idle: 3 } as const;

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
  const cls = PRIORITY_CLASSES[p.class as keyof typeof PRIORITY_CLASSES];
  if (cls === undefined) throw invalidArgValue('options.priority.class', p.class, "must be one of 'rt', 'be', 'idle'");
  const level = p.level ?? 4;
  validateInteger(level, 'options.priority.level', 0, 7);
  return (cls << 13) | level;
}

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
      throw new IoError(-errno, 'io_setup', undefined, undefined, native().explainAioSetupError(errno));
    }
    this.#maxEvents = maxEvents;
    if (options?.fixedBuffers !== undefined) this.registerPool(options.fixedBuffers, 'io_setup');
  }

  readonly #maxEvents: number;

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
    this.native?.flush();
  }

  /** @internal */
  protected override errorFor(op: Pending, result: number): Error {
    if (result === -EINVAL && (op.syscall === 'pread' || op.syscall === 'pwrite' || op.syscall === 'preadv' || op.syscall === 'pwritev')) {
      return new IoError(result, op.syscall, op.path, op.dest,
        'with O_DIRECT, the offset and length must be multiples of the logical block size (512 or 4096 bytes) and the buffer aligned: use alignedBuffer; or an unsupported rwFlags bit');
    }
    if (result === -EINVAL && op.syscall === 'poll') {
      return new IoError(result, op.syscall, op.path, op.dest,
        'IOCB_CMD_POLL supports only files that wait on one queue: not a pipe or FIFO opened for both reading and writing');
    }
    if (result === -EAGAIN) {
      return new IoError(result, op.syscall, op.path, op.dest, 'RWF_NOWAIT and the I/O would block, or the kernel is short of resources');
    }
    return super.errorFor(op, result);
  }

  #rw(write: boolean, fd: number, buffer: ArrayBufferView, position: number | bigint, options: AioOpOptions | undefined): Promise<number> {
    validateFd(fd);
    validateView(buffer, 'buffer');
    const pos = validateOffset(position);
    const signal = signalOf(options);
    const flags = rwFlagsOf(options);
    const prio = priorityOf(options);
    const memory = ownedMemory(buffer);
    const syscall = write ? 'pwrite' : 'pread';
    if (memory !== undefined) {
      return this.track(syscall, signal, (a) => a.rwShared(write, fd, memory, buffer.byteOffset, buffer.byteLength, pos, flags, prio));
    }
    return this.track(syscall, signal, write
      ? (a) => a.pwrite(fd, buffer, pos, flags, prio)
      : (a) => a.pread(fd, buffer, pos, flags, prio));
  }

  /** IOCB_CMD_PREAD: reads up to `buffer.byteLength` bytes at `position`. */
  read(fd: number, buffer: ArrayBufferView, position: number | bigint, options?: AioOpOptions): Promise<number> {
    return this.#rw(false, fd, buffer, position, options);
  }

  /** IOCB_CMD_PWRITE: writes `buffer` at `position` (bytes taken at the call). */
  write(fd: number, buffer: ArrayBufferView, position: number | bigint, options?: AioOpOptions): Promise<number> {
    return this.#rw(true, fd, buffer, position, options);
  }

  #vectored(write: boolean, fd: number, buffers: readonly ArrayBufferView[], position: number | bigint, options: AioOpOptions | undefined): Promise<number> {
    validateFd(fd);
    validateViews(buffers, 'buffers');
    const pos = validateOffset(position);
    const signal = signalOf(options);
    const flags = rwFlagsOf(options);
    const prio = priorityOf(options);
    const views = iovMax(buffers);
    return this.track(write ? 'pwritev' : 'preadv', signal, write
      ? (a) => a.pwritev(fd, views, pos, flags, prio)
      : (a) => a.preadv(fd, views, pos, flags, prio));
  }

  /** IOCB_CMD_PREADV (kernel 2.6.19). */
  readv(fd: number, buffers: readonly ArrayBufferView[], position: number | bigint, options?: AioOpOptions): Promise<number> {
    return this.#vectored(false, fd, buffers, position, options);
  }

  /** IOCB_CMD_PWRITEV (kernel 2.6.19). */
  writev(fd: number, buffers: readonly ArrayBufferView[], position: number | bigint, options?: AioOpOptions): Promise<number> {
    return this.#vectored(true, fd, buffers, position, options);
  }

  /** IOCB_CMD_FSYNC (kernel 4.18). */
  fsync(fd: number, options?: OpOptions): Promise<void> {
    validateFd(fd);
    return this.track('fsync', signalOf(options), (a) => a.fsync(fd, false), undefined, toVoid);
  }

  /** IOCB_CMD_FDSYNC (kernel 4.18). */
  fdsync(fd: number, options?: OpOptions): Promise<void> {
    validateFd(fd);
    return this.track('fdatasync', signalOf(options), (a) => a.fsync(fd, true), undefined, toVoid);
  }

  /** IOCB_CMD_POLL (kernel 4.19): resolves with the ready events (constants.POLLIN, ...). */
  poll(fd: number, events: number, options?: OpOptions): Promise<number> {
    validateFd(fd);
    validateInteger(events, 'events', 1, 0xffff);
    return this.track('poll', signalOf(options), (a) => a.poll(fd, events));
  }
}

/** One request for AioContext.submit: the fields of a struct iocb. */
export type AioRequest =
  | { command: 'pread' | 'pwrite'; fd: number; buffer: ArrayBufferView; offset: number | bigint; rwFlags?: number; priority?: AioPriority; data?: unknown }
  | { command: 'preadv' | 'pwritev'; fd: number; buffers: ArrayBufferView[]; offset: number | bigint; rwFlags?: number; priority?: AioPriority; data?: unknown }
  | { command: 'fsync' | 'fdsync'; fd: number; data?: unknown }
  | { command: 'poll'; fd: number; events: number; data?: unknown };

/** One struct io_event: `res` is the result, or a negated errno (-ECANCELED when cancelled). */
export interface AioEvent {
  data: unknown;
  request: AioRequest;
  res: number;
  res2: number;
}

/**
 * The AIO syscalls 1:1, still memory-safe: `submit` is one io_submit for the whole
 * array, `getEvents` is io_getevents (without blocking the thread), `cancel` is
 * io_cancel, `destroy` is io_destroy after every request has settled.
 */
export class AioContext {
  readonly #aio: Aio;
  readonly #ready: AioEvent[] = [];
  readonly #cancels = new Map<AioRequest, AbortController>();
  readonly #waiters = new Set<() => void>();

  constructor(maxEvents = 128) {
    // No cap: one submit() is one io_submit, as with the syscall.
    this.#aio = new Aio({ maxEvents, submitBatch: 0 });
  }

  /** Requests submitted and not yet completed. */
  get inFlight(): number {
    return this.#aio.inFlight;
  }

  /**
   * Submits `requests` with one io_submit and returns how many were accepted. Like
   * io_submit(2), it stops at the first invalid request: that one throws if it is
   * the first, otherwise the count of those before it is returned.
   */
  submit(requests: readonly AioRequest[]): number {
    if (this.#aio.destroyed) throw useAfterClose('The AIO context');
    if (!Array.isArray(requests)) throw invalidArgType('requests', 'an instance of Array', requests);
    let accepted = 0;
    for (const [i, request] of requests.entries()) {
      let started: Promise<unknown>;
      const ac = new AbortController();
      try {
        validateObject(request, `requests[${i}]`);
        started = this.#start(request, ac.signal);
      } catch (e) {
        if (accepted === 0) throw e;
        break;
      }
      this.#cancels.set(request, ac);
      started.then(
        (res) => this.#push(request, typeof res === 'number' ? res : 0),
        (err) => this.#push(request, err?.code === 'ABORT_ERR' ? -ECANCELED : (err?.errno ?? -EINVAL)),
      );
      accepted++;
    }
    this.#aio.submitNow();
    return accepted;
  }

  #start(request: AioRequest, signal: AbortSignal): Promise<unknown> {
    const options = { signal, rwFlags: (request as { rwFlags?: number }).rwFlags, priority: (request as { priority?: AioPriority }).priority };
    switch (request.command) {
      case 'pread': return this.#aio.read(request.fd, request.buffer, request.offset, options);
      case 'pwrite': return this.#aio.write(request.fd, request.buffer, request.offset, options);
      case 'preadv': return this.#aio.readv(request.fd, request.buffers, request.offset, options);
      case 'pwritev': return this.#aio.writev(request.fd, request.buffers, request.offset, options);
      case 'fsync': return this.#aio.fsync(request.fd, options);
      case 'fdsync': return this.#aio.fdsync(request.fd, options);
      case 'poll': return this.#aio.poll(request.fd, request.events, options);
      default: throw invalidArgValue('request.command', (request as { command: unknown }).command, "must be one of 'pread', 'pwrite', 'preadv', 'pwritev', 'fsync', 'fdsync', 'poll'");
    }
  }

  #push(request: AioRequest, res: number): void {
    this.#cancels.delete(request);
    this.#ready.push({ data: (request as { data?: unknown }).data, request, res, res2: 0 });
    for (const wake of this.#waiters) wake();
  }

  /**
   * Resolves with between `minNr` and `nr` events once `minNr` are ready, or with what
   * is ready when `timeoutMs` passes (undefined: wait as long as it takes).
   */
  async getEvents(minNr: number, nr: number, timeoutMs?: number): Promise<AioEvent[]> {
    validateInteger(minNr, 'minNr', 0, 2 ** 31 - 1);
    validateInteger(nr, 'nr', Math.max(1, minNr), 2 ** 31 - 1);
    if (timeoutMs !== undefined) validateInteger(timeoutMs, 'timeoutMs', 0, 2 ** 31 - 1);
    const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
    // Loop: another getEvents may take the events that woke this one.
    while (this.#ready.length < minNr) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const waiters = this.#waiters;
        const wake = () => {
          if (this.#ready.length >= minNr) done();
        };
        const timer = left === Infinity ? undefined : setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          waiters.delete(wake);
          resolve();
        }
        waiters.add(wake);
      });
    }
    return this.#ready.splice(0, nr);
  }

  /** io_cancel: true if the request was still pending (its event then reports the outcome). */
  cancel(request: AioRequest): boolean {
    const ac = this.#cancels.get(request);
    if (ac === undefined) return false;
    ac.abort();
    return true;
  }

  /** Cancels what is pending, waits for every event, then io_destroy. */
  destroy(): Promise<void> {
    return this.#aio.destroy();
  }
}
