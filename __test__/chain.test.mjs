// Linked chains (ring.chain(), IOSQE_IO_LINK): order, cancellation of the rest when a
// link fails, settled results like Promise.allSettled.
import fs from 'node:fs';
import { IoError, Ring, alignedBuffer } from '../dist/index.js';
import { fifo, pattern, ringTest, tmpFile } from './helpers.mjs';

ringTest('chain-order: a linked write -> fsync -> read runs in order and reads what was written', async (t) => {
  const file = tmpFile(Buffer.alloc(0));
  const fd = fs.openSync(file, 'r+');
  const ring = new Ring();
  const data = pattern(8192, 12);
  const back = Buffer.alloc(8192);
  const results = await ring.chain().write(fd, data, 0).fsync(fd).read(fd, back, 0).submit();
  t.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled']);
  t.deepEqual(results.map((r) => r.value), [8192, undefined, 8192]);
  t.true(back.equals(data), 'the read saw the write');
  fs.closeSync(fd);
  await ring.destroy();
});

ringTest('chain-fail-cancels-rest: a failing head rejects and the linked ops after it reject with ECANCELED', async (t) => {
  const ring = new Ring();
  const file = tmpFile(Buffer.from('untouched'));
  const fd = fs.openSync(file, 'r+');
  const results = await ring.chain().read(999999, Buffer.alloc(1), 0).write(fd, Buffer.from('changed!!'), 0).nop().submit();
  t.is(results[0].status, 'rejected');
  t.is(results[0].reason.code, 'EBADF');
  t.is(results[1].reason.code, 'ECANCELED');
  t.true(results[1].reason instanceof IoError);
  t.is(results[2].reason.code, 'ECANCELED');
  t.is(fs.readFileSync(file, 'utf8'), 'untouched', 'the cancelled write never ran');
  fs.closeSync(fd);
  await ring.destroy();
});

ringTest('chain-hardlink: with { hardlink: true } the rest run after a failure', async (t) => {
  const ring = new Ring();
  const results = await ring.chain().read(999999, Buffer.alloc(1), 0).nop().submit({ hardlink: true });
  t.is(results[0].reason.code, 'EBADF');
  t.deepEqual(results[1], { status: 'fulfilled', value: 0 });
  await ring.destroy();
});

ringTest('chain-timeout: a chain stuck on a FIFO read rejects ETIME for what was pending at the deadline', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const results = await ring.chain().nop().read(p.readFd, Buffer.alloc(1), null).nop().submit({ timeout: 30 });
  t.is(results[0].status, 'fulfilled');
  t.is(results[1].reason.code, 'ETIME');
  t.true(['ETIME', 'ECANCELED'].includes(results[2].reason.code));
  p.close();
  await ring.destroy();
});

ringTest('chain-abort: aborting the signal rejects every pending op with AbortError', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const ac = new AbortController();
  const pending = ring.chain().read(p.readFd, Buffer.alloc(1), null).nop().submit({ signal: ac.signal });
  await new Promise((r) => setTimeout(r, 20));
  ac.abort();
  const results = await pending;
  t.is(results[0].reason.name, 'AbortError');
  t.true(results[1].reason.name === 'AbortError' || results[1].reason.code === 'ECANCELED');
  t.is(ring.inFlight, 0);
  p.close();
  await ring.destroy();
});

ringTest('chain-bad-argument: an invalid operation rejects submit() and queues nothing', async (t) => {
  const ring = new Ring();
  const chain = ring.chain().nop().read('x', Buffer.alloc(1)).nop();
  await t.throwsAsync(chain.submit(), { code: 'ERR_INVALID_ARG_TYPE' });
  t.is(ring.inFlight, 0);
  await t.throwsAsync(chain.submit(), { code: 'ERR_INVALID_STATE' }, 'a chain is submitted once');
  await ring.destroy();
});

ringTest('chain-longer-than-ring: a chain longer than the submission queue is refused', async (t) => {
  const ring = new Ring({ entries: 4 });
  const chain = ring.chain();
  for (let i = 0; i < 5; i++) chain.nop();
  await t.throwsAsync(chain.submit(), { code: 'ERR_OUT_OF_RANGE' });
  await ring.destroy();
});

ringTest('chain-behind-backlog: chains queued past a full ring still run whole and in order', async (t) => {
  const ring = new Ring({ entries: 4 });
  const file = tmpFile(Buffer.alloc(0));
  const fd = fs.openSync(file, 'r+');
  const chains = Array.from({ length: 20 }, (_, i) => {
    const back = Buffer.alloc(4);
    return ring.chain().write(fd, Buffer.from(String(i).padStart(4, '0')), i * 4).read(fd, back, i * 4).submit()
      .then((r) => [r, back.toString()]);
  });
  const done = await Promise.all(chains);
  done.forEach(([results, text], i) => {
    t.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled']);
    t.is(text, String(i).padStart(4, '0'));
  });
  fs.closeSync(fd);
  await ring.destroy();
});

