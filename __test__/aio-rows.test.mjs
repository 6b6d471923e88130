// Aio reads and writes of alignedBuffer memory wait in the turn's rows and reach the
// native side `submitBatch` per call (lib/aio.ts `#queueRow`): the frozen-thread guard,
// ordering, teardown and the memory index table must hold on that path too.
import fs from 'node:fs';
import { Aio, alignedBuffer } from '../dist/index.js';
import { aioTest, pattern, runChildAsync, tmpFile } from './helpers.mjs';

aioTest('aio-rows-fifo-refused: an alignedBuffer read of an empty FIFO rejects EAGAIN instead of freezing the thread', async (t) => {
  // The row reaches io_submit through the turn's push; a FIFO there must be refused
  // as on the call-per-op path (the child would freeze inside io_submit otherwise).
  const r = await runChildAsync(`
    import fs from 'node:fs';
    import { execFileSync } from 'node:child_process';
    import { Aio, alignedBuffer } from DIST;
    const file = '/tmp/uring-aio-rows-fifo-' + process.pid;
    execFileSync('mkfifo', [file]);
    const fd = fs.openSync(file, 'r+');
    const aio = new Aio();
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => aio.read(fd, alignedBuffer(4096), 0).then(() => 'read', (e) => e.code)));
    await aio.destroy();
    fs.closeSync(fd);
    fs.rmSync(file);
    console.log(outcomes.join(' '));
  `, { timeout: 10000 });
  t.is(r.signal, null, 'the child was not killed');
  t.is(r.stdout.trim(), Array(6).fill('EAGAIN').join(' '));
});

aioTest('aio-rows-fifo-checked-at-submit: a descriptor that becomes a FIFO while its row waits for the turn to end is refused', async (t) => {
  const r = await runChildAsync(`
    import fs from 'node:fs';
    import { execFileSync } from 'node:child_process';
    import { Aio, alignedBuffer } from DIST;
    const file = '/tmp/uring-aio-rows-swap-' + process.pid;
    execFileSync('mkfifo', [file]);
    fs.writeFileSync(file + '.data', 'data');
    const fd = fs.openSync(file + '.data', 'r');
    const aio = new Aio({ submitBatch: 0 });
    const read = aio.read(fd, alignedBuffer(4096), 0).then(() => 'read', (e) => e.code);
    fs.closeSync(fd);
    const fifoFd = fs.openSync(file, 'r+'); // takes the number just freed
    console.log(fifoFd === fd, await read);
    await aio.destroy();
    fs.closeSync(fifoFd);
    fs.rmSync(file);
    fs.rmSync(file + '.data');
  `, { timeout: 10000 });
  t.is(r.signal, null, 'the child was not killed');
  t.is(r.stdout.trim(), 'true EAGAIN');
});

aioTest('aio-rows-mixed-turn: rows, calls, bigint positions and signals made in one turn each read their own bytes', async (t) => {
  const data = pattern(64 * 4096);
  const fd = fs.openSync(tmpFile(data), 'r');
  // submitBatch 3: rows go over mid-turn, between the ops that take a call each.
  const aio = new Aio({ submitBatch: 3 });
  const { signal } = new AbortController();
  const reads = Array.from({ length: 64 }, (_, i) => {
    const buf = i % 4 === 1 ? Buffer.alloc(4096) : alignedBuffer(4096);
    const position = i % 4 === 2 ? BigInt(i * 4096) : i * 4096;
    const options = i % 4 === 3 ? { signal } : undefined;
    return aio.read(fd, buf, position, options).then((n) => ({ n, buf }));
  });
  const done = await Promise.all(reads);
  for (const [i, { n, buf }] of done.entries()) {
    t.is(n, 4096);
    t.true(buf.equals(data.subarray(i * 4096, (i + 1) * 4096)), `read ${i}`);
  }
  t.is(aio.inFlight, 0);
  fs.closeSync(fd);
  await aio.destroy();
});

aioTest('aio-rows-inflight-counts-queued: rows waiting for the end of the turn count in inFlight', async (t) => {
  const fd = fs.openSync(tmpFile(pattern(4 * 4096)), 'r');
  const aio = new Aio({ submitBatch: 0 });
  const reads = [0, 1, 2].map((i) => aio.read(fd, alignedBuffer(4096), i * 4096));
  t.is(aio.inFlight, 3);
  t.deepEqual(await Promise.all(reads), [4096, 4096, 4096]);
  t.is(aio.inFlight, 0);
  fs.closeSync(fd);
  await aio.destroy();
});

