// Ring: one promise per operation over io_uring. Argument checks, error shape and
// AbortSignal wiring live here; the binding only converts and forwards.
import { fstatSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { FixedBuffersOptions } from './batch';
import { AbortError, IoError, fromNative, invalidArgType, invalidArgValue, invalidState, nativeErrno, outOfRange, useAfterClose } from './errors';
import { native, type NativeRing } from './native';
import { ownedMemory } from './buffer';
import { OPS, SQE_HARDLINK, SQE_LINK, defineOps, milliseconds, releaseAtLeast, rwArgs, TARGET_OPS, type ChainOps, type OpEntry, type Prepared, type RingContext, type RingOps, type TargetOp } from './ops';
import { Feed } from './feed';
import { BufferRing, DEFAULT_COPY_UP_TO, type BufferRingOptions, type SocketOptionMethods } from './net';
import { CompletionSource, hasInlineRoom, nextTurn, spendInlineOps, submitBatchOf, takeInlineBudget, type Pending, type TrackExtra } from './source';
import { validateBoolean, validateFdList, validateInteger, validateObject, validateSignal } from './validate';

export type { OpOptions } from './source';

const { ECANCELED, ENOENT, EOPNOTSUPP } = osConstants.errno;

/** The id bit of a message another ring posted (`MSG_TAG` in ring-core). */
const MSG_TAG = 2 ** 52;
/** Messages kept for a `messages()` loop that has not started yet. */
const MESSAGES_KEPT = 65536;

/** IORING_CQE_F_MORE: a multishot operation's completion with more to come. */
const IORING_CQE_F_MORE = 1 << 1;
/** IORING_CQE_F_NOTIF: a zero-copy send's notification (the kernel released the memory). */
const IORING_CQE_F_NOTIF = 1 << 3;

/**
 * Opcode-table entry names (`op` in lib/ops.ts; for socket, bind and listen the method
 * names) that the probe reports missing even where the kernel has them, from
 * URING_AIO_HIDE_OPCODES (comma-separated): for testing what happens on an older
 * kernel (the plain system call fallbacks of socket, bind and listen).
 */
const hiddenOps = new Set((process.env.URING_AIO_HIDE_OPCODES ?? '').split(',').filter((name) => name !== ''));


/** The setup flags of `RingOptions`, checked, as the native constructor takes them. */
function setupOptions(options: RingOptions | undefined, entries: number): Record<string, number | boolean | undefined> {
  const out: Record<string, number | boolean | undefined> = {};
  if (options?.cqEntries !== undefined) {
    validateInteger(options.cqEntries, 'options.cqEntries', entries, 65536);
    out.cqEntries = options.cqEntries;
  }
  const sqpoll = options?.sqpoll;
  if (sqpoll !== undefined && sqpoll !== false) {
    if (sqpoll !== true && (sqpoll === null || typeof sqpoll !== 'object')) throw invalidArgType('options.sqpoll', 'of type boolean or object', sqpoll);
    const { idleMs = 1000, cpu } = sqpoll === true ? {} : sqpoll;
    validateInteger(idleMs, 'options.sqpoll.idleMs', 0, 2 ** 32 - 1);
    out.sqpollIdleMs = idleMs;
    if (cpu !== undefined) {
      validateInteger(cpu, 'options.sqpoll.cpu', 0, 4095);
      out.sqpollCpu = cpu;
    }
  }
  for (const name of ['singleIssuer', 'iopoll', 'coopTaskrun', 'deferTaskrun'] as const) {
    validateBoolean(options?.[name], `options.${name}`);
    if (options?.[name] === true) out[name] = true;
  }
  // On by default where the kernel has it: completions of socket and pipe I/O then wait
  // for the thread's next system call instead of interrupting it (the echo server: 1.45x
  // the requests/s, a third less CPU per request). Not with SQPOLL, which refuses it.
  if (options?.coopTaskrun === undefined && out.sqpollIdleMs === undefined && out.deferTaskrun !== true && releaseAtLeast('5.19')) out.coopTaskrun = true;
  if (options?.attachWq !== undefined) {
    if (!(options.attachWq instanceof Ring)) throw invalidArgType('options.attachWq', 'an instance of Ring', options.attachWq);
    if (options.attachWq.destroyed) throw useAfterClose('options.attachWq');
    out.attachWq = options.attachWq.ringFd;
  }
  return out;
}

/** A signal that aborts when either does (AbortSignal.any needs Node 20.3). */
function anySignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  if (a.aborted) return a;
  if (b.aborted) return b;
  const ac = new AbortController();
  const onA = () => ac.abort(a.reason);
  const onB = () => ac.abort(b.reason);
  a.addEventListener('abort', onA, { once: true });
  b.addEventListener('abort', onB, { once: true });
  ac.signal.addEventListener('abort', () => {
    a.removeEventListener('abort', onA);
    b.removeEventListener('abort', onB);
  }, { once: true });
  return ac.signal;
}

/** A message another ring posted with `msgRing`, as `ring.messages()` yields it. */
export interface RingMessage {
  /** The `data` the sender gave (an integer below 2^52). */
  data: number;
  /** The `result` the sender gave. */
  result: number;
}

