// uring-aio/fs: node:fs/promises on io_uring. The same names, signatures (typed with
// @types/node's own declarations), results and errors; the operations io_uring has an
// opcode for go through one Ring per thread, made on first use, and the rest (and
// everything where io_uring cannot be used) go to node:fs/promises unchanged.
// `backend` and `backendReason` say which and why.
import * as nodeFs from 'node:fs';
import * as nodePromises from 'node:fs/promises';
import { checkDecoder, fileMode, fileOptions, nodeMajor, pathArg, resultEncoding, writeData } from './fs-args';
import { copyFile } from './fs-copy';
import { asNode, backend, backendReason, checkAborted, ring, toNodeStats, viaRing } from './fs-core';
import { FileHandle, UringFileHandle, writeAll } from './fs-handle';
import { giveScratch, readToEnd, takeScratch } from './fs-read';
import { parseOpenFlags } from './flags';
import { IoError, outOfRange } from './errors';
import { validateBoolean, validateFd } from './validate';

const EBADF = 9;

export { backend, backendReason, copyFile, FileHandle };
export type { Backend } from './fs-core';

/**
 * Opens `path` (IORING_OP_OPENAT on io_uring; node:fs on the fallback, whose
 * FileHandle then calls node:fs by descriptor). Resolves to a FileHandle.
 */
export const open: typeof nodePromises.open = async function open(path: unknown, flags?: unknown, mode?: unknown) {
  const p = pathArg(path);
  const f = parseOpenFlags(flags);
  const m = fileMode(mode, 'mode', 0o666);
  const r = ring();
  // open(2) keeps a mode's low 12 bits; so does this.
  const fd = r === undefined
    ? await new Promise<number>((resolve, reject) => nodeFs.open(p as nodeFs.PathLike, f, m, (e, fd) => (e ? reject(e) : resolve(fd))))
    : await viaRing('open', p, undefined, (ring) => ring.open(p, f, m & 0o7777));
  return new UringFileHandle(fd) as unknown as nodePromises.FileHandle;
} as typeof nodePromises.open;

/** node:fs/promises readFile: open, read to EOF into a Buffer of the file's size, close (through io_uring). */
export const readFile: typeof nodePromises.readFile = async function readFile(path: unknown, options?: unknown) {
  const o = fileOptions(options, { flag: 'r' });
  if (path instanceof UringFileHandle) {
    // Node makes its decoder, then reads a closed handle's fd, -1, and its fd check says so.
    checkDecoder(o);
    if (path.fd === -1) throw outOfRange('fd', '>= 0 && <= 2147483647', -1);
    return path.readFile(o);
  }
  const r = ring();
  if (r === undefined) return nodePromises.readFile(path as nodeFs.PathLike, o as Parameters<typeof nodePromises.readFile>[1]);
  checkAborted(o.signal);
  const p = pathArg(path);
  const flags = parseOpenFlags(o.flag || 'r');
  // The scratch buffer first: a call waiting for one holds no descriptor.
  const first = await takeScratch();
  let data: Buffer;
  try {
    const fd = await viaRing('open', p, undefined, (ring) => ring.open(p, flags, 0o666));
    try {
      checkDecoder(o);
      data = await readToEnd(r, fd, 0, o.signal, first);
    } catch (e) {
      await r.close(fd).catch(() => {});
      throw asNode(e, 'read');
    }
    await viaRing('close', undefined, undefined, (ring) => ring.close(fd));
  } finally {
    giveScratch(first);
  }
  const encoding = resultEncoding(o);
  return encoding ? data.toString(encoding) : data;
} as typeof nodePromises.readFile;

/** node:fs/promises writeFile: data and options checked first, then open, write, close (through io_uring). */
export const writeFile: typeof nodePromises.writeFile = async function writeFile(path: unknown, data: unknown, options?: unknown) {
  const o = fileOptions(options, { encoding: 'utf8', mode: 0o666, flag: 'w', flush: false });
  validateBoolean(o.flush, 'options.flush');
  const encoding = resultEncoding(o);
  const bytes = writeData(data, encoding);
  if (path instanceof UringFileHandle) {
    // Node writes to a closed handle's fd, -1 (nothing to write: no call). Node 22 and
    // 24's binding checks the descriptor first: ERR_OUT_OF_RANGE fd; Node 20's write(2)
    // says EBADF.
    if (path.fd === -1) {
      if (ArrayBuffer.isView(bytes) && bytes.byteLength === 0) return;
      if (nodeMajor >= 22) validateFd(path.fd);
      throw new IoError(-EBADF, 'write');
    }
    return writeAll(path, bytes, encoding, o.signal);
  }
  if (ring() === undefined) return nodePromises.writeFile(path as nodeFs.PathLike, data as string, o as Parameters<typeof nodePromises.writeFile>[2]);
  checkAborted(o.signal);
  const handle = await open(path as nodeFs.PathLike, o.flag || 'w', o.mode as nodeFs.Mode) as unknown as UringFileHandle;
  try {
    await writeAll(handle, bytes, encoding, o.signal);
    if (o.flush === true) await handle.sync();
  } catch (e) {
    await handle.close().catch(() => {});
    throw e;
  }
  await handle.close();
} as typeof nodePromises.writeFile;

/** node:fs/promises appendFile: writeFile with flag 'a'. */
export const appendFile: typeof nodePromises.appendFile = function appendFile(path: unknown, data: unknown, options?: unknown) {
  const o = { ...fileOptions(options, { encoding: 'utf8', mode: 0o666, flag: 'a' }) };
  o.flag ||= 'a';
  return writeFile(path as nodeFs.PathLike, data as string, o as Parameters<typeof nodePromises.writeFile>[2]);
} as typeof nodePromises.appendFile;

