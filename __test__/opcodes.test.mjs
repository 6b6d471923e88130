// One behaviour per test for the operations of the opcode table: each new operation's
// main behaviour and its main error, against the real kernel. An operation this
// kernel lacks (ring.supports) is a reported skip.
import fs from 'node:fs';
import path from 'node:path';
import { IoError, Ring, constants } from '../dist/index.js';
import { fifo, opTest, pattern, support, tmpDir, tmpFile } from './helpers.mjs';

/** Why user xattrs cannot be tested here (the temp dir's file system refuses them), or undefined. */
let noXattrs;
if (support.ok) {
  const ring = new Ring({ entries: 4 });
  if (ring.supports('setxattr')) {
    noXattrs = await ring.setxattr(tmpFile(Buffer.from('x')), 'user.probe', 'x')
      .then(() => undefined, (e) => `user xattrs refused by the temp dir's file system (${e.code})`);
  }
  await ring.destroy();
}

opTest(['nop'], 'probe: probe() names the supported operations and supports() agrees', async (t) => {
  const ring = new Ring({ entries: 4 });
  const names = ring.probe();
  t.true(names.includes('read') && names.includes('nop'));
  t.true(names.every((name) => ring.supports(name)));
  t.false(ring.supports('noSuchOperation'));
  t.false(ring.supports('constructor'));
  await ring.destroy();
});

