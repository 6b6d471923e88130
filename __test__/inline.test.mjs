// The inline path (RingOptions.inline): plain-Buffer reads and writes tried with
// preadv2/pwritev2(RWF_NOWAIT) on the JS thread before they go to the ring, and the
// turn's queue of nops and reads handed to the native side in one call.
import fs from 'node:fs';
import { Ring } from '../dist/index.js';
import { fifo, pattern, ringTest, tmpFile } from './helpers.mjs';

/** Tests that spend, or need, a whole turn's inline budget (shared by the thread) run alone. */
const budgetTest = ringTest.serial ?? ringTest;

ringTest('inline-cached-read: a page-cache read settles with the right bytes and no io_uring_enter', async (t) => {
  const data = pattern(64 * 1024, 5);
  const file = tmpFile(data);
  const fd = fs.openSync(file, 'r');
  const ring = new Ring();
  const before = ring.submitCalls;
  const buf = Buffer.alloc(4096);
  t.is(await ring.read(fd, buf, 8192), 4096);
  t.true(buf.equals(data.subarray(8192, 12288)));
  t.is(ring.submitCalls - before, 0, 'the read never entered the ring');
  fs.closeSync(fd);
  await ring.destroy();
});

ringTest('inline-off: inline: false sends a cached read through the ring', async (t) => {
  const file = tmpFile(pattern(8192, 2));
  const fd = fs.openSync(file, 'r');
  const ring = new Ring({ inline: false });
  const before = ring.submitCalls;
  t.is(await ring.read(fd, Buffer.alloc(4096), 0), 4096);
  t.is(ring.submitCalls - before, 1);
  fs.closeSync(fd);
  await ring.destroy();
});

