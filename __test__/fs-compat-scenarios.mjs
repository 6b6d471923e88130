// The scenarios of the uring-aio/fs compatibility suite: each runs against
// node:fs/promises and against uring-aio/fs, each in a directory of its own laid out the
// same way, and the results and error shapes (name, code, errno, syscall, path, dest,
// message) must be equal. fs-compat.test.mjs runs them on io_uring, and
// fs-compat-fallback.test.mjs with URING_AIO_FS_BACKEND=node:fs.
import fs from 'node:fs';
import * as nodeFs from 'node:fs/promises';
import path from 'node:path';
import { tmpDir } from './helpers.mjs';

/** A directory with a file, a subdirectory with a file, and a symlink. */
export function layout() {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'hello.txt'), 'hello, world\n');
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.writeFileSync(path.join(dir, 'sub', 'inner.bin'), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
  fs.symlinkSync('hello.txt', path.join(dir, 'link'));
  return dir;
}

/** What a scenario produced, with its directory written as <dir>. */
export async function outcome(impl, scenario) {
  const dir = layout();
  const clean = (v) => JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x)).replaceAll(dir, '<dir>'));
  try {
    return { value: clean(await scenario(impl, dir)) };
  } catch (e) {
    return { error: clean({ name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, dest: e.dest, message: e.message }) };
  }
}

/**
 * Defines every scenario with `define(title, run)`, where `run(t)` should assert on
 * `compare(ours, scenario)`.
 */
