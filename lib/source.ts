// What Ring and Aio share: the table completions arrive in, the pending operations,
// promise settlement, AbortSignal wiring and destroy().
import { constants as osConstants } from 'node:os';
import { Batch, type FixedBuffersOptions } from './batch';
import { alignedBuffer, ownedMemory } from './buffer';
import { AbortError, IoError, fromNative, invalidArgType, nativeErrno, outOfRange, useAfterClose } from './errors';
import type { NativeMemory } from './native';
import { validateInteger, validateObject, validateSignal } from './validate';

const { ECANCELED, EINTR, ENOMEM, ETIME } = osConstants.errno;

/** Completions arrive as (id, result, extra) rows in a shared Float64Array. */
const ROW = 3;
const TABLE_ROWS = 1024;

export interface OpOptions {
  /** Aborts the operation; the promise rejects with an AbortError. */
  signal?: AbortSignal;
}

/** The native half of a source (NativeRing, NativeAio). */
export interface NativeSource {
  /** Hands queued work to the kernel now (io_uring_enter / io_submit). */
  flush(): void;
  cancel(id: number): boolean;
  cancelAll(): void;
  close(): void;
  registerBuffers(memory: NativeMemory, size: number): void;
  submitBatch(entries: Float64Array, count: number, results: Float64Array): number;
  runBatch(entries: Float64Array, count: number, results: Float64Array): void;
}

/** What an operation adds to the plain result mapping (see `track`). */
export interface TrackExtra {
  /** A negative result that counts as success (a timeout's -ETIME). */
  okErrno?: number;
  /** Set when a caller-side deadline cancelled it (a chain's `timeout`). */
  timedOut?: boolean;
  /** The op id, once queued. */
  id?: number;
  /** A multishot operation's intermediate results, with the row's flags (the final one settles the promise). */
  onMore?: (result: number, flags: number) => void;
  /** Set when the op settles: its completion row's third field (CQE flags; AIO: res2). */
  rowExtra?: number;
  /** What the source's `errorFor` needs to explain a failure (Aio: the request's shape). */
  info?: unknown;
}

export interface Pending {
  resolve: (value: any) => void;
  reject: (reason: unknown) => void;
  syscall: string;
  path: string | undefined;
  dest: string | undefined;
  map: ((result: number) => unknown) | undefined;
  signal: AbortSignal | undefined;
  /** The op id (for the signal's shared listener). */
  id: number;
  aborted: boolean;
  extra: TrackExtra | undefined;
}

/** `options.submitBatch` of Ring and Aio, checked: 0 to 2^20. */
export function submitBatchOf(options: { submitBatch?: number } | undefined, fallback: number): number {
  const submitBatch = options?.submitBatch ?? fallback;
  validateInteger(submitBatch, 'options.submitBatch', 0, 2 ** 20);
  return submitBatch;
}

/**
 * The end-of-turn submission shared by every source on this thread (each Worker has
 * its own module instance). The first operation a source queues in a JS turn enrols
 * the source; the first enrolment schedules one microtask, which flushes every
 * enrolled source once. So everything queued during one callback, including promise
 * continuations run while another source delivers, reaches the kernel before that
 * callback's microtasks finish, in one io_uring_enter / io_submit per source, whichever
 * source's libuv handles ran first.
 */
const queuedThisTurn: CompletionSource<NativeSource>[] = [];
const settledPromise = Promise.resolve();
/** Submits what one source queued this turn (set by CompletionSource's static block). */
let flushSource: (source: CompletionSource<NativeSource>) => void;

function flushTurn(): void {
  // Native flushes run no JS, so nothing enrols meanwhile; take the list anyway.
  for (const source of queuedThisTurn.splice(0)) flushSource(source);
}

/** Inline operations and bytes allowed per event-loop turn before the rest go to the ring (so the loop moves on). */
const INLINE_OPS_PER_TURN = 256;
const INLINE_BYTES_PER_TURN = 4 * 1024 * 1024;
let inlineOpsLeft = INLINE_OPS_PER_TURN;
let inlineBytesLeft = INLINE_BYTES_PER_TURN;
let inlineResetScheduled = false;
function resetInlineBudget(): void {
  inlineResetScheduled = false;
  inlineOpsLeft = INLINE_OPS_PER_TURN;
  inlineBytesLeft = INLINE_BYTES_PER_TURN;
}
function scheduleInlineReset(): void {
  if (inlineResetScheduled) return;
  inlineResetScheduled = true;
  // The check phase runs once the loop has polled for I/O (and timers had their
  // turn): a new turn's budget.
  setImmediate(resetInlineBudget);
}
let nextTurnPromise: Promise<void> | undefined;
/**
 * Resolves in the check phase of this loop iteration (after timers and the poll for
 * I/O ran, and after the inline budget was renewed): one setImmediate shared by every
 * operation that waits for it.
 */
