import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { Aio, AioContext, BatchOp, IoError, alignedBuffer, constants, eventfd } from '../dist/index.js';
import { aioTest, distPath, fifo, pattern, runAsync, runChild, tmpDir, tmpFile } from './helpers.mjs';

/** Where O_DIRECT files go: the temp dir, or (tmpfs refuses O_DIRECT) a dir under the repository's target/. */
const directRoot = (() => {
  const target = fileURLToPath(new URL('../target/', import.meta.url));
  for (const dir of [tmpDir(), target]) {
    try {
      fs.mkdirSync(dir, { recursive: true });
      const probe = fs.mkdtempSync(path.join(dir, 'uring-aio-direct-'));
      process.on('exit', () => fs.rmSync(probe, { recursive: true, force: true }));
      const file = path.join(probe, 'probe.bin');
      fs.writeFileSync(file, Buffer.alloc(4096));
      fs.closeSync(fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_DIRECT));
      return { dir: probe };
    } catch (e) {
      if (e.code !== 'EINVAL') throw e;
    }
  }
  return { reason: `O_DIRECT refused by the file systems of ${tmpDir()} and ${target}` };
})();
const noDirect = directRoot.reason;

/** An O_DIRECT descriptor on a file of `size` zero bytes on a file system that takes O_DIRECT. */
function directFd(size) {
  const file = fs.mkdtempSync(path.join(directRoot.dir, 'f-')) + '/direct.bin';
  fs.writeFileSync(file, Buffer.alloc(size));
  return { file, fd: fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_DIRECT) };
}
/** `aioTest` where O_DIRECT works; elsewhere a skip that the runner reports, with why. */
const directTest = noDirect === undefined ? aioTest : (title, fn) => test.skip(`${title} (skipped: ${noDirect})`, fn);


directTest('o-direct: 32 concurrent writes then reads round-trip through O_DIRECT', async (t) => {
  const d = directFd(32 * 4096);
  const aio = new Aio({ maxEvents: 64 });
  const blocks = Array.from({ length: 32 }, (_, i) => {
    const b = alignedBuffer(4096);
    pattern(4096, i + 1).copy(b);
    return b;
  });
  t.deepEqual(await Promise.all(blocks.map((b, i) => aio.write(d.fd, b, i * 4096))), blocks.map(() => 4096));
  const back = blocks.map(() => alignedBuffer(4096));
  t.deepEqual(await Promise.all(back.map((b, i) => aio.read(d.fd, b, i * 4096))), blocks.map(() => 4096));
  t.true(back.every((b, i) => b.equals(blocks[i])));
  fs.closeSync(d.fd);
  await aio.destroy();
});

directTest('o-direct: a plain Buffer works through the library’s aligned copy', async (t) => {
  const d = directFd(8192);
  const aio = new Aio();
  t.is(await aio.write(d.fd, Buffer.alloc(4096, 7), 4096), 4096);
  const out = Buffer.alloc(4096);
  t.is(await aio.read(d.fd, out, 4096), 4096);
  t.true(out.every((b) => b === 7));
  await aio.destroy();
});

