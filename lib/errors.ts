// Error objects shaped like Node's own: IoError for kernel results, and the
// ERR_* TypeError/RangeError family for bad arguments.
import { join, sep } from 'node:path';
import * as util from 'node:util';

const systemErrors: Map<number, [string, string]> = util.getSystemErrorMap();

/** Errnos io_uring returns that libuv's table (what Node names errors from) lacks. */
const kernelOnlyErrors = new Map<number, [string, string]>([
  [-10, ['ECHILD', 'no child processes']],
  [-62, ['ETIME', 'timer expired']],
  [-77, ['EBADFD', 'file descriptor in bad state']],
]);

/** A failed system call, shaped like Node's fs errors. */
export class IoError extends Error {
  /** 'ENOENT', 'EBADF', ... */
  readonly code: string;
  /** Negative errno, as Node has it (-2 for ENOENT). */
  readonly errno: number;
  /** The kernel operation that failed ('openat', 'read', 'statx', ...). */
  readonly syscall: string;
  /** The path the operation named, if any (a byte path decoded as UTF-8). */
  declare readonly path?: string;
  /** The second path of a rename, link or symlink. */
  declare readonly dest?: string;

  constructor(errno: number, syscall: string, path?: string, dest?: string, detail?: string) {
    const neg = errno > 0 ? -errno : errno;
    const [code, text] = systemErrors.get(neg) ?? kernelOnlyErrors.get(neg) ?? [`Unknown system error ${neg}`, `unknown error ${neg}`];
    let message = `${code}: ${text}, ${syscall}`;
    if (path !== undefined) message += ` '${path}'`;
    if (dest !== undefined) message += ` -> '${dest}'`;
    if (detail !== undefined) message += ` (${detail})`;
    super(message);
    this.name = 'Error';
    this.code = code;
    this.errno = neg;
    this.syscall = syscall;
    if (path !== undefined) this.path = path;
    if (dest !== undefined) this.dest = dest;
  }
}

/** Node's AbortError: name 'AbortError', code 'ABORT_ERR', the signal's reason as cause. */
export class AbortError extends Error {
  /** 'ABORT_ERR', as Node's AbortError. */
  readonly code = 'ABORT_ERR';
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}

type Coded<E extends Error> = E & { code: string };

/**
 * Where this library's own modules are: dist/ and esm/, and lib/ where source maps
 * (`--enable-source-maps`) show the TypeScript files. Their frames are not the caller's.
 */
const libraryDirs = ['dist', 'esm', 'lib'].map((dir) => join(__dirname, '..', dir) + sep);
const isLibraryFrame = (line: string): boolean => libraryDirs.some((dir) => line.includes(dir));

/**
 * Gives `error` the stack Node's own argument errors have: starting at the code that
 * called the library, not at the library's checks (errors.js, validate.js, ops.js,
 * ring.js...). The stack is captured again here with room for the library's frames,
 * which are then dropped from its top.
 */
function callerFirst(error: Error): void {
  const limit = Error.stackTraceLimit;
  if (typeof limit !== 'number' || !(limit > 0)) return;
  Error.stackTraceLimit = limit + LIBRARY_FRAMES;
  try {
    Error.captureStackTrace(error, callerFirst);
  } finally {
    Error.stackTraceLimit = limit;
  }
  const lines = (error.stack ?? '').split('\n');
  const first = lines.findIndex((line) => line.startsWith('    at '));
  if (first < 0) return;
  let caller = first;
  while (caller < lines.length && isLibraryFrame(lines[caller]!)) caller++;
  // Nothing but library frames (a completion delivered from native code): keep them.
  if (caller === lines.length) return;
  error.stack = [...lines.slice(0, first), ...lines.slice(caller, caller + limit)].join('\n');
}

/** The most frames the library stacks between an API call and an error it builds. */
const LIBRARY_FRAMES = 16;