export function nextTurn(): Promise<void> {
  return (nextTurnPromise ??= new Promise((resolve) => {
    setImmediate(() => {
      nextTurnPromise = undefined;
      resolve();
    });
  }));
}
/** Whether the inline budget is spent for this turn (see `takeInlineBudget`). */
function inlineBudgetSpent(bytes: number): boolean {
  return inlineOpsLeft <= 0 || inlineBytesLeft < bytes;
}
/** Whether this turn's inline budget has room for operations settled at the end of the turn (`flushNative`). */
export function hasInlineRoom(bytes = 0): boolean {
  return !inlineBudgetSpent(bytes);
}
/** Counts `ops` settled inline against this turn's budget. */
export function spendInlineOps(ops: number): void {
  inlineOpsLeft -= ops;
  scheduleInlineReset();
}
/** Takes `bytes` of this turn's inline budget; false once it is spent (the loop must turn first). */
export function takeInlineBudget(bytes: number): boolean {
  if (inlineBudgetSpent(bytes)) return false;
  inlineOpsLeft--;
  inlineBytesLeft -= bytes;
  scheduleInlineReset();
  return true;
}
export const asyncDispose: typeof Symbol.asyncDispose = (Symbol as any).asyncDispose ?? Symbol.for('nodejs.asyncDispose');

export abstract class CompletionSource<N extends NativeSource> {
  /** @internal */
  protected native: N | undefined;
  readonly #pending = new Map<number, Pending>();
  /** @internal Shared with the native side, which writes completed rows into it. */
  protected readonly table = new Float64Array(TABLE_ROWS * ROW);
  /** @internal
   * The bit of a row's third field that marks a multishot operation's intermediate
   * result (IORING_CQE_F_MORE for a ring; none for AIO, whose field is res2).
   */
  protected readonly moreFlag: number = 0;
  /** @internal Called by the native side with the number of rows written. */
  protected readonly dispatch = (count: number): void => this.#complete(count);
  readonly #what: string;
  #destroying: Promise<void> | undefined;
  #onIdle: (() => void) | undefined;
  /** Enrolled in this turn's flush (see `queuedThisTurn`). */
  #enrolled = false;

  /**
   * The buffer pool (`options.fixedBuffers`) as Buffers over library-owned memory:
   * batch entries read into and write from them by index. Empty without the option.
   */
  get fixedBuffers(): readonly Buffer[] {
    return this.#fixedBuffers;
  }

  #fixedBuffers: readonly Buffer[] = [];

  constructor(what: string) {
    this.#what = what;
  }

  /** @internal How many entries `batch()` holds by default. */
  protected abstract get defaultBatchCapacity(): number;

  /** @internal
   * Allocates the buffer pool and hands it to the native side (`syscall` names the
   * kernel call in errors). On any failure, a bad option included, the native side
   * is closed at once: the constructor throws.
   */
  protected registerPool(fixed: FixedBuffersOptions, syscall: string): void {
    let pool: Buffer;
    try {
      validateObject(fixed, 'options.fixedBuffers');
      validateInteger(fixed.count, 'options.fixedBuffers.count', 1, 16384);
      validateInteger(fixed.size, 'options.fixedBuffers.size', 1, 2 ** 30);
      if (fixed.count * fixed.size > 2 ** 32) {
        throw outOfRange('options.fixedBuffers', `count × size at most 4 GiB (${2 ** 32} bytes), the most one pool holds`, `${fixed.count} × ${fixed.size}`);
      }
      pool = alignedBuffer(fixed.count * fixed.size);
      this.native!.registerBuffers(ownedMemory(pool)!, fixed.size);
    } catch (e) {
      this.native!.close();
      const errno = nativeErrno(e);
      if (errno === undefined) throw e;
      const detail = errno === ENOMEM ? 'registered buffers are pinned memory: raise `ulimit -l` (RLIMIT_MEMLOCK) or register fewer' : undefined;
      throw new IoError(-errno, syscall, undefined, undefined, detail);
    }
    this.#fixedBuffers = Array.from({ length: fixed.count }, (_, i) => pool.subarray(i * fixed.size, (i + 1) * fixed.size));
  }

  /**
   * A reusable batch of up to `capacity` operations on the buffer pool (default: the
   * ring's entries or the context's maxEvents; larger batches queue like any
   * operation). See `Batch`.
   */
  batch(capacity: number = this.defaultBatchCapacity): Batch {
    validateInteger(capacity, 'capacity', 1, 2 ** 20);
    return new Batch({
      bufferSize: this.fixedBuffers[0]?.byteLength ?? 0,
      submit: (entries, count, results, signal) =>
        this.track('batch', signal, (n) => n.submitBatch(entries, count, results)),
      run: (entries, count, results) => {
        const native = this.#live();
        // What the JS side queued this turn goes first, in call order, as in `track`.
        this.pushQueued();
        native.runBatch(entries, count, results);
      },
    }, capacity);
  }