opTest(['read'], 'bad-arguments-reject: a bad argument rejects with a Node code instead of throwing', async (t) => {
  const ring = new Ring({ entries: 4 });
  const pending = ring.read('3', Buffer.alloc(1));
  t.true(pending instanceof Promise);
  await t.throwsAsync(pending, { code: 'ERR_INVALID_ARG_TYPE' });
  await t.throwsAsync(ring.splice(0, null, 1, null, -1), { code: 'ERR_OUT_OF_RANGE' });
  await t.throwsAsync(ring.nop({ timeout: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  await t.throwsAsync(ring.nop({ drain: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.is(ring.inFlight, 0);
  await ring.destroy();
});

opTest(['splice'], 'splice: file -> pipe -> file keeps every byte', async (t) => {
  const data = pattern(48 * 1024, 17);
  const src = tmpFile(data);
  const dst = path.join(tmpDir(), 'copy.bin');
  const ring = new Ring();
  const inFd = fs.openSync(src, 'r');
  const outFd = fs.openSync(dst, 'w');
  const p = fifo();
  let offset = 0;
  while (offset < data.length) {
    const moved = await ring.splice(inFd, offset, p.writeFd, null, 16 * 1024);
    t.true(moved > 0);
    let left = moved;
    while (left > 0) left -= await ring.splice(p.readFd, null, outFd, offset + (moved - left), left);
    offset += moved;
  }
  t.true(fs.readFileSync(dst).equals(data));
  t.is((await t.throwsAsync(ring.splice(inFd, 0, outFd, 0, 10), { code: 'EINVAL' }, 'neither side is a pipe')).syscall, 'splice');
  [inFd, outFd].forEach((fd) => fs.closeSync(fd));
  p.close();
  await ring.destroy();
});

opTest(['tee', 'splice'], 'tee: duplicates pipe data without consuming it', async (t) => {
  const ring = new Ring();
  const a = fifo();
  const b = fifo();
  fs.writeSync(a.writeFd, 'hello tee');
  t.is(await ring.tee(a.readFd, b.writeFd, 64), 9);
  const fromB = Buffer.alloc(9);
  t.is(fs.readSync(b.readFd, fromB), 9);
  const fromA = Buffer.alloc(9);
  t.is(fs.readSync(a.readFd, fromA), 9, 'the source pipe still holds the data');
  t.is(fromA.toString(), 'hello tee');
  t.is(fromB.toString(), 'hello tee');
  const file = fs.openSync(tmpFile(Buffer.from('x')), 'r');
  await t.throwsAsync(ring.tee(file, b.writeFd, 1), { code: 'EINVAL' });
  fs.closeSync(file);
  a.close();
  b.close();
  await ring.destroy();
});

opTest(['openat2'], 'openat2-resolve-beneath: RESOLVE_BENEATH refuses ../ and opens what lies beneath', async (t) => {
  const dir = tmpDir();
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.writeFileSync(path.join(dir, 'sub', 'in.txt'), 'inside');
  fs.writeFileSync(path.join(dir, 'out.txt'), 'outside');
  const dirfd = fs.openSync(path.join(dir, 'sub'), 'r');
  const ring = new Ring();
  const fd = await ring.openat2('in.txt', { dirfd, resolve: constants.RESOLVE_BENEATH });
  t.is(fs.readFileSync(fd, 'utf8'), 'inside');
  fs.closeSync(fd);
  const err = await t.throwsAsync(ring.openat2('../out.txt', { dirfd, resolve: constants.RESOLVE_BENEATH }), { instanceOf: IoError, code: 'EXDEV' });
  t.is(err.syscall, 'openat2');
  t.is(err.path, '../out.txt');
  fs.closeSync(dirfd);
  await ring.destroy();
});

opTest(['open'], 'dirfd: open resolves a relative path against options.dirfd', async (t) => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'rel.txt'), 'relative');
  const dirfd = fs.openSync(dir, 'r');
  const ring = new Ring();
  const fd = await ring.open('rel.txt', 'r', 0o666, { dirfd });
  t.is(fs.readFileSync(fd, 'utf8'), 'relative');
  fs.closeSync(fd);
  await t.throwsAsync(ring.open('rel.txt', 'r', 0o666, { dirfd: 999999 }), { code: 'EBADF' });
  fs.closeSync(dirfd);
  await ring.destroy();
});

opTest(['symlink', 'link'], 'symlink-link: symlink and link make the links; existing targets are EEXIST', async (t) => {
  const dir = tmpDir();
  const target = path.join(dir, 'target.txt');
  fs.writeFileSync(target, 'linked');
  const ring = new Ring();
  await ring.symlink(target, path.join(dir, 'soft'));
  t.is(fs.readlinkSync(path.join(dir, 'soft')), target);
  await ring.link(target, path.join(dir, 'hard'));
  t.is(fs.statSync(target).nlink, 2);
  const err = await t.throwsAsync(ring.link(target, path.join(dir, 'hard')), { code: 'EEXIST' });
  t.is(err.syscall, 'linkat');
  t.is(err.dest, path.join(dir, 'hard'));
  t.is((await t.throwsAsync(ring.symlink(target, path.join(dir, 'soft')), { code: 'EEXIST' })).syscall, 'symlinkat');
  await ring.destroy();
});

opTest(['rename'], 'rename-flags: RENAME_NOREPLACE refuses an existing target, RENAME_EXCHANGE swaps', async (t) => {
  const dir = tmpDir();
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  fs.writeFileSync(a, 'A');
  fs.writeFileSync(b, 'B');
  const ring = new Ring();
  t.is((await t.throwsAsync(ring.rename(a, b, { flags: constants.RENAME_NOREPLACE }), { code: 'EEXIST' })).syscall, 'renameat');
  await ring.rename(a, b, { flags: constants.RENAME_EXCHANGE });
  t.is(fs.readFileSync(a, 'utf8'), 'B');
  t.is(fs.readFileSync(b, 'utf8'), 'A');
  await ring.destroy();
});

opTest(['fadvise', 'syncFileRange'], 'fadvise-sync-file-range: advice and range sync succeed on a file, EBADF on a bad fd', async (t) => {
  const file = tmpFile(pattern(8192, 3));
  const fd = fs.openSync(file, 'r+');
  const ring = new Ring();
  t.is(await ring.fadvise(fd, 0, 8192, constants.POSIX_FADV_SEQUENTIAL), undefined);
  t.is(await ring.syncFileRange(fd, 0, 4096, constants.SYNC_FILE_RANGE_WRITE), undefined);
  await t.throwsAsync(ring.syncFileRange(999999, 0, 0), { code: 'EBADF' });
  fs.closeSync(fd);
  await ring.destroy();
});

opTest(['fsync'], 'fsync-range: fsync of a byte range and fdatasync both resolve', async (t) => {
  const file = tmpFile(pattern(8192, 4));
  const fd = fs.openSync(file, 'r+');
  const ring = new Ring();
  t.is(await ring.fsync(fd, { offset: 0, length: 4096 }), undefined);
  t.is(await ring.fsync(fd, { datasync: true }), undefined);
  await t.throwsAsync(ring.fsync(fd, { length: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  fs.closeSync(fd);
  await ring.destroy();
});

opTest(['poll'], 'poll: resolves with POLLIN once a FIFO has data', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const pending = ring.poll(p.readFd, constants.POLLIN);
  await new Promise((r) => setTimeout(r, 20));
  fs.writeSync(p.writeFd, 'x');
  t.is((await pending) & constants.POLLIN, constants.POLLIN);
  p.close();
  await ring.destroy();
});

opTest(['timeout'], 'timeout: resolves after the time, and an abort rejects it', async (t) => {
  const ring = new Ring();
  const start = performance.now();
  t.is(await ring.timeout(30), undefined);
  t.true(performance.now() - start >= 25, 'not before its time');
  const ac = new AbortController();
  const long = ring.timeout(60_000, { signal: ac.signal });
  ac.abort();
  await t.throwsAsync(long, { name: 'AbortError' });
  await t.throwsAsync(ring.timeout(10, { clock: 'sundial' }), { code: 'ERR_INVALID_ARG_VALUE' });
  await ring.destroy();
});

opTest(['timeout', 'nop'], 'timeout-count: a timeout with count resolves once that many other completions arrived', async (t) => {
  const ring = new Ring();
  const waiting = ring.timeout(60_000, { count: 2 });
  await ring.nop();
  await ring.nop();
  t.is(await waiting, undefined);
  await ring.destroy();
});

opTest(['read'], 'link-timeout: { timeout } rejects a FIFO read that gets no data with ETIME; one that gets data in time resolves', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const starved = ring.read(p.readFd, Buffer.alloc(4), null, { timeout: 30 });
  const err = await t.throwsAsync(starved, { instanceOf: IoError, code: 'ETIME' });
  t.is(err.syscall, 'read');
  const fed = ring.read(p.readFd, Buffer.alloc(4), null, { timeout: 5000 });
  fs.writeSync(p.writeFd, 'data');
  t.is(await fed, 4);
  p.close();
  await ring.destroy();
});

opTest(['nop'], 'drain: a drained op completes only after the ops queued before it', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const order = [];
  const blocked = ring.read(p.readFd, Buffer.alloc(1), null).then(() => order.push('read'));
  const drained = ring.nop({ drain: true }).then(() => order.push('drain'));
  await new Promise((r) => setTimeout(r, 30));
  t.deepEqual(order, [], 'the drain waits for the read');
  fs.writeSync(p.writeFd, 'x');
  await Promise.all([blocked, drained]);
  t.deepEqual(order, ['read', 'drain']);
  p.close();
  await ring.destroy();
});

opTest(['read'], 'async-flag: { async: true } reads the same bytes through an io-wq worker', async (t) => {
  const data = pattern(4096, 8);
  const fd = fs.openSync(tmpFile(data), 'r');
  const ring = new Ring();
  const buf = Buffer.alloc(4096);
  t.is(await ring.read(fd, buf, 0, { async: true }), 4096);
  t.true(buf.equals(data));
  fs.closeSync(fd);
  await ring.destroy();
});

opTest(['read', 'write'], 'rw-flags: rwFlags reach the kernel (RWF_APPEND appends whatever the position)', async (t) => {
  const file = tmpFile(Buffer.from('head'));
  const fd = fs.openSync(file, 'r+');
  const ring = new Ring();
  t.is(await ring.write(fd, Buffer.from('tail'), 0, { rwFlags: constants.RWF_APPEND }), 4);
  t.is(fs.readFileSync(file, 'utf8'), 'headtail');
  await t.throwsAsync(ring.read(fd, Buffer.alloc(4), 0, { rwFlags: 0x8000000 }), { code: 'ENOTSUP' }, 'an unknown RWF_ bit: Node names -95 ENOTSUP');
  fs.closeSync(fd);
  await ring.destroy();
});

opTest(['statx'], 'statx-mask: statx with a caller mask reports the size; a missing path is ENOENT', async (t) => {
  const file = tmpFile(Buffer.alloc(1234));
  const ring = new Ring();
  const st = await ring.statx(file, { mask: 0x200 /* STATX_SIZE */ });
  t.is(st.size, 1234);
  t.is((await t.throwsAsync(ring.statx(path.join(tmpDir(), 'missing')), { code: 'ENOENT' })).syscall, 'statx');
  await ring.destroy();
});

opTest(['setxattr', 'getxattr', 'fsetxattr', 'fgetxattr'], 'xattr: set and get user attributes by path and by fd; a missing one is ENODATA', async (t) => {
  const file = tmpFile(Buffer.from('x'));
  const ring = new Ring();
  await ring.setxattr(file, 'user.uring', 'by-path');
  t.is((await ring.getxattr(file, 'user.uring')).toString(), 'by-path');
  const fd = fs.openSync(file, 'r+');
  await ring.fsetxattr(fd, 'user.fd', Buffer.from([1, 2, 3]));
  t.deepEqual([...await ring.fgetxattr(fd, 'user.fd')], [1, 2, 3]);
  t.is((await t.throwsAsync(ring.getxattr(file, 'user.missing'), { code: 'ENODATA' })).syscall, 'getxattr');
  await t.throwsAsync(ring.setxattr(file, 'user.uring', 'x', { flags: constants.XATTR_CREATE }), { code: 'EEXIST' });
  fs.closeSync(fd);
  await ring.destroy();
}, noXattrs);

opTest(['cancelFd', 'read'], 'cancel-fd: cancelFd cancels every read pending on a descriptor', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const reads = [1, 2, 3].map(() => ring.read(p.readFd, Buffer.alloc(1), null));
  await new Promise((r) => setTimeout(r, 20));
  t.is(await ring.cancelFd(p.readFd), 3);
  for (const r of reads) await t.throwsAsync(r, { code: 'ECANCELED' });
  t.is(await ring.cancelFd(p.readFd), 0, 'nothing left to cancel');
  await t.throwsAsync(ring.cancelFd(999999), { code: 'EBADF' });
  p.close();
  await ring.destroy();
});

opTest(['pipe'], 'pipe: makes a pipe whose ends carry bytes', async (t) => {
  const ring = new Ring();
  const [r, w] = await ring.pipe();
  t.true(r >= 0 && w >= 0 && r !== w);
  t.is(await ring.write(w, Buffer.from('through'), null), 7);
  const buf = Buffer.alloc(7);
  t.is(await ring.read(r, buf, null), 7);
  t.is(buf.toString(), 'through');
  await t.throwsAsync(ring.pipe({ flags: 0x1 }), { code: 'EINVAL' }, 'O_WRONLY is not a pipe flag');
  fs.closeSync(r);
  fs.closeSync(w);
  await ring.destroy();
});

opTest(['fgetxattr'], 'xattr-size-zero: a zero-size xattr read is refused up front', async (t) => {
  const ring = new Ring();
  await t.throwsAsync(ring.fgetxattr(0, 'user.x', { size: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  await t.throwsAsync(ring.fsetxattr(0, 'user.x', Buffer.alloc(65537)), { code: 'ERR_OUT_OF_RANGE' });
  await ring.destroy();
});

opTest(['timeout'], 'timeout-absolute: an absolute realtime timeout a few ms ahead fires', async (t) => {
  const ring = new Ring();
  const start = Date.now();
  await ring.timeout(start + 20, { absolute: true, clock: 'realtime' });
  t.true(Date.now() - start >= 15, 'not before its time');
  await ring.destroy();
});

opTest(['readFixed', 'writeFixed'], 'read-write-fixed: readFixed/writeFixed move bytes through registered buffers; a window outside its buffer is EFAULT', async (t) => {
  const file = tmpFile(Buffer.alloc(8192));
  const fd = fs.openSync(file, 'r+');
  const ring = new Ring({ fixedBuffers: { count: 2, size: 4096 } });
  const [a, b] = ring.fixedBuffers;
  a.fill(0x33);
  t.is(await ring.writeFixed(fd, a, 0, 4096), 4096);
  t.is(await ring.readFixed(fd, b.subarray(0, 100), 1, 4096), 100);
  t.true(b.subarray(0, 100).equals(Buffer.alloc(100, 0x33)));
  await t.throwsAsync(ring.readFixed(fd, b, 0, 0), { code: 'EFAULT' }, 'buffer 1 is not inside registered buffer 0');
  await t.throwsAsync(ring.readFixed(fd, Buffer.alloc(8), 0, 0), { code: 'ERR_INVALID_ARG_VALUE' });
  fs.closeSync(fd);
  await ring.destroy();
});

opTest(['filesUpdate', 'read'], 'files-update: filesUpdate fills a registered slot from the ring', async (t) => {
  const data = pattern(4096, 9);
  const fd = fs.openSync(tmpFile(data), 'r');
  const ring = new Ring();
  ring.registerFiles([-1, -1]);
  t.is(await ring.filesUpdate([fd], 1), 1);
  const buf = Buffer.alloc(4096);
  t.is(await ring.read(1, buf, 0, { fixedFile: true }), 4096);
  t.true(buf.equals(data));
  await t.throwsAsync(ring.filesUpdate([fd], 5), { code: 'EINVAL' }, 'past the registered table');
  fs.closeSync(fd);
  await ring.destroy();
});

opTest(['fixedFdInstall'], 'fixed-fd-install: a registered file becomes a regular fd again', async (t) => {
  const file = tmpFile(Buffer.from('installed'));
  const fd = fs.openSync(file, 'r');
  const ring = new Ring();
  ring.registerFiles([fd]);
  fs.closeSync(fd);
  const installed = await ring.fixedFdInstall(0);
  t.is(fs.readFileSync(installed, 'utf8'), 'installed');
  fs.closeSync(installed);
  await t.throwsAsync(ring.fixedFdInstall(3), { code: 'EBADF' });
  await ring.destroy();
});

opTest(['madvise'], 'madvise: MADV_DONTNEED drops the pages of an aligned buffer (they read back as zeros); a partial page is refused', async (t) => {
  const ring = new Ring();
  const { alignedBuffer } = await import('../dist/index.js');
  const mem = alignedBuffer(8192);
  mem.fill(0xff);
  await ring.madvise(mem.subarray(4096), 4 /* MADV_DONTNEED */);
  t.true(mem.subarray(0, 4096).every((b) => b === 0xff), 'the first page is untouched');
  t.true(mem.subarray(4096).every((b) => b === 0), 'the second page was dropped');
  await t.throwsAsync(ring.madvise(mem.subarray(0, 100), 4), { code: 'EINVAL' });
  await t.throwsAsync(ring.madvise(Buffer.alloc(4096), 4), { code: 'ERR_INVALID_ARG_VALUE' });
  await ring.destroy();
});

opTest(['futexWait', 'futexWake'], 'futex: futexWait sleeps until futexWake on the same word; a changed word is EAGAIN', async (t) => {
  const ring = new Ring();
  const { alignedBuffer } = await import('../dist/index.js');
  const word = alignedBuffer(4);
  let woke = false;
  const waiting = ring.futexWait(word, 0).then((r) => { woke = true; return r; });
  await new Promise((r) => setTimeout(r, 20));
  t.false(woke, 'still asleep');
  t.is(await ring.futexWake(word, 1), 1);
  t.is(await waiting, 0);
  word.writeUInt32LE(7);
  await t.throwsAsync(ring.futexWait(word, 0), { code: 'EAGAIN' });
  await ring.destroy();
});

opTest(['madvise'], 'madvise-refused: advice that changes access, and registered buffers, are refused', async (t) => {
  const ring = new Ring({ fixedBuffers: { count: 1, size: 4096 } });
  const { alignedBuffer } = await import('../dist/index.js');
  const mem = alignedBuffer(4096);
  await t.throwsAsync(ring.madvise(mem, 102 /* MADV_GUARD_INSTALL */), { code: 'ERR_INVALID_ARG_VALUE' });
  await t.throwsAsync(ring.madvise(ring.fixedBuffers[0], 4), { code: 'EINVAL' }, 'registered pages stay');
  mem[0] = 1;
  t.is(mem[0], 1, 'the memory is still usable');
  await ring.destroy();
});
