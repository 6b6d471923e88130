// Finds and loads the native addon for this platform. Loading it runs no io_uring or
// AIO syscall (rings and contexts are made only by constructors), and nothing is
// loaded until first use: importing uring-aio works everywhere, and on a system it
// cannot serve, `isSupported()` says why and constructors throw the same error.
import * as fs from 'node:fs';
import * as path from 'node:path';

const PACKAGE = 'uring-aio';

/** Where a prebuilt binary for `target` comes from. */
export const platformPackage = (target: string): string => `${PACKAGE}-${target}`;

/** An error with a `code`, thrown when no usable native addon exists here. */
export class LoadError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Error';
    this.code = code;
  }
}

/** The C library the running Node is linked against. */
export function runningLibc(): 'gnu' | 'musl' {
  const report = process.report as (NodeJS.ProcessReport & { excludeNetwork?: boolean }) | undefined;
  if (report === undefined) return 'gnu';
  // Skip the report's network section: it can block on DNS.
  const exclude = report.excludeNetwork;
  report.excludeNetwork = true;
  try {
    const header = (report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
    return header?.glibcVersionRuntime ? 'gnu' : 'musl';
  } finally {
    report.excludeNetwork = exclude;
  }
}

const ARCHES: Record<string, string> = { x64: 'x64', arm64: 'arm64' };
const BUILD_FROM_SOURCE =
  'build it from source: install Rust (https://rustup.rs), then `git clone` the uring-aio repository and run `npm ci && npm run build`; or point URING_AIO_NATIVE at a .node file you built';

/** `require` of a file or package, or undefined if it is not there. */
function tryRequire(id: string): unknown {
  try {
    return require(id);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'MODULE_NOT_FOUND' && String((e as Error).message).includes(id)) return undefined;
    throw e;
  }
}

/** Loads the addon, or throws a LoadError that says what to do. */
export function loadAddon<T>(): T {
  try {
    return findAddon<T>();
  } catch (e) {
    if (e instanceof LoadError) throw e;
    // A binary that is there but does not load (a missing symbol, a wrong file).
    throw new LoadError(
      'ERR_URING_AIO_LOAD_FAILED',
      `uring-aio found its native binary but could not load it: ${String((e as Error).message).split('\n')[0]}. Reinstall on this system, or ${BUILD_FROM_SOURCE}.`,
      { cause: e },
    );
  }
}

function findAddon<T>(): T {
  const override = process.env.URING_AIO_NATIVE;
  if (override) return require(path.resolve(override)) as T;
  if (process.platform !== 'linux') {
    throw new LoadError(
      'ERR_URING_AIO_UNSUPPORTED_PLATFORM',
      `uring-aio needs Linux: io_uring and kernel AIO are Linux kernel interfaces, and this is ${process.platform}. ` +
        'Use node:fs/promises here (check isSupported() to choose at run time), or run on Linux (a container or VM works).',
    );
  }
  const arch = ARCHES[process.arch];
  if (arch === undefined) {
    throw new LoadError('ERR_URING_AIO_NO_BINARY', `uring-aio has no prebuilt binary for linux-${process.arch}: ${BUILD_FROM_SOURCE}.`);
  }
  const libc = runningLibc();
  const target = `linux-${arch}-${libc}`;
  // A build in this checkout (npm run build) wins over an installed package.
  const local = path.join(__dirname, '..', `${PACKAGE}.${target}.node`);
  if (fs.existsSync(local)) return require(local) as T;
  const fromPackage = tryRequire(platformPackage(target));
  if (fromPackage !== undefined) return fromPackage as T;
  const otherLibc = libc === 'gnu' ? 'musl' : 'gnu';
  const other = `linux-${arch}-${otherLibc}`;
  const otherPresent = fs.existsSync(path.join(__dirname, '..', `${PACKAGE}.${other}.node`)) || isResolvable(platformPackage(other));
  if (otherPresent) {
    throw new LoadError(
      'ERR_URING_AIO_LIBC_MISMATCH',
      `uring-aio found the ${otherLibc === 'gnu' ? 'glibc' : 'musl'} binary (${platformPackage(other)}) but this Node runs on ${libc === 'gnu' ? 'glibc' : 'musl'}. ` +
        `This happens when node_modules was installed on another system (for example copied from a glibc host into an Alpine image). ` +
        `Reinstall on this system (\`npm ci\`) so npm picks ${platformPackage(target)}.`,
    );
  }
  throw new LoadError(
    'ERR_URING_AIO_NO_BINARY',
    `uring-aio could not find its native binary for ${target}: the optional dependency ${platformPackage(target)} is not installed. ` +
      `Reinstall without --no-optional / --omit=optional, or ${BUILD_FROM_SOURCE}.`,
  );
}

function isResolvable(id: string): boolean {
  try {
    require.resolve(id);
    return true;
  } catch {
    return false;
  }
}
