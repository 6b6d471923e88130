import fs from 'node:fs';
import { BatchOp, Ring } from '../dist/index.js';
import { fifo, pattern, ringTest, runChild, tmpFile } from './helpers.mjs';

const SIZE = 4096;

function setup({ entries = 64, count = 32, size = SIZE, data = pattern(1 << 20, 3) } = {}) {
  const file = tmpFile(data);
  const fd = fs.openSync(file, 'r+');
  const ring = new Ring({ entries, fixedBuffers: { count, size } });
  return { file, fd, ring, data, done: async () => { await ring.destroy(); fs.closeSync(fd); } };
}

ringTest('batch-integrity: reads at random offsets fill each registered buffer with the right bytes', async (t) => {
  const { fd, ring, data, done } = setup();
  const batch = ring.batch(32);
  for (let round = 0; round < 50; round++) {
    batch.clear();
    const positions = Array.from({ length: 32 }, (_, i) => ((round * 7919 + i * 104729) % (data.length - SIZE)));
    positions.forEach((pos, i) => batch.read(fd, i, pos, SIZE, 0, 1000 + i));
    t.is(await batch.submit(), 32);
    positions.forEach((pos, i) => {
      if (batch.result(i) !== SIZE || batch.tag(i) !== 1000 + i) t.fail(`entry ${i}: ${batch.result(i)}`);
      if (!ring.fixedBuffers[i].equals(data.subarray(pos, pos + SIZE))) t.fail(`round ${round} entry ${i}: bytes differ at ${pos}`);
    });
  }
  t.pass();
  await done();
});

ringTest('batch-mixed: reads and writes in one batch, partial lengths and buffer offsets', async (t) => {
  const { fd, ring, data, done } = setup();
  const [a, b, c] = ring.fixedBuffers;
  a.fill(0xaa);
  b.fill(0xbb);
  const batch = ring.batch(8);
  batch.write(fd, 0, 0);                 // whole buffer a at 0
  batch.write(fd, 1, 3 * SIZE, 100, 50); // 100 bytes of b from offset 50
  batch.read(fd, 2, 8 * SIZE, 512, 1024); // into c at 1024
  batch.fsync(fd, true);
  batch.nop();
  await batch.submit();
  t.deepEqual([0, 1, 2, 3, 4].map((i) => batch.result(i)), [SIZE, 100, 512, 0, 0]);
  const file = Buffer.alloc(4 * SIZE);
  fs.readSync(fd, file, 0, file.length, 0);
  t.true(file.subarray(0, SIZE).every((x) => x === 0xaa));
  t.true(file.subarray(3 * SIZE, 3 * SIZE + 100).every((x) => x === 0xbb));
  t.deepEqual(file.subarray(3 * SIZE + 100, 4 * SIZE), data.subarray(3 * SIZE + 100, 4 * SIZE));
  t.deepEqual(c.subarray(1024, 1536), data.subarray(8 * SIZE, 8 * SIZE + 512));
  await done();
});

ringTest('batch-invalid-entries: each bad entry fails alone with a coded error, the rest run', async (t) => {
  const { fd, ring, data, done } = setup({ count: 4 });
  const batch = ring.batch(8);
  batch.read(fd, 0, 0);
  batch.read(fd, 4, 0);                  // no buffer 4
  batch.read(fd, 1, 0, SIZE, 1);         // one byte past the end
  batch.read(-1, 2, 0);                  // bad fd
  batch.push(200, fd, 0, 0, 16, 0);      // unknown opcode
  batch.read(fd, 3, SIZE);
  batch.read(1_000_000, 2, 0);           // a valid number but no open file: the kernel says EBADF
  await batch.submit();
  t.is(batch.result(0), SIZE);
  t.is(batch.result(5), SIZE);
  t.deepEqual(ring.fixedBuffers[3], data.subarray(SIZE, 2 * SIZE));
  const expect = [[1, 'EINVAL', /registered buffer/], [2, 'EINVAL', /past the end/], [3, 'EBADF', /fd must be/], [4, 'EINVAL', /opcode/], [6, 'EBADF', /\(batch entry 6\)$/]];
  for (const [i, code, message] of expect) {
    const error = batch.error(i);
    t.is(error?.code, code, `entry ${i}`);
    t.regex(error.message, message);
  }
  t.is(batch.error(0), undefined);
  await done();
});

