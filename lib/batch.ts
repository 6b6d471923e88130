// RingBatch: many operations per native call. Entries are rows of numbers in a
// Float64Array that the native side reads in one call; results come back as rows in
// another. Nothing per operation is allocated or referenced, so the JS cost of an
// entry is a few typed-array stores. Every entry is validated in Rust before it
// becomes an SQE; a bad entry fails alone (see `error(i)`).
import { IoError, invalidArgType, invalidState, outOfRange } from './errors';
import type { OpOptions } from './source';
import { validateInteger } from './validate';

/** Fields of an entry row: opcode, fd, buffer, bufferOffset, length, position, tag, flags, sqeFlags. */
export const ENTRY_FIELDS = 9;
/** Fields of a result row: tag, result, flags. */
export const RESULT_FIELDS = 3;

/** Batch opcodes: the kernel's IORING_OP_* numbers. */
export const BatchOp = Object.freeze({
  /** IORING_OP_NOP (5.1). */
  NOP: 0,
  /** IORING_OP_FSYNC (5.1); flags 1 = IORING_FSYNC_DATASYNC. */
  FSYNC: 3,
  /** IORING_OP_READ_FIXED (5.1): read into a registered buffer. */
  READ_FIXED: 4,
  /** IORING_OP_WRITE_FIXED (5.1): write from a registered buffer. */
  WRITE_FIXED: 5,
  /** IORING_OP_LINK_TIMEOUT (5.5): times the entry before it, which must link to it; `length` is milliseconds. */
  LINK_TIMEOUT: 15,
});

/** IOSQE_* bits of an entry's sqeFlags field (a Ring's batch only; an Aio refuses them). */
export const BatchSqe = Object.freeze({
  /** IOSQE_FIXED_FILE (5.1): fd is an index into `ring.registerFiles()`. */
  FIXED_FILE: 1,
  /** IOSQE_IO_DRAIN (5.2): starts after every earlier entry has completed. */
  IO_DRAIN: 2,
  /** IOSQE_IO_LINK (5.3): the next entry starts only after this one succeeded. */
  IO_LINK: 4,
  /** IOSQE_IO_HARDLINK (5.5): the next entry starts after this one, whatever its result. */
  IO_HARDLINK: 8,
  /** IOSQE_ASYNC (5.6): straight to a kernel worker thread. */
  ASYNC: 16,
});

const SYSCALLS: Record<number, string> = { 0: 'nop', 3: 'fsync', 4: 'read', 5: 'write', 15: 'link_timeout' };

/** Why Rust refused an entry: the negated code in the result row's flags field. */
const REFUSALS: Record<number, string> = {
  1: 'the opcode is not one of BatchOp',
  2: 'fd must be an integer from 0 to 2147483647',
  3: 'buffer is not the index of a registered buffer',
  4: 'bufferOffset + length runs past the end of the registered buffer',
  5: 'position must be an integer from 0 to 2^53 - 1, or -1 (the file position) on a Ring',
  6: 'flags must be an integer from 0 to 2^32 - 1 (fsync: 0 or 1)',
  7: 'sqeFlags may hold only BatchSqe bits, and an Aio takes none',
  8: 'an earlier entry of its linked chain was refused',
};

/** What a batch needs from its Ring or Aio (kept off their public surface). */
export interface BatchHost {
  readonly bufferSize: number;
  submit(entries: Float64Array, count: number, results: Float64Array, signal: AbortSignal | undefined): Promise<number>;
  run(entries: Float64Array, count: number, results: Float64Array): void;
}

/** `fixedBuffers` option of Ring and Aio: the pool batch entries use. */
export interface FixedBuffersOptions {
  /** How many buffers (1 to 16384). */
  count: number;
  /** Bytes per buffer (1 to 2^30). Each buffer starts at `index * size` in one page-aligned pool. */
  size: number;
}

