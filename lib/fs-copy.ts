// uring-aio/fs copyFile.
import * as nodeFs from 'node:fs';
import * as nodePromises from 'node:fs/promises';
import { promisify } from 'node:util';
import { IoError } from './errors';
import { pathArg } from './fs-args';
import { asNode, ring } from './fs-core';
import type { Ring } from './ring';

const { COPYFILE_EXCL, COPYFILE_FICLONE, COPYFILE_FICLONE_FORCE, O_WRONLY, O_CREAT, O_EXCL } = nodeFs.constants;
const fchmod = promisify(nodeFs.fchmod);
/** What one splice moves at most: a pipe's default capacity. */
const SPLICE_PIECE = 64 * 1024;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const EISDIR = 21;

/**
 * node:fs/promises copyFile through io_uring: open both files (IORING_OP_OPENAT), then
 * splice the source's bytes through a pipe (IORING_OP_PIPE, 6.16; IORING_OP_SPLICE,
 * 5.7), as libuv does with copy_file_range/sendfile: the destination is created with
 * the source's mode, or truncated, `COPYFILE_EXCL` refuses an existing one, a failed
 * copy removes it, and the bytes copied are the source's size at the fstat (libuv's
 * rule: a /proc file or /dev/null, size 0, gives an empty file).
 * `COPYFILE_FICLONE*` (no io_uring equivalent of the FICLONE ioctl), other modes, and
 * kernels without IORING_OP_PIPE go to node:fs/promises.
 */
export const copyFile: typeof nodePromises.copyFile = async function copyFile(src: unknown, dest: unknown, mode: unknown = 0) {
  const r = ring();
  const plain = typeof mode === 'number' && Number.isInteger(mode) && mode >= 0 && mode <= 7 && (mode & (COPYFILE_FICLONE | COPYFILE_FICLONE_FORCE)) === 0;
  if (r === undefined || !plain || !r.supports('pipe') || !r.supports('splice')) return nodePromises.copyFile(src as nodeFs.PathLike, dest as nodeFs.PathLike, mode as number);
  const from = pathArg(src, 'src');
  const to = pathArg(dest, 'dest');
  const fds: number[] = [];
  let created = false;
  try {
    const source = await r.open(from, 'r');
    fds.push(source);
    const st = await r.fstat(source);
    // sendfile(2) refuses a directory with EISDIR once libuv made the destination (and
    // removed it again); splice would say EINVAL: say what Node says, and make nothing.
    if ((st.mode & S_IFMT) === S_IFDIR) throw new IoError(-EISDIR, 'copyfile');
    const excl = ((mode as number) & COPYFILE_EXCL) !== 0;
    const target = await r.open(to, O_WRONLY | O_CREAT | (excl ? O_EXCL : 0), st.mode & 0o7777);
    fds.push(target);
    created = true;
    if (!excl) {
      const old = await r.fstat(target);
      // Copying a file onto itself leaves it as it is.
      if (old.dev === st.dev && old.ino === st.ino) return;
      await r.ftruncate(target, 0);
    }
    await fchmod(target, st.mode & 0o7777);
    if (st.size > 0) await spliceAll(r, source, target, st.size, fds);
  } catch (e) {
    if (created) await closeAll(r, fds.splice(1)).then(() => r.unlink(to)).catch(() => {});
    throw asNode(e, 'copyfile', from, to);
  } finally {
    await closeAll(r, fds).catch(() => {});
  }
} as typeof nodePromises.copyFile;

/** Moves `size` bytes from offset 0 of `source` to `target` through a new pipe (its fds go into `fds` to be closed). */
async function spliceAll(r: Ring, source: number, target: number, size: number, fds: number[]): Promise<void> {
  const [pipeOut, pipeIn] = await r.pipe();
  fds.push(pipeOut, pipeIn);
  for (let at = 0; at < size;) {
    const n = await r.splice(source, at, pipeIn, null, Math.min(SPLICE_PIECE, size - at));
    if (n === 0) break;
    for (let left = n; left > 0;) {
      const m = await r.splice(pipeOut, null, target, at, left);
      left -= m;
      at += m;
    }
  }
}

async function closeAll(r: Ring, fds: number[]): Promise<void> {
  await Promise.all(fds.splice(0).map((fd) => r.close(fd)));
}