ringTest('batch-larger-than-ring: 512 entries through an 8-entry ring all complete', async (t) => {
  const { fd, ring, data, done } = setup({ entries: 8, count: 512, size: 512 });
  const batch = ring.batch(512);
  for (let i = 0; i < 512; i++) batch.read(fd, i, (511 - i) * 512, 512);
  t.is(await batch.submit(), 512);
  for (let i = 0; i < 512; i++) {
    const pos = (511 - i) * 512;
    if (batch.result(i) !== 512 || !ring.fixedBuffers[i].equals(data.subarray(pos, pos + 512))) t.fail(`entry ${i}`);
  }
  t.pass();
  await done();
});

ringTest('batch-sync: submitSync returns with every result written', (t) => {
  const { fd, ring, data } = setup();
  const batch = ring.batch(32);
  for (let i = 0; i < 32; i++) batch.read(fd, i, i * 3 * SIZE);
  t.is(batch.submitSync(), 32);
  for (let i = 0; i < 32; i++) {
    t.is(batch.result(i), SIZE);
    t.deepEqual(ring.fixedBuffers[i], data.subarray(i * 3 * SIZE, (i * 3 + 1) * SIZE));
  }
  t.is(ring.inFlight, 0);
  return ring.destroy();
});

ringTest('batch-sync-coexists: promise operations pending across a submitSync still settle', async (t) => {
  const { fd, ring } = setup();
  const pipe = fifo();
  const pipeRead = ring.read(pipe.readFd, Buffer.alloc(5));
  const nop = ring.nop();
  const batch = ring.batch(4);
  batch.read(fd, 0, 0);
  batch.nop();
  batch.submitSync();
  t.is(batch.result(0), SIZE);
  t.is(await nop, 0);
  fs.writeSync(pipe.writeFd, 'hello');
  t.is(await pipeRead, 5);
  pipe.close();
  await ring.destroy();
});

ringTest('batch-destroy: destroy while a batch waits rejects it with ECANCELED', async (t) => {
  const { ring } = setup();
  const pipe = fifo();
  const batch = ring.batch(4);
  batch.read(pipe.readFd, 0, -1, 16);
  batch.read(pipe.readFd, 1, -1, 16);
  const pending = batch.submit();
  t.true(batch.pending);
  await new Promise((r) => setImmediate(r));
  const destroyed = ring.destroy();
  const error = await t.throwsAsync(pending);
  t.is(error.code, 'ECANCELED');
  t.is(batch.result(0), -125);
  await destroyed;
  t.false(batch.pending);
  t.throws(() => batch.submitSync(), { code: 'ERR_USE_AFTER_CLOSE' });
  pipe.close();
});

ringTest('batch-abort: a signal cancels the whole batch with an AbortError', async (t) => {
  const { ring } = setup();
  const pipe = fifo();
  const batch = ring.batch(2);
  batch.read(pipe.readFd, 0, -1, 16);
  const controller = new AbortController();
  const pending = batch.submit({ signal: controller.signal });
  setImmediate(() => controller.abort());
  await t.throwsAsync(pending, { name: 'AbortError' });
  t.is(ring.inFlight, 0);
  pipe.close();
  await ring.destroy();
});

ringTest('batch-state: a submitted batch cannot change or resubmit until it settles', async (t) => {
  const { fd, ring, done } = setup();
  const batch = ring.batch(2);
  batch.read(fd, 0, 0);
  const pending = batch.submit();
  // Checked before any await: a cached read can settle at the end of this turn.
  t.throws(() => batch.read(fd, 1, 0), { code: 'ERR_INVALID_STATE' });
  t.throws(() => batch.clear(), { code: 'ERR_INVALID_STATE' });
  await t.throwsAsync(batch.submit(), { code: 'ERR_INVALID_STATE' });
  await pending;
  batch.read(fd, 1, 0);
  t.throws(() => batch.read(fd, 1, 0), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => batch.result(2), { code: 'ERR_OUT_OF_RANGE' });
  await done();
});

