// uring-aio/fs's argument layer: node:fs/promises' checks, in Node's order, with its
// codes, messages and argument names, run before anything is opened, created or
// submitted. Written from the behaviour of Node 20, 22 and 24 (probed call by call,
// and compared in __test__/fs-args.test.mjs and by scripts/fs-fuzz.mjs on each) and
// Node's lib/internal/fs sources; where they differ (FileHandle.read's length and
// position), the running Node's major version picks the branch.
import { StringDecoder } from 'node:string_decoder';
import { invalidArgType, invalidArgValue, outOfRange } from './errors';
import { parseMode, validateInteger, validatePath, type KernelPath } from './validate';

/** The running Node's major version: FileHandle.read checks its arguments differently in 20, 22 and 24. */
export const nodeMajor = Number(process.versions.node.split('.', 1)[0]);

/** validateInteger of Node's internal/validators (safe integers by default). */
export function integer(value: unknown, name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  validateInteger(value, name, min, max);
  return value;
}

/** parseFileMode: an integer 0..2^32-1 or an octal string (the kernel keeps the low 12 bits). */
export function fileMode(value: unknown, name: string, fallback: number): number {
  return parseMode(value, name, fallback, 2 ** 32 - 1);
}

/** getValidatedPath: string, Buffer/Uint8Array or file: URL, without NUL bytes, named `name` in errors. */
export function pathArg(value: unknown, name = 'path'): KernelPath {
  return validatePath(value, name);
}

export function abortSignal(signal: unknown, name = 'options.signal'): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  // Node's check: an object with an `aborted` property (validateAbortSignal).
  if (signal === null || typeof signal !== 'object' || !('aborted' in signal)) throw invalidArgType(name, 'an instance of AbortSignal', signal);
  return signal as AbortSignal;
}

export interface FileOptions {
  encoding?: BufferEncoding | 'buffer' | null;
  flag?: string | number;
  mode?: unknown;
  signal?: AbortSignal;
  flush?: unknown;
}

/** getOptions of internal/fs/utils: a string is the encoding; the encoding and signal are checked. */
export function fileOptions(options: unknown, defaults: FileOptions): FileOptions {
  if (options === null || options === undefined || typeof options === 'function') return defaults;
  let o: FileOptions;
  if (typeof options === 'string') o = { ...defaults, encoding: options as BufferEncoding };
  else if (typeof options !== 'object') throw invalidArgType('options', 'one of type string or object', options);
  else o = options as FileOptions;
  if (o.encoding !== 'buffer' && o.encoding && !Buffer.isEncoding(o.encoding)) throw invalidArgValue('encoding', o.encoding, 'is invalid encoding');
  abortSignal(o.signal);
  return o;
}

/**
 * The encoding to convert with, undefined for bytes. 'buffer' passes getOptions but
 * not Buffer's conversions (ERR_UNKNOWN_ENCODING), in Node as here.
 */
export function resultEncoding(o: FileOptions): BufferEncoding | undefined {
  return (o.encoding || undefined) as BufferEncoding | undefined;
}

/** Node's readFile makes its StringDecoder before the first read: an unknown encoding is ERR_UNKNOWN_ENCODING then. */
export function checkDecoder(o: FileOptions): void {
  if (o.encoding) new StringDecoder(o.encoding as BufferEncoding);
}