ringTest('chain-timeout-plain-read: a chain ending in a plain read still honours the chain timeout', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const results = await ring.chain().nop().read(p.readFd, Buffer.alloc(1), null).submit({ timeout: 30 });
  t.is(results[0].status, 'fulfilled');
  t.is(results[1].reason.code, 'ETIME');
  p.close();
  await ring.destroy();
});

ringTest('chain-timed-member-cancelled: an op with { timeout } cancelled by a failed predecessor is ECANCELED, not ETIME', async (t) => {
  const ring = new Ring();
  const results = await ring.chain().read(999999, Buffer.alloc(1), 0).nop({ timeout: 5000 }).submit();
  t.is(results[0].reason.code, 'EBADF');
  t.is(results[1].reason.code, 'ECANCELED');
  await ring.destroy();
});

ringTest('chain-hardlink-timeout: in a hard-linked chain a timed-out op does not cancel the next', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const results = await ring.chain().read(p.readFd, Buffer.alloc(1), null, { timeout: 30 }).nop().submit({ hardlink: true });
  t.is(results[0].reason.code, 'ETIME');
  t.deepEqual(results[1], { status: 'fulfilled', value: 0 });
  p.close();
  await ring.destroy();
});

ringTest('chain-abort-unstarted: aborting a linked op before it starts cancels it once it has started (no hang)', async (t) => {
  const ring = new Ring();
  const gate = fifo();
  const never = fifo();
  const ac = new AbortController();
  // The read on `never` waits behind the poll; the kernel cannot cancel it until the
  // poll completes and it starts, so the cancel is sent again then.
  const pending = ring.chain().poll(gate.readFd, 1).read(never.readFd, Buffer.alloc(1), null, { signal: ac.signal }).submit();
  await new Promise((r) => setTimeout(r, 20));
  ac.abort();
  await new Promise((r) => setTimeout(r, 20));
  fs.writeSync(gate.writeFd, 'x');
  const results = await pending;
  t.is(results[0].status, 'fulfilled');
  t.is(results[1].reason.name, 'AbortError');
  t.is(ring.inFlight, 0);
  gate.close();
  never.close();
  await ring.destroy();
});

ringTest('chain-destroy-hardlink: destroy() ends a hard-linked chain stuck on reads and rejects each with ECANCELED', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const pending = ring.chain().read(p.readFd, Buffer.alloc(1), null).read(p.readFd, Buffer.alloc(1), null).read(p.readFd, Buffer.alloc(1), null).submit({ hardlink: true });
  await new Promise((r) => setTimeout(r, 20));
  const start = performance.now();
  await ring.destroy();
  t.true(performance.now() - start < 2000, 'destroy did not wait out the teardown deadline');
  const results = await pending;
  t.deepEqual(results.map((r) => r.reason?.code), ['ECANCELED', 'ECANCELED', 'ECANCELED']);
  p.close();
});

ringTest('destroy-timed-op: destroy() rejects an op with { timeout } pending with ECANCELED, not ETIME', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const pending = ring.read(p.readFd, Buffer.alloc(1), null, { timeout: 60_000 });
  await new Promise((r) => setTimeout(r, 20));
  await ring.destroy();
  t.is((await t.throwsAsync(pending)).code, 'ECANCELED');
  p.close();
});

ringTest('chain-timeout-op: a timeout op inside a chain resolves and does not cancel the ops after it', async (t) => {
  const ring = new Ring();
  const results = await ring.chain().timeout(10).nop().submit();
  t.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled']);
  await ring.destroy();
});

ringTest('chain-length-counts-timeouts: ops with { timeout } count two SQEs against the ring size', async (t) => {
  const ring = new Ring({ entries: 4 });
  const chain = ring.chain().nop({ timeout: 1000 }).nop({ timeout: 1000 }).nop({ timeout: 1000 });
  await t.throwsAsync(chain.submit(), { code: 'ERR_OUT_OF_RANGE' });
  await ring.destroy();
  await t.throwsAsync(ring.chain().nop().submit(), { code: 'ERR_USE_AFTER_CLOSE' });
});

ringTest('chain-aligned-in-place: a linked write sends what the linked read just put in an alignedBuffer', async (t) => {
  // A chain's ops carry SQE flags; an alignedBuffer must still be used in place, not
  // copied when the call is made: otherwise the write would send the buffer's old bytes.
  const data = pattern(65536, 7);
  const src = fs.openSync(tmpFile(data), 'r');
  const dest = tmpFile(Buffer.alloc(0));
  const out = fs.openSync(dest, 'r+');
  const ring = new Ring();
  const staging = alignedBuffer(65536);
  const results = await ring.chain().read(src, staging, 0).write(out, staging, 0).submit();
  t.deepEqual(results.map((r) => r.value), [65536, 65536]);
  t.true(fs.readFileSync(dest).equals(data), 'the write saw the read');
  t.true(staging.equals(data), 'the read landed in the alignedBuffer itself');
  const async = await ring.read(src, staging.subarray(4096, 8192), 0, { async: true });
  t.is(async, 4096);
  t.true(staging.subarray(4096, 8192).equals(data.subarray(0, 4096)), 'a window read with IOSQE_ASYNC lands in place');
  fs.closeSync(src);
  fs.closeSync(out);
  await ring.destroy();
});