aioTest('aio-rows-destroy-queued: rows still queued when destroy() is called settle, none left pending', async (t) => {
  const fd = fs.openSync(tmpFile(pattern(16 * 4096)), 'r');
  const aio = new Aio({ submitBatch: 0 });
  const reads = Array.from({ length: 16 }, (_, i) => aio.read(fd, alignedBuffer(4096), i * 4096).then((n) => n, (e) => e.code));
  const destroyed = aio.destroy();
  // Queued, never submitted: each is withdrawn (ECANCELED), or read if the kernel had it.
  for (const outcome of await Promise.all(reads)) t.true(outcome === 'ECANCELED' || outcome === 4096, String(outcome));
  await destroyed;
  t.is(aio.inFlight, 0);
  await t.throwsAsync(aio.read(fd, alignedBuffer(4096), 0), { code: 'ERR_USE_AFTER_CLOSE' });
  fs.closeSync(fd);
});

aioTest('aio-rows-memory-reuse: memory indexes freed by collected alignedBuffers serve new ones, each read landing in its own buffer', async (t) => {
  const file = tmpFile(pattern(64 * 4096));
  const r = await runChildAsync(`
    import fs from 'node:fs';
    import { Aio, alignedBuffer } from DIST;
    const fd = fs.openSync(${JSON.stringify(file)}, 'r');
    const data = fs.readFileSync(${JSON.stringify(file)});
    const aio = new Aio();
    let wrong = 0;
    for (let round = 0; round < 40; round++) {
      // Fresh buffers each round; the last round's die and free their indexes.
      const bufs = Array.from({ length: 16 }, () => alignedBuffer(4096));
      const at = bufs.map((_, i) => ((round * 7 + i) % 64) * 4096);
      await Promise.all(bufs.map((b, i) => aio.read(fd, b, at[i])));
      for (const [i, b] of bufs.entries()) if (!b.equals(data.subarray(at[i], at[i] + 4096))) wrong++;
      if (round % 4 === 3) { globalThis.gc(); await new Promise((r) => setTimeout(r, 5)); }
    }
    await aio.destroy();
    fs.closeSync(fd);
    console.log(wrong);
  `, { args: ['--expose-gc'], timeout: 30000 });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), '0');
});

aioTest('aio-rows-native-calls: 32 alignedBuffer reads in one turn reach the native side in submitBatch-sized calls, not one call each', async (t) => {
  // Counts the calls into the addon's NativeAio (a per-op call was the largest user-space
  // cost per read): 32 reads with submitBatch 8 are 4 calls, and the turn's end one
  // flush; the old code made 32 calls (rwShared) and the flush.
  const r = await runChildAsync(`
    import fs from 'node:fs';
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    const { native } = require(${JSON.stringify(new URL('../dist/native.js', import.meta.url).pathname)});
    const { Aio, alignedBuffer } = await import(DIST);
    const addon = native();
    const calls = {};
    const count = (target, name) => {
      const original = target[name];
      target[name] = function (...args) { calls[name] = (calls[name] ?? 0) + 1; return original.apply(this, args); };
    };
    for (const name of ['rwShared', 'pread', 'pwrite', 'flush']) count(addon.NativeAio.prototype, name);
    count(addon, 'pushAioRows');
    fs.writeFileSync('/tmp/uring-aio-rows-calls-' + process.pid, Buffer.alloc(32 * 4096, 1));
    const fd = fs.openSync('/tmp/uring-aio-rows-calls-' + process.pid, 'r');
    const aio = new Aio({ submitBatch: 8 });
    const bufs = Array.from({ length: 32 }, () => alignedBuffer(4096));
    await Promise.all(bufs.map((b, i) => aio.read(fd, b, i * 4096)));
    await aio.destroy();
    fs.closeSync(fd);
    fs.rmSync('/tmp/uring-aio-rows-calls-' + process.pid);
    console.log(JSON.stringify(calls), bufs.every((b) => b.every((x) => x === 1)));
  `, { timeout: 10000 });
  t.is(r.status, 0, r.stderr);
  const [counts, bytes] = r.stdout.trim().split(' ');
  t.deepEqual(JSON.parse(counts), { pushAioRows: 4, flush: 1 });
  t.is(bytes, 'true');
});