export function defineScenarios(define, ours) {
  const same = (title, scenario) => define(title, async (t) => {
    const theirs = await outcome(nodeFs, scenario);
    const mine = await outcome(ours, scenario);
    t.deepEqual(mine, theirs);
  });

  const statFields = (s) => ({ size: s.size, mode: s.mode, nlink: s.nlink, isFile: s.isFile(), isDirectory: s.isDirectory(), isSymbolicLink: s.isSymbolicLink() });

  same('readFile as a Buffer', (f, dir) => f.readFile(path.join(dir, 'sub', 'inner.bin')).then((b) => [...b]));
  same('readFile with an encoding (string and options forms)', async (f, dir) => [
    await f.readFile(path.join(dir, 'hello.txt'), 'utf8'),
    await f.readFile(path.join(dir, 'hello.txt'), { encoding: 'base64' }),
  ]);
  same('readFile of a missing file is ENOENT from open', (f, dir) => f.readFile(path.join(dir, 'missing')));
  same('readFile of a directory is EISDIR from read', (f, dir) => f.readFile(path.join(dir, 'sub')));
  same('readFile of a /proc file (size 0) reads it all', (f) => f.readFile('/proc/self/cmdline').then((b) => b.length > 0));
  same('readFile through a symlink', (f, dir) => f.readFile(path.join(dir, 'link'), 'utf8'));
  same('readFile with an aborted signal is an AbortError', (f, dir) => f.readFile(path.join(dir, 'hello.txt'), { signal: AbortSignal.abort() }));
  same('writeFile of a string, then read back', async (f, dir) => {
    await f.writeFile(path.join(dir, 'out.txt'), 'written ✓');
    return fs.readFileSync(path.join(dir, 'out.txt'), 'utf8');
  });
  same('writeFile of an iterable and an async iterable', async (f, dir) => {
    await f.writeFile(path.join(dir, 'a.txt'), ['one ', Buffer.from('two '), new Uint8Array([51])]);
    await f.writeFile(path.join(dir, 'b.txt'), (async function* () { yield 'x'; yield Buffer.from('y'); })());
    return [fs.readFileSync(path.join(dir, 'a.txt'), 'utf8'), fs.readFileSync(path.join(dir, 'b.txt'), 'utf8')];
  });
  same("writeFile with flag 'wx' on an existing file is EEXIST", (f, dir) => f.writeFile(path.join(dir, 'hello.txt'), 'x', { flag: 'wx' }));
  same('writeFile with mode sets the permission bits', async (f, dir) => {
    await f.writeFile(path.join(dir, 'mode.txt'), 'm', { mode: 0o600 });
    return fs.statSync(path.join(dir, 'mode.txt')).mode & 0o777;
  });
  same('appendFile appends', async (f, dir) => {
    await f.appendFile(path.join(dir, 'hello.txt'), 'more\n');
    return fs.readFileSync(path.join(dir, 'hello.txt'), 'utf8');
  });
  same('stat and lstat of a file, a directory and a symlink', async (f, dir) => [
    statFields(await f.stat(path.join(dir, 'hello.txt'))),
    statFields(await f.stat(path.join(dir, 'sub'))),
    statFields(await f.lstat(path.join(dir, 'link'))),
    statFields(await f.stat(path.join(dir, 'link'))),
    (await f.stat(path.join(dir, 'hello.txt'))) instanceof fs.Stats,
    typeof (await f.stat(path.join(dir, 'hello.txt'), { bigint: true })).size,
  ]);
  same('stat of a missing path is ENOENT from stat', (f, dir) => f.stat(path.join(dir, 'missing')));
  same('lstat of a missing path is ENOENT from lstat', (f, dir) => f.lstat(path.join(dir, 'missing')));
  same('rename, and a failed rename names both paths', async (f, dir) => {
    await f.rename(path.join(dir, 'hello.txt'), path.join(dir, 'moved.txt'));
    return f.rename(path.join(dir, 'missing'), path.join(dir, 'x'));
  });
  same('unlink, then ENOENT', async (f, dir) => {
    await f.unlink(path.join(dir, 'hello.txt'));
    return f.unlink(path.join(dir, 'hello.txt'));
  });
  same('rmdir of a non-empty directory is ENOTEMPTY', (f, dir) => f.rmdir(path.join(dir, 'sub')));
  same('mkdir, EEXIST, and recursive', async (f, dir) => {
    await f.mkdir(path.join(dir, 'new'));
    const first = await f.mkdir(path.join(dir, 'deep', 'er'), { recursive: true });
    try {
      await f.mkdir(path.join(dir, 'new'));
    } catch (e) {
      return [first, e.code, e.syscall, e.message];
    }
    return [first];
  });
  same('symlink and link, then EEXIST', async (f, dir) => {
    await f.symlink('hello.txt', path.join(dir, 'ln2'));
    await f.link(path.join(dir, 'hello.txt'), path.join(dir, 'hard'));
    const linked = [await f.readlink(path.join(dir, 'ln2')), fs.statSync(path.join(dir, 'hard')).nlink];
    try {
      await f.link(path.join(dir, 'hello.txt'), path.join(dir, 'hard'));
    } catch (e) {
      return [...linked, e.code, e.syscall, e.message];
    }
    return linked;
  });
  same('open: a missing file is ENOENT from open', (f, dir) => f.open(path.join(dir, 'missing'), 'r'));
  same('FileHandle.read in all its call forms', async (f, dir) => {
    const h = await f.open(path.join(dir, 'hello.txt'));
    try {
      const a = await h.read(Buffer.alloc(5), 0, 5, 0);
      const b = await h.read({ buffer: Buffer.alloc(4), position: 7 });
      const c = await h.read(Buffer.alloc(6), { offset: 1, length: 3, position: 0 });
      const d = await h.read();
      return [a.bytesRead, a.buffer.toString(), b.bytesRead, b.buffer.toString(), c.bytesRead, [...c.buffer], d.bytesRead, d.buffer.length];
    } finally {
      await h.close();
    }
  });
  same('FileHandle.read without a position reads consecutive ranges, also concurrently', async (f, dir) => {
    const h = await f.open(path.join(dir, 'hello.txt'));
    try {
      const parts = await Promise.all([0, 1, 2].map(() => h.read(Buffer.alloc(4), 0, 4, null)));
      // Node runs concurrent reads on its thread pool, in whichever order the threads
      // take them (seen reordered on Node 22 under load): the ranges, not their order.
      return parts.map((p) => p.buffer.toString()).sort();
    } finally {
      await h.close();
    }
  });
  same('FileHandle.write with buffers and strings, readv and writev, stat, truncate, sync', async (f, dir) => {
    const h = await f.open(path.join(dir, 'w.bin'), 'w+');
    try {
      const a = await h.write(Buffer.from('abcdef'), 1, 3, 0);
      const b = await h.write('XYZ', 3, 'utf8');
      const c = await h.writev([Buffer.from('12'), Buffer.from('34')], 6);
      const back = [Buffer.alloc(3), Buffer.alloc(7)];
      const d = await h.readv(back, 0);
      await h.sync();
      await h.datasync();
      const size = (await h.stat()).size;
      await h.truncate(4);
      return [a.bytesWritten, a.buffer.toString(), b.bytesWritten, b.buffer, c.bytesWritten, d.bytesRead, Buffer.concat(back).toString(), size, (await h.stat()).size];
    } finally {
      await h.close();
    }
  });
  same('FileHandle.readFile and writeFile', async (f, dir) => {
    const h = await f.open(path.join(dir, 'hello.txt'), 'r+');
    try {
      const text = await h.readFile('utf8');
      await h.writeFile('tail');
      return [text, fs.readFileSync(path.join(dir, 'hello.txt'), 'utf8')];
    } finally {
      await h.close();
    }
  });

  // Sizes around readFile's first read (64 KiB) and its pieces (8 MiB).
  const sized = (n) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + (i >> 9)) & 0xff));
  const digest = (b) => [b.length, b.subarray(0, 8).toString('hex'), b.subarray(-8).toString('hex'), b.reduce((h, x) => (h * 31 + x) >>> 0, 7)];
  for (const n of [0, 1, 65535, 65536, 65537, 131072, 8 * 2 ** 20 + 3, 40 * 2 ** 20 + 1]) {
    same(`readFile of a ${n}-byte file reads every byte`, async (f, dir) => {
      fs.writeFileSync(path.join(dir, 'sized'), n > 2 ** 20 ? sized(n % 65536).subarray(0, 0) : sized(n));
      if (n > 2 ** 20) {
        const fd = fs.openSync(path.join(dir, 'sized'), 'w');
        for (let at = 0; at < n; at += 2 ** 20) fs.writeSync(fd, sized(Math.min(2 ** 20, n - at)), 0, Math.min(2 ** 20, n - at), at);
        fs.closeSync(fd);
      }
      return digest(await f.readFile(path.join(dir, 'sized')));
    });
  }
  same('FileHandle.readFile reads from the file position', async (f, dir) => {
    fs.writeFileSync(path.join(dir, 'pos'), sized(200_000));
    const h = await f.open(path.join(dir, 'pos'));
    try {
      await h.read(Buffer.alloc(1000), 0, 1000, null);
      return [digest(await h.readFile()), (await h.readFile()).length];
    } finally {
      await h.close();
    }
  });
  same('readFile of a file over 2 GiB is ERR_FS_FILE_TOO_LARGE', async (f, dir) => {
    fs.truncateSync(path.join(dir, 'hello.txt'), 3 * 2 ** 30);
    return f.readFile(path.join(dir, 'hello.txt'));
  });
  same('FileHandle.read and write beyond 4 GiB', async (f, dir) => {
    const h = await f.open(path.join(dir, 'big'), 'w+');
    try {
      const at = 5 * 2 ** 30 + 17;
      const w = await h.write(Buffer.from('far away'), 0, 8, at);
      const r = await h.read(Buffer.alloc(8), 0, 8, at);
      return [w.bytesWritten, r.bytesRead, r.buffer.toString(), (await h.stat()).size];
    } finally {
      await h.close();
    }
  });
  same('writeFile stops between chunks when its signal is aborted', async (f, dir) => {
    const ac = new AbortController();
    async function* chunks() {
      yield 'first ';
      ac.abort();
      yield 'second';
    }
    try {
      await f.writeFile(path.join(dir, 'aborted.txt'), chunks(), { signal: ac.signal });
    } catch (e) {
      return [e.name, e.code, fs.readFileSync(path.join(dir, 'aborted.txt'), 'utf8')];
    }
    return 'not aborted';
  });
  same('encodings: FileHandle.readFile, writeFile and appendFile', async (f, dir) => {
    const file = path.join(dir, 'enc.txt');
    await f.writeFile(file, '68656c6c6f', 'hex');
    await f.appendFile(file, 'IQ==', { encoding: 'base64' });
    const h = await f.open(file);
    try {
      return [await h.readFile({ encoding: 'latin1' }), await f.readFile(file, 'base64url')];
    } finally {
      await h.close();
    }
  });
  same('stat with { bigint: true }', async (f, dir) => {
    const s = await f.stat(path.join(dir, 'hello.txt'), { bigint: true });
    const h = await f.open(path.join(dir, 'hello.txt'));
    try {
      const hs = await h.stat({ bigint: true });
      return [s.size, s.isFile(), typeof s.mtimeNs, hs.size, hs.ino === s.ino];
    } finally {
      await h.close();
    }
  });
  same('copyFile copies bytes and mode, and EXCL refuses an existing file', async (f, dir) => {
    const src = path.join(dir, 'src.bin');
    fs.writeFileSync(src, sized(300_001));
    fs.chmodSync(src, 0o640);
    await f.copyFile(src, path.join(dir, 'copy.bin'));
    await f.copyFile(src, path.join(dir, 'hello.txt'));
    const copied = [digest(fs.readFileSync(path.join(dir, 'copy.bin'))), fs.statSync(path.join(dir, 'copy.bin')).mode & 0o777, digest(fs.readFileSync(path.join(dir, 'hello.txt')))];
    try {
      await f.copyFile(src, path.join(dir, 'copy.bin'), fs.constants.COPYFILE_EXCL);
    } catch (e) {
      return [...copied, e.code, e.syscall, e.message];
    }
    return copied;
  });
  same('copyFile of a missing file is ENOENT from copyfile', (f, dir) => f.copyFile(path.join(dir, 'missing'), path.join(dir, 'x')));
  same('copyFile of a directory is EISDIR and leaves no destination', async (f, dir) => {
    try {
      await f.copyFile(path.join(dir, 'sub'), path.join(dir, 'x'));
    } catch (e) {
      return [e.code, e.syscall, e.message, fs.existsSync(path.join(dir, 'x'))];
    }
    return 'copied';
  });
  same('copyFile into a missing directory, onto itself, and with a bad mode', async (f, dir) => {
    const out = [];
    for (const args of [[path.join(dir, 'hello.txt'), path.join(dir, 'no', 'x')], [path.join(dir, 'hello.txt'), path.join(dir, 'hello.txt')], [path.join(dir, 'hello.txt'), path.join(dir, 'y'), 9]]) {
      try {
        await f.copyFile(...args);
        out.push(['ok', fs.readFileSync(args[1], 'utf8')]);
      } catch (e) {
        out.push([e.name, e.code, e.syscall, e.message]);
      }
    }
    return out;
  });
  same('access, readdir, readlink, realpath, opendir', async (f, dir) => {
    const missing = await f.access(path.join(dir, 'missing')).catch((e) => [e.code, e.syscall, e.message]);
    const entries = (await f.readdir(dir, { withFileTypes: true })).map((d) => [d.name, d.isFile(), d.isDirectory(), d.isSymbolicLink()]).sort();
    const names = [];
    for await (const d of await f.opendir(path.join(dir, 'sub'))) names.push(d.name);
    return [await f.access(path.join(dir, 'hello.txt')), missing, (await f.readdir(dir)).sort(), entries, await f.readlink(path.join(dir, 'link')), await f.realpath(path.join(dir, 'link')), names];
  });
  same('mkdtemp, rm, cp, truncate, chmod, utimes, lutimes, chown, lchown, statfs', async (f, dir) => {
    const tmp = await f.mkdtemp(path.join(dir, 'tmp-'));
    await f.cp(path.join(dir, 'sub'), path.join(dir, 'sub2'), { recursive: true });
    await f.rm(path.join(dir, 'sub'), { recursive: true });
    const rmMissing = await f.rm(path.join(dir, 'sub')).catch((e) => [e.code, e.syscall, e.message]);
    await f.truncate(path.join(dir, 'hello.txt'), 5);
    await f.chmod(path.join(dir, 'hello.txt'), 0o600);
    await f.utimes(path.join(dir, 'hello.txt'), 1000, 2000);
    await f.lutimes(path.join(dir, 'link'), 3000, 4000);
    const st = fs.statSync(path.join(dir, 'hello.txt'));
    await f.chown(path.join(dir, 'hello.txt'), st.uid, st.gid);
    await f.lchown(path.join(dir, 'link'), st.uid, st.gid);
    const sfs = await f.statfs(dir);
    return [path.basename(tmp).length, fs.readdirSync(dir).sort().length, rmMissing, fs.readFileSync(path.join(dir, 'hello.txt'), 'utf8'), st.mode & 0o777, st.mtimeMs, fs.lstatSync(path.join(dir, 'link')).mtimeMs, typeof sfs.bsize, fs.readdirSync(path.join(dir, 'sub2'))];
  });
  same('FileHandle chmod, chown, utimes, and Symbol.asyncDispose', async (f, dir) => {
    const h = await f.open(path.join(dir, 'hello.txt'), 'r+');
    const st = fs.statSync(path.join(dir, 'hello.txt'));
    await h.chmod(0o604);
    await h.chown(st.uid, st.gid);
    await h.utimes(10, 20);
    await h[Symbol.asyncDispose]();
    const after = fs.statSync(path.join(dir, 'hello.txt'));
    return [after.mode & 0o777, after.mtimeMs, h.fd, await h.stat().catch((e) => [e.code, e.syscall])];
  });
  same('FileHandle readLines, createReadStream and createWriteStream', async (f, dir) => {
    fs.writeFileSync(path.join(dir, 'lines.txt'), 'one\ntwo\r\nthree');
    const h = await f.open(path.join(dir, 'lines.txt'));
    const lines = [];
    for await (const line of h.readLines()) lines.push(line);
    const h2 = await f.open(path.join(dir, 'lines.txt'));
    const chunks = [];
    for await (const c of h2.createReadStream({ start: 4, end: 6, encoding: 'utf8' })) chunks.push(c);
    const h3 = await f.open(path.join(dir, 'out.txt'), 'w');
    await new Promise((resolve, reject) => h3.createWriteStream().end('streamed', (e) => (e ? reject(e) : resolve())));
    for (const x of [h, h2, h3]) await x.close().catch(() => {});
    return [lines, chunks.join(''), fs.readFileSync(path.join(dir, 'out.txt'), 'utf8')];
  });
  same('watch is an async iterable', async (f, dir) => {
    const ac = new AbortController();
    const w = f.watch(dir, { signal: ac.signal });
    const iterable = typeof w[Symbol.asyncIterator] === 'function';
    ac.abort();
    return iterable;
  });
}