/** statx(2) through io_uring; `{ bigint: true }` through node:fs. */
export const stat: typeof nodePromises.stat = async function stat(path: unknown, options: { bigint?: boolean } = { bigint: false }) {
  if (ring() === undefined || options.bigint) return nodePromises.stat(path as nodeFs.PathLike, options as { bigint: true });
  const p = pathArg(path);
  return toNodeStats(await viaRing('stat', p, undefined, (r) => r.stat(p)));
} as typeof nodePromises.stat;

/** statx(2) with AT_SYMLINK_NOFOLLOW through io_uring; `{ bigint: true }` through node:fs. */
export const lstat: typeof nodePromises.lstat = async function lstat(path: unknown, options: { bigint?: boolean } = { bigint: false }) {
  if (ring() === undefined || options.bigint) return nodePromises.lstat(path as nodeFs.PathLike, options as { bigint: true });
  const p = pathArg(path);
  return toNodeStats(await viaRing('lstat', p, undefined, (r) => r.lstat(p)));
} as typeof nodePromises.lstat;

/**
 * A call on two paths (rename, link): both checked and named as Node names them, then
 * `syscall` on the ring, or node:fs's own on the fallback.
 */
function twoPaths(syscall: 'rename' | 'link', names: [string, string]) {
  const call = async (first: unknown, second: unknown): Promise<void> => {
    const from = pathArg(first, names[0]);
    const to = pathArg(second, names[1]);
    if (ring() === undefined) return nodePromises[syscall](from as nodeFs.PathLike, to as nodeFs.PathLike);
    return viaRing(syscall, from, to, (r) => r[syscall](from, to));
  };
  return Object.defineProperty(call, 'name', { value: syscall });
}

/** renameat(2) through io_uring. */
export const rename: typeof nodePromises.rename = twoPaths('rename', ['oldPath', 'newPath']);

/** unlinkat(2) through io_uring. */
export const unlink: typeof nodePromises.unlink = async function unlink(path: unknown) {
  const p = pathArg(path);
  if (ring() === undefined) return nodePromises.unlink(p as nodeFs.PathLike);
  return viaRing('unlink', p, undefined, (r) => r.unlink(p));
} as typeof nodePromises.unlink;

/** unlinkat(2) with AT_REMOVEDIR through io_uring; with options (`recursive`) through node:fs. */
export const rmdir: typeof nodePromises.rmdir = async function rmdir(path: unknown, options?: unknown) {
  if (ring() === undefined || options !== undefined) return nodePromises.rmdir(path as nodeFs.PathLike, options as nodeFs.RmDirOptions);
  const p = pathArg(path);
  return viaRing('rmdir', p, undefined, (r) => r.rmdir(p));
} as typeof nodePromises.rmdir;

/** mkdirat(2) through io_uring; `{ recursive: true }` through node:fs. */
export const mkdir: typeof nodePromises.mkdir = async function mkdir(path: unknown, options?: unknown) {
  if (ring() === undefined) return nodePromises.mkdir(path as nodeFs.PathLike, options as nodeFs.MakeDirectoryOptions);
  // Node's order: the path, then options.recursive, then the mode (named 'mode' in both forms).
  const o = (typeof options === 'number' || typeof options === 'string' ? { mode: options } : options || {}) as { recursive?: unknown; mode?: unknown };
  const { recursive = false, mode = 0o777 } = o;
  const p = pathArg(path);
  validateBoolean(recursive, 'options.recursive');
  if (recursive) return nodePromises.mkdir(path as nodeFs.PathLike, options as nodeFs.MakeDirectoryOptions);
  const bits = fileMode(mode, 'mode', 0o777);
  return viaRing('mkdir', p, undefined, (r) => r.mkdir(p, bits & 0o7777));
} as typeof nodePromises.mkdir;

/** symlinkat(2) through io_uring (the `type` argument only matters on Windows). */
export const symlink: typeof nodePromises.symlink = async function symlink(target: unknown, path: unknown, type?: unknown) {
  const t = pathArg(target, 'target');
  const p = pathArg(path);
  if (ring() === undefined) return nodePromises.symlink(t as nodeFs.PathLike, p as nodeFs.PathLike, type as string);
  return viaRing('symlink', t, p, (r) => r.symlink(t, p));
} as typeof nodePromises.symlink;

/** linkat(2) through io_uring. */
export const link: typeof nodePromises.link = twoPaths('link', ['existingPath', 'newPath']);

// No io_uring opcode (or not yet through this module): node:fs/promises itself.
export const { access, cp, chmod, chown, lchown, lutimes, utimes, truncate, readlink, realpath, readdir, opendir, mkdtemp, rm, watch, statfs } = nodePromises;
/**
 * node:fs/promises' lchmod, itself: the mode of a symbolic link rather than its target,
 * where the platform has lchmod(2) (macOS); on Linux it rejects with
 * ERR_METHOD_NOT_IMPLEMENTED, as Node's does.
 */
export const lchmod: typeof nodePromises.lchmod = nodePromises.lchmod;
export const constants: typeof nodePromises.constants = nodeFs.constants;

const fs = {
  backend, backendReason, FileHandle, open, readFile, writeFile, appendFile, stat, lstat, rename, unlink, rmdir, mkdir, symlink, link,
  access, copyFile, cp, chmod, chown, lchmod, lchown, lutimes, utimes, truncate, readlink, realpath, readdir, opendir, mkdtemp, rm, watch, statfs, constants,
};
export default fs;