/**
 * A reusable list of operations on the buffer pool of a Ring or Aio, made by
 * `ring.batch(capacity)` or `aio.batch(capacity)`. On an Aio, reads and writes
 * become IOCB_CMD_PREAD / PWRITE (a position is required: -1 is refused) and fsync
 * IOCB_CMD_FSYNC / FDSYNC; NOP is refused. Fill it with `read`/`write`/`fsync`/`nop` (or `push`), then
 * `await submit()` (one promise for the whole batch) or `submitSync()` (blocks until
 * every entry completes: for loops that own the thread). Results stay readable until
 * the next submit; `clear()` empties the list for reuse.
 *
 * Entry arguments are stored as numbers (like any Float64Array store) and validated
 * in Rust at submit: an invalid entry settles alone with EINVAL or EBADF and never
 * reaches the kernel, while the rest run.
 */
export class Batch {
  /** Most entries the batch holds. */
  readonly capacity: number;
  /** Entry rows, `ENTRY_FIELDS` numbers each; the first `length` rows are submitted. */
  readonly entries: Float64Array;
  /** Result rows, `RESULT_FIELDS` numbers each: tag, result, flags. */
  readonly results: Float64Array;
  /** Entries added since the last `clear()`. */
  length = 0;
  #host: BatchHost;
  #busy = false;

  /** @internal Use `ring.batch(capacity)` or `aio.batch(capacity)`. */
  constructor(host: BatchHost, capacity: number) {
    this.#host = host;
    this.capacity = capacity;
    this.entries = new Float64Array(capacity * ENTRY_FIELDS);
    this.results = new Float64Array(capacity * RESULT_FIELDS);
  }

  /** Whether a `submit()` is in flight (the batch cannot change until it settles). */
  get pending(): boolean {
    return this.#busy;
  }

