// Setup and register options of Ring: CQ size, SQPOLL, single issuer, shared io-wq,
// registered files with { fixedFile }, io-wq worker caps.
import fs from 'node:fs';
import { IoError, Ring } from '../dist/index.js';
import { pattern, ringTest, tmpFile } from './helpers.mjs';

ringTest('cq-entries: cqEntries sizes the completion queue; fewer than entries is refused', async (t) => {
  const ring = new Ring({ entries: 8, cqEntries: 64 });
  t.is(ring.entries, 8);
  t.is(ring.cqEntries, 64);
  await ring.destroy();
  t.throws(() => new Ring({ entries: 8, cqEntries: 4 }), { code: 'ERR_OUT_OF_RANGE' });
});

ringTest('sqpoll: a ring with a polling kernel thread reads the right bytes', async (t) => {
  const data = pattern(16384, 4);
  const fd = fs.openSync(tmpFile(data), 'r');
  const ring = new Ring({ entries: 16, sqpoll: { idleMs: 50 } });
  const bufs = Array.from({ length: 4 }, () => Buffer.alloc(4096));
  t.deepEqual(await Promise.all(bufs.map((b, i) => ring.read(fd, b, i * 4096))), [4096, 4096, 4096, 4096]);
  t.true(Buffer.concat(bufs).equals(data));
  fs.closeSync(fd);
  await ring.destroy();
  t.throws(() => new Ring({ sqpoll: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => new Ring({ sqpoll: { idleMs: -1 } }), { code: 'ERR_OUT_OF_RANGE' });
});

ringTest('single-issuer: a single-issuer ring works from its own thread', async (t) => {
  const ring = new Ring({ singleIssuer: true });
  t.is(await ring.nop(), 0);
  await ring.destroy();
});

ringTest('attach-wq: a ring sharing another ring\'s io-wq runs forced-async work', async (t) => {
  const a = new Ring();
  const b = new Ring({ attachWq: a });
  const data = pattern(4096, 5);
  const fd = fs.openSync(tmpFile(data), 'r');
  const buf = Buffer.alloc(4096);
  t.is(await b.read(fd, buf, 0, { async: true }), 4096);
  t.true(buf.equals(data));
  fs.closeSync(fd);
  await Promise.all([a.destroy(), b.destroy()]);
  t.throws(() => new Ring({ attachWq: {} }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => new Ring({ attachWq: a }), { code: 'ERR_USE_AFTER_CLOSE' });
});

ringTest('fixed-files: an op with { fixedFile } names the registered index; unregistered is EBADF', async (t) => {
  const data = pattern(4096, 6);
  const other = pattern(4096, 7);
  const fdA = fs.openSync(tmpFile(data), 'r');
  const fdB = fs.openSync(tmpFile(other), 'r');
  const ring = new Ring();
  ring.registerFiles([fdA, -1]);
  const buf = Buffer.alloc(4096);
  t.is(await ring.read(0, buf, 0, { fixedFile: true }), 4096);
  t.true(buf.equals(data));
  await t.throwsAsync(ring.read(1, buf, 0, { fixedFile: true }), { code: 'EBADF' }, 'an empty slot');
  t.is(ring.updateFiles(1, [fdB]), 1);
  t.is(await ring.read(1, buf, 0, { fixedFile: true }), 4096);
  t.true(buf.equals(other));
  const busy = t.throws(() => ring.registerFiles([fdA]), { instanceOf: IoError });
  t.is(busy.code, 'EBUSY');
  ring.unregisterFiles();
  await t.throwsAsync(ring.read(0, buf, 0, { fixedFile: true }), { code: 'EBADF' }, 'no files registered any more');
  t.throws(() => ring.registerFiles(['3']), { code: 'ERR_INVALID_ARG_TYPE' });
  [fdA, fdB].forEach((fd) => fs.closeSync(fd));
  await ring.destroy();
  t.throws(() => ring.registerFiles([0]), { code: 'ERR_USE_AFTER_CLOSE' });
});

ringTest('iowq-max-workers: the caps set are the ones read back', async (t) => {
  const ring = new Ring();
  const before = ring.iowqMaxWorkers(0, 0);
  t.true(before.every((n) => Number.isInteger(n) && n > 0));
  ring.iowqMaxWorkers(2, 3);
  t.deepEqual(ring.iowqMaxWorkers(0, 0), [2, 3]);
  await ring.destroy();
});