export function isCustomIterable(data: unknown): data is Iterable<unknown> | AsyncIterable<unknown> {
  return data !== null && typeof data === 'object' && !ArrayBuffer.isView(data)
    && (typeof (data as Iterable<unknown>)[Symbol.iterator] === 'function' || typeof (data as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function');
}

export type WriteData = string | NodeJS.ArrayBufferView | Iterable<string | NodeJS.ArrayBufferView> | AsyncIterable<string | NodeJS.ArrayBufferView>;

/**
 * writeFile's data, checked before the file is opened: a view or an iterable as it is,
 * a string as its bytes. (An iterable's elements are checked as they come, after the
 * open, as Node does.)
 */
export function writeData(data: unknown, encoding: BufferEncoding | undefined): NodeJS.ArrayBufferView | Iterable<unknown> | AsyncIterable<unknown> {
  if (ArrayBuffer.isView(data) || isCustomIterable(data)) return data as NodeJS.ArrayBufferView | Iterable<unknown>;
  if (typeof data !== 'string') throw invalidArgType('data', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
  return Buffer.from(data, encoding || 'utf8');
}

/** One element of an iterable given to writeFile, as bytes (Buffer.from's errors for anything else). */
export function chunkBytes(chunk: unknown, encoding: BufferEncoding | undefined): Uint8Array {
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Buffer.from(chunk as string, encoding || 'utf8');
}

export interface ReadRequest<T> {
  buffer: T;
  offset: number;
  length: number;
  /** null: at the file position. */
  position: number | bigint | null;
}

/**
 * FileHandle.read's position as Node 22 and 24 check it (validatePosition): null or
 * undefined, an integer >= -1, or a bigint >= -1n that leaves room for `length` below
 * 2^63; -1 is the file position.
 */
function strictReadPosition(position: unknown, length: number): number | bigint | null {
  if (position === null || position === undefined) return null;
  if (typeof position === 'number') return integer(position, 'position', -1) === -1 ? null : position;
  if (typeof position !== 'bigint') throw invalidArgType('position', 'of type bigint or integer', position);
  const max = 2n ** 63n - 1n - BigInt(length);
  if (!(position >= -1n && position <= max)) throw outOfRange('position', `>= -1 && <= ${max}`, position);
  if (position === -1n) return null;
  return position <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(position) : position;
}

/**
 * FileHandle.read's arguments, as the running Node takes them: (buffer, offset,
 * length, position), (buffer, options) or (options). The position: Node 20 reads at
 * the file position for anything but a non-negative safe integer (a bigint too);
 * Node 22 and 24 check it (strictReadPosition) and read at a bigint.
 */
export function readArgs<T extends NodeJS.ArrayBufferView>(bufferOrOptions: unknown, offsetOrOptions: unknown, lengthArg: unknown, positionArg: unknown): ReadRequest<T> {
  let buffer = bufferOrOptions as T;
  let offset = offsetOrOptions;
  let length = lengthArg;
  let position = positionArg;
  if (!ArrayBuffer.isView(buffer)) {
    if (bufferOrOptions !== undefined && bufferOrOptions !== null && (typeof bufferOrOptions !== 'object' || Array.isArray(bufferOrOptions))) {
      throw invalidArgType('options', 'of type object', bufferOrOptions);
    }
    const o = (bufferOrOptions ?? {}) as { buffer?: T; offset?: unknown; length?: unknown; position?: unknown };
    buffer = o.buffer === undefined ? (Buffer.alloc(16384) as unknown as T) : o.buffer;
    offset = o.offset === undefined ? 0 : o.offset;
    length = o.length === undefined ? buffer.byteLength - (offset as number) : o.length;
    position = o.position === undefined ? null : o.position;
    if (!ArrayBuffer.isView(buffer)) throw invalidArgType('buffer', 'an instance of Buffer, TypedArray, or DataView', buffer);
  }
  if (offset !== null && typeof offset === 'object') {
    const o = offset as { offset?: unknown; length?: unknown; position?: unknown };
    offset = o.offset === undefined ? 0 : o.offset;
    length = o.length === undefined ? buffer.byteLength - (offset as number) : o.length;
    position = o.position === undefined ? null : o.position;
  }
  offset = offset === null || offset === undefined ? 0 : integer(offset, 'offset', 0);
  const off = offset as number;
  length ??= buffer.byteLength - off;
  let checkedPosition: number | bigint | null | undefined;
  if (nodeMajor >= 24) {
    // Node 24: `length |= 0` (an int32; anything else 0), then the position is checked
    // before the zero-length return and the buffer checks.
    length = (length as number) | 0;
    checkedPosition = strictReadPosition(position, length as number);
  }
  // Node 20 and 22 pass a non-number length on to a native check that aborts the
  // process; here it is an argument error.
  if (typeof length !== 'number') throw invalidArgType('length', 'of type number', length);
  // Node 20 and 22 return for a zero length before looking at the position.
  if (length === 0) return { buffer, offset: off, length: 0, position: checkedPosition ?? null };
  if (buffer.byteLength === 0) throw invalidArgValue('buffer', buffer, 'is empty and cannot be written');
  if (length < 0) throw outOfRange('length', '>= 0', length);
  if (off + length > buffer.byteLength) throw outOfRange('length', `<= ${buffer.byteLength - off}`, length);
  // Node 22 checks the position after the offset and length (validateOffsetLengthRead);
  // Node 20 reads at the file position for anything but a non-negative safe integer.
  if (nodeMajor < 22) checkedPosition = nativePosition(position);
  else if (nodeMajor < 24) checkedPosition = strictReadPosition(position, length);
  if (!Number.isInteger(length)) throw outOfRange('length', 'an integer', length);
  return { buffer, offset: off, length, position: checkedPosition ?? null };
}

export interface WriteRequest {
  bytes: Uint8Array;
  /** null: at the file position. */
  position: number | null;
}

/** A position as the native layer takes it: a non-negative safe integer, else the file position. */
function nativePosition(position: unknown): number | null {
  return typeof position === 'number' && Number.isSafeInteger(position) && position >= 0 ? position : null;
}

/**
 * FileHandle.write's arguments, as Node 20 takes them: (view, offset, length,
 * position), (view, { offset, length, position }), or (string, position, encoding).
 * Undefined for an empty view (Node resolves without a write).
 */
export function writeArgs(data: unknown, offsetOrOptions: unknown, lengthOrEncoding: unknown, positionArg: unknown): WriteRequest | undefined {
  if ((data as { byteLength?: unknown } | null | undefined)?.byteLength === 0) return undefined;
  if (ArrayBuffer.isView(data)) {
    let offset = offsetOrOptions;
    let length = lengthOrEncoding;
    let position = positionArg;
    if (typeof offset === 'object') {
      const o = (offset ?? {}) as { offset?: unknown; length?: unknown; position?: unknown };
      offset = o.offset === undefined ? 0 : o.offset;
      length = o.length === undefined ? data.byteLength - (offset as number) : o.length;
      position = o.position === undefined ? null : o.position;
    }
    offset = offset === null || offset === undefined ? 0 : integer(offset, 'offset', 0);
    const off = offset as number;
    if (typeof length !== 'number') length = data.byteLength - off;
    const len = length as number;
    if (off > data.byteLength) throw outOfRange('offset', `<= ${data.byteLength}`, off);
    if (len > data.byteLength - off) throw outOfRange('length', `<= ${data.byteLength - off}`, len);
    if (len < 0) throw outOfRange('length', '>= 0', len);
    integer(len, 'length', 0, 2 ** 31 - 1);
    return { bytes: new Uint8Array(data.buffer, data.byteOffset + off, len), position: nativePosition(position) };
  }
  if (typeof data !== 'string') throw invalidArgType('buffer', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
  const encoding = typeof lengthOrEncoding === 'string' && Buffer.isEncoding(lengthOrEncoding) ? lengthOrEncoding : 'utf8';
  if (encoding.toLowerCase() === 'hex' && data.length % 2 !== 0) throw invalidArgValue('encoding', lengthOrEncoding, `is invalid for data of length ${data.length}`);
  return { bytes: Buffer.from(data, encoding), position: nativePosition(offsetOrOptions) };
}

/** validateBufferArray, and the position readv/writev take (a non-number is the file position). */
export function vectorArgs(buffers: unknown, position: unknown): { buffers: NodeJS.ArrayBufferView[]; position: number | null } {
  if (!Array.isArray(buffers) || !buffers.every((b) => ArrayBuffer.isView(b))) throw invalidArgType('buffers', 'an ArrayBufferView[]', buffers);
  return { buffers: buffers as NodeJS.ArrayBufferView[], position: nativePosition(position) };
}

/** FileHandle.truncate's length: an integer; a negative one is 0. */
export function truncateLength(len: unknown): number {
  return Math.max(0, integer(len, 'len'));
}
