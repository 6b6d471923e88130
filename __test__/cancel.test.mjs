import fs from 'node:fs';
import { IoError, Ring } from '../dist/index.js';
import { fifo, ringTest } from './helpers.mjs';

ringTest('abort: aborting a pending pipe read rejects with AbortError', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const ac = new AbortController();
  const pending = ring.read(p.readFd, Buffer.alloc(8), null, { signal: ac.signal });
  await new Promise((r) => setTimeout(r, 20));
  ac.abort(new Error('stop'));
  const err = await t.throwsAsync(pending);
  t.is(err.name, 'AbortError');
  t.is(err.code, 'ABORT_ERR');
  t.is(err.cause.message, 'stop');
  t.is(ring.inFlight, 0);
  p.close();
  await ring.destroy();
});

ringTest('cancel-no-consume: a cancelled pipe read consumes no data', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const ac = new AbortController();
  const pending = ring.read(p.readFd, Buffer.alloc(8), null, { signal: ac.signal });
  await new Promise((r) => setTimeout(r, 20));
  ac.abort();
  await t.throwsAsync(pending, { name: 'AbortError' });
  fs.writeSync(p.writeFd, 'kept');
  const buf = Buffer.alloc(8);
  t.is(await ring.read(p.readFd, buf), 4);
  t.is(buf.subarray(0, 4).toString(), 'kept');
  p.close();
  await ring.destroy();
});

ringTest('abort-before-submit: an already-aborted signal rejects without submitting', async (t) => {
  const ring = new Ring();
  const signal = AbortSignal.abort();
  await t.throwsAsync(ring.read(0, Buffer.alloc(1), 0, { signal }), { name: 'AbortError' });
  await t.throwsAsync(ring.nop({ signal }), { name: 'AbortError' });
  t.is(ring.inFlight, 0);
  t.is(ring.submitCalls, 0);
  await ring.destroy();
});

ringTest('abort-after-complete: aborting a settled operation changes nothing', async (t) => {
  const ring = new Ring();
  const ac = new AbortController();
  t.is(await ring.nop({ signal: ac.signal }), 0);
  ac.abort();
  t.is(await ring.nop(), 0);
  await ring.destroy();
});

ringTest('abort-queued: aborting an op still waiting for ring space rejects it and keeps the rest', async (t) => {
  const ring = new Ring({ entries: 2 });
  const p = fifo();
  const ac = new AbortController();
  const blockers = Array.from({ length: 4 }, () => ring.read(p.readFd, Buffer.alloc(1)));
  const queued = ring.nop({ signal: ac.signal });
  ac.abort();
  await t.throwsAsync(queued, { name: 'AbortError' });
  fs.writeSync(p.writeFd, 'abcd');
  t.deepEqual((await Promise.all(blockers)).sort(), [1, 1, 1, 1]);
  p.close();
  await ring.destroy();
});

ringTest('destroy-pending: destroy cancels pending operations with ECANCELED and waits for them', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const reads = Array.from({ length: 50 }, () => ring.read(p.readFd, Buffer.alloc(4)));
  const settled = Promise.allSettled(reads);
  await new Promise((r) => setTimeout(r, 20));
  await ring.destroy();
  const results = await settled;
  t.true(results.every((r) => r.status === 'rejected' && r.reason instanceof IoError && r.reason.code === 'ECANCELED'));
  t.is(ring.inFlight, 0);
  p.close();
});

ringTest('use-after-destroy: calls after destroy reject with ERR_USE_AFTER_CLOSE', async (t) => {
  const ring = new Ring();
  await ring.destroy();
  t.true(ring.destroyed);
  const err = await t.throwsAsync(ring.nop());
  t.is(err.code, 'ERR_USE_AFTER_CLOSE');
  await t.throwsAsync(ring.read(0, Buffer.alloc(1), 0), { code: 'ERR_USE_AFTER_CLOSE' });
  await t.notThrowsAsync(ring.destroy(), 'destroy is idempotent');
});

ringTest('async-dispose: Symbol.asyncDispose destroys the ring', async (t) => {
  const ring = new Ring();
  const dispose = Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose');
  await ring[dispose]();
  t.true(ring.destroyed);
});

ringTest('shared-signal: 1,000 operations on one AbortSignal add one listener, leave none, and all abort', async (t) => {
  const { getEventListeners } = await import('node:events');
  const warnings = [];
  const onWarning = (w) => warnings.push(w.name);
  process.on('warning', onWarning);
  const ring = new Ring({ entries: 64 });
  const p = fifo();
  const ac = new AbortController();
  const reads = Array.from({ length: 1000 }, () => ring.read(p.readFd, Buffer.alloc(1), null, { signal: ac.signal }));
  t.is(getEventListeners(ac.signal, 'abort').length, 1);
  ac.abort();
  const results = await Promise.allSettled(reads);
  t.true(results.every((r) => r.status === 'rejected' && r.reason.name === 'AbortError'));
  t.is(getEventListeners(ac.signal, 'abort').length, 0);
  const kept = new AbortController();
  await Promise.all(Array.from({ length: 100 }, () => ring.nop({ signal: kept.signal })));
  t.is(getEventListeners(kept.signal, 'abort').length, 0, 'settled operations leave no listener behind');
  await new Promise((r) => setImmediate(r));
  process.off('warning', onWarning);
  t.deepEqual(warnings, []);
  p.close();
  await ring.destroy();
});
