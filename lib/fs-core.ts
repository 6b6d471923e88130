// uring-aio/fs's shared parts: which backend runs the calls, this thread's Ring, and
// Node's shapes for errors and Stats.
import * as nodeFs from 'node:fs';
import { release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { AbortError, IoError } from './errors';
import { isSupported } from './index';
import { Ring } from './ring';
import type { Stats as RingStats } from './stats';

/** A path as the calls take it, and as errors show it. */
export type PathLike = nodeFs.PathLike | Uint8Array;

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
/** Errnos of io_uring_setup(2) that say "not now" (no descriptor or memory left), not "never". */
const SETUP_NOT_NOW = new Set(['EMFILE', 'ENFILE', 'ENOMEM']);

/**
 * This thread's ring (module state is per thread), or undefined on the fallback. When
 * it cannot be made yet (no descriptor left), undefined too: that call goes to
 * node:fs/promises, which fails as Node does (EMFILE from open, not from
 * io_uring_setup), and the next call tries again.
 */
export function ring(): Ring | undefined {
  if (backend !== 'io_uring') return undefined;
  if (threadRing === undefined) {
    try {
      threadRing = new Ring({ entries: 256 });
    } catch (e) {
      if (e instanceof IoError && SETUP_NOT_NOW.has(e.code)) return undefined;
      throw e;
    }
  }
  return threadRing;
}

/** A path as Node shows it in errors. */
export function shown(path: PathLike): string {
  if (typeof path === 'string') return path;
  if (path instanceof URL) return fileURLToPath(path);
  return Buffer.from(path).toString();
}

/** A Ring failure with Node's syscall name and path, as node:fs would report it. */
export function asNode(error: unknown, syscall: string, path?: PathLike, dest?: PathLike): unknown {
  if (!(error instanceof IoError)) return error;
  return new IoError(error.errno, syscall, path === undefined ? undefined : shown(path), dest === undefined ? undefined : shown(dest));
}

export async function viaRing<T>(syscall: string, path: PathLike | undefined, dest: PathLike | undefined, run: (r: Ring) => Promise<T>): Promise<T> {
  try {
    return await run(ring()!);
  } catch (e) {
    throw asNode(e, syscall, path, dest);
  }
}

export function checkAborted(signal: AbortSignal | undefined): void {
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
export const toNodeStats = (s: RingStats): nodeFs.Stats => new NodeStatsFrom(s);


/** Node's error for a call on a closed FileHandle: EBADF 'file closed', named by Node's internal function. */
export function fileClosed(syscall: string): NodeJS.ErrnoException {
  const e = new Error('file closed') as NodeJS.ErrnoException;
  e.code = 'EBADF';
  e.syscall = syscall;
  return e;
}