ringTest('inline-option-type: a non-boolean inline is ERR_INVALID_ARG_TYPE', (t) => {
  t.throws(() => new Ring({ inline: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
});

ringTest('inline-short-at-eof: a read across the end of the file returns what is there', async (t) => {
  const data = pattern(5000, 3);
  const file = tmpFile(data);
  const fd = fs.openSync(file, 'r');
  const ring = new Ring();
  const buf = Buffer.alloc(4096);
  t.is(await ring.read(fd, buf, 4096), 5000 - 4096);
  t.true(buf.subarray(0, 5000 - 4096).equals(data.subarray(4096)));
  t.is(await ring.read(fd, buf, 5000), 0, 'at the end: 0');
  fs.closeSync(fd);
  await ring.destroy();
});

ringTest('inline-file-position: reads at the file position advance it, inline as through the ring', async (t) => {
  const data = pattern(12288, 9);
  const file = tmpFile(data);
  const fd = fs.openSync(file, 'r');
  const ring = new Ring();
  const parts = [];
  for (let i = 0; i < 3; i++) {
    const buf = Buffer.alloc(4096);
    t.is(await ring.read(fd, buf), 4096);
    parts.push(buf);
  }
  t.true(Buffer.concat(parts).equals(data));
  fs.closeSync(fd);
  await ring.destroy();
});

ringTest('inline-empty-pipe: a read of an empty pipe waits in the ring and gets the later data', async (t) => {
  const p = fifo();
  const ring = new Ring();
  const buf = Buffer.alloc(16);
  const pending = ring.read(p.readFd, buf);
  fs.writeSync(p.writeFd, Buffer.from('later'));
  t.is(await pending, 5);
  t.is(buf.subarray(0, 5).toString(), 'later');
  p.close();
  await ring.destroy();
});

ringTest('inline-write: a buffered write lands in the file with its bytes as they were at the call', async (t) => {
  const file = tmpFile(Buffer.alloc(0));
  const fd = fs.openSync(file, 'r+');
  const ring = new Ring();
  const buf = Buffer.from('abcdefgh');
  const written = ring.write(fd, buf, 0);
  buf.fill(0x7a);
  t.is(await written, 8);
  t.is(fs.readFileSync(file, 'utf8'), 'abcdefgh');
  fs.closeSync(fd);
  await ring.destroy();
});

ringTest('inline-budget: a loop of cached reads lets the event loop turn (timers and immediates run)', async (t) => {
  const file = tmpFile(pattern(64 * 1024, 4));
  const fd = fs.openSync(file, 'r');
  const ring = new Ring();
  const buf = Buffer.alloc(512);
  let immediates = 0;
  const tick = () => {
    immediates++;
    if (!done) setImmediate(tick);
  };
  let done = false;
  setImmediate(tick);
  for (let i = 0; i < 20000; i++) await ring.read(fd, buf, (i % 128) * 512);
  done = true;
  t.log(`${immediates} immediates ran during 20,000 reads`);
  t.true(immediates >= 10, `the loop turned only ${immediates} times: inline reads starve it`);
  fs.closeSync(fd);
  await ring.destroy();
});

budgetTest('inline-budget-spill: reads past the budget of a turn settle after the loop turned (one inline at the next turn, the rest through the ring), each with its own bytes', async (t) => {
  const data = pattern(300 * 512, 6);
  const file = tmpFile(data);
  const fd = fs.openSync(file, 'r');
  const ring = new Ring();
  // 300 reads made in one turn: past the budget of 256, one waits for the next turn and
  // the rest go to the ring.
  const bufs = Array.from({ length: 300 }, () => Buffer.alloc(512));
  let immediateRan = false;
  setImmediate(() => { immediateRan = true; });
  const counts = await Promise.all(bufs.map((b, i) => ring.read(fd, b, i * 512)));
  t.true(immediateRan, 'the loop turned before the last reads settled');
  t.true(counts.every((n) => n === 512));
  t.true(Buffer.concat(bufs).equals(data), 'every read has its own bytes');
  fs.closeSync(fd);
  await ring.destroy();
});

budgetTest('inline-budget-spill-destroy: reads past the budget when the ring is destroyed (waiting for the next turn, or in the ring) reject with ECANCELED', async (t) => {
  const file = tmpFile(pattern(4096, 7));
  const fd = fs.openSync(file, 'r');
  const ring = new Ring();
  const reads = Array.from({ length: 300 }, () => ring.read(fd, Buffer.alloc(16), 0));
  const destroyed = ring.destroy();
  const results = await Promise.allSettled(reads);
  await destroyed;
  const failed = results.filter((r) => r.status === 'rejected');
  t.true(failed.length > 0, 'the reads past the budget did not run after destroy');
  for (const r of failed) t.is(r.reason.code, 'ECANCELED');
  t.true(results.filter((r) => r.status === 'fulfilled').every((r) => r.value === 16));
  fs.closeSync(fd);
});

budgetTest('inline-budget-spent-write: a write made past the budget takes its bytes when it is called', async (t) => {
  const file = tmpFile(pattern(64 * 1024, 3));
  const fd = fs.openSync(file, 'r+');
  const ring = new Ring();
  // Spend the turn's budget (256 operations) with cached reads, so the write is the
  // first past it, then reuse the write's buffer at once.
  await new Promise((resolve) => setImmediate(resolve));
  const reads = Array.from({ length: 256 }, () => ring.read(fd, Buffer.alloc(16), 0));
  const data = Buffer.from('taken when called');
  const written = ring.write(fd, data, 0);
  data.fill(0x2a);
  await Promise.all(reads);
  t.is(await written, 17);
  t.is(fs.readFileSync(file).subarray(0, 17).toString(), 'taken when called');
  fs.closeSync(fd);
  await ring.destroy();
});

budgetTest('inline-detach-after-call: transferring the buffer after a cached read settled inline leaves the bytes in the moved memory', async (t) => {
  const data = pattern(4096, 8);
  const file = tmpFile(data);
  const fd = fs.openSync(file, 'r');
  // A fresh turn's budget: the serial tests before this one spent theirs.
  await new Promise((resolve) => setImmediate(resolve));
  const ring = new Ring();
  const target = new Uint8Array(4096);
  const pending = ring.read(fd, target, 0);
  const moved = structuredClone(target.buffer, { transfer: [target.buffer] });
  t.is(await pending, 4096);
  t.true(Buffer.from(moved).equals(data), 'the read was done before the transfer, into the caller memory');
  fs.closeSync(fd);
  await ring.destroy();
});

ringTest('turn-queue-abort: an op aborted in the turn it was made rejects with AbortError', async (t) => {
  const p = fifo();
  const ring = new Ring();
  const ac = new AbortController();
  const pending = ring.read(p.readFd, Buffer.alloc(8), undefined, { signal: ac.signal });
  ac.abort();
  await t.throwsAsync(pending, { name: 'AbortError' });
  p.close();
  await ring.destroy();
});

ringTest('turn-queue-order: a nop queued in the turn reaches the ring before a later linked chain', async (t) => {
  const ring = new Ring({ entries: 8 });
  const order = [];
  const nops = Array.from({ length: 20 }, (_, i) => ring.nop().then(() => order.push(i)));
  const fsync = ring.nop({ drain: true }).then(() => order.push('drain'));
  await Promise.all([...nops, fsync]);
  t.is(order.at(-1), 'drain', 'the drained nop completes after every nop queued before it');
  await ring.destroy();
});

ringTest('turn-queue-destroy: destroy in the turn an op was queued settles it', async (t) => {
  const p = fifo();
  const ring = new Ring();
  const pending = ring.read(p.readFd, Buffer.alloc(8));
  const destroyed = ring.destroy();
  const e = await t.throwsAsync(pending);
  t.is(e.code, 'ECANCELED');
  await destroyed;
  p.close();
});

ringTest('turn-queue-inflight: ops queued this turn count in inFlight', async (t) => {
  const ring = new Ring();
  const ops = [ring.nop(), ring.nop()];
  t.is(ring.inFlight, 2);
  await Promise.all(ops);
  t.is(ring.inFlight, 0);
  await ring.destroy();
});
