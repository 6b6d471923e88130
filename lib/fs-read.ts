// readFile through io_uring: a whole file into one Buffer of exactly its size.
import { alignedBuffer } from './buffer';
import { fileTooLarge, IoError } from './errors';
import { checkAborted } from './fs-core';
import type { Ring } from './ring';

/** readFile's first read: most files fit, and two reads (data, then 0) settle them. */
const FIRST_READ = 64 * 1024;
/** readFile reads a large file in pieces this big, zero-copy, a few at once. */
const BIG_READ = 8 * 1024 * 1024;
const BIG_READS_IN_FLIGHT = 4;
/** What a non-seekable file (pipe, FIFO, character device, socket) is read in, one read at a time. */
const STREAM_READ = 64 * 1024;
/** Node's cap on readFile (kIoMaxLength): one read(2) of libuv takes at most this. */
const MAX_READFILE = 2 ** 31 - 1;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const ESPIPE = 29;

/**
 * Native buffers of FIRST_READ bytes for readFile's first reads: the kernel reads into
 * them zero-copy (no landing zone), and a small file's bytes are then copied once into
 * a Buffer of their size. At most SCRATCH_MAX exist (4 MiB): a readFile takes one
 * before it opens its file, or waits its turn, so 10,000 concurrent readFile calls
 * hold 4 MiB of scratch, not 640 MiB, and no descriptor while they wait. The ring
 * does not run more than a few hundred operations at once anyway.
 */
const SCRATCH_MAX = 64;
const freeScratch: Buffer[] = [];
let scratchMade = 0;
const scratchWaiters: ((b: Buffer) => void)[] = [];
let firstWaiter = 0;

/** A scratch buffer now, or a promise of the next one given back. */
export function takeScratch(): Buffer | Promise<Buffer> {
  const free = freeScratch.pop();
  if (free !== undefined) return free;
  if (scratchMade < SCRATCH_MAX) {
    scratchMade++;
    return alignedBuffer(FIRST_READ);
  }
  return new Promise((resolve) => scratchWaiters.push(resolve));
}

/** Gives back a scratch buffer once the ring no longer refers to it (its last read resolved). */
export function giveScratch(b: Buffer): void {
  if (firstWaiter < scratchWaiters.length) {
    const next = scratchWaiters[firstWaiter++]!;
    if (firstWaiter === scratchWaiters.length) {
      scratchWaiters.length = 0;
      firstWaiter = 0;
    }
    next(b);
    return;
  }
  freeScratch.push(b);
}

/** `bytes` copied into a Buffer that owns an ArrayBuffer of exactly their size (as Node's readFile returns). */
function exact(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafeSlow(bytes.byteLength);
  out.set(bytes);
  return out;
}

/**
 * Reads `fd` to EOF through `r`, from `start` (0 just after open) or, with null, from the
 * file position, using `first` (a scratch buffer) for the first reads. No stat on the
 * way for a small file: statx always runs on a kernel worker thread, while a read from
 * the page cache completes inside the submission. A large regular file is read into
 * one native buffer sized by fstat, zero-copy, in BIG_READ pieces handed to kernel
 * workers (IOSQE_ASYNC) so the copying runs off the JS thread; from a known start
 * several pieces are in flight at once. A non-seekable file (fstat says it is not
 * regular, or a positioned read says ESPIPE) is read one read after the other at its
 * position until a read returns 0: a pipe's reads must not overlap, and a short one is
 * not its end. `live` runs before each read and throws if the read must not start.
 */
export async function readToEnd(r: Ring, fd: number, start: number | null, signal: AbortSignal | undefined, first: Buffer): Promise<Buffer> {
  let from = start;
  const at = (offset: number): number | null => (from === null ? null : from + offset);
  const readAt = async (view: Uint8Array, offset: number, async = false): Promise<number> => {
    checkAborted(signal);
    try {
      return await r.read(fd, view, at(offset), async ? { async: true } : undefined);
    } catch (e) {
      if (!(e instanceof IoError) || e.errno !== -ESPIPE || from === null) throw e;
      from = null;
      return r.read(fd, view, null);
    }
  };
  let used = await readAt(first, 0);
  if (used === 0) return Buffer.allocUnsafeSlow(0);
  if (used < FIRST_READ) {
    const more = await readAt(first.subarray(used), used);
    if (more === 0) return exact(first.subarray(0, used));
    used += more;
  }
  checkAborted(signal);
  const st = await r.fstat(fd);
  const regular = (st.mode & S_IFMT) === S_IFREG;
  if (!regular) from = null;
  if (regular && st.size > MAX_READFILE) throw fileTooLarge(st.size);
  let buf = alignedBuffer(Math.min(MAX_READFILE, Math.max(regular ? st.size - (start ?? 0) : 0, used * 2, FIRST_READ * 2)), 64);
  first.copy(buf, 0, 0, used);
  for (;;) {
    if (used === buf.length) {
      // Full: a small read says whether the file goes on (it grew after the fstat).
      const n = await readAt(first, used);
      if (n === 0) break;
      if (used + n > MAX_READFILE) throw fileTooLarge(regular ? (await r.fstat(fd)).size : used + n);
      const bigger = alignedBuffer(Math.min(MAX_READFILE, Math.max(buf.length * 2, used + n)), 64);
      buf.copy(bigger, 0, 0, used);
      first.copy(bigger, used, 0, n);
      buf = bigger;
      used += n;
      continue;
    }
    if (from === null) {
      // At the file position: one read at a time, until one returns 0.
      const n = await readAt(buf.subarray(used, Math.min(buf.length, used + (regular ? BIG_READ : STREAM_READ))), used, regular);
      if (n === 0) break;
      used += n;
      continue;
    }
    // A regular file at known offsets: several pieces at once; a short one is the end.
    checkAborted(signal);
    const offsets: number[] = [];
    for (let o = used; o < buf.length && offsets.length < BIG_READS_IN_FLIGHT; o += BIG_READ) offsets.push(o);
    const got = await Promise.all(offsets.map((o) => r.read(fd, buf.subarray(o, Math.min(buf.length, o + BIG_READ)), at(o), { async: true })));
    const short = offsets.findIndex((o, i) => got[i]! < Math.min(buf.length, o + BIG_READ) - o);
    if (short >= 0) {
      used = offsets[short]! + got[short]!;
      break;
    }
    used = Math.min(buf.length, offsets[offsets.length - 1]! + BIG_READ);
  }
  return used === buf.length ? buf : exact(buf.subarray(0, used));
}
