// uring-aio/fs's FileHandle: node:fs/promises' FileHandle (an EventEmitter, the same
// methods, checks and errors), reading and writing through io_uring.
import { AsyncResource } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import * as nodeFs from 'node:fs';
import type * as nodePromises from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { ReadableStream } from 'node:stream/web';
import { promisify } from 'node:util';
import { IoError, invalidArgType, invalidState } from './errors';
import { checkDecoder, chunkBytes, fileOptions, isCustomIterable, nodeMajor, readArgs, resultEncoding, truncateLength, vectorArgs, writeArgs, writeData, type WriteData } from './fs-args';
import { checkAborted, fileClosed, ring, toNodeStats, viaRing } from './fs-core';
import { giveScratch, readToEnd, takeScratch } from './fs-read';
import { validateBoolean, validateObject } from './validate';

const EINVAL = 22;
/** What one write of writeFile takes at most (Node's kWriteFileMaxChunkSize). */
const WRITE_CHUNK = 512 * 1024;

const readNode = promisify(nodeFs.read) as (fd: number, b: Uint8Array, off: number, len: number, pos: nodeFs.ReadPosition | null) => Promise<{ bytesRead: number }>;
const writeNode = promisify(nodeFs.write) as (fd: number, b: Uint8Array, off: number, len: number, pos: number | null) => Promise<{ bytesWritten: number }>;
const readvNode = promisify(nodeFs.readv);
const writevNode = promisify(nodeFs.writev);
const fstatNode = promisify(nodeFs.fstat) as (fd: number, options: { bigint: boolean }) => Promise<nodeFs.Stats | nodeFs.BigIntStats>;
const ftruncateNode = promisify(nodeFs.ftruncate);
const fsyncNode = promisify(nodeFs.fsync);
const fdatasyncNode = promisify(nodeFs.fdatasync);
const fchmodNode = promisify(nodeFs.fchmod);
const fchownNode = promisify(nodeFs.fchown);
const futimesNode = promisify(nodeFs.futimes);
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

type Callback = (err: Error | null, ...rest: unknown[]) => void;

/**
 * A file opened by `open()`. As Node's: every operation holds a reference while it
 * runs, and close() drops the handle's own; the descriptor is closed when the last
 * reference goes, so close() waits for the operations in flight and no operation ever
 * reaches the kernel with a number the handle no longer owns. An operation started
 * after the descriptor was closed is EBADF 'file closed'.
 * @internal (users see it as node:fs/promises' FileHandle)
 */
export class UringFileHandle extends EventEmitter {
  #fd: number;
  #refs = 1;
  #closePromise: Promise<void> | null | undefined = null;
  #closeResolve: (() => void) | undefined;
  #closeReject: ((e: unknown) => void) | undefined;
  #locked = false;
  readonly #asyncResource = new AsyncResource('FILEHANDLE');
  /** Reads and writes at the file position run one after the other. */
  #positional: Promise<unknown> = Promise.resolve();

  constructor(fd: number) {
    super();
    this.#fd = fd;
    closeOnGc.register(this, fd, this);
  }

  /** The descriptor; -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  getAsyncId(): number {
    return this.#asyncResource.asyncId();
  }

  /** Node's fsCall: EBADF once closed, else `fn` runs holding a reference. */
  async #call<T>(syscall: string, fn: (fd: number) => Promise<T>): Promise<T> {
    if (this.#fd === -1) throw fileClosed(syscall);
    this.#refs++;
    try {
      return await fn(this.#fd);
    } finally {
      this.#unref();
    }
  }

  #unref(): void {
    this.#refs--;
    if (this.#refs === 0) {
      const fd = this.#fd;
      this.#fd = -1;
      this.#closeFd(fd).then(this.#closeResolve, this.#closeReject);
    }
  }