/** What `new Ring(options)` takes. */
export interface RingOptions {
  /** Submission queue entries (default 256; the kernel rounds up to a power of two). */
  entries?: number;
  /**
   * Registered buffers for the batch path (IORING_REGISTER_BUFFERS, kernel 5.1):
   * `count` buffers (at most 16384) of `size` bytes, page-aligned, pinned in memory
   * (counted against RLIMIT_MEMLOCK, `ulimit -l`, unless the process has CAP_IPC_LOCK).
   */
  fixedBuffers?: FixedBuffersOptions;
  /**
   * Submit (io_uring_enter) as soon as this many operations are queued, inside the
   * call that queued the last one, instead of only at the end of the JS turn
   * (default 0: only at the end of the turn). For O_DIRECT and other device I/O, 8
   * lets the device start while JS prepares the rest (QD32 O_DIRECT reads here: 0.70x
   * of fio io_uring with 0, 0.91x with 8). Page-cache reads complete inside the
   * submission, where one io_uring_enter per turn is cheaper (8 costs about 5%).
   */
  submitBatch?: number;
  /**
   * Completion queue entries (IORING_SETUP_CQSIZE, kernel 5.5; default twice
   * `entries`, at least `entries`). A larger CQ lets more operations be in flight at
   * once (the ring never has more in the kernel than the CQ holds).
   */
  cqEntries?: number;
  /**
   * A kernel thread polls the submission queue (IORING_SETUP_SQPOLL, kernel 5.1;
   * unprivileged since 5.11): submission needs no system call while it is awake, at
   * the cost of a kernel thread spinning for `idleMs` (default 1000) after the last
   * submission, pinned to `cpu` if given (IORING_SETUP_SQ_AFF). Worth it only for
   * sustained high rates on a machine with a core to spare; `true` takes the defaults.
   */
  sqpoll?: boolean | {
    /** Milliseconds the kernel thread keeps polling after the last submission (default 1000). */
    idleMs?: number;
    /** The CPU to pin the kernel thread to (IORING_SETUP_SQ_AFF). */
    cpu?: number;
  };
  /**
   * Only this thread submits (IORING_SETUP_SINGLE_ISSUER, kernel 6.0), which lets the
   * kernel skip some locking. Always true of a Ring (it belongs to the thread that made it).
   */
  singleIssuer?: boolean;
  /** Share the io-wq worker threads of another ring (IORING_SETUP_ATTACH_WQ, kernel 5.6). */
  attachWq?: Ring;
  /**
   * Busy-poll the device for completions instead of taking interrupts
   * (IORING_SETUP_IOPOLL, kernel 5.1). Only O_DIRECT reads and writes on a block
   * device with poll queues (NVMe with `poll_queues` set; see
   * `/sys/block/<dev>/queue/io_poll`), and `nop`, run on such a ring: anything else
   * rejects (EOPNOTSUPP for buffered I/O, EINVAL for other operations, so `{ timeout }`,
   * `{ signal }` cancellation and `cancelFd` do not work on it). While polled I/O is in
   * flight the ring keeps the event loop spinning to poll it: one core busy, for the
   * lowest latency a device gives.
   */
  iopoll?: boolean;
  /**
   * The kernel posts completions when this thread next enters it, instead of
   * interrupting it (IORING_SETUP_COOP_TASKRUN, kernel 5.19, with
   * IORING_SETUP_TASKRUN_FLAG): fewer interruptions of JavaScript under heavy
   * network or pipe I/O. A thread sleeping in the event loop is still woken. Default
   * true from 5.19 on (except with `sqpoll` or `deferTaskrun`); false turns it off.
   */
  coopTaskrun?: boolean;
  /**
   * Completion work runs only when the ring asks for completions (
   * IORING_SETUP_DEFER_TASKRUN, kernel 6.1; implies `singleIssuer`): the kernel batches
   * it and never interrupts the thread; the ring enters the kernel for it when the
   * loop wakes. The lowest-overhead mode for a ring used from one thread, which a
   * Ring always is.
   */
  deferTaskrun?: boolean;
  /**
   * Reads and writes (`read`, `write`: no options but `signal`) first try a
   * non-blocking `preadv2`/`pwritev2` with RWF_NOWAIT (kernel 4.14) on this thread,
   * straight into or out of the caller's memory (a plain Buffer or an alignedBuffer):
   * a page-cache hit settles at once, with no SQE, no landing zone and no second copy;
   * anything that would block (data not cached, an empty pipe, O_DIRECT) goes to the
   * ring as before. At most 256 KiB per call, and at most 256 calls and 4 MiB per
   * event-loop turn: past that an operation goes to the ring, whose completion comes
   * through the event loop (timers and other I/O run). Default true (false on an
   * `iopoll` ring);
   * false sends every operation to the ring.
   */
  inline?: boolean;
}

/** The largest plain-Buffer read or write tried inline (one copy of this size holds the thread some tens of µs). */
const INLINE_MAX_BYTES = 256 * 1024;
/**
 * Whether the turn's rows are used on this Node. On Node 24 (24.22) the process's RSS
 * grows by about 15 MiB per 250,000 nops handed over through them while the JS heap
 * and external memory stay flat (leak.test.mjs; Node 20 and 22 stay flat): until the
 * cause is found, operations go to the native side one call each there.
 */
const TURN_ROWS_ON_THIS_NODE = Number(process.versions.node.split('.')[0]) < 24;
/** Rows of the turn's queue (see `Ring.#turnRows`): at most this many before they are handed over mid-turn. */
const TURN_ROWS = 256;
/**
 * Fields of a turn row and its kinds (src/ring.rs `push_rows`): a nop; a read (fd,
 * position, length); an opcode-table entry (index, SQE flags, timeout, its numbers'
 * and objects' places in the turn's `nums` and `objs`).
 */
const TURN_ROW = 8;
const TURN_NOP = 0;
const TURN_READ = 1;
const TURN_TABLE = 2;
/** A send (fd, MSG_* flags, offset and length of its bytes in the turn's send staging). */
const TURN_SEND = 3;
/** Numbers the turn's table rows hold at most before they are handed over mid-turn. */
const TURN_NUMS = TURN_ROWS * 8;
/**
 * Bytes of the turn's send staging: a send of at most TURN_SEND_MAX bytes is copied
 * there when it is made (its bytes are taken then, as a send through the ring takes
 * them) and goes to the kernel with the turn's other rows, in one io_uring_enter.
 */
const SEND_STAGING_BYTES = 256 * 1024;
/**
 * Larger sends are tried inline first (`send(2)` from the caller's memory: one copy,
 * where the staging makes two; the 16 KiB echo served 39-56k requests/s that way
 * against 35-45k through the staging).
 */
const TURN_SEND_MAX = 4096;

/**
 * At most this many positioned reads wait for the next turn's inline budget
 * (`Ring.#spill`): the one a depth-1 loop makes. More concurrent ones go to the ring,
 * which does them at once in one submission (64 readFile calls at a time: 74-77k files/s
 * with one waiting, 62-68k with none, 53-55k with up to 1,024).
 */
const SPILL_MAX = 1;

/** A read or write waiting for the next turn's inline budget. */
interface Spilled {
  write: boolean;
  fd: number;
  buffer: ArrayBufferView;
  position: number;
  p: Prepared<unknown>;
  resolve: (result: Promise<unknown>) => void;
}

/** `read_now`/`write_now` flag a short count on a regular file by adding this (negated). */
const SHORT_ON_REGULAR_FILE = 2 ** 32;


/**
 * @internal How `uring-aio/liburing` reaches a ring: queue a prepared operation, and
 * end a chain whose last SQE asked for a link.
 */
export let ringInternals: {
  submit: (ring: Ring, p: Prepared<unknown>, extra?: TrackExtra) => Promise<unknown>;
  endChain: (ring: Ring) => void;
};

/** Every io_uring operation of the opcode table, as a `Ring` method (lib/ops.ts). */
export interface Ring extends Omit<RingOps, 'setsockopt' | 'getsockopt'>, SocketOptionMethods {}
/**
 * An io_uring instance bound to the current thread's event loop.
 *
 * Every method returns a promise and accepts `{ signal }`. Operations made during one
 * JS turn reach the kernel in one io_uring_enter (and every `submitBatch` operations,
 * if set); more operations than the ring holds wait in a queue (back-pressure, never
 * an error). Memory the kernel uses is owned by the library until the completion is
 * reaped: plain Buffers are copied in (writes) or copied out (reads); `alignedBuffer`
 * memory is used in place.
 */
export class Ring extends CompletionSource<NativeRing> {
  /** @internal */
  protected override readonly moreFlag = IORING_CQE_F_MORE;

  constructor(options?: RingOptions) {
    super('The ring');
    validateObject(options, 'options');
    const entries = options?.entries ?? 256;
    validateInteger(entries, 'options.entries', 1, 32768);
    const submitBatch = submitBatchOf(options, 0);
    const setup = setupOptions(options, entries);
    try {
      this.native = new (native().NativeRing)({ entries, submitBatch, ...setup }, this.dispatch, this.table);
    } catch (e) {
      const errno = nativeErrno(e);
      if (errno === undefined) throw e;
      throw new IoError(-errno, 'io_uring_setup', undefined, undefined, native().explainSetupError(errno));
    }
    if (options?.fixedBuffers !== undefined) this.registerPool(options.fixedBuffers, 'io_uring_register');
    validateBoolean(options?.inline, 'options.inline');
    // An IOPOLL ring serves O_DIRECT only, which is never tried inline.
    this.#inline = options?.inline ?? setup.iopoll !== true;
    this.#turnQueue = submitBatch === 0 && TURN_ROWS_ON_THIS_NODE;
  }

