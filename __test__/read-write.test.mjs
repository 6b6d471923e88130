import fs from 'node:fs';
import path from 'node:path';
import { Ring, alignedBuffer } from '../dist/index.js';
import { directDir, noDirectReason, pattern, ringTest, testUnless, tmpDir, tmpFile } from './helpers.mjs';

ringTest('integrity: 64 concurrent reads at random positions return the right bytes', async (t) => {
  const data = pattern(4 << 20, 7);
  const file = tmpFile(data);
  const ring = new Ring();
  const fd = await ring.open(file);
  const reads = Array.from({ length: 2048 }, (_, i) => {
    const len = 1 + ((i * 7919) % 16384);
    const pos = (i * 104729) % (data.length - len);
    return { pos, len };
  });
  let next = 0;
  const worker = async () => {
    while (next < reads.length) {
      const { pos, len } = reads[next++];
      const buf = Buffer.alloc(len);
      t.is(await ring.read(fd, buf, pos), len);
      if (!buf.equals(data.subarray(pos, pos + len))) t.fail(`bytes differ at ${pos}+${len}`);
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  t.is(ring.inFlight, 0);
  await ring.close(fd);
  await ring.destroy();
});

ringTest('integrity: 64 concurrent writes at random positions land where asked', async (t) => {
  const file = tmpFile(Buffer.alloc(1 << 20));
  const ring = new Ring({ entries: 16 });
  const fd = await ring.open(file, 'r+');
  const expected = Buffer.alloc(1 << 20);
  const blocks = Array.from({ length: 256 }, (_, i) => i).sort((a, b) => ((a * 7919) % 251) - ((b * 7919) % 251));
  await Promise.all(blocks.map((block) => {
    const chunk = pattern(4096, block + 1);
    chunk.copy(expected, block * 4096);
    return ring.write(fd, chunk, block * 4096);
  }));
  await ring.fsync(fd);
  t.true(fs.readFileSync(file).equals(expected));
  await ring.close(fd);
  await ring.destroy();
});

ringTest('short-read: a read past the end returns the bytes that exist, then 0', async (t) => {
  const file = tmpFile(Buffer.from('hello'));
  const ring = new Ring();
  const fd = await ring.open(file);
  const buf = Buffer.alloc(100, 0xee);
  t.is(await ring.read(fd, buf, 0), 5);
  t.is(buf.subarray(0, 5).toString(), 'hello');
  t.is(buf[5], 0xee, 'bytes past the result are untouched');
  t.is(await ring.read(fd, buf, 5), 0);
  t.is(await ring.read(fd, buf, 1000), 0);
  await ring.destroy();
});

ringTest('offset-views: read and write through views with a non-zero byteOffset, DataView and Uint16Array', async (t) => {
  const file = tmpFile(Buffer.from('0123456789abcdef'));
  const ring = new Ring();
  const fd = await ring.open(file, 'r+');
  const backing = new ArrayBuffer(32);
  const u8 = new Uint8Array(backing, 3, 4);
  const dv = new DataView(backing, 10, 2);
  const u16 = new Uint16Array(backing, 16, 2);
  t.is(await ring.read(fd, u8, 0), 4);
  t.is(await ring.read(fd, dv, 4), 2);
  t.is(await ring.read(fd, u16, 6), 4);
  const bytes = Buffer.from(backing);
  t.is(bytes.subarray(3, 7).toString(), '0123');
  t.is(bytes.subarray(10, 12).toString(), '45');
  t.is(bytes.subarray(16, 20).toString(), '6789');
  t.is(bytes[2], 0, 'bytes before the view are untouched');
  t.is(bytes[7], 0, 'bytes after the view are untouched');
  t.is(await ring.write(fd, new Uint8Array(new TextEncoder().encode('xxXYZxx').buffer, 2, 3), 0), 3);
  t.is(fs.readFileSync(file, 'utf8').slice(0, 3), 'XYZ');
  await ring.destroy();
});

ringTest('readv-writev: vectors scatter and gather in order through offset views', async (t) => {
  const file = tmpFile(Buffer.alloc(0));
  const ring = new Ring();
  const fd = await ring.open(file, 'r+');
  const src = Buffer.from('__abc__defgh__');
  const n = await ring.writev(fd, [src.subarray(2, 5), new DataView(src.buffer, src.byteOffset + 7, 5), Buffer.alloc(0)], 0);
  t.is(n, 8);
  t.is(fs.readFileSync(file, 'utf8'), 'abcdefgh');
  const a = Buffer.alloc(2);
  const b = new Uint8Array(new ArrayBuffer(10), 4, 3);
  const c = Buffer.alloc(10);
  t.is(await ring.readv(fd, [a, b, c], 1), 7);
  t.is(a.toString(), 'bc');
  t.is(Buffer.from(b).toString(), 'def');
  t.is(c.subarray(0, 2).toString(), 'gh');
  await ring.destroy();
});

ringTest('file-position: reads and writes without a position use and advance the file position', async (t) => {
  const file = tmpFile(Buffer.from('abcdef'));
  const ring = new Ring();
  const fd = await ring.open(file, 'r+');
  const buf = Buffer.alloc(2);
  await ring.read(fd, buf);
  t.is(buf.toString(), 'ab');
  await ring.read(fd, buf, null);
  t.is(buf.toString(), 'cd');
  await ring.read(fd, buf, 0);
  t.is(buf.toString(), 'ab', 'an explicit position does not move the file position');
  await ring.read(fd, buf, -1);
  t.is(buf.toString(), 'ef');
  await ring.write(fd, Buffer.from('GH'), -1);
  t.is(fs.readFileSync(file, 'utf8'), 'abcdefGH');
  await ring.write(fd, Buffer.from('Z'), 0n);
  t.is(fs.readFileSync(file, 'utf8'), 'ZbcdefGH');
  await ring.destroy();
});

ringTest('backpressure: 20k reads through an 8-entry ring all complete with the right bytes', async (t) => {
  const data = pattern(20000 * 8, 3);
  const file = tmpFile(data);
  const ring = new Ring({ entries: 8 });
  t.is(ring.entries, 8);
  const fd = await ring.open(file);
  const bufs = Array.from({ length: 20000 }, () => Buffer.alloc(8));
  const results = await Promise.all(bufs.map((b, i) => ring.read(fd, b, i * 8)));
  t.true(results.every((n) => n === 8));
  t.true(bufs.every((b, i) => b.equals(data.subarray(i * 8, i * 8 + 8))));
  await ring.destroy();
});

ringTest('batching: operations made in one JS turn are submitted with one io_uring_enter', async (t) => {
  const file = tmpFile(pattern(64 * 512));
  // Not inline: page-cache reads would settle without entering the ring at all.
  const ring = new Ring({ entries: 128, inline: false });
  const fd = await ring.open(file);
  const before = ring.submitCalls;
  await Promise.all(Array.from({ length: 100 }, (_, i) => ring.read(fd, Buffer.alloc(512), (i % 64) * 512)));
  t.is(ring.submitCalls - before, 1);
  await ring.destroy();
});

ringTest('submit-batch-eager: with submitBatch, the op that fills it enters the kernel inside the call', async (t) => {
  const file = tmpFile(pattern(16 * 512));
  const ring = new Ring({ entries: 32, submitBatch: 8, inline: false });
  const fd = await ring.open(file);
  const before = ring.submitCalls;
  const reads = Array.from({ length: 7 }, (_, i) => ring.read(fd, Buffer.alloc(512), i * 512));
  t.is(ring.submitCalls - before, 0, 'seven wait for the end of the turn');
  reads.push(ring.read(fd, Buffer.alloc(512), 7 * 512));
  t.is(ring.submitCalls - before, 1, 'the eighth sent all eight');
  reads.push(ring.read(fd, Buffer.alloc(512), 8 * 512));
  t.deepEqual(await Promise.all(reads), Array(9).fill(512));
  t.is(ring.submitCalls - before, 2, 'the ninth went at the end of the turn');
  await ring.destroy();
});

ringTest('two-rings: two rings on one thread work independently', async (t) => {
  const file = tmpFile(pattern(8192, 9));
  const a = new Ring({ entries: 4 });
  const b = new Ring({ entries: 4 });
  const [fa, fb] = await Promise.all([a.open(file), b.open(file)]);
  const ba = Buffer.alloc(4096);
  const bb = Buffer.alloc(4096);
  const [na, nb] = await Promise.all([a.read(fa, ba, 0), b.read(fb, bb, 4096)]);
  t.is(na + nb, 8192);
  t.true(Buffer.concat([ba, bb]).equals(fs.readFileSync(file)));
  await a.destroy();
  t.is(await b.nop(), 0, 'destroying one ring leaves the other usable');
  await b.destroy();
});

(noDirectReason === undefined ? ringTest : testUnless(noDirectReason, 'O_DIRECT tests'))('o-direct: alignedBuffer round-trips through an O_DIRECT file', async (t) => {
  const file = path.join(directDir(), 'direct.bin');
  const ring = new Ring();
  const fd = await ring.open(file, fs.constants.O_CREAT | fs.constants.O_RDWR | fs.constants.O_DIRECT, 0o644);
  const out = alignedBuffer(64 * 1024);
  pattern(out.length, 5).copy(out);
  t.is(await ring.write(fd, out, 0), out.length);
  const back = alignedBuffer(16 * 1024);
  t.is(await ring.read(fd, back, 16 * 1024), back.length);
  t.true(back.equals(out.subarray(16 * 1024, 32 * 1024)));
  const sub = back.subarray(4096, 8192);
  t.is(await ring.read(fd, sub, 0), 4096, 'an aligned window of an alignedBuffer works too');
  t.true(sub.equals(out.subarray(0, 4096)));
  await ring.close(fd);
  await ring.destroy();
});

ringTest('alignedBuffer: memory is aligned, zeroed and sized as asked', (t) => {
  const buf = alignedBuffer(10000, 8192);
  t.is(buf.length, 10000);
  t.true(buf.every((b) => b === 0));
  t.is(alignedBuffer(0).length, 0);
});

ringTest('misc-ops: fallocate, ftruncate, mkdir, rename, unlink and rmdir', async (t) => {
  const dir = tmpDir();
  const ring = new Ring();
  const file = path.join(dir, 'f');
  const fd = await ring.open(file, 'w+');
  await ring.fallocate(fd, 0, 8192);
  t.is(fs.statSync(file).size, 8192);
  try {
    await ring.ftruncate(fd, 100);
    t.is(fs.statSync(file).size, 100);
  } catch (e) {
    t.is(e.code, 'EOPNOTSUPP', 'only kernels before 6.9 may refuse ftruncate');
  }
  await ring.close(fd);
  await ring.mkdir(path.join(dir, 'sub'));
  t.true(fs.statSync(path.join(dir, 'sub')).isDirectory());
  await ring.rename(file, path.join(dir, 'sub', 'g'));
  t.true(fs.existsSync(path.join(dir, 'sub', 'g')));
  await ring.unlink(path.join(dir, 'sub', 'g'));
  await ring.rmdir(path.join(dir, 'sub'));
  t.false(fs.existsSync(path.join(dir, 'sub')));
  t.is(await ring.nop(), 0);
  await ring.destroy();
});

ringTest('readv-iov-max: more than 1024 views read into the first 1024, as node:fs does', async (t) => {
  const data = pattern(2048, 13);
  const fd = fs.openSync(tmpFile(data), 'r');
  const ring = new Ring();
  const views = Array.from({ length: 1500 }, () => Buffer.alloc(1));
  t.is(await ring.readv(fd, views, 0), 1024);
  t.true(Buffer.concat(views.slice(0, 1024)).equals(data.subarray(0, 1024)));
  t.true(views.slice(1024).every((v) => v[0] === 0), 'the views past IOV_MAX are untouched');
  fs.closeSync(fd);
  await ring.destroy();
});
