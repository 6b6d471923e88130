// uring-aio/fs copyFile.
import * as nodeFs from 'node:fs';
import * as nodePromises from 'node:fs/promises';
import { promisify } from 'node:util';
import { IoError } from './errors';
import { pathArg } from './fs-args';
import { asNode, ring } from './fs-core';
import { giveScratch, takeScratch } from './fs-read';
import type { Ring } from './ring';

const { COPYFILE_EXCL, COPYFILE_FICLONE, COPYFILE_FICLONE_FORCE, O_WRONLY, O_CREAT, O_EXCL } = nodeFs.constants;
const fchmod = promisify(nodeFs.fchmod);
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const EISDIR = 21;
/**
 * Files up to this size are copied on the ring through a scratch buffer; larger ones
 * by node:fs (libuv's copy_file_range). Measured here (2 cores, tmpfs; 2,000 files of
 * 4 KiB, and one of 256 MiB): splicing through a pipe on the ring (IORING_OP_PIPE +
 * two IORING_OP_SPLICE per 64 KiB + two more closes) was 1.2-2.4x slower than
 * node:fs on the small files and 1.2-4x slower on the large one; a read and a write
 * through a 64 KiB scratch buffer on the ring is faster than node:fs on small files
 * (fewer operations, no thread-pool hops), and copy_file_range(2), which copies inside
 * the kernel and shares extents where the filesystem can (the FICLONE path of libuv
 * too), is faster on large files; io_uring has no copy_file_range opcode.
 */
const RING_COPY_MAX = 1024 * 1024;

/**
 * node:fs/promises copyFile. On io_uring: open both files (IORING_OP_OPENAT); the
 * destination is created with the source's mode, or truncated, `COPYFILE_EXCL`
 * refuses an existing one, copying a file onto itself leaves it, a failed copy removes
 * the destination (libuv's rules), and the bytes copied are the source's size at its
 * fstat (libuv's rule too: a /proc file or /dev/null, size 0, gives an empty file).
 * A small file is copied with reads and writes through a scratch buffer on the ring;
 * a large one, `COPYFILE_FICLONE*`, any other mode, and the fallback go to
 * node:fs/promises (see RING_COPY_MAX for why).
 */
export const copyFile: typeof nodePromises.copyFile = async function copyFile(src: unknown, dest: unknown, mode: unknown = 0) {
  const r = ring();
  const plain = typeof mode === 'number' && Number.isInteger(mode) && mode >= 0 && mode <= 7 && (mode & (COPYFILE_FICLONE | COPYFILE_FICLONE_FORCE)) === 0;
  if (r === undefined || !plain) return nodePromises.copyFile(src as nodeFs.PathLike, dest as nodeFs.PathLike, mode as number);
  const from = pathArg(src, 'src');
  const to = pathArg(dest, 'dest');
  const fds: number[] = [];
  let created = false;
  let first: Buffer | undefined;
  try {
    const source = await r.open(from, 'r');
    fds.push(source);
    const st = await r.fstat(source);
    if (st.size > RING_COPY_MAX) {
      await closeAll(r, fds);
      return await nodePromises.copyFile(from as nodeFs.PathLike, to as nodeFs.PathLike, mode as number);
    }
    const excl = ((mode as number) & COPYFILE_EXCL) !== 0;
    const target = await r.open(to, O_WRONLY | O_CREAT | (excl ? O_EXCL : 0), st.mode & 0o7777);
    fds.push(target);
    created = true;
    const old = await r.fstat(target);
    if (!excl) {
      // Copying a file onto itself leaves it as it is.
      if (old.dev === st.dev && old.ino === st.ino) return;
      if (old.size > 0) await r.ftruncate(target, 0);
    }
    // The umask may have taken bits off a new file, and an old one keeps its mode.
    if ((old.mode & 0o7777) !== (st.mode & 0o7777)) await fchmod(target, st.mode & 0o7777);
    // sendfile(2) refuses a directory with EISDIR after libuv opened, truncated and
    // chmod-ed the destination, which it then removes: the same here.
    if ((st.mode & S_IFMT) === S_IFDIR) throw new IoError(-EISDIR, 'copyfile');
    if (st.size > 0) {
      first = await takeScratch();
      for (let at = 0; at < st.size;) {
        const n = await r.read(source, first.subarray(0, Math.min(first.length, st.size - at)), at);
        if (n === 0) break;
        for (let done = 0; done < n;) done += await r.write(target, first.subarray(done, n), at + done);
        at += n;
      }
    }
  } catch (e) {
    if (created) await closeAll(r, fds.splice(1)).then(() => r.unlink(to)).catch(() => {});
    throw asNode(e, 'copyfile', from, to);
  } finally {
    if (first !== undefined) giveScratch(first);
    await closeAll(r, fds).catch(() => {});
  }
} as typeof nodePromises.copyFile;

async function closeAll(r: Ring, fds: number[]): Promise<void> {
  await Promise.all(fds.splice(0).map((fd) => r.close(fd)));
}