  /** @internal */
  protected get defaultBatchCapacity(): number {
    return this.entries;
  }

  /**
   * The io_uring fd: for another ring's `attachWq`, and as a `msgRing` target from
   * another thread (pass the number through `postMessage`).
   */
  get ringFd(): number {
    return this.native?.ringFd ?? -1;
  }

  /** Messages from other rings not yet taken by a `messages()` loop. */
  readonly #messages: { data: number; result: number }[] = [];
  /** The `messages()` loops running: the oldest gets each message. */
  readonly #messageFeeds = new Set<Feed<{ data: number; result: number }>>();

  /** `destroy()` also ends the `messages()` loops. */
  override destroy(): Promise<void> {
    const destroying = super.destroy();
    this.#dropUnread();
    for (const feed of this.#messageFeeds) feed.end();
    this.#messageFeeds.clear();
    this.native?.setKeepAlive(false);
    return destroying;
  }

  /** @internal */
  protected override unclaimed(id: number, result: number): void {
    if (id < MSG_TAG || this.destroyed) return;
    const message = { data: id - MSG_TAG, result };
    const [feed] = this.#messageFeeds;
    if (feed !== undefined) {
      feed.push(message);
    } else {
      // Kept for a loop to come, up to MESSAGES_KEPT: past that the oldest go.
      if (this.#messages.length >= MESSAGES_KEPT) {
        this.#messages.shift();
        this.#messagesDropped++;
      }
      this.#messages.push(message);
    }
  }

  #messagesDropped = 0;

  /** Messages dropped because more than 65,536 arrived with no `messages()` loop running. */
  get messagesDropped(): number {
    return this.#messagesDropped;
  }

  /**
   * The messages other rings post to this one with `msgRing` (IORING_OP_MSG_RING,
   * 5.18), as an async iterable of `{ data, result }`, oldest first; messages that came
   * before the loop started are kept for it. While a loop waits, the process stays
   * alive. Leaving the loop, `signal` or `destroy()` ends it.
   */
  messages(options?: { signal?: AbortSignal }): AsyncIterableIterator<RingMessage> {
    const signal = options?.signal;
    validateSignal(signal);
    const onAbort = (): void => feed.end({ error: new AbortError(undefined, { cause: signal!.reason }) });
    const feed: Feed<{ data: number; result: number }> = new Feed({
      start: () => {
        if (signal?.aborted) return onAbort();
        for (const message of this.#messages.splice(0)) feed.push(message);
        if (this.destroyed) return feed.end();
        this.#messageFeeds.add(feed);
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#keepAlive();
      },
      stop: async () => {
        this.#messageFeeds.delete(feed);
        signal?.removeEventListener('abort', onAbort);
        this.#keepAlive();
      },
      waiting: () => this.#keepAlive(),
    });
    return feed;
  }

  /** Keeps the process alive while a `messages()` loop waits. */
  #keepAlive(): void {
    let waiting = false;
    for (const feed of this.#messageFeeds) if (!feed.closed) waiting = true;
    this.native?.setKeepAlive(waiting);
  }

  /** Submission queue size the kernel gave this ring. */
  get entries(): number {
    return this.native?.sqEntries ?? 0;
  }

  /** Completion queue size the kernel gave this ring. */
  get cqEntries(): number {
    return this.native?.cqEntries ?? 0;
  }

  /**
   * Registers `fds` as the ring's fixed files (IORING_REGISTER_FILES, kernel 5.1;
   * -1 leaves a slot empty, 5.5): an operation with `{ fixedFile: true }` then names
   * index `i` where it would name `fds[i]`, and the kernel skips the fd table. Throws
   * EBUSY if files are already registered, EMFILE past RLIMIT_NOFILE.
   */
  registerFiles(fds: readonly number[]): void {
    validateFdList(fds, 'fds');
    this.#register('io_uring_register', (n) => n.registerFiles(fds));
  }

  /** Replaces registered files from index `offset` (IORING_REGISTER_FILES_UPDATE, 5.5). Returns how many. */
  updateFiles(offset: number, fds: readonly number[]): number {
    validateInteger(offset, 'offset', 0, 2 ** 31 - 1);
    validateFdList(fds, 'fds');
    return this.#register('io_uring_register', (n) => n.updateFiles(offset, fds));
  }

  /** Drops the registered files (IORING_UNREGISTER_FILES, kernel 5.1). */
  unregisterFiles(): void {
    this.#register('io_uring_register', (n) => n.unregisterFiles());
  }

  /**
   * Caps the kernel worker threads serving this ring, per NUMA node
   * (IORING_REGISTER_IOWQ_MAX_WORKERS, kernel 5.15): `bounded` for regular file and
   * block I/O, `unbounded` for the rest (0 leaves a cap as it is). Returns the
   * previous caps.
   */
  iowqMaxWorkers(bounded: number, unbounded: number): [number, number] {
    validateInteger(bounded, 'bounded', 0, 2 ** 32 - 1);
    validateInteger(unbounded, 'unbounded', 0, 2 ** 32 - 1);
    const [b, u] = this.#register('io_uring_register', (n) => n.iowqMaxWorkers(bounded, unbounded));
    return [b!, u!];
  }

  /**
   * Pins the io-wq worker threads (which run operations that cannot complete without
   * blocking) to `cpus`, or lets them run on any CPU again with `null`
   * (IORING_REGISTER_IOWQ_AFF / IORING_UNREGISTER_IOWQ_AFF, kernel 5.14). CPUs are
   * 0 to 1023 (ERR_OUT_OF_RANGE otherwise); the kernel does not check that they are
   * online.
   */
  iowqAffinity(cpus: readonly number[] | null): void {
    if (cpus !== null) {
      if (!Array.isArray(cpus)) throw invalidArgType('cpus', 'an instance of Array or null', cpus);
      cpus.forEach((cpu, i) => validateInteger(cpu, `cpus[${i}]`, 0, 1023));
    }
    this.#register('io_uring_register', (n) => n.iowqAffinity(cpus === null ? null : [...cpus]));
  }

  /** A synchronous register call: coded errors, ERR_USE_AFTER_CLOSE once destroyed. */
  #register<R>(syscall: string, call: (n: NativeRing) => R): R {
    if (this.destroyed || this.native === undefined) throw useAfterClose('The ring');
    try {
      return call(this.native);
    } catch (e) {
      throw fromNative(e, syscall);
    }
  }

  /** io_uring_enter calls made to submit so far: one per JS turn with work queued (plus one per `submitBatch`). */
  get submitCalls(): number {
    return this.native?.enters ?? 0;
  }

  /**
   * The names of the operations this kernel supports (IORING_REGISTER_PROBE, kernel
   * 5.6): `Ring` method names such as 'read', 'splice', 'timeout'.
   */
  probe(): string[] {
    return Object.keys(OPS).filter((name) => this.supports(name));
  }

  /** Whether this kernel supports the operation named `name` (a `Ring` method name). */
  supports(name: string): boolean {
    if (!Object.hasOwn(OPS, name)) return false;
    const entry = (OPS as Record<string, OpEntry<unknown[], unknown>>)[name];
    const row = nativeRow(entry.op);
    if (row === undefined || !this.#supportedCodes().has(row.code) || hiddenOps.has(entry.op)) return false;
    // A feature that is a flag on an older opcode: the probe cannot see it.
    return entry.flagSince === undefined || releaseAtLeast(entry.flagSince);
  }

  #supported: Set<number> | undefined;

  #supportedCodes(): Set<number> {
    if (this.#supported === undefined) {
      if (this.native === undefined) return new Set();
      this.#supported = new Set(this.native.supportedOpcodes());
    }
    return this.#supported;
  }

  /**
   * A builder of linked operations (IOSQE_IO_LINK): `ring.chain().write(fd, buf, 0)
   * .fsync(fd).read(fd, back, 0).submit()`. Each runs only after the one before it
   * succeeded; see `Chain`.
   */
  chain(): Chain {
    return new Chain((prepared, options) => this.#submitChain(prepared, options));
  }

  /**
   * The operations other operations can act on (`pollRemove`, `timeoutUpdate`, ...):
   * the promise each call returned, and a multishot call's iterable, to the op's id,
   * what it was submitted with, and its `TrackExtra` (which tells it from a later op
   * once it has settled).
   */
  readonly #targets = new WeakMap<object, TargetOp & { extra: TrackExtra }>();

  /** What an operation's `resolve` may ask of this ring. */
  readonly #context: RingContext = {
    target: (target, ops, syscall) => {
      const found = typeof target === 'object' || typeof target === 'function' ? this.#targets.get(target as object) : undefined;
      if (found === undefined || !ops.includes(found.prepared.op) || !this.isPending(found.id, found.extra)) {
        throw new IoError(-ENOENT, syscall, undefined, undefined, 'not an operation pending on this ring');
      }
      return found;
    },
    fixedBuffer: (index) => this.fixedBuffers[index],
    closing: (fd) => {
      this.#dropUnread(fd);
      const readers = this.#readers.get(fd);
      if (readers === undefined) return;
      this.#readers.delete(fd);
      for (const reader of readers) reader.close();
    },
  };

  /** The multishot loops reading each socket (accept, receive): `close(fd)` ends them. */
  readonly #readers = new Map<number, Set<{ close: () => void }>>();

  /**
   * What a receive loop that was left had received and not yielded, by socket: the
   * next `recvMultishot` of that socket yields it first; `close(fd)` and `destroy()`
   * give it back. `ino` tells the socket from a later one given the same fd number.
   */
  readonly #unread = new Map<number, { ino: number; values: unknown[]; discard: (value: unknown) => void }>();

  #keepUnread(fd: number, value: unknown, discard: (value: unknown) => void): void {
    let kept = this.#unread.get(fd);
    if (kept === undefined) {
      let ino: number;
      try {
        ino = fstatSync(fd).ino;
      } catch {
        discard(value);
        return;
      }
      kept = { ino, values: [], discard };
      this.#unread.set(fd, kept);
    }
    kept.values.push(value);
  }

