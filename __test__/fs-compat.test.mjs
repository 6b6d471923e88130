// uring-aio/fs against node:fs/promises: the same scenario runs on both, each in a
// directory of its own laid out the same way, and the results and error shapes (name,
// code, errno, syscall, path, dest, message) must be equal.
import fs from 'node:fs';
import * as nodeFs from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import * as uringFs from 'uring-aio/fs';
import uringDefault from 'uring-aio/fs';
import { fifo, ringTest, runChildAsync, tmpDir } from './helpers.mjs';

/** A directory with a file, a subdirectory with a file, and a symlink. */
function layout() {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'hello.txt'), 'hello, world\n');
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.writeFileSync(path.join(dir, 'sub', 'inner.bin'), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
  fs.symlinkSync('hello.txt', path.join(dir, 'link'));
  return dir;
}

/** What a scenario produced, with its directory written as <dir>. */
async function outcome(impl, scenario) {
  const dir = layout();
  const clean = (v) => JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x)).replaceAll(dir, '<dir>'));
  try {
    return { value: clean(await scenario(impl, dir)) };
  } catch (e) {
    return { error: clean({ name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, dest: e.dest, message: e.message }) };
  }
}

function same(title, scenario) {
  ringTest(`fs-compat: ${title}`, async (t) => {
    const theirs = await outcome(nodeFs, scenario);
    const ours = await outcome(uringFs, scenario);
    t.deepEqual(ours, theirs);
  });
}

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
    return parts.map((p) => p.buffer.toString());
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

ringTest('fs-compat: a FIFO is read to EOF by readFile', async (t) => {
  const read = async (impl) => {
    const p = fifo();
    fs.closeSync(p.writeFd);
    fs.closeSync(p.pollFd);
    // p.readFd (O_RDWR) is the writer: readFile's open does not wait for one.
    const pending = impl.readFile(p.file, 'utf8');
    setTimeout(() => {
      fs.writeSync(p.readFd, 'through a fifo');
      fs.closeSync(p.readFd);
    }, 50);
    return pending;
  };
  t.is(await read(uringFs), 'through a fifo');
  t.is(await read(nodeFs), 'through a fifo');
});

ringTest('fs-compat: the default export has the named functions, backend and backendReason', (t) => {
  t.is(uringDefault.readFile, uringFs.readFile);
  t.is(uringFs.backend, 'io_uring');
  t.is(uringDefault.backend, 'io_uring');
  t.regex(uringFs.backendReason, /io_uring works/);
  for (const name of ['access', 'copyFile', 'readdir', 'readlink', 'realpath', 'rm', 'mkdtemp', 'chmod', 'utimes', 'opendir', 'truncate']) {
    t.is(uringFs[name], nodeFs[name], `${name} is node:fs/promises' own`);
  }
  t.is(uringFs.constants, fs.constants);
});

test('fs-fallback: URING_AIO_FS_BACKEND=node:fs sends every call to node:fs/promises', async (t) => {
  const dir = layout();
  // The child inherits the environment at spawn.
  process.env.URING_AIO_FS_BACKEND = 'node:fs';
  const child = runChildAsync(`
    import * as f from 'uring-aio/fs';
    import * as n from 'node:fs/promises';
    const out = { backend: f.backend, reason: f.backendReason };
    out.text = await f.readFile(${JSON.stringify(path.join(dir, 'hello.txt'))}, 'utf8');
    const h = await f.open(${JSON.stringify(path.join(dir, 'hello.txt'))});
    out.read = (await h.read(Buffer.alloc(5), 0, 5, 0)).buffer.toString();
    out.stat = (await h.stat()) instanceof (await import('node:fs')).Stats;
    await h.close();
    try { await f.stat('/no/such'); } catch (e) { out.error = [e.code, e.syscall, e.message]; }
    console.log(JSON.stringify(out));
  `);
  delete process.env.URING_AIO_FS_BACKEND;
  const r = await child;
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.is(out.backend, 'node:fs');
  t.regex(out.reason, /URING_AIO_FS_BACKEND=node:fs/);
  t.is(out.text, 'hello, world\n');
  t.is(out.read, 'hello');
  t.true(out.stat);
  t.deepEqual(out.error, ['ENOENT', 'stat', "ENOENT: no such file or directory, stat '/no/such'"]);
});
