// Argument checks with Node's error codes, run before anything reaches the kernel.
import { fileURLToPath } from 'node:url';
import { isUint8Array } from 'node:util/types';
import { invalidArgType, invalidArgValue, outOfRange } from './errors';

const INT32_MAX = 2 ** 31 - 1;
const INT64_MAX = 2n ** 63n - 1n;

export function validateInteger(value: unknown, name: string, min: number, max: number): asserts value is number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
}

export function validateFd(fd: unknown): asserts fd is number {
  validateInteger(fd, 'fd', 0, INT32_MAX);
}

/** A file offset >= `min` as a number, or a bigint when beyond 2^53. */
function fileOffset(value: unknown, name: string, min: -1 | 0): number | bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw Number.isInteger(value) ? outOfRange(name, `>= ${min} && <= ${Number.MAX_SAFE_INTEGER}`, value) : outOfRange(name, 'an integer', value);
    }
    if (value < min) throw outOfRange(name, `>= ${min} && <= ${Number.MAX_SAFE_INTEGER}`, value);
    return value;
  }
  if (typeof value === 'bigint') {
    if (value < BigInt(min) || value > INT64_MAX) throw outOfRange(name, `>= ${min} && <= ${INT64_MAX}`, value);
    return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }
  throw invalidArgType(name, 'of type number or bigint', value);
}

/** Positions: undefined, null or -1 mean "the file position"; numbers and bigints. */
export function validatePosition(position: unknown, name = 'position'): number | bigint {
  if (position === undefined || position === null) return -1;
  return fileOffset(position, name, -1);
}

/** An explicit file offset (AIO has no "current position"): >= 0, number or bigint. */
export function validateOffset(value: unknown, name = 'position'): number | bigint {
  return fileOffset(value, name, 0);
}

/** A non-negative length or offset as a number (bigints must fit in 2^53). */
export function validateLength(value: unknown, name: string): number {
  if (typeof value === 'bigint') {
    if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw outOfRange(name, `>= 0 && <= ${Number.MAX_SAFE_INTEGER}`, value);
    return Number(value);
  }
  validateInteger(value, name, 0, Number.MAX_SAFE_INTEGER);
  return value;
}

export function validateView(value: unknown, name: string): asserts value is ArrayBufferView {
  if (!ArrayBuffer.isView(value)) {
    throw invalidArgType(name, 'an instance of Buffer, TypedArray, or DataView', value);
  }
}

export function validateViews(value: unknown, name: string): asserts value is ArrayBufferView[] {
  if (!Array.isArray(value)) throw invalidArgType(name, 'an instance of Array', value);
  value.forEach((v, i) => validateView(v, `${name}[${i}]`));
}

/** A list of fds (or -1 for an empty registered-file slot), checked. */
export function validateFdList(value: unknown, name: string): asserts value is number[] {
  if (!Array.isArray(value)) throw invalidArgType(name, 'an instance of Array', value);
  value.forEach((fd, i) => validateInteger(fd, `${name}[${i}]`, -1, INT32_MAX));
}

/** IOV_MAX: the most iovecs one readv/writev takes. */
export const IOV_MAX = 1024;

/** At most IOV_MAX views: past it, like node:fs, only the first IOV_MAX are used. */
export function iovMax(views: readonly ArrayBufferView[]): ArrayBufferView[] {
  return views.length > IOV_MAX ? views.slice(0, IOV_MAX) : (views as ArrayBufferView[]);
}

export function validateObject(value: unknown, name: string): void {
  if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    throw invalidArgType(name, 'of type object', value);
  }
}

export function validateBoolean(value: unknown, name: string): asserts value is boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value);
}

export function validateSignal(value: unknown, name = 'options.signal'): asserts value is AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw invalidArgType(name, 'an instance of AbortSignal', value);
  }
}

/** Paths: string, Buffer or file: URL, as Node's fs accepts; no NUL bytes. */
/**
 * A path as the kernel gets it: a string (sent as UTF-8), or the exact bytes of a
 * Buffer or Uint8Array path (Linux file names are bytes and need not be UTF-8).
 */
export type KernelPath = string | Uint8Array;

/** A path argument as `node:fs` takes it: string, Buffer or Uint8Array, or file: URL. */
export function validatePath(value: unknown, name = 'path'): KernelPath {
  let path: KernelPath;
  if (typeof value === 'string' || isUint8Array(value)) path = value;
  // fileURLToPath throws Node's own coded errors for other schemes, hosts and %2F.
  else if (value instanceof URL) path = fileURLToPath(value);
  else throw invalidArgType(name, 'of type string or an instance of Buffer or URL', value);
  if (typeof path === 'string' ? path.includes('\u0000') : path.includes(0)) {
    throw invalidArgValue(name, shownPath(path), 'must be a string, Uint8Array, or URL without null bytes');
  }
  return path;
}

/** How a path appears in errors and messages: the string, or its bytes as UTF-8. */
export function shownPath(path: KernelPath): string {
  return typeof path === 'string' ? path : Buffer.from(path.buffer, path.byteOffset, path.byteLength).toString('utf8');
}

/** File modes: an integer or an octal string, 0..0o7777 (node:fs takes up to 2^32 - 1: `max`). */
export function parseMode(value: unknown, name: string, fallback: number, max = 0o7777): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'string') {
    if (!/^[0-7]+$/.test(value)) throw invalidArgValue(name, value, 'must be a 32-bit unsigned integer or an octal string');
    value = parseInt(value, 8);
  }
  validateInteger(value, name, 0, max);
  return value as number;
}