ringTest('batch-options: bad fixedBuffers options are coded errors', (t) => {
  t.throws(() => new Ring({ fixedBuffers: { count: 0, size: SIZE } }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => new Ring({ fixedBuffers: { count: 1, size: 1.5 } }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => new Ring({ fixedBuffers: 'big' }), { code: 'ERR_INVALID_ARG_TYPE' });
  const ring = new Ring();
  t.deepEqual(ring.fixedBuffers, []);
  const batch = ring.batch(1);
  batch.read(0, 0, 0, 16);
  batch.submitSync();
  t.is(batch.error(0).code, 'EINVAL');
  t.is(BatchOp.READ_FIXED, 4);
  return ring.destroy();
});

ringTest('batch-leak: RSS stays flat over 3 million batched reads', (t) => {
  const file = tmpFile(pattern(1 << 20));
  const r = runChild(`
    import fs from 'node:fs';
    import { Ring } from DIST;
    const fd = fs.openSync(${JSON.stringify(file)}, 'r');
    const ring = new Ring({ entries: 64, fixedBuffers: { count: 64, size: 4096 } });
    const batch = ring.batch(64);
    async function ops(n) {
      for (let done = 0; done < n; done += 64) {
        batch.clear();
        for (let i = 0; i < 64; i++) batch.read(fd, i, ((done + i) * 4096) % (1 << 20));
        if ((done / 64) % 2) await batch.submit(); else batch.submitSync();
      }
      for (let i = 0; i < 200; i++) await new Ring({ entries: 4, fixedBuffers: { count: 4, size: 4096 } }).destroy();
    }
    async function rss() {
      for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
      return process.memoryUsage().rss / 2 ** 20;
    }
    await ops(500_000);
    const samples = [];
    for (let i = 0; i < 6; i++) { await ops(500_000); samples.push(await rss()); }
    console.log(JSON.stringify(samples));
  `, { args: ['--expose-gc', '--min-semi-space-size=16'], timeout: 150000 });
  t.is(r.status, 0, r.stderr);
  const samples = JSON.parse(r.stdout);
  t.log(`RSS after each further 500k batched reads (MiB): ${samples.map((s) => s.toFixed(1)).join(', ')}`);
  t.true(samples[5] - samples[0] < 8, `RSS grew ${(samples[5] - samples[0]).toFixed(1)} MiB`);
});

ringTest('batch-link: write, fsync and read linked in one batch run in order', async (t) => {
  const { fd, ring, done } = setup({ count: 4 });
  const [src, , dst] = ring.fixedBuffers;
  src.fill(0x5a);
  const batch = ring.batch(4);
  batch.write(fd, 0, 0);
  batch.link();
  batch.fsync(fd);
  batch.link();
  batch.read(fd, 2, 0);
  t.is(await batch.submit(), 3);
  t.deepEqual([batch.result(0), batch.result(1), batch.result(2)], [SIZE, 0, SIZE]);
  t.true(dst.equals(src), 'the read saw the write');
  await done();
});

ringTest('batch-link-failure: a failed linked entry cancels the rest of its chain only', async (t) => {
  const { fd, ring, done } = setup({ count: 2 });
  const batch = ring.batch(4);
  batch.read(999999, 0, 0);
  batch.link();
  batch.nop();
  batch.read(fd, 1, 0);
  t.is(await batch.submit(), 3);
  t.is(batch.error(0).code, 'EBADF');
  t.is(batch.result(1), -125, 'ECANCELED');
  t.is(batch.result(2), SIZE, 'the unlinked entry ran');
  await done();
});

ringTest('batch-link-timeout: a linked timeout cancels a FIFO read that gets no data', async (t) => {
  const { ring, done } = setup({ count: 1 });
  const p = fifo();
  const batch = ring.batch(2);
  batch.read(p.readFd, 0, -1, 1);
  const timer = batch.linkTimeout(20);
  t.is(timer, 1);
  t.is(await batch.submit(), 2);
  t.is(batch.result(0), -125, 'the read was cancelled (ECANCELED)');
  t.is(batch.result(1), -62, 'the timeout fired (ETIME)');
  p.close();
  await done();
});

ringTest('batch-fixed-files: entries with FIXED_FILE read through the registered file index', async (t) => {
  const { fd, ring, data, done } = setup({ count: 1 });
  ring.registerFiles([fd]);
  const batch = ring.batch(1);
  batch.read(0, 0, SIZE);
  batch.addSqeFlags(1 /* BatchSqe.FIXED_FILE */);
  t.is(await batch.submit(), 1);
  t.is(batch.result(0), SIZE);
  t.true(ring.fixedBuffers[0].equals(data.subarray(SIZE, 2 * SIZE)));
  await done();
});

ringTest('batch-sqe-flags-refused: unknown sqeFlags bits are refused with EINVAL before the kernel', async (t) => {
  const { fd, ring, done } = setup({ count: 1 });
  const batch = ring.batch(1);
  batch.push(BatchOp.READ_FIXED, fd, 0, 0, SIZE, 0, 0, 0, 64);
  await batch.submit();
  t.is(batch.error(0).code, 'EINVAL');
  t.regex(batch.error(0).message, /sqeFlags/);
  await done();
});

ringTest('submit-sync-full-cq: submitSync returns while unrelated reads that never complete fill the CQ limit', async (t) => {
  const { runChildAsync } = await import('./helpers.mjs');
  const r = await runChildAsync(`
    import { execFileSync } from 'node:child_process';
    import fs from 'node:fs';
    import os from 'node:os';
    import path from 'node:path';
    import { Ring } from DIST;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uring-aio-cq-'));
    const file = path.join(dir, 'fifo');
    execFileSync('mkfifo', [file]);
    const fd = fs.openSync(file, 'r+');
    const ring = new Ring({ entries: 8, fixedBuffers: { count: 1, size: 4096 } });
    const reads = Array.from({ length: 32 }, () => ring.read(fd, Buffer.alloc(1), null).catch((e) => e.code));
    await new Promise((r) => setTimeout(r, 20));
    const batch = ring.batch(1);
    batch.nop();
    console.log('ran', batch.submitSync(), batch.result(0));
    await ring.destroy();
    console.log('reads', (await Promise.all(reads)).every((c) => c === 'ECANCELED'));
    fs.rmSync(dir, { recursive: true });
  `, { timeout: 20000 });
  t.is(r.signal, null, 'submitSync hung');
  t.is(r.status, 0, r.stderr);
  t.deepEqual(r.stdout.trim().split('\n'), ['ran 1 0', 'reads true']);
});

ringTest('batch-refused-in-chain: an entry refused by validation cancels the linked entries after it', async (t) => {
  const { fd, file, ring, done } = setup({ count: 1 });
  ring.fixedBuffers[0].fill(0x53);
  const before = fs.readFileSync(file).subarray(0, 4096);
  const batch = ring.batch(2);
  batch.read(fd, 0, 0, 4096 * 2);   // longer than the buffer: refused
  batch.link();
  batch.write(fd, 0, 0);            // would write the stale buffer
  await batch.submit();
  t.is(batch.error(0).code, 'EINVAL');
  t.is(batch.error(1).code, 'ECANCELED');
  t.true(fs.readFileSync(file).subarray(0, 4096).equals(before), 'the write never ran');
  await done();
});

ringTest('batch-link-timeout-fraction: a link timeout of 1.5 ms is taken as it is', async (t) => {
  const { ring, done } = setup({ count: 1 });
  const p = fifo();
  const batch = ring.batch(2);
  batch.read(p.readFd, 0, -1, 1);
  batch.linkTimeout(1.5);
  t.is(await batch.submit(), 2);
  t.is(batch.result(1), -62);
  t.throws(() => batch.linkTimeout(-1), { code: 'ERR_OUT_OF_RANGE' });
  p.close();
  await done();
});
