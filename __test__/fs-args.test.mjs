// uring-aio/fs checks arguments as node:fs/promises of the running Node does: each case
// runs on both, in directories laid out the same way, and the results and error shapes
// (name, code, errno, syscall, path, dest, message) must be equal.
import * as nodeFs from 'node:fs/promises';
import path from 'node:path';
import * as uringFs from 'uring-aio/fs';
import { outcome } from './fs-compat-scenarios.mjs';
import { ringTest } from './helpers.mjs';

const same = (title, scenario) => ringTest(`fs-args: ${title}`, async (t) => {
  const theirs = await outcome(nodeFs, scenario);
  const mine = await outcome(uringFs, scenario);
  t.deepEqual(mine, theirs);
});

/** Runs `call(handle)` on hello.txt opened with `flags`, then closes it. */
const onHandle = (flags, call) => async (f, dir) => {
  const h = await f.open(path.join(dir, 'hello.txt'), flags);
  try {
    const r = await call(h);
    return r && typeof r === 'object' && 'buffer' in r ? { bytes: r.bytesRead ?? r.bytesWritten, text: Buffer.from(r.buffer.buffer, r.buffer.byteOffset, r.buffer.byteLength).toString('latin1') } : r;
  } finally {
    await h.close();
  }
};

// Node 20 reads at the file position for anything but a non-negative safe integer;
// Node 22 and 24 refuse other numbers and non-numbers, and read at a bigint up to
// 2^63 - 1 - length (-1n: the file position).
for (const position of [-5, 1.5, '3', 2 ** 53, -1, 2n, null, NaN, Infinity, undefined, -1n, -2n, 2n ** 63n - 4n, 2n ** 63n - 3n]) {
  same(`read at position ${typeof position === 'bigint' ? `${position}n` : String(position)} reads where Node reads`, onHandle('r', async (h) => {
    await h.read(Buffer.alloc(2), 0, 2, null);
    return h.read(Buffer.alloc(3), 0, 3, position);
  }));
}
// Node 24 checks the position before returning for a zero length; Node 20 and 22 do not.
same('read of length 0 at position 1.5 does what Node does', onHandle('r', (h) => h.read(Buffer.alloc(4), 0, 0, 1.5)));
same('read with offset 1.5 is ERR_OUT_OF_RANGE', onHandle('r', (h) => h.read(Buffer.alloc(3), 1.5, 1, 0)));
same('read with offset 2^53 is ERR_OUT_OF_RANGE', onHandle('r', (h) => h.read(Buffer.alloc(3), 2 ** 53, 1, 0)));
same("read('abc') is ERR_INVALID_ARG_TYPE options", onHandle('r', (h) => h.read('abc')));
same('read(5) is ERR_INVALID_ARG_TYPE options', onHandle('r', (h) => h.read(5)));
same('read([1]) is ERR_INVALID_ARG_TYPE options', onHandle('r', (h) => h.read([1])));
same('read(null) reads into a new 16 KiB Buffer', onHandle('r', (h) => h.read(null).then((r) => [r.bytesRead, r.buffer.length])));
same('read({ buffer: 5 }) is ERR_INVALID_ARG_TYPE buffer', onHandle('r', (h) => h.read({ buffer: 5 })));
same('read into a zero-length Buffer with length 1 is ERR_INVALID_ARG_VALUE', onHandle('r', (h) => h.read(Buffer.alloc(0), 0, 1, 0)));
same('read into a zero-length Buffer reads 0', onHandle('r', (h) => h.read(Buffer.alloc(0))));
same('read into a too-short Buffer is ERR_OUT_OF_RANGE length', onHandle('r', (h) => h.read(Buffer.alloc(2), 0, 3, 0)));
same('read with a negative length is ERR_OUT_OF_RANGE', onHandle('r', (h) => h.read(Buffer.alloc(4), 0, -1, 0)));
same('read with offset past the Buffer and length 1', onHandle('r', (h) => h.read(Buffer.alloc(4), 5, 1, 0)));
same('read with offset past the Buffer and length 0 reads 0', onHandle('r', (h) => h.read(Buffer.alloc(4), 5, 0, 0)));
same('read(buffer, { position, length })', onHandle('r', (h) => h.read(Buffer.alloc(4), { position: 1, length: 2 })));
same('read({ buffer, position }) into a Uint16Array', onHandle('r', (h) => h.read({ buffer: new Uint16Array(2), position: 0 })));
same('read into a DataView', onHandle('r', (h) => h.read(new DataView(new ArrayBuffer(6), 1, 4), 0, 4, 0)));
same('a zero-length read on a write-only handle is 0', onHandle('a', (h) => h.read(Buffer.alloc(4), 0, 0, 0)));
same('a read on a write-only handle is EBADF from read', onHandle('a', (h) => h.read(Buffer.alloc(4), 0, 4, 0)));
same('write with offset -1 is ERR_OUT_OF_RANGE', onHandle('r+', (h) => h.write(Buffer.from('ab'), -1)));
same("write with offset '1' is ERR_INVALID_ARG_TYPE", onHandle('r+', (h) => h.write(Buffer.from('ab'), '1')));
same('write with offset past the Buffer is ERR_OUT_OF_RANGE', onHandle('r+', (h) => h.write(Buffer.from('ab'), 3)));
same('write with length past the Buffer is ERR_OUT_OF_RANGE', onHandle('r+', (h) => h.write(Buffer.from('ab'), 0, 5)));
same('write with length -1 is ERR_OUT_OF_RANGE', onHandle('r+', (h) => h.write(Buffer.from('ab'), 0, -1)));
same('write with length 1.5 is ERR_OUT_OF_RANGE', onHandle('r+', (h) => h.write(Buffer.from('ab'), 0, 1.5)));
for (const position of [-2, 1.5, '3', 2 ** 53, 3n]) {
  same(`write at position ${typeof position === 'bigint' ? `${position}n` : String(position)} writes where Node writes`, async (f, dir) => {
    const r = await onHandle('r+', async (h) => {
      await h.read(Buffer.alloc(2), 0, 2, null);
      return h.write(Buffer.from('XY'), 0, 2, position);
    })(f, dir);
    return [r, await nodeFs.readFile(path.join(dir, 'hello.txt'), 'latin1')];
  });
}
same('write(5) is ERR_INVALID_ARG_TYPE buffer', onHandle('r+', (h) => h.write(5)));
same('write(null) is ERR_INVALID_ARG_TYPE buffer', onHandle('r+', (h) => h.write(null)));
same('write({}) is ERR_INVALID_ARG_TYPE buffer', onHandle('r+', (h) => h.write({})));
same('write of an empty Buffer is 0', onHandle('r+', (h) => h.write(Buffer.alloc(0), 5, 5, 5)));
same('write of a string at position -2 with an unknown encoding writes UTF-8 at the file position', onHandle('r+', (h) => h.write('zé', -2, 'nope')));
same("write of an odd-length string as 'hex' is ERR_INVALID_ARG_VALUE", onHandle('r+', (h) => h.write('abc', 0, 'hex')));
same('readv([]) is EINVAL from read', onHandle('r', (h) => h.readv([])));
same('readv([1]) is ERR_INVALID_ARG_TYPE buffers', onHandle('r', (h) => h.readv([1])));
same("readv at position '1' reads at the file position", onHandle('r', (h) => h.readv([Buffer.alloc(2), Buffer.alloc(3)], '1').then((r) => [r.bytesRead, r.buffers.map(String)])));
same('writev([]) writes 0', onHandle('r+', (h) => h.writev([]).then((r) => r.bytesWritten)));
same("writev('x') is ERR_INVALID_ARG_TYPE buffers", onHandle('r+', (h) => h.writev('x')));
same('truncate(-5) truncates to 0', async (f, dir) => {
  await onHandle('r+', (h) => h.truncate(-5))(f, dir);
  return (await nodeFs.stat(path.join(dir, 'hello.txt'))).size;
});
same('truncate(1.5) is ERR_OUT_OF_RANGE len', onHandle('r+', (h) => h.truncate(1.5)));
same("truncate('1') is ERR_INVALID_ARG_TYPE len", onHandle('r+', (h) => h.truncate('1')));
same('truncate(null) is ERR_INVALID_ARG_TYPE len', onHandle('r+', (h) => h.truncate(null)));
same("chmod('x') is ERR_INVALID_ARG_VALUE mode", onHandle('r', (h) => h.chmod('x')));
same('FileHandle.readFile(5) is ERR_INVALID_ARG_TYPE options', onHandle('r', (h) => h.readFile(5)));
same("FileHandle.readFile('nope') is ERR_INVALID_ARG_VALUE encoding", onHandle('r', (h) => h.readFile('nope')));
same('FileHandle.readFile with a bad signal is ERR_INVALID_ARG_TYPE', onHandle('r', (h) => h.readFile({ signal: {} })));
same('open with mode 0o10000 creates the file', async (f, dir) => {
  const h = await f.open(path.join(dir, 'm'), 'w', 0o10000);
  await h.close();
  return (await nodeFs.stat(path.join(dir, 'm'))).mode & 0o7777;
});
same("open with flags 'nope' is ERR_INVALID_ARG_VALUE", (f, dir) => f.open(path.join(dir, 'hello.txt'), 'nope'));
same('open with flags {} is ERR_INVALID_ARG_VALUE', (f, dir) => f.open(path.join(dir, 'hello.txt'), {}));
same('open with flags 2^40 is ERR_OUT_OF_RANGE', (f, dir) => f.open(path.join(dir, 'hello.txt'), 2 ** 40));
same('open with flags 1.5 is ERR_OUT_OF_RANGE', (f, dir) => f.open(path.join(dir, 'hello.txt'), 1.5));
same("open with mode 'xyz' is ERR_INVALID_ARG_VALUE", (f, dir) => f.open(path.join(dir, 'hello.txt'), 'r', 'xyz'));
same('open with mode -1 is ERR_OUT_OF_RANGE', (f, dir) => f.open(path.join(dir, 'hello.txt'), 'r', -1));
same('open(5) is ERR_INVALID_ARG_TYPE path', (f) => f.open(5));
same("open with flags 'rs+' opens", (f, dir) => f.open(path.join(dir, 'hello.txt'), 'rs+').then((h) => h.close()));
same('readFile with a bad signal is ERR_INVALID_ARG_TYPE', (f, dir) => f.readFile(path.join(dir, 'hello.txt'), { signal: 1 }));
same('readFile(path, 5) is ERR_INVALID_ARG_TYPE options', (f, dir) => f.readFile(path.join(dir, 'hello.txt'), 5));
same("readFile(path, { encoding: 'buffer' }) is a Buffer", (f, dir) => f.readFile(path.join(dir, 'hello.txt'), { encoding: 'buffer' }).then((b) => Buffer.isBuffer(b)));
same("readFile with flag 'a+' reads it", (f, dir) => f.readFile(path.join(dir, 'hello.txt'), { flag: 'a+', encoding: 'utf8' }));
for (const [name, call] of [
  ['readFile', (f) => f.readFile('a\0b')],
  ['open', (f) => f.open('a\0b')],
  ['stat', (f) => f.stat('a\0b')],
  ['lstat', (f) => f.lstat('a\0b')],
  ['unlink', (f) => f.unlink('a\0b')],
  ['rmdir', (f) => f.rmdir('a\0b')],
  ['mkdir', (f) => f.mkdir('a\0b')],
  ['writeFile', (f) => f.writeFile('a\0b', 'x')],
  ['rename (newPath)', (f, dir) => f.rename(path.join(dir, 'hello.txt'), 'a\0b')],
  ['rename (oldPath)', (f) => f.rename('a\0b', 'x')],
  ['copyFile (dest)', (f, dir) => f.copyFile(path.join(dir, 'hello.txt'), 'a\0b')],
  ['copyFile (src)', (f) => f.copyFile('a\0b', 'x')],
  ['link (newPath)', (f, dir) => f.link(path.join(dir, 'hello.txt'), 'a\0b')],
  ['link (existingPath)', (f) => f.link('a\0b', 'x')],
  ['symlink (target)', (f, dir) => f.symlink('a\0b', path.join(dir, 'x'))],
  ['symlink (path)', (f) => f.symlink('x', 'a\0b')],
]) {
  same(`${name} with a NUL byte in a path names that argument`, call);
}
same('rename(file, 5) is ERR_INVALID_ARG_TYPE newPath', (f, dir) => f.rename(path.join(dir, 'hello.txt'), 5));
same("mkdir with mode 'x' is ERR_INVALID_ARG_VALUE", (f, dir) => f.mkdir(path.join(dir, 'm'), 'x'));
same("mkdir with { mode: 'x' } is ERR_INVALID_ARG_VALUE", (f, dir) => f.mkdir(path.join(dir, 'm'), { mode: 'x' }));
same('mkdir with { recursive: 1 } is ERR_INVALID_ARG_TYPE', (f, dir) => f.mkdir(path.join(dir, 'm'), { recursive: 1 }));
same('copyFile with mode 8 is ERR_OUT_OF_RANGE', (f, dir) => f.copyFile(path.join(dir, 'hello.txt'), path.join(dir, 'c'), 8));
same("copyFile with mode 'x' is ERR_INVALID_ARG_TYPE", (f, dir) => f.copyFile(path.join(dir, 'hello.txt'), path.join(dir, 'c'), 'x'));

