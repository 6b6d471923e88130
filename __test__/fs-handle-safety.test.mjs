// uring-aio/fs FileHandle safety: a handle's operations touch only the bytes of the view
// they are given, and never a descriptor number after the handle closed it. Each test
// also runs on node:fs/promises, whose behaviour is the reference.
import fs from 'node:fs';
import * as nodeFs from 'node:fs/promises';
import path from 'node:path';
import * as uringFs from 'uring-aio/fs';
import { ringTest, tmpDir } from './helpers.mjs';

/** Two small Buffers from Node's shared pool, side by side in one ArrayBuffer. */
function pooledNeighbours() {
  const before = Buffer.from('NEIGHBOUR-BYTES-SECRET!!');
  const small = Buffer.from('xy');
  return { before, small };
}

for (const [name, impl] of [['node:fs/promises', nodeFs], ['uring-aio/fs', uringFs]]) {
  ringTest(`fs-safety (${name}): write with a negative offset into a pooled Buffer is ERR_OUT_OF_RANGE and writes nothing`, async (t) => {
    const file = path.join(tmpDir(), 'out');
    const h = await impl.open(file, 'w');
    const { before, small } = pooledNeighbours();
    t.is(small.buffer, before.buffer, 'both Buffers are slices of the shared pool');
    const e = await t.throwsAsync(h.write(small, -23, 25));
    t.is(e.code, 'ERR_OUT_OF_RANGE');
    await h.close();
    t.is(fs.readFileSync(file).length, 0, 'no byte reached the file');
  });

  ringTest(`fs-safety (${name}): read of more than the view holds is ERR_OUT_OF_RANGE and leaves the neighbour as it was`, async (t) => {
    const file = path.join(tmpDir(), 'in');
    fs.writeFileSync(file, Buffer.alloc(64, 'Z'));
    const h = await impl.open(file, 'r');
    const twoBytes = Buffer.from('ab');
    const after = Buffer.from('NEIGHBOUR-BYTES-SECRET!!');
    t.is(twoBytes.buffer, after.buffer, 'both Buffers are slices of the shared pool');
    const e = await t.throwsAsync(h.read(twoBytes, 0, 20));
    t.is(e.code, 'ERR_OUT_OF_RANGE');
    await h.close();
    t.is(after.toString(), 'NEIGHBOUR-BYTES-SECRET!!');
    t.is(twoBytes.toString(), 'ab');
  });

  ringTest(`fs-safety (${name}): readFile in flight when close() is called reads only its own file, and close waits for it`, async (t) => {
    const dir = tmpDir();
    const fileA = path.join(dir, 'A');
    const fileB = path.join(dir, 'B');
    const size = 64 * 2 ** 20;
    fs.writeFileSync(fileA, Buffer.alloc(size, 'A'));
    fs.writeFileSync(fileB, Buffer.alloc(size, 'B'));
    const a = await impl.open(fileA, 'r');
    const oldFd = a.fd;
    const reading = a.readFile();
    const closing = a.close();
    // Opens that may take a freed number: none of them may be read through `a`.
    const others = await Promise.all([0, 1, 2, 3].map(() => impl.open(fileB, 'r')));
    const data = await reading;
    await closing;
    t.is(data.length, size);
    t.is(data.indexOf('B'), -1, 'no byte of the other file');
    t.is(a.fd, -1);
    t.false(others.some((o) => o.fd === oldFd), 'the number stayed taken until the read was done');
    await Promise.all(others.map((o) => o.close()));
  });

  ringTest(`fs-safety (${name}): an operation after close() resolved is EBADF 'file closed', even when the number is reused`, async (t) => {
    const dir = tmpDir();
    const fileA = path.join(dir, 'A');
    const fileB = path.join(dir, 'B');
    fs.writeFileSync(fileA, 'AAAA');
    fs.writeFileSync(fileB, 'BBBB');
    const a = await impl.open(fileA, 'r');
    await a.close();
    const b = await impl.open(fileB, 'r');
    for (const op of [() => a.readFile(), () => a.read(Buffer.alloc(4), 0, 4, 0), () => a.stat()]) {
      const e = await t.throwsAsync(op());
      t.is(e.code, 'EBADF');
      t.is(e.message, 'file closed');
    }
    await b.close();
  });
}