  /** Operations accepted and not yet settled. */
  get inFlight(): number {
    return this.#pending.size + this.queued;
  }

  /** @internal Operations queued on the JS side this turn, not yet handed to the native side. */
  protected get queued(): number {
    return 0;
  }

  /** @internal Hands what `queued` counts to the native side (`adopt` each op); runs before anything else reaches it. */
  protected pushQueued(): void {}

  /**
   * @internal Hands over what `queued` counts and submits, at the end of the turn; returns how
   * many completion rows it wrote into the table for settling now (0: they come
   * through the loop).
   */
  protected flushNative(): number {
    this.pushQueued();
    this.native?.flush();
    return 0;
  }

  /**
   * @internal An operation whose id comes later (`adopt`), and its promise: for ops
   * queued on the JS side and handed to the native side together at the end of the turn.
   */
  protected deferred<T>(syscall: string, signal: AbortSignal | undefined, path?: string, map?: (result: number) => T, dest?: string, extra?: TrackExtra): { promise: Promise<T>; op: Pending } {
    let op!: Pending;
    const promise = new Promise<T>((resolve) => {
      op = { resolve, reject: (e) => rejectAtCaller(resolve as (value: unknown) => void, e), syscall, path, dest, map, signal, id: -1, aborted: false, extra };
    });
    this.#enrol();
    return { promise, op };
  }

  /** @internal Tracks a `deferred` op under the id the native side gave it (-errno: it was refused). */
  protected adopt(op: Pending, id: number): void {
    if (id < 0) {
      op.reject(new IoError(id, op.syscall, op.path, op.dest));
      return;
    }
    op.id = id;
    this.#pending.set(id, op);
    const signal = op.signal;
    if (signal === undefined) return;
    if (signal.aborted) {
      // Aborted while it waited on the JS side: it reached the kernel with the rest of
      // its turn; cancel it now, and it settles as any aborted op does.
      op.aborted = true;
      this.native?.cancel(id);
    } else {
      this.#watch(op, signal);
    }
  }

  /** Whether destroy() has been called. */
  get destroyed(): boolean {
    return this.#destroying !== undefined;
  }

  /** @internal Whether op `id` is still pending and is the one tracked with `extra` (ids are never mistaken for a later op's). */
  protected isPending(id: number, extra: TrackExtra): boolean {
    return this.#pending.get(id)?.extra === extra;
  }

  /** @internal A row no operation of this source claims (a ring's messages from other rings). */
  protected unclaimed(_id: number, _result: number): void {}

  /** @internal The error a negative result becomes; subclasses may add detail. */
  protected errorFor(op: Pending, result: number): Error {
    return new IoError(result, op.syscall, op.path, op.dest);
  }

  #complete(count: number): void {
    const table = this.table;
    const pending = this.#pending;
    for (let i = 0; i < count; i++) {
      const id = table[i * ROW];
      const result = table[i * ROW + 1];
      const op = pending.get(id);
      if (op === undefined) {
        this.unclaimed(id, result);
        continue;
      }
      if ((table[i * ROW + 2] & this.moreFlag) !== 0) {
        // One more result of a multishot operation that goes on.
        op.extra?.onMore?.(result, table[i * ROW + 2]);
        continue;
      }
      pending.delete(id);
      if (op.signal !== undefined) this.#unwatch(op);
      if (op.extra !== undefined) op.extra.rowExtra = table[i * ROW + 2];
      try {
        if (result >= 0 || (op.extra !== undefined && result === op.extra.okErrno)) {
          op.resolve(op.map === undefined ? result : op.map(result));
        } else if (op.aborted && (result === -ECANCELED || result === -EINTR)) {
          op.reject(new AbortError(undefined, { cause: op.signal!.reason }));
        } else if (result === -ECANCELED && op.extra?.timedOut === true) {
          op.reject(this.errorFor(op, -ETIME));
        } else {
          op.reject(this.errorFor(op, result));
        }
      } catch (e) {
        // A result mapping that throws fails its own operation, never the others of
        // this delivery.
        op.reject(e);
      }
    }
    if (pending.size === 0 && this.#onIdle !== undefined) this.#onIdle();
  }

  static {
    flushSource = (source) => {
      source.#enrolled = false;
      const settled = source.flushNative();
      if (settled > 0) source.#complete(settled);
    };
  }

