// Multishot operations as async iterables: each completion with IORING_CQE_F_MORE is
// one value; leaving the loop cancels the operation and waits for its last CQE.
import fs from 'node:fs';
import * as liburing from 'uring-aio/liburing';
import { Ring, constants } from '../dist/index.js';
import { fifo, ringTest } from './helpers.mjs';

ringTest('poll-multishot: yields once per write to a FIFO and stops on break', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const seen = [];
  const writer = setInterval(() => fs.writeSync(p.writeFd, 'x'), 10);
  for await (const revents of ring.pollMultishot(p.readFd, constants.POLLIN)) {
    seen.push(revents & constants.POLLIN);
    if (seen.length === 3) break;
  }
  clearInterval(writer);
  t.deepEqual(seen, [constants.POLLIN, constants.POLLIN, constants.POLLIN]);
  t.is(ring.inFlight, 0, 'break cancelled it and its last completion was reaped');
  p.close();
  await ring.destroy();
});

ringTest('timeout-multishot-count: yields 1..count and ends on its own', async (t) => {
  const ring = new Ring();
  const ticks = [];
  const start = performance.now();
  for await (const tick of ring.timeoutMultishot(10, { count: 3 })) ticks.push(tick);
  t.deepEqual(ticks, [1, 2, 3]);
  t.true(performance.now() - start >= 25, 'three periods went by');
  t.is(ring.inFlight, 0);
  await ring.destroy();
});

ringTest('timeout-multishot-break: an endless multishot timeout stops on break without leaking', async (t) => {
  const ring = new Ring();
  let n = 0;
  for await (const tick of ring.timeoutMultishot(5)) {
    n = tick;
    if (tick === 2) break;
  }
  t.is(n, 2);
  t.is(ring.inFlight, 0);
  await ring.destroy();
});

ringTest('multishot-abort: an aborted signal ends the loop with an AbortError', async (t) => {
  const ring = new Ring();
  const ac = new AbortController();
  const loop = (async () => {
    for await (const tick of ring.timeoutMultishot(5, { signal: ac.signal })) if (tick === 2) ac.abort();
  })();
  await t.throwsAsync(loop, { name: 'AbortError' });
  t.is(ring.inFlight, 0);
  await ring.destroy();
});

ringTest('multishot-bad-arguments: bad arguments reject the first next()', async (t) => {
  const ring = new Ring();
  const it = ring.pollMultishot(-1, constants.POLLIN);
  await t.throwsAsync(it.next(), { code: 'ERR_OUT_OF_RANGE' });
  t.is(ring.inFlight, 0);
  await ring.destroy();
});

ringTest('multishot-destroy: destroy() ends a pending multishot loop with ECANCELED', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const loop = (async () => {
    for await (const _ of ring.pollMultishot(p.readFd, constants.POLLIN)) { /* never */ }
  })();
  await new Promise((r) => setTimeout(r, 20));
  await ring.destroy();
  await t.throwsAsync(loop, { code: 'ECANCELED' });
  p.close();
});

ringTest('liburing-multishot: io_uring_prep_poll_multishot gives CQEs flagged IORING_CQE_F_MORE', async (t) => {
  const ring = liburing.io_uring_queue_init(8);
  const p = fifo();
  const sqe = liburing.io_uring_get_sqe(ring);
  liburing.io_uring_prep_poll_multishot(sqe, p.readFd, constants.POLLIN);
  liburing.io_uring_sqe_set_data(sqe, 'poll');
  liburing.io_uring_submit(ring);
  fs.writeSync(p.writeFd, 'a');
  const first = await liburing.io_uring_wait_cqe(ring);
  t.is(first.user_data, 'poll');
  t.is(first.flags & liburing.IORING_CQE_F_MORE, liburing.IORING_CQE_F_MORE);
  t.is(first.res & constants.POLLIN, constants.POLLIN);
  liburing.io_uring_cqe_seen(ring, first);
  p.close();
  await liburing.io_uring_queue_exit(ring);
});

ringTest('multishot-return-while-waiting: return() settles a pending next() at once and cancels the op', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const it = ring.pollMultishot(p.readFd, constants.POLLIN);
  const pending = it.next();
  await new Promise((r) => setTimeout(r, 20));
  t.deepEqual(await it.return(), { value: undefined, done: true });
  t.deepEqual(await pending, { value: undefined, done: true });
  t.is(ring.inFlight, 0);
  p.close();
  await ring.destroy();
});

ringTest('multishot-drained-abort: an aborted multishot poll waiting behind a drain ends once the drain passes (no hang)', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const slow = ring.timeout(300);
  const ac = new AbortController();
  const loop = (async () => {
    for await (const _ of ring.pollMultishot(p.readFd, constants.POLLIN, { drain: true, signal: ac.signal })) { /* never */ }
  })();
  await new Promise((r) => setTimeout(r, 30));
  const start = performance.now();
  ac.abort();
  await t.throwsAsync(loop, { name: 'AbortError' });
  t.true(performance.now() - start < 2000, 'it ended right after the drain passed');
  await slow;
  p.close();
  await ring.destroy();
});

ringTest('chain-no-multishot: ring.chain() has no multishot methods', (t) => {
  const ring = new Ring();
  const chain = ring.chain();
  t.is(chain.pollMultishot, undefined);
  t.is(chain.timeoutMultishot, undefined);
  t.is(typeof chain.poll, 'function');
  return ring.destroy();
});

ringTest('timeout-multishot-overflow: a counted ticker the kernel ends early on a full CQ is re-armed for the rest', async (t) => {
  const ring = new Ring({ entries: 2, cqEntries: 4 });
  const ticks = [];
  for await (const tick of ring.timeoutMultishot(2, { count: 20 })) {
    ticks.push(tick);
    if (tick === 1) {
      const until = performance.now() + 60;
      while (performance.now() < until) { /* a busy turn: the CQ fills and overflows */ }
    }
  }
  t.deepEqual(ticks, Array.from({ length: 20 }, (_, i) => i + 1));
  t.is(ring.inFlight, 0);
  await ring.destroy();
});