aioTest('aio-rows-workers: Aios on several threads, whose handles are the same numbers, each read their own bytes', async (t) => {
  // Handles index a per-thread table: the first Aio of each thread has the same one.
  const r = await runChildAsync(`
    import fs from 'node:fs';
    import { Worker } from 'node:worker_threads';
    import { Aio, alignedBuffer } from DIST;
    const body = (fill) => \`
      import fs from 'node:fs';
      import { parentPort } from 'node:worker_threads';
      import { Aio, alignedBuffer } from \${JSON.stringify(DIST)};
      const file = '/tmp/uring-aio-rows-worker-' + process.pid + '-${'${fill}'}';
      fs.writeFileSync(file, Buffer.alloc(64 * 4096, ${'${fill}'}));
      const fd = fs.openSync(file, 'r');
      const aio = new Aio();
      let wrong = 0;
      for (let round = 0; round < 50; round++) {
        const bufs = Array.from({ length: 16 }, () => alignedBuffer(4096));
        await Promise.all(bufs.map((b, i) => aio.read(fd, b, ((round + i) % 64) * 4096)));
        for (const b of bufs) if (!b.every((x) => x === ${'${fill}'})) wrong++;
      }
      await aio.destroy();
      fs.closeSync(fd);
      fs.rmSync(file);
      parentPort.postMessage(wrong);
    \`;
    const workers = [1, 2, 3].map((fill) => new Promise((resolve, reject) => {
      const w = new Worker(body(fill), { eval: true, type: 'module' });
      w.once('message', resolve);
      w.once('error', reject);
    }));
    const file = '/tmp/uring-aio-rows-main-' + process.pid;
    fs.writeFileSync(file, Buffer.alloc(64 * 4096, 9));
    const fd = fs.openSync(file, 'r');
    const aio = new Aio();
    let wrong = 0;
    for (let round = 0; round < 50; round++) {
      const bufs = Array.from({ length: 16 }, () => alignedBuffer(4096));
      await Promise.all(bufs.map((b, i) => aio.read(fd, b, ((round + i) % 64) * 4096)));
      for (const b of bufs) if (!b.every((x) => x === 9)) wrong++;
    }
    await aio.destroy();
    fs.closeSync(fd);
    fs.rmSync(file);
    console.log(JSON.stringify([wrong, ...(await Promise.all(workers))]));
  `, { timeout: 60000 });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), '[0,0,0,0]');
});

aioTest('aio-rows-before-submit-sync: rows queued earlier in the turn reach the kernel before a submitSync batch runs', async (t) => {
  // Call order holds across the two paths: the rows go to the context (and its
  // io_submit) before the synchronous run. Without that they waited for the end of the
  // turn, after the batch: one io_submit here instead of two.
  const fd = fs.openSync(tmpFile(pattern(8 * 4096)), 'r');
  const aio = new Aio({ submitBatch: 0, fixedBuffers: { count: 1, size: 4096 } });
  const reads = [0, 1, 2].map((i) => aio.read(fd, alignedBuffer(4096), i * 4096));
  const batch = aio.batch(1);
  batch.read(fd, 0, 4096 * 4);
  batch.submitSync();
  t.is(aio.submitCalls, 2, "the rows' io_submit, then the batch's");
  t.deepEqual(await Promise.all(reads), [4096, 4096, 4096]);
  fs.closeSync(fd);
  await aio.destroy();
});

aioTest('aio-rows-submit-batch-eager: the alignedBuffer read that fills submitBatch submits inside the call, as a call-per-op read does', async (t) => {
  const fd = fs.openSync(tmpFile(pattern(8 * 4096)), 'r');
  const aio = new Aio({ maxEvents: 16, submitBatch: 4 });
  const reads = [0, 1, 2].map((i) => aio.read(fd, alignedBuffer(4096), i * 4096));
  t.is(aio.submitCalls, 0, 'three wait for the end of the turn');
  reads.push(aio.read(fd, alignedBuffer(4096), 3 * 4096));
  t.is(aio.submitCalls, 1, 'the fourth sent all four at once');
  reads.push(aio.read(fd, alignedBuffer(4096), 4 * 4096));
  t.deepEqual(await Promise.all(reads), [4096, 4096, 4096, 4096, 4096]);
  t.is(aio.submitCalls, 2, 'the fifth went at the end of the turn');
  fs.closeSync(fd);
  await aio.destroy();
});