const closedCalls = {
  read: (h) => h.read(Buffer.alloc(1)),
  write: (h) => h.write(Buffer.alloc(1)),
  readv: (h) => h.readv([Buffer.alloc(1)]),
  writev: (h) => h.writev([Buffer.alloc(1)]),
  stat: (h) => h.stat(),
  truncate: (h) => h.truncate(),
  sync: (h) => h.sync(),
  datasync: (h) => h.datasync(),
  chmod: (h) => h.chmod(0o644),
  chown: (h) => h.chown(1, 1),
  utimes: (h) => h.utimes(1, 1),
  readFile: (h) => h.readFile(),
  writeFile: (h) => h.writeFile('x'),
  appendFile: (h) => h.appendFile('x'),
  'read with bad arguments': (h) => h.read(5),
};
for (const [name, call] of Object.entries(closedCalls)) {
  same(`${name} on a closed FileHandle is EBADF 'file closed' with Node's syscall`, async (f, dir) => {
    const h = await f.open(path.join(dir, 'hello.txt'), 'r+');
    await h.close();
    return call(h);
  });
}
for (const [name, call] of [
  ['readFile(closed handle)', (f, h) => f.readFile(h)],
  ['writeFile(closed handle, data)', (f, h) => f.writeFile(h, 'x')],
  ['writeFile(closed handle, empty data)', (f, h) => f.writeFile(h, '')],
  ['appendFile(closed handle, data)', (f, h) => f.appendFile(h, Buffer.from('x'))],
]) {
  same(`${name} fails as Node's does`, async (f, dir) => {
    const h = await f.open(path.join(dir, 'hello.txt'), 'r+');
    await h.close();
    return call(f, h);
  });
}
same('readableWebStream on a closed FileHandle is ERR_INVALID_STATE', async (f, dir) => {
  const h = await f.open(path.join(dir, 'hello.txt'));
  await h.close();
  return h.readableWebStream();
});
same('a second readableWebStream is ERR_INVALID_STATE (locked)', async (f, dir) => {
  const h = await f.open(path.join(dir, 'hello.txt'));
  h.readableWebStream();
  try {
    return h.readableWebStream();
  } finally {
    h.close();
  }
});
// Node 20 reads options.type only; Node 22 and 24 check options is an object and
// options.autoClose a boolean, after locking the handle.
same('readableWebStream(null) fails as Node\'s does', async (f, dir) => {
  const h = await f.open(path.join(dir, 'hello.txt'));
  try {
    return h.readableWebStream(null);
  } finally {
    await h.close();
  }
});
same("readableWebStream({ type: 'bytes', autoClose: 'yes' }) does what Node does, and then the handle is locked", async (f, dir) => {
  const h = await f.open(path.join(dir, 'hello.txt'));
  const attempt = (options) => {
    try {
      h.readableWebStream(options);
      return 'stream';
    } catch (e) {
      return [e.code, e.message];
    }
  };
  try {
    return [attempt({ type: 'bytes', autoClose: 'yes' }), attempt({ type: 'bytes' })];
  } finally {
    await h.close();
  }
});
same("readableWebStream({ type: 'bytes', autoClose: true }) reads the file, and closes the handle where Node does", async (f, dir) => {
  const h = await f.open(path.join(dir, 'hello.txt'));
  const chunks = [];
  for await (const chunk of h.readableWebStream({ type: 'bytes', autoClose: true })) chunks.push(Buffer.from(chunk).toString());
  const closed = h.fd === -1;
  await h.close();
  return [chunks.join(''), closed];
});