  /**
   * Adds a raw entry. Returns its index. `tag` defaults to the index and comes back
   * in the result row.
   */
  push(opcode: number, fd: number, buffer: number, bufferOffset: number, length: number, position: number, tag?: number, flags = 0, sqeFlags = 0): number {
    const i = this.length;
    if (i >= this.capacity || this.#busy) this.#refuse();
    const e = this.entries;
    const o = i * ENTRY_FIELDS;
    e[o] = opcode;
    e[o + 1] = fd;
    e[o + 2] = buffer;
    e[o + 3] = bufferOffset;
    e[o + 4] = length;
    e[o + 5] = position;
    e[o + 6] = tag === undefined ? i : tag;
    e[o + 7] = flags;
    e[o + 8] = sqeFlags;
    this.length = i + 1;
    return i;
  }

  /**
   * Links the last entry to the next one (IOSQE_IO_LINK, kernel 5.3; with `hard`,
   * IOSQE_IO_HARDLINK, 5.5): the next starts only once it has completed (and, unless
   * hard, only if it succeeded; otherwise the rest of the chain completes with
   * -ECANCELED). Entries of a batch are otherwise unordered: `batch.write(...)`,
   * `batch.link()`, `batch.fsync(...)` is how a write is made durable in order.
   */
  link(hard = false): this {
    return this.addSqeFlags(hard ? BatchSqe.IO_HARDLINK : BatchSqe.IO_LINK);
  }

  /** Adds BatchSqe bits to the last entry's sqeFlags. */
  addSqeFlags(bits: number): this {
    validateInteger(bits, 'bits', 0, 31);
    if (this.length === 0) throw invalidState('no entry to flag: add one first');
    const field = (this.length - 1) * ENTRY_FIELDS + 8;
    this.entries[field] = this.entries[field]! | bits;
    return this;
  }

  /**
   * Links the last entry to a timeout of `ms` milliseconds (IORING_OP_LINK_TIMEOUT,
   * kernel 5.5): if it has not completed by then it is cancelled (-ECANCELED in its
   * row, -ETIME in the timeout's). Returns the timeout entry's index.
   */
  linkTimeout(ms: number, tag?: number): number {
    if (typeof ms !== 'number') throw invalidArgType('ms', 'of type number', ms);
    if (!(ms >= 0 && ms <= 1e12)) throw outOfRange('ms', '>= 0 && <= 1000000000000', ms);
    this.link();
    return this.push(BatchOp.LINK_TIMEOUT, 0, 0, 0, ms, 0, tag);
  }

  /**
   * Reads `length` bytes (default: the whole buffer) at `position` (-1: the file
   * position) into registered buffer `buffer` at `bufferOffset` (IORING_OP_READ_FIXED,
   * kernel 5.1). `rwFlags` are RWF_* flags.
   */
  read(fd: number, buffer: number, position: number, length = this.#host.bufferSize, bufferOffset = 0, tag?: number, rwFlags = 0): number {
    return this.push(BatchOp.READ_FIXED, fd, buffer, bufferOffset, length, position, tag, rwFlags);
  }

  /** Writes from registered buffer `buffer` (IORING_OP_WRITE_FIXED, kernel 5.1). */
  write(fd: number, buffer: number, position: number, length = this.#host.bufferSize, bufferOffset = 0, tag?: number, rwFlags = 0): number {
    return this.push(BatchOp.WRITE_FIXED, fd, buffer, bufferOffset, length, position, tag, rwFlags);
  }

  /** fsync(2), or fdatasync(2) with `datasync` (IORING_OP_FSYNC, kernel 5.1). */
  fsync(fd: number, datasync = false, tag?: number): number {
    return this.push(BatchOp.FSYNC, fd, 0, 0, 0, 0, tag, datasync ? 1 : 0);
  }

  /** IORING_OP_NOP (kernel 5.1). */
  nop(tag?: number): number {
    return this.push(BatchOp.NOP, 0, 0, 0, 0, 0, tag);
  }

  /** Empties the batch (results stay until the next submit). */
  clear(): void {
    if (this.#busy) this.#refuse();
    this.length = 0;
  }

  /**
   * Submits every entry in one native call; resolves to the number of entries once
   * the last completes. Per-entry outcomes are in `result(i)` / `error(i)`. Rejects
   * with IoError 'ECANCELED' if the ring is destroyed first, or AbortError on `signal`
   * (entries the kernel finished keep their results).
   */
  submit(options?: OpOptions): Promise<number> {
    if (this.#busy) return Promise.reject(this.#busyError());
    this.#busy = true;
    const done = this.#host.submit(this.entries, this.length, this.results, options?.signal);
    const settle = () => {
      this.#busy = false;
    };
    done.then(settle, settle);
    return done;
  }

  /**
   * Submits every entry and blocks the thread until all have completed; returns the
   * number of entries. Other operations of the ring that complete meanwhile settle on
   * the next event-loop turn. A read that never completes (an empty pipe) blocks for
   * ever: use `submit()` for anything that can wait.
   */
  submitSync(): number {
    if (this.#busy) throw this.#busyError();
    this.#host.run(this.entries, this.length, this.results);
    return this.length;
  }

  /** Entry `i`'s result: bytes transferred, or a negated errno. */
  result(i: number): number {
    return this.results[this.#row(i) + 1];
  }

  /** Entry `i`'s tag. */
  tag(i: number): number {
    return this.results[this.#row(i)];
  }

  /** Entry `i`'s CQE flags. */
  flags(i: number): number {
    return Math.max(0, this.results[this.#row(i) + 2]);
  }

  /** Entry `i`'s failure as an IoError, or undefined if it succeeded. */
  error(i: number): IoError | undefined {
    const row = this.#row(i);
    const result = this.results[row + 1];
    if (result >= 0) return undefined;
    const refusal = REFUSALS[-this.results[row + 2]];
    const detail = refusal === undefined ? `batch entry ${i}` : `batch entry ${i}: ${refusal}`;
    return new IoError(result, SYSCALLS[this.entries[i * ENTRY_FIELDS]] ?? 'batch', undefined, undefined, detail);
  }

  #row(i: number): number {
    validateInteger(i, 'index', 0, this.length - 1);
    return i * RESULT_FIELDS;
  }

  #busyError(): Error {
    return invalidState('the batch is already submitted; wait for it to settle');
  }

  #refuse(): never {
    if (this.#busy) throw this.#busyError();
    throw outOfRange('batch length', `at most the capacity (${this.capacity})`, this.length + 1);
  }
}
