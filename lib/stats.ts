// struct statx (include/uapi/linux/stat.h, a stable kernel ABI) decoded into an
// fs.Stats-like object.

/** Bytes of struct statx. */
export const STATX_SIZE = 256;
/** STATX_BASIC_STATS | STATX_BTIME: every field fs.Stats has. */
export const STATX_MASK = 0x7ff | 0x800;
export const AT_EMPTY_PATH = 0x1000;
export const AT_SYMLINK_NOFOLLOW = 0x100;
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
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
  atime: Date;
  mtime: Date;
  ctime: Date;
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

  isFile(): boolean { return (this.mode & S_IFMT) === 0o100000; }
  isDirectory(): boolean { return (this.mode & S_IFMT) === 0o040000; }
  isSymbolicLink(): boolean { return (this.mode & S_IFMT) === 0o120000; }
  isFIFO(): boolean { return (this.mode & S_IFMT) === 0o010000; }
  isSocket(): boolean { return (this.mode & S_IFMT) === 0o140000; }
  isBlockDevice(): boolean { return (this.mode & S_IFMT) === 0o060000; }
  isCharacterDevice(): boolean { return (this.mode & S_IFMT) === 0o020000; }
}
