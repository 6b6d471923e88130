// struct statx (include/uapi/linux/stat.h, a stable kernel ABI) decoded into an
// fs.Stats-like object.

/** Bytes of struct statx. */
export const STATX_SIZE = 256;
/** STATX_BASIC_STATS | STATX_BTIME: every field fs.Stats has. */
export const STATX_MASK = 0x7ff | 0x800;
export const AT_EMPTY_PATH = 0x1000;
export const AT_SYMLINK_NOFOLLOW = 0x100;
/** The `dfd` that means "the working directory" (dirfd of the *at(2) calls). */
export const AT_FDCWD = -100;

const S_IFMT = 0o170000;

/** glibc's makedev: how Node (libuv) turns statx's major/minor into `dev`/`rdev`. */
function makedev(major: number, minor: number): number {
  const hi = (major & 0xfffff000) * 2 ** 32 + (minor & 0xffffff00) * 2 ** 12;
  return hi + (((major & 0xfff) << 8) | (minor & 0xff));
}

/** A little-endian u64 as a Number (exact up to 2^53), without a BigInt. */
function u64(view: DataView, at: number): number {
  return view.getUint32(at + 4, true) * 2 ** 32 + view.getUint32(at, true);
}

/** A statx_timestamp's seconds (s64) as a Number. */
function seconds(view: DataView, at: number): number {
  return view.getInt32(at + 4, true) * 2 ** 32 + view.getUint32(at, true);
}

function timeMs(view: DataView, at: number): number {
  return seconds(view, at) * 1e3 + view.getUint32(at + 8, true) / 1e6;
}

/** File metadata from statx(2), with the fields and predicates of fs.Stats. */
export class Stats {
  /** The device the file is on. */
  dev: number;
  /** The inode number. */
  ino: number;
  /** File type and permission bits (S_IFMT, 0o777, ...). */
  mode: number;
  /** Hard links to the file. */
  nlink: number;
  /** Owner user id. */
  uid: number;
  /** Owner group id. */
  gid: number;
  /** The device a device file stands for. */
  rdev: number;
  /** Size in bytes. */
  size: number;
  /** Preferred I/O block size. */
  blksize: number;
  /** 512-byte blocks allocated. */
  blocks: number;
  /** Last access, in milliseconds since the epoch (fractional). */
  atimeMs: number;
  /** Last modification, in milliseconds since the epoch. */
  mtimeMs: number;
  /** Last status change, in milliseconds since the epoch. */
  ctimeMs: number;
  /** Creation, in milliseconds since the epoch (0 where the file system does not record it). */
  birthtimeMs: number;
  /** Last access, as a Date (rounded to the millisecond). */
  atime: Date;
  /** Last modification, as a Date. */
  mtime: Date;
  /** Last status change, as a Date. */
  ctime: Date;
  /** Creation, as a Date. */
  birthtime: Date;

  /** Decodes a raw `struct statx`. */
  constructor(raw: Uint8Array) {
    const v = new DataView(raw.buffer, raw.byteOffset, STATX_SIZE);
    this.blksize = v.getUint32(4, true);
    this.nlink = v.getUint32(16, true);
    this.uid = v.getUint32(20, true);
    this.gid = v.getUint32(24, true);
    this.mode = v.getUint16(28, true);
    this.ino = u64(v, 32);
    this.size = u64(v, 40);
    this.blocks = u64(v, 48);
    this.atimeMs = timeMs(v, 64);
    this.birthtimeMs = timeMs(v, 80);
    this.ctimeMs = timeMs(v, 96);
    this.mtimeMs = timeMs(v, 112);
    this.#sec = [seconds(v, 64), seconds(v, 80), seconds(v, 96), seconds(v, 112)];
    this.#nsec = [v.getUint32(72, true), v.getUint32(88, true), v.getUint32(104, true), v.getUint32(120, true)];
    this.rdev = makedev(v.getUint32(128, true), v.getUint32(132, true));
    this.dev = makedev(v.getUint32(136, true), v.getUint32(140, true));
    // Node rounds to the nearest millisecond for the Date fields.
    this.atime = new Date(Math.round(this.atimeMs));
    this.mtime = new Date(Math.round(this.mtimeMs));
    this.ctime = new Date(Math.round(this.ctimeMs));
    this.birthtime = new Date(Math.round(this.birthtimeMs));
  }

  // The nanosecond times as BigInts are made when asked for: most callers never do.
  readonly #sec: number[];
  readonly #nsec: number[];
  #ns(i: number): bigint {
    return BigInt(this.#sec[i]) * 1_000_000_000n + BigInt(this.#nsec[i]);
  }
  /** Access time in nanoseconds since the epoch. */
  get atimeNs(): bigint { return this.#ns(0); }
  /** Creation time in nanoseconds since the epoch. */
  get birthtimeNs(): bigint { return this.#ns(1); }
  /** Status change time in nanoseconds since the epoch. */
  get ctimeNs(): bigint { return this.#ns(2); }
  /** Modification time in nanoseconds since the epoch. */
  get mtimeNs(): bigint { return this.#ns(3); }

  /** Whether it is a regular file. */
  isFile(): boolean { return (this.mode & S_IFMT) === 0o100000; }
  /** Whether it is a directory. */
  isDirectory(): boolean { return (this.mode & S_IFMT) === 0o040000; }
  /** Whether it is a symbolic link (from `lstat`). */
  isSymbolicLink(): boolean { return (this.mode & S_IFMT) === 0o120000; }
  /** Whether it is a FIFO (named pipe). */
  isFIFO(): boolean { return (this.mode & S_IFMT) === 0o010000; }
  /** Whether it is a socket. */
  isSocket(): boolean { return (this.mode & S_IFMT) === 0o140000; }
  /** Whether it is a block device. */
  isBlockDevice(): boolean { return (this.mode & S_IFMT) === 0o060000; }
  /** Whether it is a character device. */
  isCharacterDevice(): boolean { return (this.mode & S_IFMT) === 0o020000; }
}