function coded<E extends Error>(error: E, code: string): Coded<E> {
  Object.defineProperty(error, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  // Node prints these as "TypeError [ERR_X]: message".
  const original = error.name;
  error.name = `${original} [${code}]`;
  callerFirst(error);
  error.name = original;
  return error as Coded<E>;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const ctor = (value as object).constructor?.name;
    return ctor ? `an instance of ${ctor}` : util.inspect(value, { depth: -1 });
  }
  let shown = util.inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `type ${typeof value} (${shown})`;
}

export function invalidArgType(name: string, expected: string, actual: unknown): Coded<TypeError> {
  const kind = name.includes('.') ? 'property' : 'argument';
  return coded(new TypeError(`The "${name}" ${kind} must be ${expected}. Received ${describe(actual)}`), 'ERR_INVALID_ARG_TYPE');
}

/** Node's addNumericalSeparator: 1_099_511_627_776. */
function withSeparators(digits: string): string {
  const sign = digits.startsWith('-') ? '-' : '';
  return sign + digits.slice(sign.length).replace(/\B(?=(\d{3})+$)/g, '_');
}

export function outOfRange(name: string, range: string, actual: unknown): Coded<RangeError> {
  // As Node's ERR_OUT_OF_RANGE: integers beyond 2^32 with separators.
  let shown: string;
  if (typeof actual === 'number' && Number.isInteger(actual) && Math.abs(actual) > 2 ** 32) shown = withSeparators(String(actual));
  else if (typeof actual === 'bigint') shown = `${actual > 2n ** 32n || actual < -(2n ** 32n) ? withSeparators(String(actual)) : actual}n`;
  else shown = util.inspect(actual);
  return coded(new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${shown}`), 'ERR_OUT_OF_RANGE');
}

export function invalidArgValue(name: string, actual: unknown, reason = 'is invalid'): Coded<TypeError> {
  const kind = name.includes('.') ? 'property' : 'argument';
  return coded(new TypeError(`The ${kind} '${name}' ${reason}. Received ${util.inspect(actual)}`), 'ERR_INVALID_ARG_VALUE');
}

/** Node's ERR_FS_FILE_TOO_LARGE: readFile of more than 2 GiB - 1 (libuv's cap on one read). */
export function fileTooLarge(size: number): Coded<RangeError> {
  return coded(new RangeError(`File size (${size}) is greater than 2 GiB`), 'ERR_FS_FILE_TOO_LARGE');
}

/** Node's ERR_SOCKET_BAD_PORT (what `net` throws for a port outside 0..65535). */
export function badPort(name: string, actual: unknown): Coded<RangeError> {
  return coded(new RangeError(`${name} should be >= 0 and < 65536. Received ${describe(actual)}.`), 'ERR_SOCKET_BAD_PORT');
}

/** Node's ERR_INVALID_IP_ADDRESS. */
export function invalidIpAddress(address: unknown): Coded<TypeError> {
  return coded(new TypeError(`Invalid IP address: ${String(address)}`), 'ERR_INVALID_IP_ADDRESS');
}

/** Node's ERR_UNKNOWN_SIGNAL (what process.kill throws for an unknown signal name). */
export function unknownSignal(signal: unknown): Coded<TypeError> {
  return coded(new TypeError(`Unknown signal: ${String(signal)}`), 'ERR_UNKNOWN_SIGNAL');
}

export function useAfterClose(what: string): Coded<Error> {
  return coded(new Error(`${what} was destroyed`), 'ERR_USE_AFTER_CLOSE');
}

/** The positive errno a native call failed with (the binding's errors carry Node's negated `errno`), if any. */
export function nativeErrno(error: unknown): number | undefined {
  const errno = error instanceof Error ? (error as { errno?: unknown }).errno : undefined;
  return typeof errno === 'number' && Number.isInteger(errno) && errno < 0 ? -errno : undefined;
}

/** A native failure as an IoError; anything else is a binding bug, rethrown unchanged. */
export function fromNative(error: unknown, syscall: string, path?: string): unknown {
  const errno = nativeErrno(error);
  return errno === undefined ? error : new IoError(-errno, syscall, path);
}

export function invalidState(message: string): Coded<Error> {
  return coded(new Error(`Invalid state: ${message}`), 'ERR_INVALID_STATE');
}
