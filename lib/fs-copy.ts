// uring-aio/fs copyFile: node:fs/promises' own, by measurement.
import * as nodePromises from 'node:fs/promises';

/**
 * node:fs/promises copyFile itself (libuv: copy_file_range(2), which copies inside the
 * kernel and shares extents where the filesystem can, or FICLONE). Measured on this
 * project's bench machine (2 cores, ext4; bench/suite.mjs fs-copy-small, copyFile of
 * 10,000 files of 4 KiB onto their last copies, 64 at a time): node:fs 8,289 copies/s;
 * the same on io_uring (openat, statx, openat, statx, ftruncate, read and write through
 * a scratch buffer, two closes: most of them punted to io-wq workers) 3,192/s, at
 * 195 us of CPU per copy against node:fs's 93 us; splicing through a pipe
 * (IORING_OP_PIPE, IORING_OP_SPLICE) was slower still, on small files and on a 256 MiB
 * one. io_uring has no copy_file_range opcode, and one thread-pool job per copy beats a
 * dozen ring round trips, so the copy stays in libuv, with Node's exact semantics
 * (st_size bytes, modes, EXCL, removal of a failed destination).
 */
export const copyFile: typeof nodePromises.copyFile = nodePromises.copyFile;