  /** Makes sure what was just queued is submitted at the end of this JS turn. */
  #enrol(): void {
    if (this.#enrolled) return;
    this.#enrolled = true;
    if (queuedThisTurn.push(this) === 1) settledPromise.then(flushTurn);
  }

  /** The native object, or a coded error once destroy() was called. */
  #live(): N {
    if (this.#destroying !== undefined || this.native === undefined) throw useAfterClose(this.#what);
    return this.native;
  }

  /** @internal
   * Submits through `start` and tracks the returned op id. Rejects (never throws) for
   * a destroyed source, an aborted signal or a native failure.
   */
  protected track<T>(
    syscall: string,
    signal: AbortSignal | undefined,
    start: (native: N) => number,
    path?: string,
    map?: (result: number) => T,
    dest?: string,
    extra?: TrackExtra,
  ): Promise<T> {
    let id: number;
    try {
      const native = this.#live();
      if (signal?.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
      // What the JS side queued this turn goes first, in the order it was queued.
      this.pushQueued();
      id = start(native);
    } catch (e) {
      return Promise.reject(fromNative(e, syscall, path));
    }
    // A native refusal comes back as -errno (a value, not a string to parse).
    if (id < 0) return Promise.reject(new IoError(id, syscall, path, dest));
    if (extra !== undefined) extra.id = id;
    const { promise, op } = this.deferred(syscall, signal, path, map, dest, extra);
    this.adopt(op, id);
    return promise;
  }

  /**
   * The operations pending on each AbortSignal, with the one listener this source adds
   * to it: a signal shared by any number of operations gets one listener (no
   * MaxListenersExceededWarning), removed when its last operation settles.
   */
  readonly #watched = new Map<AbortSignal, { ops: Set<Pending>; listener: () => void }>();

  #watch(op: Pending, signal: AbortSignal): void {
    let entry = this.#watched.get(signal);
    if (entry === undefined) {
      const ops = new Set<Pending>();
      const listener = () => {
        this.#watched.delete(signal);
        for (const pending of ops) {
          pending.aborted = true;
          this.native?.cancel(pending.id);
        }
      };
      entry = { ops, listener };
      this.#watched.set(signal, entry);
      signal.addEventListener('abort', listener, { once: true });
    }
    entry.ops.add(op);
  }

  #unwatch(op: Pending): void {
    const signal = op.signal!;
    const entry = this.#watched.get(signal);
    if (entry === undefined) return;
    entry.ops.delete(op);
    if (entry.ops.size === 0) {
      this.#watched.delete(signal);
      signal.removeEventListener('abort', entry.listener);
    }
  }

  /**
   * Cancels everything in flight, waits for every completion, then closes. Cancelled
   * operations reject with IoError 'ECANCELED' (ones the kernel had already finished
   * keep their result). Later calls reject with ERR_USE_AFTER_CLOSE.
   */
  destroy(): Promise<void> {
    if (this.#destroying !== undefined) return this.#destroying;
    // Ops still queued on the JS side become pending ops, cancelled with the rest.
    this.pushQueued();
    const native = this.native!;
    this.#destroying = new Promise<void>((resolve) => {
      const finish = () => {
        this.#onIdle = undefined;
        this.native = undefined;
        native.close();
        resolve();
      };
      if (this.#pending.size === 0) {
        finish();
      } else {
        this.#onIdle = finish;
        native.cancelAll();
      }
    });
    return this.#destroying;
  }

  [asyncDispose](): Promise<void> {
    return this.destroy();
  }
}

/**
 * Gives a rejection the stack of the code awaiting it (`at async main (app.js:13:7)`),
 * as Node's fs errors have, instead of the library's dispatch frames: V8 knows the
 * awaiting async functions when this runs as a reaction of a promise they wait on.
 */
function withCallerStack(e: unknown): never {
  if (e instanceof Error) Error.captureStackTrace(e, withCallerStack);
  throw e;
}

/**
 * Rejects an operation's promise (through its `resolve`) with `e` carrying the
 * caller's frames, at a cost paid only on failure: the promise is resolved with one
 * whose rejection handler is `withCallerStack`, and that rejection happens a microtask
 * later, once the operation's promise follows it (V8 then walks from the handler to
 * the operation's promise and on to the code awaiting it). A successful operation
 * keeps one promise and no reaction of the library's.
 */
function rejectAtCaller(resolve: (value: unknown) => void, e: unknown): void {
  let reject!: (reason: unknown) => void;
  const failure = new Promise<never>((_, r) => {
    reject = r;
  });
  resolve(failure.then(undefined, withCallerStack));
  queueMicrotask(() => reject(e));
}

/** The `signal` of an options object, validated. */
export function signalOf(options: OpOptions | undefined): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
  validateSignal(options.signal);
  return options.signal;
}

export function toVoid(): void {}