  #takeUnread(fd: number): unknown[] {
    const kept = this.#unread.get(fd);
    if (kept === undefined) return [];
    this.#unread.delete(fd);
    let ino: number | undefined;
    try {
      ino = fstatSync(fd).ino;
    } catch {}
    if (ino === kept.ino) return kept.values;
    for (const value of kept.values) kept.discard(value);
    return [];
  }

  #dropUnread(fd?: number): void {
    for (const [at, kept] of this.#unread) {
      if (fd !== undefined && at !== fd) continue;
      this.#unread.delete(at);
      for (const value of kept.values) kept.discard(value);
    }
  }

  /**
   * A provided buffer ring of `count` buffers (a power of two, at most 32768) of
   * `size` bytes, registered with this ring (IORING_REGISTER_PBUF_RING, kernel 5.19)
   * for `recvMultishot`. The memory is the library's (count × size bytes, plus 16
   * bytes per buffer for the ring itself); it lives until this ring is destroyed and
   * every chunk from it is released or collected. Throws an IoError where the kernel
   * lacks buffer rings (EINVAL before 5.19).
   *
   * `copyUpTo` (default 4096, at most `size`; 0: never): a received chunk of at most
   * this many bytes is copied into a Buffer of its own as its completion is
   * delivered, and its buffer goes straight back to the kernel. Such a chunk is the
   * caller's to keep (its `release()` does nothing and returns false). Small messages
   * then cost no native call and no hold on the ring; larger chunks are zero-copy
   * views that hold their buffer until released.
   */
  bufferRing(options: BufferRingOptions): BufferRing {
    if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
    const { count, size, copyUpTo = DEFAULT_COPY_UP_TO } = options;
    validateInteger(count, 'options.count', 1, 32768);
    if ((count & (count - 1)) !== 0) throw invalidArgValue('options.count', count, 'must be a power of two');
    validateInteger(size, 'options.size', 1, 2 ** 31 - 1);
    if (count * size > 2 ** 32) throw outOfRange('options', 'count × size at most 4 GiB', `${count} × ${size}`);
    validateInteger(copyUpTo, 'options.copyUpTo', 0, 2 ** 31 - 1);
    const nativeRing = this.#register('io_uring_register', (n) => n.registerBufRing(count, size));
    const copies = Math.min(copyUpTo, size);
    if (copies > 0) {
      this.#chunkArena ??= this.native!.chunkArena() as Buffer;
      nativeRing.copyUpTo = copies;
    }
    return new BufferRing(nativeRing, copies > 0 ? this.#chunkArena : undefined);
  }

  /** Where the native side copies small received chunks for `BufferRing` to take (see `bufferRing`). */
  #chunkArena: Buffer | undefined;

  /** An operation the kernel lacks, run as its plain system call on this thread. */
  #fallback<R>(p: Prepared<R>): Promise<R> {
    if (this.destroyed) return Promise.reject(useAfterClose('The ring'));
    if (p.signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: p.signal.reason }));
    try {
      const result = p.fallback!();
      return Promise.resolve(p.map === undefined ? (result as R) : p.map(result));
    } catch (e) {
      return Promise.reject(fromNative(e, p.syscall, p.path));
    }
  }

  readonly #inline: boolean;
  /** Descriptors whose file system refused a non-blocking read or write (EOPNOTSUPP). */
  readonly #noInlineReads = new Set<number>();
  readonly #noInlineWrites = new Set<number>();
  /** Whether nops and reads wait in the turn's queue (not with `submitBatch`, whose ops reach the ring one by one). */
  readonly #turnQueue: boolean;

  /**
   * The turn's queue: nops and plain-Buffer reads and writes made during a JS turn are
   * written here as rows (kind, fd, position) with their views, and reach the native
   * side in one call (`pushRows`) when the turn ends or before anything else reaches
   * it, instead of one native call each.
   */
  readonly #turnRows = new Float64Array(TURN_ROWS * TURN_ROW);
  readonly #turnViews: (ArrayBufferView | undefined)[] = [];
  readonly #turnOps: (Pending | undefined)[] = [];
  #turnCount = 0;
  /**
   * The bytes of the turn's sends (see `SEND_STAGING_BYTES`): native memory the send ops
   * read from. Written from the start again only once the native side says no op
   * holds it (`#sendStagingChecked`); else a new one is made.
   */
  #sendStaging: Buffer | undefined;
  #sendStagingUsed = 0;
  #sendStagingChecked = false;
  /** Sockets with a send among the turn's rows, and how many opcode-table rows the turn has (see `#trySendInline`). */
  readonly #turnSendFds = new Set<number>();
  #turnTableRows = 0;
  /** The numbers and objects of the turn's table rows. */
  readonly #turnNums = new Float64Array(TURN_NUMS);
  #turnNumCount = 0;
  readonly #turnObjs: unknown[] = [];

  /**
   * @internal Completions the kernel posted inside the turn's submission (nops, cached
   * reads, sends with room) settle at once, while this turn's inline budget lasts:
   * a depth-1 loop then runs without a trip through the event loop per operation,
   * and still lets the loop turn once the budget is spent.
   */
  protected override flushNative(): number {
    const native = this.native;
    if (native === undefined) return 0;
    const take = hasInlineRoom();
    // One native call for the turn: its queued rows, the submission, and (with budget
    // left) the completions already posted.
    let settled = 0;
    // Everything queued this turn reaches the kernel below: inline sends need not wait for it any more.
    this.#turnTableRows = 0;
    this.#turnSendFds.clear();
    if (this.#turnCount > 0) {
      settled = this.#pushRows(take);
      // Submitted even with the budget spent (then nothing is taken): an op must reach
      // the kernel in the turn it was made (a drain left behind would go in later
      // with whatever came next).
      if (!take) native.flush();
    } else if (take) {
      settled = native.flushAndTake();
    } else {
      native.flush();
    }
    if (take) spendInlineOps(settled);
    return settled;
  }

  /** @internal */
  protected override get queued(): number {
    return this.#turnCount;
  }

  /** @internal */
  protected override pushQueued(): void {
    if (this.#turnCount > 0) this.#pushRows(false);
  }

  /**
   * Hands the turn's rows to the native side and tracks each op under its id; with
   * `submit`, also submits and takes the completions already posted (`flushAndTake`),
   * returning their count.
   */
  #pushRows(submit: boolean): number {
    const count = this.#turnCount;
    const numCount = this.#turnNumCount;
    this.#turnCount = 0;
    this.#turnNumCount = 0;
    this.#sendStagingUsed = 0;
    this.#sendStagingChecked = false;
    const rows = this.#turnRows;
    const ops = this.#turnOps;
    const views = this.#turnViews;
    const objs = this.#turnObjs;
    let failure: unknown;
    let settled = 0;
    try {
      settled = this.native!.pushRows(rows, count, views, submit, this.#turnNums, numCount, objs);
    } catch (e) {
      failure = e;
    }
    // The objects are referenced by their ops from here on (or were refused with them).
    objs.length = 0;
    for (let i = 0; i < count; i++) {
      const op = ops[i]!;
      ops[i] = undefined;
      views[i] = undefined;
      if (failure === undefined) this.adopt(op, rows[i * TURN_ROW]);
      else op.reject(fromNative(failure, op.syscall));
    }
    return settled;
  }

  /**
   * Queues opcode-table entry `index` with `p`'s arguments as a turn row, with the
   * promise `track` would give. Only for an operation whose objects the turn may hand
   * over later: strings, or its own views (`ownViews`).
   */
  #queueTableRow<R>(p: Prepared<R>, index: number): Promise<R> {
    if (p.signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: p.signal.reason }));
    if (this.#turnNumCount + p.nums.length > TURN_NUMS) this.pushQueued();
    const i = this.#turnCount++;
    const rows = this.#turnRows;
    const at = i * TURN_ROW;
    rows[at] = TURN_TABLE;
    this.#turnTableRows++;
    rows[at + 1] = index;
    rows[at + 2] = p.flags;
    rows[at + 3] = p.timeout;
    rows[at + 4] = this.#turnNumCount;
    rows[at + 5] = p.nums.length;
    rows[at + 6] = this.#turnObjs.length;
    rows[at + 7] = p.objs.length;
    for (const n of p.nums) this.#turnNums[this.#turnNumCount++] = n;
    for (const o of p.objs) this.#turnObjs.push(o);
    const { promise, op } = this.deferred<R>(p.syscall, p.signal, p.path, p.map, p.dest);
    this.#turnOps[i] = op;
    if (this.#turnCount === TURN_ROWS) this.pushQueued();
    return promise;
  }

  /** Queues a turn row (see `#turnRows`); rejects (never throws) on a destroyed ring or an aborted signal. */
  #queueRow(kind: number, fd: number, position: number, view: ArrayBufferView | undefined, syscall: string, signal: AbortSignal | undefined): Promise<number> {
    if (this.destroyed || this.native === undefined) return Promise.reject(useAfterClose('The ring'));
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    const i = this.#turnCount++;
    const rows = this.#turnRows;
    rows[i * TURN_ROW] = kind;
    rows[i * TURN_ROW + 1] = fd;
    rows[i * TURN_ROW + 2] = position;
    // A read's size is the view's when the call is made (a later detach or resize
    // changes only how much is copied back).
    rows[i * TURN_ROW + 3] = view === undefined ? 0 : view.byteLength;
    this.#turnViews[i] = view;
    const { promise, op } = this.deferred<number>(syscall, signal);
    this.#turnOps[i] = op;
    if (this.#turnCount === TURN_ROWS) this.pushQueued();
    return promise;
  }

  /**
   * Queues a send as a turn row: its bytes are copied into the turn's send staging now
   * (a caller may reuse its buffer once the call returns), and the native side copies
   * them into memory the op owns when the rows are handed over.
   */
  #queueSend(fd: number, flags: number, view: ArrayBufferView, syscall: string, signal: AbortSignal | undefined): Promise<number> {
    if (this.destroyed || this.native === undefined) return Promise.reject(useAfterClose('The ring'));
    if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    const length = view.byteLength;
    if (this.#sendStagingUsed + length > SEND_STAGING_BYTES) this.pushQueued();
    if (!this.#sendStagingChecked) {
      // Sends handed over earlier may still be in the kernel (a full socket buffer):
      // their bytes stay put, and this turn's go to a new staging.
      if (this.#sendStaging === undefined || !this.native.sendStagingFree()) this.#sendStaging = this.native.newSendStaging(SEND_STAGING_BYTES) as Buffer;
      this.#sendStagingChecked = true;
    }
    const staging = this.#sendStaging!;
    const at = this.#sendStagingUsed;
    staging.set(view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, length), at);
    this.#sendStagingUsed = at + length;
    const i = this.#turnCount++;
    const rows = this.#turnRows;
    rows[i * TURN_ROW] = TURN_SEND;
    rows[i * TURN_ROW + 1] = fd;
    rows[i * TURN_ROW + 2] = flags;
    rows[i * TURN_ROW + 3] = at;
    rows[i * TURN_ROW + 4] = length;
    this.#turnSendFds.add(fd);
    const { promise, op } = this.deferred<number>(syscall, signal);
    this.#turnOps[i] = op;
    if (this.#turnCount === TURN_ROWS) this.pushQueued();
    return promise;
  }

  /**
   * A plain-Buffer read or write done now without blocking (see `RingOptions.inline`),
   * or undefined when it must go to the ring: it would block, it failed (the ring then
   * reports the failure as it always does), or this turn's inline budget is spent. A
   * short count on a regular file (partly cached, or the end of the file) sends the
   * rest to the ring and resolves to the sum.
   */
  #tryInline(write: boolean, fd: number, buffer: ArrayBufferView, position: number, p: Prepared<unknown>): Promise<unknown> | undefined {
    const length = buffer.byteLength;
    if (length === 0 || length > INLINE_MAX_BYTES || this.destroyed || p.signal?.aborted === true) return undefined;
    if ((write ? this.#noInlineWrites : this.#noInlineReads).has(fd)) return undefined;
    // Spent for this turn: tried again once the loop has turned (timers, I/O and
    // immediates ran), with the next turn's budget. One setImmediate for all that
    // wait, where a trip through the ring would cost each of them an SQE, a landing
    // zone and a completion.
    // A write takes its bytes when it is called, and a read at the file position (a
    // pipe, a socket) must not be overtaken by a later one: those go to the ring now.
    if (!takeInlineBudget(length)) return write || position < 0 ? undefined : this.#spill(write, fd, buffer, position, p);
    const n = write ? native().writeNow(fd, buffer, position) : native().readNow(fd, buffer, position);
    if (n >= 0) return Promise.resolve(p.map === undefined ? n : p.map(n));
    if (n > -SHORT_ON_REGULAR_FILE) {
      // EAGAIN: it would block. EOPNOTSUPP: the file system has no non-blocking form
      // (buffered writes on ext4): not tried again on this descriptor. Anything else:
      // the ring gives the error its usual shape.
      if (n === -EOPNOTSUPP) {
        const refused = write ? this.#noInlineWrites : this.#noInlineReads;
        // A reused descriptor number only loses the inline try: the ring serves it.
        if (refused.size >= 1024) refused.clear();
        refused.add(fd);
      }
      return undefined;
    }
    const done = -n - SHORT_ON_REGULAR_FILE;
    if (!write && done === 0) return Promise.resolve(0);
    const rest = buffer instanceof Uint8Array ? buffer.subarray(done) : new Uint8Array(buffer.buffer, buffer.byteOffset + done, length - done);
    const restAt = position < 0 ? position : position + done;
    const remainder = (write ? this.write(fd, rest, restAt, p.signal === undefined ? undefined : { signal: p.signal }) : this.read(fd, rest, restAt, p.signal === undefined ? undefined : { signal: p.signal })) as Promise<number>;
    // A write that moved some bytes reports them even if the rest fails, as write(2) does.
    return remainder.then((m) => done + m, (e) => (write ? done : Promise.reject(e)));
  }

  /**
   * Reads and writes that found this turn's inline budget spent, oldest first: done
   * inline from the next turn on, as far as each turn's budget goes. Past
   * SPILL_MAX waiting, more go to the ring.
   */
  readonly #spilled: (Spilled | undefined)[] = [];
  #spilledHead = 0;

  #spill(write: boolean, fd: number, buffer: ArrayBufferView, position: number, p: Prepared<unknown>): Promise<unknown> | undefined {
    const waiting = this.#spilled.length - this.#spilledHead;
    if (waiting >= SPILL_MAX) return undefined;
    if (waiting === 0) void nextTurn().then(() => this.#runSpilled());
    return new Promise((resolve) => {
      this.#spilled.push({ write, fd, buffer, position, p, resolve });
    });
  }

  #runSpilled(): void {
    const queue = this.#spilled;
    while (this.#spilledHead < queue.length) {
      const s = queue[this.#spilledHead]!;
      if (!hasInlineRoom(s.buffer.byteLength) && !this.destroyed) {
        void nextTurn().then(() => this.#runSpilled());
        return;
      }
      queue[this.#spilledHead++] = undefined;
      const options = s.p.signal === undefined ? undefined : { signal: s.p.signal };
      // A ring destroyed meanwhile cancels it, as it cancels what it holds.
      s.resolve(this.destroyed ? Promise.reject(new IoError(-ECANCELED, s.p.syscall))
        : s.write ? this.write(s.fd, s.buffer, s.position, options) : this.read(s.fd, s.buffer, s.position, options));
    }
    queue.length = 0;
    this.#spilledHead = 0;
  }

  /**
   * A send done now without blocking (see `RingOptions.inline`): what the socket's
   * buffer takes goes straight from the caller's memory, as node:net's writes do; a
   * full buffer (EAGAIN) or any failure sends it through the ring. A partial send
   * sends the rest through the ring and resolves to the sum (a failure of the rest
   * resolves to what was sent, as send(2) would).
   */
  #trySendInline(p: Prepared<unknown>): Promise<unknown> | undefined {
    const fd = p.nums[0] as number;
    const flags = p.nums[1] as number;
    const view = p.objs[0] as ArrayBufferView;
    const length = view.byteLength;
    // What this turn queued for the socket (its sends, or any opcode-table op, which
    // may be a shutdown or close of it) reaches it first, through the ring, in order.
    if (this.#turnTableRows > 0 || this.#turnSendFds.has(fd)) return undefined;
    if (length === 0 || length > INLINE_MAX_BYTES || this.destroyed || p.signal?.aborted === true || !takeInlineBudget(length)) return undefined;
    const n = native().sendNow(fd, view, flags);
    if (n === length) return Promise.resolve(n);
    if (n <= 0) return undefined;
    const rest = new Uint8Array(view.buffer, view.byteOffset + n, length - n);
    // Already first in its socket's order (`#orderedSend`): the rest goes on without
    // waiting behind itself.
    return (this.#submit({ ...p, objs: [rest] }, undefined, true) as Promise<number>).then((m) => n + m, () => n);
  }

  /**
   * The sends of each socket still in flight, by descriptor: the last one's promise.
   * A send made while an earlier one on its socket has not settled waits for it, so
   * bytes reach a stream in call order, as node:net's writes do (the kernel orders
   * only what it takes at once: two sends waiting for room could interleave).
   */
  readonly #sendTails = new Map<number, Promise<unknown>>();

  #orderedSend<R>(p: Prepared<R>): Promise<R> {
    const fd = p.nums[0] as number;
    const before = this.#sendTails.get(fd);
    const start = (): Promise<R> => this.#submit(p, undefined, true);
    const sent = before === undefined ? start() : before.then(start, start);
    this.#sendTails.set(fd, sent);
    const settled = (): void => {
      if (this.#sendTails.get(fd) === sent) this.#sendTails.delete(fd);
    };
    sent.then(settled, settled);
    return sent;
  }

  /** Queues `p` and tracks it; rejects (never throws) on any failure. */
  #submit<R>(p: Prepared<R>, extra?: TrackExtra, ordered = false): Promise<R> {
    if (p.op === 'send' && extra === undefined && !ordered) return this.#orderedSend(p);
    const rw = p.rw;
    if (rw !== undefined && p.flags === 0 && p.timeout < 0) {
      const { write, fd, buffer, position } = rw;
      const memory = ownedMemory(buffer);
      if (extra === undefined && typeof position === 'number' && p.map === undefined) {
        // alignedBuffer memory too: the kernel writes it only inside the call.
        if (this.#inline) {
          const now = this.#tryInline(write, fd, buffer, position, p);
          if (now !== undefined) return now as Promise<R>;
        }
        // A write's bytes are taken when the call is made, so it cannot wait for the
        // end of the turn; with `submitBatch` set, ops must reach the ring one by one.
        if (memory === undefined && !write && this.#turnQueue) return this.#queueRow(TURN_READ, fd, position, buffer, p.syscall, p.signal) as Promise<R>;
      }
      return this.track(p.syscall, p.signal, memory === undefined
        ? (write ? (r) => r.write(fd, buffer, position) : (r) => r.read(fd, buffer, position))
        : (r) => r.rwShared(write, fd, memory, buffer.byteOffset, buffer.byteLength, position), undefined, p.map, undefined, extra);
    }
    if (p.op === 'send' && p.flags === 0 && p.timeout < 0 && extra === undefined && p.map === undefined) {
      // Many sends in one turn (a server answering its connections) go to the kernel
      // in one io_uring_enter: less CPU per send than a send(2) each.
      const view = p.objs[0] as ArrayBufferView;
      if (this.#turnQueue && view.byteLength > 0 && view.byteLength <= TURN_SEND_MAX) {
        return this.#queueSend(p.nums[0] as number, p.nums[1] as number, view, p.syscall, p.signal) as Promise<R>;
      }
      if (this.#inline) {
        const now = this.#trySendInline(p as Prepared<unknown>);
        if (now !== undefined) return now as Promise<R>;
      }
    }
    if (p.op === 'nop' && p.flags === 0 && p.timeout < 0 && extra === undefined && p.map === undefined && this.#turnQueue) {
      return this.#queueRow(TURN_NOP, 0, 0, undefined, p.syscall, p.signal) as Promise<R>;
    }
    if (rw !== undefined) {
      try {
        rwArgs(p);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const row = nativeRow(p.op);
    if (row !== undefined && this.native !== undefined && (p.syscallFirst === true || !this.#supportedCodes().has(row.code) || hiddenOps.has(p.op))) {
      // socket, bind, listen, setsockopt and getsockopt never block: on an older kernel,
      // the system call itself (not inside a linked chain, whose order it could not keep).
      if (p.fallback !== undefined && extra === undefined && (p.flags & (SQE_LINK | SQE_HARDLINK)) === 0) return this.#fallback(p);
      const why = p.syscallFirst === true ? `'${p.op}' is a plain system call here, which a linked chain cannot hold` : `IORING_OP code ${row.code} ('${p.op}') needs Linux ${row.kernel}`;
      return Promise.reject(new IoError(-EOPNOTSUPP, p.syscall, p.path, p.dest, why));
    }
    if (p.resolve !== undefined && !this.destroyed) {
      try {
        p.resolve(this.#context);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    if (p.okErrno !== undefined) {
      extra ??= {};
      extra.okErrno = p.okErrno;
    }
    if (p.zeroCopy === true && extra?.onMore === undefined) {
      // The first completion carries the result; the notification settles it.
      const zc: TrackExtra = extra ?? {};
      extra = zc;
      let first: number | undefined;
      zc.onMore = (result) => {
        first = result;
      };
      const { map, syscall } = p;
      p = {
        ...p,
        map: (result: number): R => {
          const r = first !== undefined && ((zc.rowExtra ?? 0) & IORING_CQE_F_NOTIF) !== 0 ? first : result;
          if (r < 0) throw new IoError(r, syscall);
          return map === undefined ? (r as R) : map(r);
        },
      };
    }
    const bufRing = p.bufRing?.native;
    if (extra === undefined && this.#turnQueue && !this.destroyed && p.memory === undefined && bufRing === undefined
      && (p.flags & (SQE_LINK | SQE_HARDLINK)) === 0 && !TARGET_OPS.has(p.op)
      && (p.ownViews === true || p.objs.every((o) => typeof o === 'string'))) {
      // Handed over with the turn's rows: no native call of its own.
      return this.#queueTableRow(p, row!.index);
    }
    const tracked = extra ?? {};
    const start = (r: NativeRing) => r.submit(row!.index, p.flags, p.timeout, p.nums, p.objs, p.memory, bufRing);
    const promise = this.track(p.syscall, p.signal, start, p.path, p.map, p.dest, tracked);
    // Only ops that others can target are remembered: a WeakMap entry per op would cost
    // every operation an ephemeron for the garbage collector to trace.
    if (tracked.id !== undefined && TARGET_OPS.has(p.op)) this.#targets.set(promise, { id: tracked.id, prepared: p as Prepared<unknown>, extra: tracked });
    return promise;
  }

  /**
   * A multishot operation as an async iterable: each intermediate result is yielded;
   * leaving the loop (or `return()`) cancels the operation and waits for its final
   * completion. It starts at the first `next()`, where an argument error rejects.
   */
  #iterate(prepare: () => Prepared<unknown>, rearm: boolean): AsyncIterableIterator<unknown> {
    /** The op running now, or (`waiting`) the wait for a buffer before it is armed again. */
    let current: { extra: TrackExtra; final: Promise<void>; waiting?: boolean } | undefined;
    let yielded = 0;
    /** `ring.close(fd)` ended it: its op's ECANCELED is the end, not an error. */
    let fdClosed = false;
    let stream: Prepared<unknown>['stream'];
    let readFd: number | undefined;
    let unregister = (): void => {};
    const reader = {
      close: (): void => {
        fdClosed = true;
        const running = current;
        if (running?.extra.id !== undefined && this.isPending(running.extra.id, running.extra)) this.native?.cancel(running.extra.id);
        else feed.end();
      },
    };
    const feed: Feed<unknown> = new Feed({
      start: () => {
        const arm = (): void => {
          if (this.destroyed && current !== undefined) {
            feed.end({ error: new IoError(-ECANCELED, 'io_uring_enter') });
            return;
          }
          const p = prepare();
          stream = p.stream;
          if (p.fd !== undefined && current === undefined) {
            const fd = p.fd;
            readFd = fd;
            // What the last loop on this socket left unread comes first.
            if (stream?.keepsUnread === true) for (const value of this.#takeUnread(fd)) feed.push(value);
            const readers = this.#readers.get(fd) ?? new Set();
            readers.add(reader);
            this.#readers.set(fd, readers);
            unregister = () => {
              readers.delete(reader);
              if (readers.size === 0 && this.#readers.get(fd) === readers) this.#readers.delete(fd);
            };
          }
          const counted = p.multishot;
          if (counted !== undefined && counted.count > 0) counted.setCount(counted.count - yielded);
          const value = (result: unknown): unknown => {
            yielded++;
            if (counted?.numbered === true) return yielded;
            return p.map === undefined ? result : p.map(result as number);
          };
          const extra: TrackExtra = {
            onMore: (result, flags) => {
              if (stream === undefined) {
                feed.push(value(result));
                return;
              }
              try {
                // A closed feed hands the value to its discard hook.
                const v = stream.value(result, flags);
                if (v !== undefined) feed.push(v);
              } catch (error) {
                // Never thrown into the delivery of other completions: the loop ends.
                feed.end({ error });
                if (extra.id !== undefined) this.native?.cancel(extra.id);
              }
            },
          };
          // `value` maps intermediate and final results alike.
          const submitted = this.#submit({ ...p, map: undefined }, extra);
          // pollRemove(feed) and the like act on the op running now.
          const running = this.#targets.get(submitted);
          if (running !== undefined) this.#targets.set(feed, running);
          const final = submitted.then(
            (result) => {
              if (stream !== undefined) {
                try {
                  const v = stream.value(result as number, extra.rowExtra ?? 0);
                  if (v !== undefined) feed.push(v);
                } catch (error) {
                  feed.end({ error });
                  return;
                }
                if (feed.closed) return;
                if (!fdClosed && stream.rearm(result as number)) arm();
                else feed.end();
                return;
              }
              if (feed.closed) return;
              feed.push(value(result));
              // The kernel ended it on its own (a full CQ, a changed file) or it
              // reached its count.
              const more = counted !== undefined ? counted.count === 0 || yielded < counted.count : rearm;
              if (more && !fdClosed) arm();
              else feed.end();
            },
            (error: unknown) => {
              if (feed.closed) return;
              const errno = error instanceof IoError ? error.errno : undefined;
              if (fdClosed && errno === -ECANCELED) return feed.end();
              const wait = stream !== undefined && errno !== undefined && !fdClosed ? stream.recover(errno) : undefined;
              if (wait === undefined) return feed.end({ error });
              // Armed again once it may succeed (a buffer ring that ran dry).
              current = {
                extra: {},
                final: wait.then(() => {
                  if (feed.closed) return;
                  if (fdClosed) feed.end();
                  else arm();
                }),
                waiting: true,
              };
            },
          ).then(() => {
            if (feed.closed) unregister();
          });
          current = { extra, final };
        };
        arm();
      },
      stop: async () => {
        unregister();
        if (current === undefined) return;
        // An op re-armed meanwhile replaces `current`: wait for the one running now.
        let waited: Promise<void> | undefined;
        while (current !== undefined && current.final !== waited) {
          // Nothing in the kernel while it waits for a buffer (which the chunks this
          // loop left unread may hold: they are given back only once it stops).
          if (current.waiting === true) return;
          waited = current.final;
          if (current.extra.id !== undefined) this.native?.cancel(current.extra.id);
          await waited;
        }
      },
      discard: (value) => {
        const hooks = stream;
        if (hooks === undefined) return;
        // Left early: kept for the socket's next loop, unless the socket is closing.
        if (hooks.keepsUnread === true && readFd !== undefined && !fdClosed && !this.destroyed) this.#keepUnread(readFd, value, (v) => hooks.discard(v));
        else hooks.discard(value);
      },
    });
    return feed;
  }

  #submitChain(ops: Prepared<unknown>[], options: ChainSubmitOptions | undefined): Promise<PromiseSettledResult<unknown>[]> {
    let signal: AbortSignal | undefined;
    let timeout = -1;
    let link = SQE_LINK;
    try {
      if (options !== undefined && (options === null || typeof options !== 'object')) throw invalidArgType('options', 'of type object', options);
      signal = options?.signal;
      validateSignal(signal);
      validateBoolean(options?.hardlink, 'options.hardlink');
      if (options?.hardlink === true) link = SQE_HARDLINK;
      if (options?.timeout !== undefined) timeout = milliseconds(options.timeout, 'options.timeout');
      if (this.destroyed || this.native === undefined) throw useAfterClose('The ring');
      // Each operation is one SQE, and one more with its own { timeout }.
      const sqes = ops.reduce((n, p) => n + (p.timeout >= 0 ? 2 : 1), 0);
      if (sqes > this.entries) throw outOfRange('chain length', `<= ${this.entries} SQEs (the ring's entries; an operation with { timeout } takes two)`, sqes);
    } catch (e) {
      return Promise.reject(e);
    }
    const extras: TrackExtra[] = [];
    const promises: Promise<unknown>[] = [];
    let broken = false;
    ops.forEach((p, i) => {
      if (broken) {
        promises.push(Promise.reject(new IoError(-ECANCELED, p.syscall, p.path, p.dest)));
        return;
      }
      const last = i === ops.length - 1;
      const prepared = p;
      if (!last) prepared.flags |= link;
      prepared.linked?.();
      prepared.signal = prepared.signal === undefined ? signal : signal === undefined ? prepared.signal : anySignal(prepared.signal, signal);
      const extra: TrackExtra = {};
      extras.push(extra);
      const promise = this.#submit(prepared, extra);
      if (extra.id === undefined) {
        // Not queued (closed ring, aborted signal, refused by the native side): the
        // chain ends at the previous op, and the rest never start.
        broken = true;
        this.native?.endChain();
      }
      promises.push(promise);
    });
    if (timeout >= 0) {
      const timer = setTimeout(() => {
        for (const extra of extras) {
          extra.timedOut = true;
          if (extra.id !== undefined) this.native?.cancel(extra.id);
        }
      }, timeout);
      void Promise.allSettled(promises).then(() => clearTimeout(timer));
    }
    return Promise.allSettled(promises);
  }

  static {
    ringInternals = {
      submit: (ring, p, extra) => ring.#submit(p, extra),
      endChain: (ring) => ring.native?.endChain(),
    };
    defineOps(Ring.prototype, (prepare, entry) => entry.multishot === undefined
      ? function (this: Ring, ...args: unknown[]): Promise<unknown> {
        let prepared: Prepared<unknown>;
        try {
          prepared = prepare(args);
        } catch (e) {
          return Promise.reject(e);
        }
        return this.#submit(prepared);
      }
      : function (this: Ring, ...args: unknown[]): AsyncIterableIterator<unknown> {
        // Arguments are checked at the call, like a promise method's: the first
        // next() rejects with the error.
        return this.#iterate(() => prepare(args), entry.multishot!.rearm);
      });
  }
}

/** What `chain.submit(options)` takes. */
export interface ChainSubmitOptions {
  /** Aborts every operation of the chain still pending. */
  signal?: AbortSignal;
  /**
   * Milliseconds for the whole chain: operations still pending then are cancelled and
   * reject with ETIME.
   */
  timeout?: number;
  /** IOSQE_IO_HARDLINK (kernel 5.5): each operation runs whatever the previous one's result. */
  hardlink?: boolean;
}

/** Every single-shot `Ring` method, on a chain: the same arguments, the builder back. */
export interface Chain extends ChainOps<Chain> {}
/**
 * Linked operations (IOSQE_IO_LINK, kernel 5.3) built with the same methods as
 * `Ring`, each returning the builder. `submit()` queues them in order, together, and
 * resolves to one settled result per operation, like `Promise.allSettled`. If one
 * fails, or reads or writes fewer bytes than asked, the ones after it reject with
 * ECANCELED (unless `{ hardlink: true }`).
 */
export class Chain {
  readonly #ops: Prepared<unknown>[] = [];
  readonly #submitOps: (ops: Prepared<unknown>[], options: ChainSubmitOptions | undefined) => Promise<PromiseSettledResult<unknown>[]>;
  #error: unknown;
  #submitted = false;

  /** @internal Made by `ring.chain()`. */
  constructor(submit: (ops: Prepared<unknown>[], options: ChainSubmitOptions | undefined) => Promise<PromiseSettledResult<unknown>[]>) {
    this.#submitOps = submit;
  }

  /** Operations added so far. */
  get length(): number {
    return this.#ops.length;
  }

  /**
   * Queues the operations, linked, in one submission. Rejects (nothing queued) if an
   * operation's arguments were invalid, or if it was already submitted.
   */
  submit(options?: ChainSubmitOptions): Promise<PromiseSettledResult<unknown>[]> {
    if (this.#submitted) return Promise.reject(invalidState('this chain was already submitted'));
    this.#submitted = true;
    if (this.#error !== undefined) return Promise.reject(this.#error);
    return this.#submitOps(this.#ops, options);
  }

  static {
    defineOps(Chain.prototype, (prepare) => function (this: Chain, ...args: unknown[]): Chain {
      // The first invalid operation is reported by submit(), as a rejection.
      if (this.#error === undefined) {
        try {
          this.#ops.push(prepare(args));
        } catch (e) {
          this.#error = e;
        }
      }
      return this;
    }, true);
  }
}

/** The native table's rows by the Rust entry's name, with their `submit` index. */
let nativeRows: Map<string, { index: number; code: number; kernel: string }> | undefined;

function nativeRow(op: string): { index: number; code: number; kernel: string } | undefined {
  nativeRows ??= new Map(native().opTable().map((row, index) => [row.name, { index, code: row.code, kernel: row.kernel }]));
  return nativeRows.get(op);
}
