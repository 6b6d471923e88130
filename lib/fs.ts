// uring-aio/fs: node:fs/promises on io_uring. The same names, signatures, results and
// errors; the operations io_uring has an opcode for go through one Ring per thread,
// made on first use, and the rest (and everything where io_uring cannot be used) go to
// node:fs/promises unchanged. `backend` and `backendReason` say which and why.
import * as nodeFs from 'node:fs';
import * as nodePromises from 'node:fs/promises';
import { release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { alignedBuffer } from './buffer';
import { AbortError, IoError, fileTooLarge, invalidArgType } from './errors';
import { isSupported } from './index';
import { Ring } from './ring';
import type { OpenFlags } from './flags';
import type { Stats as RingStats } from './stats';

type PathLike = nodeFs.PathLike;
type Encoding = BufferEncoding | null | undefined;

/** Which implementation runs the calls that have an io_uring opcode. */
export type Backend = 'io_uring' | 'node:fs';

/**
 * `URING_AIO_FS_BACKEND=node:fs` in the environment forces the fallback (for tests, or
 * to compare); otherwise io_uring is used where `isSupported()` says it works.
 */
function decide(): { backend: Backend; reason: string } {
  const forced = process.env.URING_AIO_FS_BACKEND;
  if (forced === 'node:fs') return { backend: 'node:fs', reason: 'URING_AIO_FS_BACKEND=node:fs forces node:fs/promises' };
  const support = isSupported();
  if (!support.ok) return { backend: 'node:fs', reason: support.reason };
  return { backend: 'io_uring', reason: `io_uring works on this kernel (Linux ${release()})` };
}
const decision = decide();
/** 'io_uring' or 'node:fs': where the calls with an io_uring opcode go. */
export const backend: Backend = decision.backend;
/** Why `backend` is what it is. */
export const backendReason: string = decision.reason;

let threadRing: Ring | undefined;
/** This thread's ring (module state is per thread), or undefined on the fallback. */
function ring(): Ring | undefined {
  if (backend !== 'io_uring') return undefined;
  return (threadRing ??= new Ring({ entries: 256 }));
}

/** A path as Node shows it in errors. */
function shown(path: PathLike): string {
  if (typeof path === 'string') return path;
  if (path instanceof URL) return fileURLToPath(path);
  return Buffer.from(path).toString();
}

/** A Ring failure with Node's syscall name and path, as node:fs would report it. */
function asNode(error: unknown, syscall: string, path?: PathLike, dest?: PathLike): unknown {
  if (!(error instanceof IoError)) return error;
  return new IoError(error.errno, syscall, path === undefined ? undefined : shown(path), dest === undefined ? undefined : shown(dest));
}

async function viaRing<T>(syscall: string, path: PathLike | undefined, dest: PathLike | undefined, run: (r: Ring) => Promise<T>): Promise<T> {
  try {
    return await run(ring()!);
  } catch (e) {
    throw asNode(e, syscall, path, dest);
  }
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
}

/**
 * Node's Stats, from a Ring's statx result: the same class (`instanceof fs.Stats`),
 * fields and methods. A constructor whose prototype is Node's keeps object creation on
 * V8's fast path (Object.setPrototypeOf would not).
 */
interface NodeStatsFrom {
  new (s: RingStats): nodeFs.Stats;
}
const NodeStatsFrom = function (this: Record<string, unknown>, s: RingStats) {
  this.dev = s.dev;
  this.mode = s.mode;
  this.nlink = s.nlink;
  this.uid = s.uid;
  this.gid = s.gid;
  this.rdev = s.rdev;
  this.blksize = s.blksize;
  this.ino = s.ino;
  this.size = s.size;
  this.blocks = s.blocks;
  this.atimeMs = s.atimeMs;
  this.mtimeMs = s.mtimeMs;
  this.ctimeMs = s.ctimeMs;
  this.birthtimeMs = s.birthtimeMs;
  this.atime = s.atime;
  this.mtime = s.mtime;
  this.ctime = s.ctime;
  this.birthtime = s.birthtime;
} as unknown as NodeStatsFrom;
NodeStatsFrom.prototype = nodeFs.Stats.prototype;
const toNodeStats = (s: RingStats): nodeFs.Stats => new NodeStatsFrom(s);

const fstatBigint = promisify(nodeFs.fstat) as (fd: number, options: { bigint: true }) => Promise<nodeFs.BigIntStats>;
const fchmod = promisify(nodeFs.fchmod);
const fchown = promisify(nodeFs.fchown);
const futimes = promisify(nodeFs.futimes);
const ftruncateNode = promisify(nodeFs.ftruncate);
const closeNode = promisify(nodeFs.close);

let gcCloseDeprecationShown = false;
const closeOnGc = new FinalizationRegistry<number>((fd) => {
  // As Node does for a FileHandle collected while open: close it, and say so (the
  // deprecation once per process).
  process.emitWarning(`Closing file descriptor ${fd} on garbage collection`);
  if (!gcCloseDeprecationShown) {
    gcCloseDeprecationShown = true;
    process.emitWarning('Closing a FileHandle object on garbage collection is deprecated. Please close FileHandle objects explicitly using FileHandle.prototype.close(). In the future, an error will be thrown if a file descriptor is closed during garbage collection.', 'DeprecationWarning', 'DEP0137');
  }
  try {
    nodeFs.closeSync(fd);
  } catch {
    // Already closed through another path.
  }
});

interface ReadOptions<T extends NodeJS.ArrayBufferView> {
  buffer?: T;
  offset?: number | null;
  length?: number | null;
  position?: number | bigint | null;
}

/** A file opened by `open()`: node:fs/promises' FileHandle, reading and writing through io_uring. */
export class FileHandle {
  #fd: number;
  /** Reads and writes at the file position run one after the other, as Node's do. */
  #positional: Promise<unknown> = Promise.resolve();

  constructor(fd: number) {
    this.#fd = fd;
    closeOnGc.register(this, fd, this);
  }

  /** The descriptor; -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  #live(syscall: string): number {
    if (this.#fd < 0) {
      const e = new Error('file closed') as NodeJS.ErrnoException;
      e.code = 'EBADF';
      e.syscall = syscall;
      throw e;
    }
    return this.#fd;
  }

  /** Runs `op` now, or after the previous file-position operation when `position` is null. */
  #ordered<T>(position: number | bigint | null | undefined, op: () => Promise<T>): Promise<T> {
    if (position !== null && position !== undefined && position !== -1) return op();
    const run = this.#positional.then(op, op);
    this.#positional = run.catch(() => {});
    return run;
  }

  read<T extends NodeJS.ArrayBufferView>(buffer: T, offset?: number | null, length?: number | null, position?: number | bigint | null): Promise<{ bytesRead: number; buffer: T }>;
  read<T extends NodeJS.ArrayBufferView>(buffer: T, options?: ReadOptions<T>): Promise<{ bytesRead: number; buffer: T }>;
  read<T extends NodeJS.ArrayBufferView = Buffer>(options?: ReadOptions<T>): Promise<{ bytesRead: number; buffer: T }>;
  read<T extends NodeJS.ArrayBufferView = Buffer>(buffer?: T | ReadOptions<T>, offset?: number | null | ReadOptions<T>, length?: number | null, position?: number | bigint | null): Promise<{ bytesRead: number; buffer: T }> {
    let opts: ReadOptions<T> = {};
    if (buffer !== undefined && !ArrayBuffer.isView(buffer)) opts = buffer;
    else if (offset !== null && typeof offset === 'object') opts = { buffer: buffer as T, ...offset };
    else opts = { buffer: buffer as T | undefined, offset: offset as number | null | undefined, length, position };
    const buf = (opts.buffer ?? Buffer.alloc(16384)) as T;
    const off = opts.offset ?? 0;
    const len = opts.length ?? buf.byteLength - off;
    const pos = opts.position ?? null;
    return this.#ordered(pos, async () => {
      const fd = this.#live('read');
      const r = ring();
      if (r === undefined) {
        const { bytesRead } = await promisify(nodeFs.read)(fd, buf, off, len, pos as number | null);
        return { bytesRead, buffer: buf };
      }
      const view = new Uint8Array(buf.buffer, buf.byteOffset + off, len);
      const bytesRead = await viaRing('read', undefined, undefined, (ring) => ring.read(fd, view, pos));
      return { bytesRead, buffer: buf };
    });
  }

  write<T extends NodeJS.ArrayBufferView | string>(data: T, offsetOrPosition?: number | null, lengthOrEncoding?: number | BufferEncoding | null, position?: number | null): Promise<{ bytesWritten: number; buffer: T }> {
    let bytes: Uint8Array;
    let pos: number | null | undefined;
    if (typeof data === 'string') {
      bytes = Buffer.from(data, (typeof lengthOrEncoding === 'string' ? lengthOrEncoding : 'utf8') as BufferEncoding);
      pos = offsetOrPosition;
    } else if (ArrayBuffer.isView(data)) {
      const off = offsetOrPosition ?? 0;
      const len = typeof lengthOrEncoding === 'number' ? lengthOrEncoding : data.byteLength - off;
      bytes = new Uint8Array(data.buffer, data.byteOffset + off, len);
      pos = position;
    } else {
      return Promise.reject(invalidArgType('buffer', 'of type string or an instance of Buffer, TypedArray, or DataView', data));
    }
    return this.#ordered(pos, async () => {
      const fd = this.#live('write');
      const r = ring();
      const bytesWritten = r === undefined
        ? (await promisify(nodeFs.write)(fd, bytes, 0, bytes.byteLength, pos ?? null)).bytesWritten
        : await viaRing('write', undefined, undefined, (ring) => ring.write(fd, bytes, pos ?? null));
      return { bytesWritten, buffer: data };
    });
  }

  readv<T extends NodeJS.ArrayBufferView[]>(buffers: T, position?: number | null): Promise<{ bytesRead: number; buffers: T }> {
    return this.#ordered(position, async () => {
      const fd = this.#live('read');
      const r = ring();
      const bytesRead = r === undefined
        ? (await promisify(nodeFs.readv)(fd, buffers, position ?? undefined)).bytesRead
        : await viaRing('read', undefined, undefined, (ring) => ring.readv(fd, buffers, position ?? null));
      return { bytesRead, buffers };
    });
  }

  writev<T extends NodeJS.ArrayBufferView[]>(buffers: T, position?: number | null): Promise<{ bytesWritten: number; buffers: T }> {
    return this.#ordered(position, async () => {
      const fd = this.#live('write');
      const r = ring();
      const bytesWritten = r === undefined
        ? (await promisify(nodeFs.writev)(fd, buffers, position ?? undefined)).bytesWritten
        : await viaRing('write', undefined, undefined, (ring) => ring.writev(fd, buffers, position ?? null));
      return { bytesWritten, buffers };
    });
  }

  stat(options?: { bigint?: false }): Promise<nodeFs.Stats>;
  stat(options: { bigint: true }): Promise<nodeFs.BigIntStats>;
  async stat(options?: { bigint?: boolean }): Promise<nodeFs.Stats | nodeFs.BigIntStats> {
    const fd = this.#live('fstat');
    const r = ring();
    if (options?.bigint === true || r === undefined) {
      return options?.bigint === true ? fstatBigint(fd, { bigint: true }) : promisify(nodeFs.fstat)(fd);
    }
    return toNodeStats(await viaRing('fstat', undefined, undefined, (ring) => ring.fstat(fd)));
  }

  async truncate(len = 0): Promise<void> {
    const fd = this.#live('ftruncate');
    const r = ring();
    if (r !== undefined && r.supports('ftruncate')) return viaRing('ftruncate', undefined, undefined, (ring) => ring.ftruncate(fd, len));
    return ftruncateNode(fd, len);
  }

  async sync(): Promise<void> {
    const fd = this.#live('fsync');
    const r = ring();
    if (r === undefined) return promisify(nodeFs.fsync)(fd);
    return viaRing('fsync', undefined, undefined, (ring) => ring.fsync(fd));
  }

  async datasync(): Promise<void> {
    const fd = this.#live('fdatasync');
    const r = ring();
    if (r === undefined) return promisify(nodeFs.fdatasync)(fd);
    return viaRing('fdatasync', undefined, undefined, (ring) => ring.fsync(fd, { datasync: true }));
  }

  /** No io_uring opcode: through node:fs. */
  async chmod(mode: nodeFs.Mode): Promise<void> {
    return fchmod(this.#live('fchmod'), mode);
  }

  /** No io_uring opcode: through node:fs. */
  async chown(uid: number, gid: number): Promise<void> {
    return fchown(this.#live('fchown'), uid, gid);
  }

  /** No io_uring opcode: through node:fs. */
  async utimes(atime: nodeFs.TimeLike, mtime: nodeFs.TimeLike): Promise<void> {
    return futimes(this.#live('futime'), atime, mtime);
  }

  readFile(options?: { encoding?: null; signal?: AbortSignal } | null): Promise<Buffer>;
  readFile(options: { encoding: BufferEncoding; signal?: AbortSignal } | BufferEncoding): Promise<string>;
  async readFile(options?: { encoding?: Encoding; signal?: AbortSignal } | BufferEncoding | null): Promise<Buffer | string> {
    const { encoding, signal } = typeof options === 'string' ? { encoding: options, signal: undefined } : options ?? {};
    const data = await readAll(this, signal);
    return encoding ? data.toString(encoding) : data;
  }

  async writeFile(data: WriteData, options?: { encoding?: Encoding; signal?: AbortSignal } | BufferEncoding | null): Promise<void> {
    const { encoding, signal } = typeof options === 'string' ? { encoding: options, signal: undefined } : options ?? {};
    await writeAll(this, data, encoding ?? 'utf8', signal);
  }

  async appendFile(data: WriteData, options?: { encoding?: Encoding; signal?: AbortSignal } | BufferEncoding | null): Promise<void> {
    return this.writeFile(data, options);
  }

  /** A readable stream over the file (node:fs's, on this descriptor). */
  createReadStream(options?: { encoding?: BufferEncoding; start?: number; end?: number; highWaterMark?: number; autoClose?: boolean }): nodeFs.ReadStream {
    return nodeFs.createReadStream('', { ...options, fd: this.#live('read'), autoClose: options?.autoClose ?? false });
  }

  /** A writable stream into the file (node:fs's, on this descriptor). */
  createWriteStream(options?: { encoding?: BufferEncoding; start?: number; autoClose?: boolean }): nodeFs.WriteStream {
    return nodeFs.createWriteStream('', { ...options, fd: this.#live('write'), autoClose: options?.autoClose ?? false });
  }

  /** The file's lines, as node:readline gives them. */
  readLines(options?: { encoding?: BufferEncoding; start?: number; end?: number }): AsyncIterable<string> & { close(): void } {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const readline = require('node:readline') as typeof import('node:readline');
    return readline.createInterface({ input: this.createReadStream(options), crlfDelay: Infinity });
  }

  async close(): Promise<void> {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    closeOnGc.unregister(this);
    const r = ring();
    if (r === undefined) return closeNode(fd);
    return viaRing('close', undefined, undefined, (ring) => ring.close(fd));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

type WriteData = string | NodeJS.ArrayBufferView | Iterable<string | NodeJS.ArrayBufferView> | AsyncIterable<string | NodeJS.ArrayBufferView>;

const CHUNK = 512 * 1024;
/** readFile's first read: most files fit, and two reads (data, then 0) settle them. */
const FIRST_READ = 64 * 1024;
/** readFile reads a large file in pieces this big, zero-copy, a few at once. */
const BIG_READ = 8 * 1024 * 1024;
const BIG_READS_IN_FLIGHT = 4;
/** Node's cap on readFile (kIoMaxLength): one read(2) of libuv takes at most this. */
const MAX_READFILE = 2 ** 31 - 1;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const EISDIR = 21;

/**
 * Reads `fd` to EOF through `r`, from `start` (0 just after open) or, with null, from the
 * file position. No stat on the way for a small file: statx always runs on a kernel
 * worker thread, while a read from the page cache completes inside the submission. A
 * large file is read into one native buffer sized by fstat, zero-copy, in BIG_READ
 * pieces handed to kernel workers (IOSQE_ASYNC) so the copying runs off the JS thread;
 * from a known start several pieces are in flight at once. Reading goes on until a read
 * returns 0, so a file that grows meanwhile is read to its new end.
 */
async function readToEnd(r: Ring, fd: number, start: number | null, signal: AbortSignal | undefined): Promise<Buffer> {
  checkAborted(signal);
  const first = scratch.pop() ?? alignedBuffer(FIRST_READ);
  try {
    return await readFrom(r, fd, start, signal, first);
  } finally {
    if (scratch.length < SCRATCH_KEPT) scratch.push(first);
  }
}

/**
 * Native buffers of FIRST_READ bytes for readFile's first reads, reused: the kernel
 * reads into them zero-copy (no landing zone), and a small file's bytes are then copied
 * once into a Buffer of their size. One is taken per readFile in progress and given back
 * after its last read resolved, when the ring no longer refers to it.
 */
const scratch: Buffer[] = [];
const SCRATCH_KEPT = 64;

async function readFrom(r: Ring, fd: number, start: number | null, signal: AbortSignal | undefined, first: Buffer): Promise<Buffer> {
  let used = await r.read(fd, first, start);
  if (used === 0) return Buffer.alloc(0);
  if (used < FIRST_READ) {
    checkAborted(signal);
    const more = await r.read(fd, first.subarray(used), start === null ? null : start + used);
    if (more === 0) return Buffer.from(first.subarray(0, used));
    used += more;
  }
  checkAborted(signal);
  const st = await r.fstat(fd);
  const regular = (st.mode & S_IFMT) === S_IFREG;
  if (regular && st.size > MAX_READFILE) throw fileTooLarge(st.size);
  let buf = alignedBuffer(Math.min(MAX_READFILE, Math.max(regular ? st.size - (start ?? 0) : 0, used * 2, FIRST_READ * 2)), 64);
  first.copy(buf, 0, 0, used);
  const at = (offset: number): number | null => (start === null ? null : start + offset);
  const piece = (offset: number): Promise<number> => r.read(fd, buf.subarray(offset, Math.min(buf.length, offset + BIG_READ)), at(offset), { async: true });
  for (;;) {
    checkAborted(signal);
    if (used === buf.length) {
      // Full: a small read says whether the file goes on (it grew after the fstat).
      const n = await r.read(fd, first, at(used));
      if (n === 0) break;
      if (used + n > MAX_READFILE) throw fileTooLarge(regular ? (await r.fstat(fd)).size : used + n);
      const bigger = alignedBuffer(Math.min(MAX_READFILE, Math.max(buf.length * 2, used + n)), 64);
      buf.copy(bigger, 0, 0, used);
      first.copy(bigger, used, 0, n);
      buf = bigger;
      used += n;
      continue;
    }
    if (start === null) {
      // At the file position: one piece at a time, until a read returns 0.
      const n = await piece(used);
      if (n === 0) break;
      used += n;
      continue;
    }
    // At known offsets: several pieces at once; a short one is the end of the file.
    const offsets: number[] = [];
    for (let o = used; o < buf.length && offsets.length < BIG_READS_IN_FLIGHT; o += BIG_READ) offsets.push(o);
    const got = await Promise.all(offsets.map(piece));
    const short = offsets.findIndex((o, i) => got[i] < Math.min(buf.length, o + BIG_READ) - o);
    if (short >= 0) {
      used = offsets[short] + got[short];
      break;
    }
    used = Math.min(buf.length, offsets[offsets.length - 1] + BIG_READ);
  }
  return used === buf.length ? buf : buf.subarray(0, used);
}

/** Reads a whole file from its position, through node:fs on the fallback. */
async function readAll(handle: FileHandle, signal: AbortSignal | undefined): Promise<Buffer> {
  const r = ring();
  if (r !== undefined) {
    const fd = handle.fd;
    try {
      return await readToEnd(r, fd, null, signal);
    } catch (e) {
      throw asNode(e, 'read');
    }
  }
  checkAborted(signal);
  const st = await handle.stat();
  let buf = Buffer.allocUnsafe(st.isFile() && st.size > 0 ? st.size : CHUNK);
  let used = 0;
  for (;;) {
    checkAborted(signal);
    if (used === buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, used);
      buf = bigger;
    }
    const { bytesRead } = await handle.read(buf, used, buf.length - used, null);
    if (bytesRead === 0) break;
    used += bytesRead;
  }
  return used === buf.length ? buf : buf.subarray(0, used);
}

async function writeAll(handle: FileHandle, data: WriteData, encoding: BufferEncoding, signal: AbortSignal | undefined): Promise<void> {
  const writeBytes = async (bytes: Uint8Array): Promise<void> => {
    let done = 0;
    while (done < bytes.byteLength) {
      checkAborted(signal);
      const { bytesWritten } = await handle.write(bytes.subarray(done, Math.min(bytes.byteLength, done + CHUNK * 4)), 0, undefined, null);
      done += bytesWritten;
    }
  };
  const toBytes = (chunk: string | NodeJS.ArrayBufferView): Uint8Array => (typeof chunk === 'string'
    ? Buffer.from(chunk, encoding)
    : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  checkAborted(signal);
  if (typeof data === 'string' || ArrayBuffer.isView(data)) return writeBytes(toBytes(data));
  if (data !== null && typeof data === 'object' && (Symbol.asyncIterator in data || Symbol.iterator in data)) {
    for await (const chunk of data as AsyncIterable<string | NodeJS.ArrayBufferView>) await writeBytes(toBytes(chunk));
    return;
  }
  throw invalidArgType('data', 'of type string or an instance of Buffer, TypedArray, DataView, or Iterable', data);
}

const openNode = promisify(nodeFs.open);

/**
 * Opens `path` (IORING_OP_OPENAT on io_uring; open(2) through node:fs on the
 * fallback, whose FileHandle then calls node:fs by descriptor). Resolves to a FileHandle.
 */
export async function open(path: PathLike, flags: OpenFlags = 'r', mode: nodeFs.Mode = 0o666): Promise<FileHandle> {
  const r = ring();
  const fd = r === undefined
    ? await openNode(path, flags, mode)
    : await viaRing('open', path, undefined, (ring) => ring.open(path as string, flags, mode as number));
  return new FileHandle(fd);
}

interface FileOptions {
  encoding?: Encoding;
  flag?: OpenFlags;
  mode?: nodeFs.Mode;
  signal?: AbortSignal;
}

function fileOptions(options: FileOptions | BufferEncoding | null | undefined, flag: OpenFlags): Required<Pick<FileOptions, 'flag'>> & FileOptions {
  if (typeof options === 'string') return { encoding: options, flag };
  return { ...options, flag: options?.flag ?? flag };
}

/** node:fs/promises readFile: open, read to EOF, close (through io_uring). */
export async function readFile(path: PathLike | FileHandle, options?: FileOptions | BufferEncoding | null): Promise<Buffer | string> {
  const o = fileOptions(options, 'r');
  if (path instanceof FileHandle) return path.readFile(o as { encoding: BufferEncoding });
  if (ring() === undefined) return nodePromises.readFile(path, o as Parameters<typeof nodePromises.readFile>[1]);
  checkAborted(o.signal);
  const r = ring()!;
  const fd = await viaRing('open', path, undefined, (ring) => ring.open(path as string, o.flag, 0o666));
  let data: Buffer;
  try {
    data = await viaRing('read', undefined, undefined, (ring) => readToEnd(ring, fd, 0, o.signal));
  } catch (e) {
    await r.close(fd).catch(() => {});
    throw e;
  }
  await viaRing('close', undefined, undefined, (ring) => ring.close(fd));
  return o.encoding ? data.toString(o.encoding) : data;
}

/** node:fs/promises writeFile: strings, buffers, iterables and streams (through io_uring). */
export async function writeFile(path: PathLike | FileHandle, data: WriteData, options?: FileOptions | BufferEncoding | null): Promise<void> {
  const o = fileOptions(options, 'w');
  if (path instanceof FileHandle) return path.writeFile(data, o as { encoding: BufferEncoding });
  if (ring() === undefined) return nodePromises.writeFile(path, data as string, o as Parameters<typeof nodePromises.writeFile>[2]);
  checkAborted(o.signal);
  const handle = await open(path, o.flag, o.mode ?? 0o666);
  try {
    await writeAll(handle, data, o.encoding ?? 'utf8', o.signal);
  } finally {
    await handle.close();
  }
}

/** node:fs/promises appendFile: writeFile with flag 'a'. */
export function appendFile(path: PathLike | FileHandle, data: WriteData, options?: FileOptions | BufferEncoding | null): Promise<void> {
  return writeFile(path, data, fileOptions(options, 'a'));
}

export function stat(path: PathLike, options?: { bigint?: false }): Promise<nodeFs.Stats>;
export function stat(path: PathLike, options: { bigint: true }): Promise<nodeFs.BigIntStats>;
/** statx(2) through io_uring; `{ bigint: true }` through node:fs. */
export async function stat(path: PathLike, options?: { bigint?: boolean }): Promise<nodeFs.Stats | nodeFs.BigIntStats> {
  if (ring() === undefined || options?.bigint === true) return nodePromises.stat(path, options as { bigint: true });
  return toNodeStats(await viaRing('stat', path, undefined, (r) => r.stat(path as string)));
}

export function lstat(path: PathLike, options?: { bigint?: false }): Promise<nodeFs.Stats>;
export function lstat(path: PathLike, options: { bigint: true }): Promise<nodeFs.BigIntStats>;
/** statx(2) with AT_SYMLINK_NOFOLLOW through io_uring; `{ bigint: true }` through node:fs. */
export async function lstat(path: PathLike, options?: { bigint?: boolean }): Promise<nodeFs.Stats | nodeFs.BigIntStats> {
  if (ring() === undefined || options?.bigint === true) return nodePromises.lstat(path, options as { bigint: true });
  return toNodeStats(await viaRing('lstat', path, undefined, (r) => r.lstat(path as string)));
}

/** renameat(2) through io_uring. */
export async function rename(oldPath: PathLike, newPath: PathLike): Promise<void> {
  if (ring() === undefined) return nodePromises.rename(oldPath, newPath);
  return viaRing('rename', oldPath, newPath, (r) => r.rename(oldPath as string, newPath as string));
}

/** unlinkat(2) through io_uring. */
export async function unlink(path: PathLike): Promise<void> {
  if (ring() === undefined) return nodePromises.unlink(path);
  return viaRing('unlink', path, undefined, (r) => r.unlink(path as string));
}

/** unlinkat(2) with AT_REMOVEDIR through io_uring; `{ recursive }` through node:fs. */
export async function rmdir(path: PathLike, options?: nodeFs.RmDirOptions): Promise<void> {
  if (ring() === undefined || options?.recursive === true) return nodePromises.rmdir(path, options);
  return viaRing('rmdir', path, undefined, (r) => r.rmdir(path as string));
}

export function mkdir(path: PathLike, options: nodeFs.MakeDirectoryOptions & { recursive: true }): Promise<string | undefined>;
export function mkdir(path: PathLike, options?: nodeFs.Mode | (nodeFs.MakeDirectoryOptions & { recursive?: false }) | null): Promise<void>;
/** mkdirat(2) through io_uring; `{ recursive: true }` through node:fs. */
export async function mkdir(path: PathLike, options?: nodeFs.Mode | nodeFs.MakeDirectoryOptions | null): Promise<string | undefined | void> {
  const o = typeof options === 'object' && options !== null ? options : { mode: options ?? undefined };
  if (ring() === undefined || o.recursive === true) return nodePromises.mkdir(path, options as nodeFs.MakeDirectoryOptions);
  return viaRing('mkdir', path, undefined, (r) => r.mkdir(path as string, (o.mode ?? 0o777) as number));
}

/** symlinkat(2) through io_uring (the `type` argument only matters on Windows). */
export async function symlink(target: PathLike, path: PathLike, type?: string | null): Promise<void> {
  if (ring() === undefined) return nodePromises.symlink(target, path, type);
  return viaRing('symlink', target, path, (r) => r.symlink(target as string, path as string));
}

/** linkat(2) through io_uring. */
export async function link(existingPath: PathLike, newPath: PathLike): Promise<void> {
  if (ring() === undefined) return nodePromises.link(existingPath, newPath);
  return viaRing('link', existingPath, newPath, (r) => r.link(existingPath as string, newPath as string));
}

const { COPYFILE_EXCL, COPYFILE_FICLONE, COPYFILE_FICLONE_FORCE } = nodeFs.constants;
/** What one splice moves at most: a pipe's default capacity. */
const SPLICE_PIECE = 64 * 1024;

/**
 * node:fs/promises copyFile through io_uring: open both files (IORING_OP_OPENAT), then
 * splice the bytes through a pipe (IORING_OP_PIPE, 6.16; IORING_OP_SPLICE, 5.7), as
 * libuv does with sendfile: the destination is created with the source's mode, or
 * truncated, `COPYFILE_EXCL` refuses an existing one, and a failed copy removes it.
 * `COPYFILE_FICLONE*` (no io_uring equivalent of the FICLONE ioctl), bad arguments, and
 * kernels without IORING_OP_PIPE go to node:fs/promises.
 */
export async function copyFile(src: PathLike, dest: PathLike, mode = 0): Promise<void> {
  const r = ring();
  const plain = typeof mode === 'number' && Number.isInteger(mode) && mode >= 0 && mode <= 7 && (mode & (COPYFILE_FICLONE | COPYFILE_FICLONE_FORCE)) === 0;
  const pathOk = (p: unknown): boolean => typeof p === 'string' || p instanceof URL || Buffer.isBuffer(p);
  if (r === undefined || !plain || !pathOk(src) || !pathOk(dest) || !r.supports('pipe') || !r.supports('splice')) return nodePromises.copyFile(src, dest, mode);
  const fds: number[] = [];
  let created = false;
  try {
    const from = await r.open(src as string, 'r');
    fds.push(from);
    const st = await r.fstat(from);
    // sendfile(2) refuses a directory with EISDIR once libuv made the destination (and
    // removed it again); splice would say EINVAL: say what Node says, and make nothing.
    if ((st.mode & S_IFMT) === S_IFDIR) throw new IoError(-EISDIR, 'copyfile');
    const excl = (mode & COPYFILE_EXCL) !== 0;
    const to = await r.open(dest as string, nodeFs.constants.O_WRONLY | nodeFs.constants.O_CREAT | (excl ? nodeFs.constants.O_EXCL : 0), st.mode & 0o7777);
    fds.push(to);
    created = true;
    if (!excl) {
      const old = await r.fstat(to);
      // Copying a file onto itself leaves it as it is.
      if (old.dev === st.dev && old.ino === st.ino) return;
      await r.ftruncate(to, 0);
    }
    await fchmod(to, st.mode & 0o7777);
    const [pipeOut, pipeIn] = await r.pipe();
    fds.push(pipeOut, pipeIn);
    for (let at = 0; ;) {
      const n = await r.splice(from, at, pipeIn, null, SPLICE_PIECE);
      if (n === 0) break;
      for (let left = n; left > 0;) {
        const m = await r.splice(pipeOut, null, to, at, left);
        left -= m;
        at += m;
      }
    }
  } catch (e) {
    if (created) await closeAll(r, fds.splice(1)).then(() => r.unlink(dest as string)).catch(() => {});
    throw asNode(e, 'copyfile', src, dest);
  } finally {
    await closeAll(r, fds).catch(() => {});
  }
}

async function closeAll(r: Ring, fds: number[]): Promise<void> {
  await Promise.all(fds.splice(0).map((fd) => r.close(fd)));
}

// No io_uring opcode (or not yet through this module): node:fs/promises itself.
export const { access, cp, chmod, chown, lchown, lutimes, utimes, truncate, readlink, realpath, readdir, opendir, mkdtemp, rm, watch, statfs } = nodePromises;
export const constants = nodeFs.constants;

const fs = {
  backend, backendReason, FileHandle, open, readFile, writeFile, appendFile, stat, lstat, rename, unlink, rmdir, mkdir, symlink, link,
  access, copyFile, cp, chmod, chown, lchown, lutimes, utimes, truncate, readlink, realpath, readdir, opendir, mkdtemp, rm, watch, statfs, constants,
};
export default fs;