  #closeFd(fd: number): Promise<void> {
    closeOnGc.unregister(this);
    const r = ring();
    if (r === undefined) return closeNode(fd);
    return viaRing('close', undefined, undefined, (ring) => ring.close(fd));
  }

  /** Runs `op` now, or after the previous file-position operation when `position` is null. */
  #ordered<T>(position: number | bigint | null, op: () => Promise<T>): Promise<T> {
    if (position !== null) return op();
    const run = this.#positional.then(op, op);
    this.#positional = run.catch(() => {});
    return run;
  }

  read(buffer?: unknown, offset?: unknown, length?: unknown, position?: unknown): Promise<{ bytesRead: number; buffer: NodeJS.ArrayBufferView }> {
    return this.#call('read', async (fd) => {
      const a = readArgs(buffer, offset, length, position);
      if (a.length === 0) return { bytesRead: 0, buffer: a.buffer };
      const view = new Uint8Array(a.buffer.buffer, a.buffer.byteOffset + a.offset, a.length);
      return { bytesRead: await this.#ordered(a.position, () => readInto(fd, view, a.position)), buffer: a.buffer };
    });
  }

  write(data: unknown, offsetOrOptions?: unknown, lengthOrEncoding?: unknown, position?: unknown): Promise<{ bytesWritten: number; buffer: unknown }> {
    return this.#call('write', async (fd) => {
      const a = writeArgs(data, offsetOrOptions, lengthOrEncoding, position);
      if (a === undefined) return { bytesWritten: 0, buffer: data };
      return { bytesWritten: await this.#ordered(a.position, () => writeFrom(fd, a.bytes, a.position)), buffer: data };
    });
  }

  readv(buffers: unknown, position?: unknown): Promise<{ bytesRead: number; buffers: NodeJS.ArrayBufferView[] }> {
    return this.#call('readv', async (fd) => {
      const a = vectorArgs(buffers, position);
      // libuv refuses an empty list (Node says EINVAL from read); the kernel would return 0.
      if (a.buffers.length === 0) throw new IoError(-EINVAL, 'read');
      // All views empty: the kernel's checks of the descriptor (EBADF, EISDIR), which
      // io_uring skips for an empty transfer, as Node's readv(2) gets them.
      const r = a.buffers.every((b) => b.byteLength === 0) ? undefined : ring();
      const bytesRead = await this.#ordered(a.position, () => (r === undefined
        ? readvNode(fd, a.buffers, a.position ?? undefined).then((x) => x.bytesRead)
        : viaRing('read', undefined, undefined, (ring) => ring.readv(fd, a.buffers, a.position))));
      return { bytesRead, buffers: a.buffers };
    });
  }

  writev(buffers: unknown, position?: unknown): Promise<{ bytesWritten: number; buffers: NodeJS.ArrayBufferView[] }> {
    return this.#call('writev', async (fd) => {
      const a = vectorArgs(buffers, position);
      if (a.buffers.length === 0) return { bytesWritten: 0, buffers: a.buffers };
      const r = a.buffers.every((b) => b.byteLength === 0) ? undefined : ring();
      const bytesWritten = await this.#ordered(a.position, () => (r === undefined
        ? writevNode(fd, a.buffers, a.position ?? undefined).then((x) => x.bytesWritten)
        : viaRing('write', undefined, undefined, (ring) => ring.writev(fd, a.buffers, a.position))));
      return { bytesWritten, buffers: a.buffers };
    });
  }

  stat(options?: { bigint?: boolean }): Promise<nodeFs.Stats | nodeFs.BigIntStats> {
    return this.#call('fstat', async (fd) => {
      const bigint = (options === undefined ? { bigint: false } : options).bigint === true;
      const r = ring();
      if (bigint || r === undefined) return fstatNode(fd, { bigint });
      return toNodeStats(await viaRing('fstat', undefined, undefined, (ring) => ring.fstat(fd)));
    });
  }

  truncate(len: unknown = 0): Promise<void> {
    return this.#call('ftruncate', async (fd) => {
      const length = truncateLength(len);
      const r = ring();
      if (r !== undefined && r.supports('ftruncate')) return viaRing('ftruncate', undefined, undefined, (ring) => ring.ftruncate(fd, length));
      return ftruncateNode(fd, length);
    });
  }

  sync(): Promise<void> {
    return this.#call('fsync', async (fd) => {
      const r = ring();
      if (r === undefined) return fsyncNode(fd);
      return viaRing('fsync', undefined, undefined, (ring) => ring.fsync(fd));
    });
  }

  datasync(): Promise<void> {
    return this.#call('fdatasync', async (fd) => {
      const r = ring();
      if (r === undefined) return fdatasyncNode(fd);
      return viaRing('fdatasync', undefined, undefined, (ring) => ring.fsync(fd, { datasync: true }));
    });
  }

  /** No io_uring opcode: through node:fs (which checks `mode` as Node's FileHandle does). */
  chmod(mode: unknown): Promise<void> {
    return this.#call('fchmod', (fd) => fchmodNode(fd, mode as nodeFs.Mode));
  }

  /** No io_uring opcode: through node:fs. */
  chown(uid: unknown, gid: unknown): Promise<void> {
    return this.#call('fchown', (fd) => fchownNode(fd, uid as number, gid as number));
  }

  /** No io_uring opcode: through node:fs. */
  utimes(atime: unknown, mtime: unknown): Promise<void> {
    return this.#call('futimes', (fd) => futimesNode(fd, atime as nodeFs.TimeLike, mtime as nodeFs.TimeLike));
  }

  readFile(options?: unknown): Promise<Buffer | string> {
    return this.#call('readFile', () => readHandle(this, options));
  }

  writeFile(data: unknown, options?: unknown): Promise<void> {
    return this.#call('writeFile', () => writeHandleFile(this, data, options));
  }

  appendFile(data: unknown, options?: unknown): Promise<void> {
    return this.#call('writeFile', () => writeHandleFile(this, data, options));
  }

  /**
   * Closes the file once the operations in flight are done; emits 'close' now. Resolves
   * when the descriptor is closed.
   */
  close = (): Promise<void> => {
    if (this.#fd === -1) return Promise.resolve();
    if (this.#closePromise) return this.#closePromise;
    this.#refs--;
    if (this.#refs === 0) {
      const fd = this.#fd;
      this.#fd = -1;
      this.#closePromise = this.#closeFd(fd).finally(() => {
        this.#closePromise = undefined;
      });
    } else {
      this.#closePromise = new Promise<void>((resolve, reject) => {
        this.#closeResolve = resolve;
        this.#closeReject = reject;
      }).finally(() => {
        this.#closePromise = undefined;
        this.#closeResolve = undefined;
        this.#closeReject = undefined;
      });
    }
    this.emit('close');
    return this.#closePromise;
  };

  async [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * A WHATWG ReadableStream of the file from its position, as the running Node's. Node
   * 20: ArrayBuffer chunks of up to 64 KiB, or with `{ type: 'bytes' }` a byte stream
   * (BYOB readers). Node 22 and 24: always a byte stream (Uint8Array chunks; another
   * `type` only warns), and `{ autoClose: true }` closes the handle at the end.
   */
  readableWebStream(options: { type?: string; autoClose?: boolean } = {}): ReadableStream {
    if (this.#fd === -1) throw invalidState('The FileHandle is closed');
    if (this.#closePromise) throw invalidState('The FileHandle is closing');
    if (this.#locked) throw invalidState('The FileHandle is locked');
    // Locked before the option checks: a handle whose options were refused stays
    // locked, in Node as here.
    this.#locked = true;
    let bytes: boolean;
    let autoClose = false;
    if (nodeMajor >= 22) {
      validateObject(options, 'options');
      const { type = 'bytes', autoClose: close = false } = options;
      validateBoolean(close, 'options.autoClose');
      autoClose = close;
      if (type !== 'bytes') process.emitWarning('A non-"bytes" options.type has no effect. A byte-oriented steam is always created.', 'ExperimentalWarning');
      bytes = true;
    } else {
      if (options.type !== undefined && typeof options.type !== 'string') throw invalidArgType('options.type', 'of type string', options.type);
      bytes = options.type === 'bytes';
    }
    let done = false;
    const ondone = async (): Promise<void> => {
      if (done) return;
      done = true;
      this.#unref();
      if (autoClose) await this.close();
    };
    let controllerOf: { close(): void } | undefined;
    let readable: ReadableStream;
    if (bytes) {
      readable = new ReadableStream({
        type: 'bytes',
        autoAllocateChunkSize: 16384,
        start: (controller: ReadableByteStreamController) => {
          controllerOf = controller;
        },
        pull: async (controller: ReadableByteStreamController) => {
          // @types/node 20 declares byobRequest as undefined; it is a ReadableStreamBYOBRequest.
          const request = (controller as unknown as { byobRequest: { view: Uint8Array; respond(n: number): void } }).byobRequest;
          const view = request.view;
          // Node 20 and 22 read at the view's byteOffset within the view (a BYOB view
          // that does not start its buffer is then ERR_OUT_OF_RANGE); Node 24 at 0.
          const { bytesRead } = await this.read(view, nodeMajor >= 24 ? 0 : view.byteOffset, view.byteLength);
          if (done) return;
          if (bytesRead === 0) {
            controller.close();
            await ondone();
          }
          request.respond(bytesRead);
        },
        cancel: ondone,
      });
    } else {
      readable = new ReadableStream({
        start: (controller) => {
          controllerOf = controller;
        },
        pull: async (controller) => {
          const chunk = Buffer.allocUnsafeSlow(65536);
          const { bytesRead } = await this.read(chunk, 0, chunk.length);
          if (done) return;
          if (bytesRead === 0) {
            await ondone();
            controller.close();
            return;
          }
          controller.enqueue(chunk.buffer.slice(0, bytesRead));
        },
        cancel: ondone,
      });
    }
    this.#refs++;
    // close() ends the stream even while a reader holds it (Node's readableStreamCancel),
    // and drops the stream's reference so the descriptor can be closed.
    this.once('close', () => {
      if (done) return;
      // The handle is closing already: autoClose's close() is that same close, whose
      // outcome its caller gets.
      ondone().catch(() => {});
      try {
        controllerOf?.close();
      } catch {
        // Already closed or errored.
      }
    });
    return readable;
  }

  /** A readable stream over the file: node:fs's ReadStream reading through this handle. */
  createReadStream(options?: Record<string, unknown>): nodeFs.ReadStream {
    const stream = nodeFs.createReadStream('', { ...options, fd: this.#fd, fs: streamOps(this) } as unknown as Parameters<typeof nodeFs.createReadStream>[1]);
    this.on('close', () => stream.close());
    return stream;
  }

  /** A writable stream into the file: node:fs's WriteStream writing through this handle. */
  createWriteStream(options?: Record<string, unknown>): nodeFs.WriteStream {
    const stream = nodeFs.createWriteStream('', { ...options, fd: this.#fd, fs: streamOps(this) } as unknown as Parameters<typeof nodeFs.createWriteStream>[1]);
    this.on('close', () => stream.close());
    return stream;
  }

  /** The file's lines, as node:readline gives them. */
  readLines(options?: Record<string, unknown>): ReturnType<typeof createInterface> {
    return createInterface({ input: this.createReadStream(options), crlfDelay: Infinity });
  }
}

/** The fs operations node:fs streams call, on a FileHandle (as Node's FileHandleOperations). */
function streamOps(handle: UringFileHandle): Record<string, (...args: never[]) => void> {
  return {
    open: () => {
      throw new Error('open() is not implemented for a FileHandle stream');
    },
    close: (_fd: number, cb: Callback) => {
      handle.close().then(() => cb(null), cb);
    },
    read: (_fd: number, buf: Buffer, offset: number, length: number, pos: number | null, cb: Callback) => {
      handle.read(buf, offset, length, pos).then((r) => cb(null, r.bytesRead, r.buffer), (err) => cb(err, 0, buf));
    },
    write: (_fd: number, buf: Buffer, offset: number, length: number, pos: number | null, cb: Callback) => {
      handle.write(buf, offset, length, pos).then((r) => cb(null, r.bytesWritten, r.buffer), (err) => cb(err, 0, buf));
    },
    writev: (_fd: number, buffers: Buffer[], pos: number | null, cb: Callback) => {
      handle.writev(buffers, pos).then((r) => cb(null, r.bytesWritten, r.buffers), (err) => cb(err, 0, buffers));
    },
  };
}

/** One read into `view` (already bounded by the caller's checks) at `position` (null: the file position). */
async function readInto(fd: number, view: Uint8Array, position: number | bigint | null): Promise<number> {
  const r = ring();
  if (r === undefined) return (await readNode(fd, view, 0, view.byteLength, position)).bytesRead;
  return viaRing('read', undefined, undefined, (ring) => ring.read(fd, view, position));
}

async function writeFrom(fd: number, bytes: Uint8Array, position: number | null): Promise<number> {
  const r = ring();
  if (r === undefined) return (await writeNode(fd, bytes, 0, bytes.byteLength, position)).bytesWritten;
  return viaRing('write', undefined, undefined, (ring) => ring.write(fd, bytes, position));
}

/** FileHandle.readFile: the options checked as Node does, then the file from its position. */
async function readHandle(handle: UringFileHandle, options: unknown): Promise<Buffer | string> {
  const o = fileOptions(options, { flag: 'r' });
  checkDecoder(o);
  const data = await readAll(handle, o.signal);
  const encoding = resultEncoding(o);
  return encoding ? data.toString(encoding) : data;
}

/** Reads a whole file from its position (the caller holds a reference on `handle`). */
async function readAll(handle: UringFileHandle, signal: AbortSignal | undefined): Promise<Buffer> {
  checkAborted(signal);
  const r = ring();
  if (r !== undefined) {
    const first = await takeScratch();
    try {
      return await readToEnd(r, handle.fd, null, signal, first);
    } catch (e) {
      throw e instanceof IoError ? new IoError(e.errno, 'read') : e;
    } finally {
      giveScratch(first);
    }
  }
  const st = await fstatNode(handle.fd, { bigint: false }) as nodeFs.Stats;
  let buf = Buffer.allocUnsafeSlow(st.isFile() && st.size > 0 ? st.size : 64 * 1024);
  let used = 0;
  for (;;) {
    checkAborted(signal);
    if (used === buf.length) {
      const bigger = Buffer.allocUnsafeSlow(buf.length * 2);
      buf.copy(bigger, 0, 0, used);
      buf = bigger;
    }
    const { bytesRead } = await readNode(handle.fd, buf, used, buf.length - used, null);
    if (bytesRead === 0) break;
    used += bytesRead;
  }
  if (used === buf.length) return buf;
  const out = Buffer.allocUnsafeSlow(used);
  buf.copy(out, 0, 0, used);
  return out;
}

/** FileHandle.writeFile/appendFile: Node's checks, then the data at the file position. */
async function writeHandleFile(handle: UringFileHandle, data: unknown, options: unknown): Promise<void> {
  const o = fileOptions(options, { encoding: 'utf8', mode: 0o666, flag: 'w', flush: false });
  validateBoolean(o.flush, 'options.flush');
  const encoding = resultEncoding(o);
  await writeAll(handle, writeData(data, encoding), encoding, o.signal);
}

/**
 * Writes `data` (checked by writeData) at the file position, in pieces, checking
 * `signal` before each.
 * @internal
 */
export async function writeAll(handle: UringFileHandle, data: WriteData | Iterable<unknown> | AsyncIterable<unknown>, encoding: BufferEncoding | undefined, signal: AbortSignal | undefined): Promise<void> {
  const writeBytes = async (bytes: Uint8Array): Promise<void> => {
    let done = 0;
    while (done < bytes.byteLength) {
      checkAborted(signal);
      const { bytesWritten } = await handle.write(bytes, done, Math.min(WRITE_CHUNK, bytes.byteLength - done), null);
      done += bytesWritten;
    }
  };
  checkAborted(signal);
  if (isCustomIterable(data)) {
    for await (const chunk of data as AsyncIterable<unknown>) {
      checkAborted(signal);
      await writeBytes(chunkBytes(chunk, encoding));
    }
    return;
  }
  const view = data as NodeJS.ArrayBufferView;
  await writeBytes(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
}

/** The FileHandle class, typed as Node's (node:fs/promises' FileHandle interface). */
export const FileHandle = UringFileHandle as unknown as {
  /** Wraps descriptor `fd`, as node:fs/promises' FileHandle constructor (made by open(), not by users). */
  new (fd: number): nodePromises.FileHandle;
  /** The methods every FileHandle has, as node:fs/promises' FileHandle.prototype. */
  prototype: nodePromises.FileHandle;
};
export type FileHandle = nodePromises.FileHandle;