directTest('o-direct-misaligned: a misaligned offset or length is EINVAL and the message says alignment', async (t) => {
  const d = directFd(8192);
  const aio = new Aio();
  const err = await t.throwsAsync(aio.read(d.fd, alignedBuffer(4096), 100));
  t.true(err instanceof IoError);
  t.is(err.code, 'EINVAL');
  t.regex(err.message, /^EINVAL: invalid argument, pread \(with O_DIRECT.*align/);
  t.is((await t.throwsAsync(aio.read(d.fd, alignedBuffer(4096).subarray(0, 100), 0))).code, 'EINVAL');
  await aio.destroy();
});

aioTest('fsync-fdsync: both complete on a written file', async (t) => {
  const file = tmpFile(Buffer.alloc(0));
  const fd = fs.openSync(file, 'r+');
  const aio = new Aio();
  t.is(await aio.write(fd, Buffer.from('data'), 0), 4);
  await aio.fsync(fd);
  await aio.fdsync(fd);
  t.is(fs.readFileSync(file, 'utf8'), 'data');
  await aio.destroy();
});

aioTest('readv-writev: vectors scatter and gather in order', async (t) => {
  const file = tmpFile(Buffer.alloc(0));
  const fd = fs.openSync(file, 'r+');
  const aio = new Aio();
  t.is(await aio.writev(fd, [Buffer.from('abc'), new Uint8Array(Buffer.from('defg'))], 0), 7);
  const a = Buffer.alloc(2);
  const b = new DataView(new ArrayBuffer(8), 2, 5);
  t.is(await aio.readv(fd, [a, b], 0), 7);
  t.is(a.toString(), 'ab');
  t.is(Buffer.from(b.buffer, 2, 5).toString(), 'cdefg');
  await aio.destroy();
});

aioTest('poll: IOCB_CMD_POLL on a pipe waits for data', async (t) => {
  const p = fifo();
  const aio = new Aio();
  let done = false;
  const pending = aio.poll(p.pollFd, constants.POLLIN).then((r) => { done = true; return r; });
  await new Promise((r) => setTimeout(r, 50));
  t.false(done, 'no data yet');
  fs.writeSync(p.writeFd, 'x');
  t.true(((await pending) & constants.POLLIN) !== 0);
  p.close();
  await aio.destroy();
});

aioTest('destroy-pending: destroy cancels pending polls with ECANCELED and waits', async (t) => {
  const p = fifo();
  const aio = new Aio();
  const polls = Promise.allSettled(Array.from({ length: 10 }, () => aio.poll(p.pollFd, constants.POLLIN)));
  await new Promise((r) => setTimeout(r, 20));
  await aio.destroy();
  const results = await polls;
  t.true(results.every((r) => r.status === 'rejected' && r.reason.code === 'ECANCELED'));
  await t.throwsAsync(aio.poll(p.pollFd, constants.POLLIN), { code: 'ERR_USE_AFTER_CLOSE' });
  p.close();
});

aioTest('abort: aborting a pending poll rejects with AbortError', async (t) => {
  const p = fifo();
  const aio = new Aio();
  const ac = new AbortController();
  const pending = aio.poll(p.pollFd, constants.POLLIN, { signal: ac.signal });
  await new Promise((r) => setTimeout(r, 20));
  ac.abort();
  await t.throwsAsync(pending, { name: 'AbortError', code: 'ABORT_ERR' });
  await t.throwsAsync(aio.poll(p.pollFd, constants.POLLIN, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  t.is(aio.inFlight, 0);
  p.close();
  await aio.destroy();
});

aioTest('backpressure: 10k reads through a 16-event context all settle with the right bytes', async (t) => {
  const data = pattern(10000 * 4, 11);
  const file = tmpFile(data);
  const fd = fs.openSync(file, 'r');
  const aio = new Aio({ maxEvents: 16 });
  const bufs = Array.from({ length: 10000 }, () => Buffer.alloc(4));
  const results = await Promise.all(bufs.map((b, i) => aio.read(fd, b, i * 4)));
  t.true(results.every((n) => n === 4));
  t.true(bufs.every((b, i) => b.equals(data.subarray(i * 4, i * 4 + 4))));
  await aio.destroy();
});

aioTest('batching: requests made in one JS turn go in with one io_submit when uncapped', async (t) => {
  const file = tmpFile(pattern(64 * 512));
  const fd = fs.openSync(file, 'r');
  const aio = new Aio({ maxEvents: 128, submitBatch: 0 });
  await Promise.all(Array.from({ length: 64 }, (_, i) => aio.read(fd, Buffer.alloc(512), i * 512)));
  t.is(aio.submitCalls, 1);
  await aio.destroy();
});

aioTest('submit-batch-eager: the request that fills submitBatch submits inside the call', async (t) => {
  const file = tmpFile(pattern(8 * 512));
  const fd = fs.openSync(file, 'r');
  const aio = new Aio({ maxEvents: 16, submitBatch: 4 });
  const reads = [0, 1, 2].map((i) => aio.read(fd, Buffer.alloc(512), i * 512));
  t.is(aio.submitCalls, 0, 'three wait for the end of the turn');
  reads.push(aio.read(fd, Buffer.alloc(512), 3 * 512));
  t.is(aio.submitCalls, 1, 'the fourth sent all four at once');
  reads.push(aio.read(fd, Buffer.alloc(512), 4 * 512));
  t.is(aio.submitCalls, 1);
  const got = await Promise.all(reads);
  t.deepEqual(got, [512, 512, 512, 512, 512]);
  t.is(aio.submitCalls, 2, 'the fifth went at the end of the turn');
  await aio.destroy();
});

aioTest('submit-batch: by default one io_submit carries at most 4 requests', async (t) => {
  const file = tmpFile(pattern(64 * 512));
  const fd = fs.openSync(file, 'r');
  const aio = new Aio({ maxEvents: 128 });
  await Promise.all(Array.from({ length: 64 }, (_, i) => aio.read(fd, Buffer.alloc(512), i * 512)));
  t.is(aio.submitCalls, 16);
  await aio.destroy();
});

aioTest('ebadf: a bad descriptor is EBADF and the context stays usable', async (t) => {
  const aio = new Aio();
  const [bad, good] = await Promise.allSettled([aio.read(9999, Buffer.alloc(4), 0), aio.fsync(fs.openSync(tmpFile(), 'r'))]);
  t.is(bad.reason.code, 'EBADF');
  t.is(bad.reason.syscall, 'pread');
  t.is(good.status, 'fulfilled', 'a request behind a refused one still runs');
  await aio.destroy();
});

aioTest('bad-arguments: invalid arguments throw Node-coded errors and submit nothing', async (t) => {
  const aio = new Aio();
  const buf = Buffer.alloc(4);
  t.throws(() => aio.read('1', buf, 0), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => aio.read(0, 'x', 0), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => aio.read(0, buf, -1), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => aio.read(0, buf, undefined), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => aio.read(0, buf, 0, { rwFlags: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => aio.read(0, buf, 0, { priority: { class: 'fast' } }), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => aio.read(0, buf, 0, { priority: { class: 'be', level: 0x2000 } }), { code: 'ERR_OUT_OF_RANGE' }, 'more than IOPRIO_PRIO_DATA holds');
  t.throws(() => aio.read(0, buf, 0, { priority: { class: 'idle', level: -1 } }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => aio.read(0, buf, 0, { priority: { class: 'toString' } }), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => aio.poll(0, 0), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => new Aio({ maxEvents: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => new Aio({ submitBatch: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  t.is(aio.inFlight, 0);
  t.is(aio.submitCalls, 0);
  await aio.destroy();
});

aioTest('priority-rwflags: a DSYNC write with a best-effort priority lands', async (t) => {
  const file = tmpFile(Buffer.alloc(0));
  const fd = fs.openSync(file, 'r+');
  const aio = new Aio();
  t.is(await aio.write(fd, Buffer.from('sync'), 0, { rwFlags: constants.RWF_DSYNC, priority: { class: 'be', level: 2 } }), 4);
  t.is(fs.readFileSync(file, 'utf8'), 'sync');
  await aio.destroy();
});

aioTest('idle-exit: a process with an idle Aio context exits on its own', (t) => {
  const r = runChild(`
    import { Aio } from DIST;
    const aio = new Aio();
    await aio.fsync(1).catch(() => {});
    console.log('done');
  `, { timeout: 10000 });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), 'done');
});

aioTest('keep-alive: a pending poll keeps the process alive', (t) => {
  const r = runChild(`
    import { Aio, constants } from DIST;
    import { execFileSync } from 'node:child_process';
    import fs from 'node:fs';
    const file = ${JSON.stringify(path.join(tmpDir(), 'fifo'))};
    execFileSync('mkfifo', [file]);
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const aio = new Aio();
    const start = Date.now();
    const pending = aio.poll(fd, constants.POLLIN);
    // Write from a child process after a delay: nothing in this process keeps it alive
    // but the pending poll.
    import('node:child_process').then(({ spawn }) =>
      spawn('sh', ['-c', 'sleep 0.4; printf x > ' + file], { stdio: 'ignore' }).unref());
    await pending;
    console.log(Date.now() - start >= 300 ? 'waited' : 'too early');
  `, { timeout: 15000 });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), 'waited');
});

aioTest('process-exit: process.exit with pending polls exits at once with its code', (t) => {
  const r = runChild(`
    import { Aio, constants } from DIST;
    import { execFileSync } from 'node:child_process';
    import fs from 'node:fs';
    const file = ${JSON.stringify(path.join(tmpDir(), 'fifo'))};
    execFileSync('mkfifo', [file]);
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const aio = new Aio({ maxEvents: 32 });
    let failed = 0;
    for (let i = 0; i < 500; i++) aio.poll(fd, constants.POLLIN).catch((e) => { if (e.code !== 'ECANCELED') failed++; });
    setTimeout(() => { if (failed) { console.error('polls failed early:', failed); process.exit(1); } }, 30);
    setTimeout(() => process.exit(9), 50);
  `, { timeout: 15000 });
  t.is(r.status, 9, r.stderr);
  t.true(r.ms < 10000);
});

aioTest('leak: RSS stays flat over many AIO requests and contexts', (t) => {
  const file = tmpFile(pattern(1 << 20));
  const r = runChild(`
    import fs from 'node:fs';
    import { Aio, alignedBuffer } from DIST;
    const aio = new Aio({ maxEvents: 64 });
    const fd = fs.openSync(${JSON.stringify(file)}, 'r');
    const aligned = Array.from({ length: 64 }, () => alignedBuffer(4096));
    async function ops(n) {
      for (let done = 0; done < n; done += 64) {
        await Promise.all(Array.from({ length: 64 }, (_, i) =>
          i % 2 ? aio.read(fd, aligned[i], ((done + i) * 4096) % (1 << 20)) : aio.read(fd, Buffer.alloc(4096), ((done + i) * 4096) % (1 << 20))));
      }
      for (let i = 0; i < 100; i++) await new Aio({ maxEvents: 4 }).destroy();
    }
    async function rss() {
      for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
      return process.memoryUsage().rss / 2 ** 20;
    }
    await ops(300_000);
    const samples = [];
    for (let i = 0; i < 6; i++) { await ops(100_000); samples.push(await rss()); }
    console.log(JSON.stringify(samples));
  `, { args: ['--expose-gc', '--min-semi-space-size=16', '--max-semi-space-size=16'], timeout: 120000 });
  t.is(r.status, 0, r.stderr);
  const samples = JSON.parse(r.stdout);
  t.log(`RSS after each further 100k requests (MiB): ${samples.map((s) => s.toFixed(1)).join(', ')}`);
  // The young generation has one fixed size (--min- and --max-semi-space-size): Node 24's
  // V8 otherwise grows it past the minimum in steps of tens of MiB, at any round.
  // The allocator takes a one-off step of about 6 MiB over the first samples (on the
  // code before this test's changes too, and with no Aio context churn): compare after it.
  t.true(samples[5] - samples[2] < 8, 'RSS keeps growing');
});

aioTest('low-level: submit is one io_submit, getEvents collects the events, cancel cancels', async (t) => {
  const file = tmpFile(pattern(3 * 512, 4));
  const fd = fs.openSync(file, 'r');
  const ctx = new AioContext(16);
  const requests = [0, 1, 2].map((i) => ({ command: 'pread', fd, buffer: Buffer.alloc(512), offset: i * 512, data: `r${i}` }));
  t.is(ctx.submit(requests), 3);
  const events = await ctx.getEvents(3, 10, 5000);
  t.deepEqual(events.map((e) => e.data).sort(), ['r0', 'r1', 'r2']);
  t.true(events.every((e) => e.res === 512));
  t.true(requests.every((r, i) => r.buffer.equals(fs.readFileSync(file).subarray(i * 512, i * 512 + 512))));
  const p = fifo();
  const poll = { command: 'poll', fd: p.pollFd, events: constants.POLLIN, data: 'poll' };
  ctx.submit([poll]);
  t.deepEqual(await ctx.getEvents(1, 1, 50), [], 'getEvents times out with nothing ready');
  t.true(ctx.cancel(poll));
  const [cancelled] = await ctx.getEvents(1, 1, 5000);
  t.is(cancelled.data, 'poll');
  t.is(cancelled.res, -125, '-ECANCELED');
  t.false(ctx.cancel(poll), 'a settled request cannot be cancelled');
  p.close();
  await ctx.destroy();
});

aioTest('worker-terminate: terminating a Worker with AIO polls in flight leaves the main thread unharmed', (t) => {
  const r = runChild(`
    import { execFileSync } from 'node:child_process';
    import { Worker } from 'node:worker_threads';
    import { Aio } from DIST;
    const file = ${JSON.stringify(path.join(tmpDir(), 'fifo'))};
    execFileSync('mkfifo', [file]);
    for (let round = 0; round < 3; round++) {
      const worker = new Worker(\`
        import fs from 'node:fs';
        import { parentPort } from 'node:worker_threads';
        import { Aio, constants } from \${JSON.stringify(DIST)};
        const aio = new Aio({ maxEvents: 16 });
        const fd = fs.openSync(\${JSON.stringify(file)}, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
        for (let i = 0; i < 100; i++) aio.poll(fd, constants.POLLIN).catch((e) => { if (e.code !== 'ECANCELED') throw e; });
        await new Promise((r) => setTimeout(r, 20));
        if (aio.inFlight !== 100) throw new Error('polls did not stay pending: ' + aio.inFlight);
        parentPort.postMessage('busy');
      \`, { eval: true });
      await new Promise((resolve) => worker.once('message', resolve));
      await worker.terminate();
    }
    const aio = new Aio();
    await aio.fsync(1).catch(() => {});
    console.log('main ok');
    await aio.destroy();
  `, { timeout: 60000 });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), 'main ok');
});

aioTest('low-level: submit stops at the first invalid request like io_submit', async (t) => {
  const file = tmpFile(pattern(1024));
  const fd = fs.openSync(file, 'r');
  const ctx = new AioContext(8);
  const good = { command: 'pread', fd, buffer: Buffer.alloc(512), offset: 0, data: 'good' };
  t.is(ctx.submit([good, { command: 'pread', fd, buffer: 'nope', offset: 0 }, { ...good, data: 'never' }]), 1);
  t.throws(() => ctx.submit([{ command: 'teleport', fd }]), { code: 'ERR_INVALID_ARG_VALUE' });
  const events = await ctx.getEvents(1, 8, 5000);
  t.deepEqual(events.map((e) => [e.data, e.res]), [['good', 512]]);
  await ctx.destroy();
});

aioTest('low-level: concurrent getEvents calls are all woken', async (t) => {
  const file = tmpFile(pattern(1024));
  const fd = fs.openSync(file, 'r');
  const ctx = new AioContext(8);
  const a = ctx.getEvents(1, 1, 5000);
  const b = ctx.getEvents(1, 1, 5000);
  ctx.submit([0, 1].map((i) => ({ command: 'pread', fd, buffer: Buffer.alloc(512), offset: i * 512, data: i })));
  const [ea, eb] = await Promise.all([a, b]);
  t.is(ea.length + eb.length, 2);
  await ctx.destroy();
});

directTest('aio-batch: O_DIRECT writes then reads through the pool round-trip, one io_submit path', async (t) => {
  const d = directFd(64 * 4096);
  const aio = new Aio({ maxEvents: 16, fixedBuffers: { count: 64, size: 4096 } });
  const batch = aio.batch(32);
  for (let i = 0; i < 32; i++) {
    pattern(4096, i + 1).copy(aio.fixedBuffers[i]);
    batch.write(d.fd, i, (31 - i) * 4096);
  }
  t.is(await batch.submit(), 32);
  t.true([...Array(32).keys()].every((i) => batch.result(i) === 4096));
  batch.clear();
  for (let i = 0; i < 32; i++) batch.read(d.fd, 32 + i, i * 4096);
  t.is(batch.submitSync(), 32);
  for (let i = 0; i < 32; i++) t.deepEqual(aio.fixedBuffers[32 + i], pattern(4096, 32 - i), `block ${i}`);
  await aio.destroy();
  fs.closeSync(d.fd);
});

directTest('aio-batch: entries AIO cannot run fail alone with coded errors', async (t) => {
  const d = directFd(4 * 4096);
  const aio = new Aio({ fixedBuffers: { count: 2, size: 4096 } });
  const batch = aio.batch(8);
  batch.read(d.fd, 0, 0);
  batch.nop();                          // no NOP in AIO
  batch.read(d.fd, 1, -1);              // no file position in AIO
  batch.read(d.fd, 2, 0);               // no buffer 2
  batch.read(d.fd, 1, 100, 512);        // an offset O_DIRECT refuses: the kernel says EINVAL
  batch.fsync(d.fd, true);
  await batch.submit();
  t.is(batch.result(0), 4096);
  t.regex(batch.error(1).message, /EINVAL.*opcode/);
  t.regex(batch.error(2).message, /EINVAL.*position/);
  t.regex(batch.error(3).message, /EINVAL.*registered buffer/);
  t.is(batch.error(4)?.code, 'EINVAL');
  t.is(batch.result(5), 0);
  t.is(BatchOp.FSYNC, 3);
  await aio.destroy();
  fs.closeSync(d.fd);
});

directTest('aio-batch: destroy while a batch is in flight rejects it with ECANCELED and waits for every request', async (t) => {
  const d = directFd(256 * 4096);
  const aio = new Aio({ maxEvents: 8, fixedBuffers: { count: 256, size: 4096 } });
  const batch = aio.batch(256);
  for (let i = 0; i < 256; i++) batch.read(d.fd, i, i * 4096);
  const pending = batch.submit();
  const destroyed = aio.destroy();
  const error = await t.throwsAsync(pending);
  t.is(error.code, 'ECANCELED');
  await destroyed;
  // Requests the kernel had taken finished; the queued rest were cancelled.
  const results = [...Array(256).keys()].map((i) => batch.result(i));
  t.true(results.every((r) => r === 4096 || r === -125));
  t.true(results.includes(-125));
  fs.closeSync(d.fd);
});

aioTest('aio-batch-sqe-flags: an Aio batch refuses io_uring SQE flags and link timeouts up front', async (t) => {
  const aio = new Aio({ fixedBuffers: { count: 1, size: 4096 } });
  const fd = fs.openSync(tmpFile(Buffer.alloc(4096)), 'r');
  const batch = aio.batch(4);
  batch.read(fd, 0, 0);
  batch.link();
  batch.read(fd, 0, 0);
  batch.push(BatchOp.LINK_TIMEOUT, 0, 0, 0, 10, 0);
  await batch.submit();
  t.regex(batch.error(0).message, /EINVAL.*sqeFlags/);
  t.is(batch.error(1).code, 'ECANCELED', 'linked from a refused entry, it does not run alone');
  t.regex(batch.error(2).message, /EINVAL.*opcode/);
  fs.closeSync(fd);
  await aio.destroy();
});

aioTest('aio-context-submit-after-destroy: submit on a destroyed AioContext throws ERR_USE_AFTER_CLOSE', async (t) => {
  const ctx = new AioContext(4);
  await ctx.destroy();
  const fd = fs.openSync(tmpFile(Buffer.alloc(8)), 'r');
  t.throws(() => ctx.submit([{ command: 'pread', fd, buffer: Buffer.alloc(8), offset: 0 }]), { code: 'ERR_USE_AFTER_CLOSE' });
  fs.closeSync(fd);
});

aioTest('aio-readv-iov-max: more than 1024 views read into the first 1024, as node:fs does', async (t) => {
  const data = pattern(2048, 14);
  const fd = fs.openSync(tmpFile(data), 'r');
  const aio = new Aio();
  const views = Array.from({ length: 1500 }, () => Buffer.alloc(1));
  t.is(await aio.readv(fd, views, 0), 1024);
  t.true(Buffer.concat(views.slice(0, 1024)).equals(data.subarray(0, 1024)));
  fs.closeSync(fd);
  await aio.destroy();
});

// The 1:1 layer: io_pgetevents, res2, the caller's eventfd, aio_reqprio, io_cancel's answer.

/** Whether strace can trace a child here (installed, and ptrace allowed), decided once. */
const noStrace = (() => {
  try {
    execFileSync('strace', ['-qq', '-e', 'trace=none', 'true'], { stdio: 'ignore', timeout: 10000 });
    return undefined;
  } catch (e) {
    return `strace cannot trace here: ${e.code ?? e.message}`;
  }
})();
const straceTest = noStrace === undefined ? aioTest : (title, fn) => test.skip(`${title} (skipped: ${noStrace})`, fn);

straceTest('aio-context-pgetevents: getEvents with a sigmask collects through io_pgetevents with that mask, and res2 is the kernel’s', async (t) => {
  const file = tmpFile(pattern(512, 21));
  const log = path.join(tmpDir(), 'strace.txt');
  const code = `
    import fs from 'node:fs';
    import { AioContext } from ${JSON.stringify(distPath)};
    const fd = fs.openSync(${JSON.stringify(file)}, 'r');
    const ctx = new AioContext(8);
    ctx.submit([{ command: 'pread', fd, buffer: Buffer.alloc(512), offset: 0, data: 'a' }]);
    const events = await ctx.getEvents(1, 8, { timeout: 5000, sigmask: ['SIGINT', 'SIGUSR2'] });
    console.log(JSON.stringify(events.map((e) => [e.data, e.res, e.res2])));
    await ctx.destroy();
  `;
  const r = await runAsync('strace', ['-f', '-qq', '-e', 'trace=io_pgetevents', '-o', log, process.execPath, '--input-type=module', '-e', code]);
  t.is(r.status, 0, r.stderr);
  const [[data, res, res2]] = JSON.parse(r.stdout);
  t.deepEqual([data, res], ['a', 512]);
  const traced = fs.readFileSync(log, 'utf8');
  const call = traced.split('\n').find((line) => /io_pgetevents\(.*res=512/.test(line));
  t.truthy(call, `no io_pgetevents returned the read:\n${traced}`);
  t.regex(call, /sigmask=\[INT USR2\], sigsetsize=8/);
  t.is(res2, Number(/res2=(-?\d+)/.exec(call)[1]), 'the event reports the io_event’s res2');
});

aioTest('aio-context-sigmask-validation: sigmask takes Node’s signal names or numbers 1-64, nothing else', async (t) => {
  const ctx = new AioContext(4);
  t.deepEqual(await ctx.getEvents(0, 1, { timeout: 0, sigmask: ['SIGTERM', 34, 64] }), []);
  await t.throwsAsync(ctx.getEvents(0, 1, { sigmask: ['SIGNOPE'] }), { code: 'ERR_UNKNOWN_SIGNAL', name: 'TypeError' });
  await t.throwsAsync(ctx.getEvents(0, 1, { sigmask: [0] }), { code: 'ERR_OUT_OF_RANGE' });
  await t.throwsAsync(ctx.getEvents(0, 1, { sigmask: [65] }), { code: 'ERR_OUT_OF_RANGE' });
  await t.throwsAsync(ctx.getEvents(0, 1, { sigmask: 'SIGINT' }), { code: 'ERR_INVALID_ARG_TYPE' });
  await t.throwsAsync(ctx.getEvents(0, 1, { sigmask: [true] }), { code: 'ERR_INVALID_ARG_TYPE' });
  await t.throwsAsync(ctx.getEvents(0, 1, { timeout: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  await ctx.destroy();
});

aioTest('aio-context-eventfd: a request with the caller’s eventfd signals it, and both it and a plain request report their events', async (t) => {
  const file = tmpFile(pattern(1024, 22));
  const fd = fs.openSync(file, 'r');
  const efd = eventfd({ nonblocking: true }); // a read of an unsignalled one fails instead of blocking
  const ctx = new AioContext(8);
  const mine = { command: 'pread', fd, buffer: Buffer.alloc(512), offset: 0, eventfd: efd, data: 'eventfd' };
  const plain = { command: 'pread', fd, buffer: Buffer.alloc(512), offset: 512, data: 'plain' };
  t.is(ctx.submit([mine, plain]), 2);
  const events = await ctx.getEvents(2, 8, { timeout: 5000 });
  t.deepEqual(events.map((e) => [e.data, e.res]).sort(), [['eventfd', 512], ['plain', 512]]);
  t.true(mine.buffer.equals(fs.readFileSync(file).subarray(0, 512)));
  const counter = Buffer.alloc(8);
  t.is(fs.readSync(efd, counter, 0, 8, null), 8);
  t.is(counter.readBigUInt64LE(), 1n, 'one completion signalled the caller’s eventfd');
  fs.closeSync(efd);
  fs.closeSync(fd);
  await ctx.destroy();
});

aioTest('aio-context-eventfd-wait: a waiting getEvents learns of a completion that signalled only the caller’s eventfd', async (t) => {
  const p = fifo();
  const efd = eventfd({ nonblocking: true });
  const ctx = new AioContext(8);
  ctx.submit([{ command: 'poll', fd: p.pollFd, events: constants.POLLIN, eventfd: efd, data: 'poll' }]);
  const waiting = ctx.getEvents(1, 1, { timeout: 5000 });
  await new Promise((r) => setTimeout(r, 50));
  t.throws(() => fs.readSync(efd, Buffer.alloc(8), 0, 8, null), { code: 'EAGAIN' }, 'not signalled before the data');
  fs.writeSync(p.writeFd, 'x');
  const [event] = await waiting;
  t.is(event?.data, 'poll');
  t.true((event.res & constants.POLLIN) !== 0);
  const counter = Buffer.alloc(8);
  fs.readSync(efd, counter, 0, 8, null);
  t.is(counter.readBigUInt64LE(), 1n);
  fs.closeSync(efd);
  p.close();
  await ctx.destroy();
});

aioTest('aio-context-reqprio: a read with aio_reqprio best effort, level 4 completes', async (t) => {
  const file = tmpFile(pattern(512, 23));
  const fd = fs.openSync(file, 'r');
  const ctx = new AioContext(4);
  ctx.submit([{ command: 'pread', fd, buffer: Buffer.alloc(512), offset: 0, reqprio: (2 << 13) | 4 }]);
  const [event] = await ctx.getEvents(1, 1, { timeout: 5000 });
  t.is(event.res, 512);
  fs.closeSync(fd);
  await ctx.destroy();
});

aioTest('aio-context-reqprio-invalid: an aio_reqprio of no valid class refuses the submit with EINVAL, and the error says why', (t) => {
  const fd = fs.openSync(tmpFile(pattern(512, 24)), 'r');
  const ctx = new AioContext(4);
  const error = t.throws(() => ctx.submit([{ command: 'pread', fd, buffer: Buffer.alloc(512), offset: 0, reqprio: 7 << 13 }]), { instanceOf: IoError, code: 'EINVAL' });
  t.is(error.syscall, 'io_submit');
  t.regex(error.message, /aio_reqprio 0xe000 \(class 7, data 0\) is not a valid I\/O priority: the class must be/);
  t.is(ctx.inFlight, 0);
  fs.closeSync(fd);
  return ctx.destroy();
});

// io_submit(2) refuses an iocb it cannot take before queueing it, synchronously: it
// returns how many it took before that one, or fails with the error when it is the
// first (the seed, linux_aio_bind, raises OSError EBADF for a bad aio_resfd). On the
// old code submit() returned 1 and the error came later as an event.
aioTest('aio-context-submit-bad-fd: a pread on a descriptor that is not open throws EBADF from io_submit, with the caller first in its stack', (t) => {
  const ctx = new AioContext(4);
  const error = t.throws(() => ctx.submit([{ command: 'pread', fd: 9999, buffer: Buffer.alloc(8), offset: 0 }]), { instanceOf: IoError, code: 'EBADF' });
  t.is(error.syscall, 'io_submit');
  t.regex(error.message, /fd 9999 is not an open descriptor/);
  t.regex(error.stack.split('\n')[1], /aio\.test\.mjs/, 'the first frame is the caller’s');
  t.is(ctx.inFlight, 0);
  return ctx.destroy();
});

aioTest('aio-context-submit-bad-eventfd: an eventfd that is not open throws EBADF, and one that is not an eventfd EINVAL', (t) => {
  const fd = fs.openSync(tmpFile(pattern(64, 40)), 'r');
  const ctx = new AioContext(4);
  const read = { command: 'pread', fd, buffer: Buffer.alloc(64), offset: 0 };
  const closed = t.throws(() => ctx.submit([{ ...read, eventfd: 9999 }]), { instanceOf: IoError, code: 'EBADF' });
  t.regex(closed.message, /aio_resfd 9999 \(the request's eventfd\) is not an open descriptor/);
  const notEventfd = t.throws(() => ctx.submit([{ ...read, eventfd: fd }]), { instanceOf: IoError, code: 'EINVAL' });
  t.regex(notEventfd.message, /is not an eventfd/);
  t.is(ctx.inFlight, 0);
  fs.closeSync(fd);
  return ctx.destroy();
});

aioTest('aio-context-submit-bad-command: an fsync of a pipe, which has none, throws EINVAL from io_submit', (t) => {
  const p = fifo();
  const ctx = new AioContext(4);
  const error = t.throws(() => ctx.submit([{ command: 'fsync', fd: p.writeFd }]), { instanceOf: IoError, code: 'EINVAL' });
  t.is(error.syscall, 'io_submit');
  t.regex(error.message, /cannot be synced/);
  t.throws(() => ctx.submit([{ command: 'noop', fd: p.writeFd }]), { code: 'ERR_INVALID_ARG_VALUE' });
  p.close();
  return ctx.destroy();
});

aioTest('aio-context-submit-partial: a refused request ends the submit: the count before it, and no event for it or any after it', async (t) => {
  const file = tmpFile(pattern(64, 41));
  const fd = fs.openSync(file, 'r');
  const ctx = new AioContext(8);
  const requests = [
    { command: 'pread', fd, buffer: Buffer.alloc(16), offset: 0, data: 'first' },
    { command: 'pread', fd: 9999, buffer: Buffer.alloc(16), offset: 0, data: 'refused' },
    { command: 'pread', fd, buffer: Buffer.alloc(16), offset: 16, data: 'after' },
  ];
  t.is(ctx.submit(requests), 1);
  t.is(ctx.inFlight, 1);
  const events = await ctx.getEvents(1, 8, { timeout: 5000 });
  t.deepEqual(events.map((e) => [e.data, e.res]), [['first', 16]]);
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.deepEqual(await ctx.getEvents(0, 8, 0), [], 'no event for the refused one or the one after it');
  t.true(requests[2].buffer.equals(Buffer.alloc(16)), 'the one after it was never read');
  t.is(ctx.submit(requests.slice(2)), 1, 'a request withdrawn by a refusal can be submitted again');
  t.deepEqual((await ctx.getEvents(1, 8, { timeout: 5000 })).map((e) => [e.data, e.res]), [['after', 16]]);
  fs.closeSync(fd);
  await ctx.destroy();
});

aioTest('aio-context-submit-invalid-after-refused: a kernel refusal of the first request is thrown even when a later one is invalid', (t) => {
  const ctx = new AioContext(4);
  t.throws(() => ctx.submit([{ command: 'pread', fd: 9999, buffer: Buffer.alloc(8), offset: 0 }, null]), { instanceOf: IoError, code: 'EBADF' });
  t.is(ctx.inFlight, 0);
  return ctx.destroy();
});

// The seed's test_read_w_priority: IOPRIO_CLASS_IDLE with level 10, which
// ioprio_check_cap accepts (the idle class has no levels to check). Refused with
// ERR_OUT_OF_RANGE on the old code.
aioTest('aio-idle-priority-level-10: the idle class with level 10 reads, through Aio and AioContext', async (t) => {
  const data = pattern(64, 42);
  const fd = fs.openSync(tmpFile(data), 'r');
  const aio = new Aio();
  const buf = Buffer.alloc(64);
  t.is(await aio.read(fd, buf, 0, { priority: { class: 'idle', level: 10 } }), 64);
  t.true(buf.equals(data));
  await aio.destroy();
  const ctx = new AioContext(1);
  const request = { command: 'pread', fd, buffer: Buffer.alloc(64), offset: 0, reqprio: (3 << 13) | 10 };
  t.is(ctx.submit([request]), 1);
  const [event] = await ctx.getEvents(1, 1, { timeout: 5000 });
  t.is(event.res, 64);
  t.true(request.buffer.equals(data));
  fs.closeSync(fd);
  await ctx.destroy();
});

aioTest('aio-priority-kernel-judges: class none with a level is the kernel’s EINVAL, explained, not a validation error', async (t) => {
  const fd = fs.openSync(tmpFile(pattern(64, 43)), 'r');
  const aio = new Aio();
  const error = await t.throwsAsync(aio.read(fd, Buffer.alloc(64), 0, { priority: { class: 'none', level: 1 } }), { instanceOf: IoError, code: 'EINVAL' });
  t.regex(error.message, /class 0 \(none\) takes level 0 only/);
  t.is(await aio.read(fd, Buffer.alloc(64), 0, { priority: { class: 'none' } }), 64, "'none' defaults to level 0");
  fs.closeSync(fd);
  await aio.destroy();
});

aioTest('aio-context-bad-fields: eventfd and reqprio are range-checked before io_submit', (t) => {
  const fd = fs.openSync(tmpFile(pattern(512, 25)), 'r');
  const ctx = new AioContext(4);
  const read = { command: 'pread', fd, buffer: Buffer.alloc(512), offset: 0 };
  t.throws(() => ctx.submit([{ ...read, reqprio: 0x10000 }]), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => ctx.submit([{ ...read, reqprio: -1 }]), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => ctx.submit([{ ...read, reqprio: 4, priority: { class: 'be' } }]), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => ctx.submit([{ command: 'fsync', fd, reqprio: 4 }]), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => ctx.submit([{ ...read, eventfd: -1 }]), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => ctx.submit([{ ...read, eventfd: '3' }]), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => ctx.submit([null]), { code: 'ERR_INVALID_ARG_TYPE' });
  t.is(ctx.inFlight, 0);
  fs.closeSync(fd);
  return ctx.destroy();
});

directTest('aio-context-cancel-direct: cancel is false for an O_DIRECT read in flight, which completes with its bytes', async (t) => {
  const d = directFd(4096);
  const ctx = new AioContext(4);
  const read = { command: 'pread', fd: d.fd, buffer: alignedBuffer(4096), offset: 0, data: 'direct' };
  t.is(ctx.submit([read]), 1);
  t.false(ctx.cancel(read), 'io_cancel cannot cancel a file read');
  const [event] = await ctx.getEvents(1, 1, { timeout: 5000 });
  t.deepEqual([event.data, event.res], ['direct', 4096]);
  fs.closeSync(d.fd);
  await ctx.destroy();
});

aioTest('aio-context-cancel-poll: cancel is true for a poll on an empty pipe, whose event reports -ECANCELED', async (t) => {
  const p = fifo();
  const ctx = new AioContext(4);
  const poll = { command: 'poll', fd: p.pollFd, events: constants.POLLIN, data: 'poll' };
  ctx.submit([poll]);
  t.true(ctx.cancel(poll));
  const [event] = await ctx.getEvents(1, 1, { timeout: 5000 });
  t.deepEqual([event.data, event.res], ['poll', -125]);
  t.is(event.error?.code, 'ECANCELED');
  p.close();
  await ctx.destroy();
});

aioTest('aio-context-in-flight-twice: a request object still in flight is refused with ERR_INVALID_STATE, and accepted again once reported', async (t) => {
  const p = fifo();
  const ctx = new AioContext(4);
  const poll = { command: 'poll', fd: p.pollFd, events: constants.POLLIN, data: 'poll' };
  t.is(ctx.submit([poll]), 1);
  t.throws(() => ctx.submit([poll]), { code: 'ERR_INVALID_STATE' });
  t.is(ctx.submit([{ ...poll, data: 'copy' }, poll]), 1, 'submit stops at the request in flight');
  t.is(ctx.inFlight, 2);
  t.true(ctx.cancel(poll));
  fs.writeSync(p.writeFd, 'x');
  const events = await ctx.getEvents(2, 2, { timeout: 5000 });
  t.deepEqual(events.map((e) => e.data).sort(), ['copy', 'poll']);
  t.is(events.find((e) => e.data === 'poll').res, -125, 'cancel reached the one submitted');
  t.is(ctx.submit([poll]), 1, 'reported, it can go again');
  p.close();
  await ctx.destroy();
});

aioTest('aio-einval-offset: an offset past the largest file offset on a normal fd says so, not O_DIRECT', async (t) => {
  const fd = fs.openSync(tmpFile(pattern(16, 26)), 'r');
  const aio = new Aio();
  const err = await t.throwsAsync(aio.read(fd, Buffer.alloc(4), 2n ** 63n - 2n), { code: 'EINVAL' });
  t.regex(err.message, /offset 9223372036854775806 \+ length 4 passes the largest file offset/);
  t.notRegex(err.message, /O_DIRECT/);
  fs.closeSync(fd);
  await aio.destroy();
});

aioTest('aio-ebadf-direction: a write on a descriptor open for reading says so', async (t) => {
  const fd = fs.openSync(tmpFile(pattern(16, 27)), 'r');
  const aio = new Aio();
  const err = await t.throwsAsync(aio.write(fd, Buffer.from('x'), 0), { code: 'EBADF' });
  t.regex(err.message, new RegExp(`pwrite \\(fd ${fd} is open for reading only\\)`));
  fs.closeSync(fd);
  await aio.destroy();
});

aioTest('aio-setup-emfile: a context made with no descriptors left names eventfd and too many open files', async (t) => {
  const code = `
    import fs from 'node:fs';
    import { Aio } from ${JSON.stringify(distPath)};
    await new Aio({ maxEvents: 1 }).destroy(); // loads the addon while descriptors remain
    const held = [];
    try { for (;;) held.push(fs.openSync('/dev/null', 'r')); } catch (e) { if (e.code !== 'EMFILE') throw e; }
    try { new Aio(); console.log('created'); } catch (e) { console.log(JSON.stringify({ code: e.code, syscall: e.syscall, message: e.message })); }
  `;
  // A low RLIMIT_NOFILE for the child only (Node has no setrlimit).
  const r = await runAsync('sh', ['-c', 'ulimit -n 64 && exec "$0" --input-type=module -e "$1"', process.execPath, code]);
  t.is(r.status, 0, r.stderr);
  const err = JSON.parse(r.stdout);
  t.is(err.code, 'EMFILE');
  t.is(err.syscall, 'eventfd');
  t.regex(err.message, /^EMFILE: too many open files, eventfd \(creating the context's completion eventfd failed: .*too many open files/);
});
