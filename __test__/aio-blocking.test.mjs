// Kernel AIO runs reads and writes on pipes, FIFOs, sockets and character devices
// inside io_submit: one with nothing to read would freeze the event loop. Aio refuses
// them at once, unless RWF_NOWAIT makes the kernel answer instead of blocking.
import fs from 'node:fs';
import { Aio, AioContext, IoError, constants } from '../dist/index.js';
import { aioTest, fifo, runChildAsync } from './helpers.mjs';

aioTest('aio-fifo-read-refused: a read on an empty FIFO rejects EAGAIN at once, saying what to use', async (t) => {
  const aio = new Aio();
  const p = fifo();
  const error = await t.throwsAsync(aio.read(p.readFd, Buffer.alloc(8), 0), { instanceOf: IoError, code: 'EAGAIN' });
  t.regex(error.message, /inside io_submit.*Aio\.poll\(\).*Ring.*RWF_NOWAIT/);
  t.is(aio.inFlight, 0);
  p.close();
  await aio.destroy();
});

aioTest('aio-fifo-loop-alive: timers keep running while Aio reads target an empty FIFO', async (t) => {
  // On the old code the child froze inside io_submit and was killed at the timeout.
  const r = await runChildAsync(`
    import fs from 'node:fs';
    import { execFileSync } from 'node:child_process';
    import { Aio } from DIST;
    const file = '/tmp/uring-aio-fifo-' + process.pid;
    execFileSync('mkfifo', [file]);
    const fd = fs.openSync(file, 'r+');
    const aio = new Aio();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const outcome = await aio.read(fd, Buffer.alloc(8), 0).then(() => 'read', (e) => e.code);
    await new Promise((resolve) => setTimeout(resolve, 50));
    clearInterval(timer);
    await aio.destroy();
    fs.closeSync(fd);
    fs.rmSync(file);
    // Any tick: a frozen loop has none (a busy machine may delay them, not stop them).
    console.log(outcome, ticks > 0);
  `, { timeout: 10000 });
  t.is(r.signal, null, 'the child was not killed');
  t.is(r.stdout.trim(), 'EAGAIN true');
});

aioTest('aio-fifo-nowait: with RWF_NOWAIT a FIFO read goes to the kernel, which answers without blocking', async (t) => {
  const aio = new Aio();
  const p = fifo();
  fs.writeSync(p.writeFd, 'ready');
  const buf = Buffer.alloc(5);
  // Kernels that give FIFOs FMODE_NOWAIT read what is there; others (6.18 here) refuse
  // the flag with EOPNOTSUPP. Either way the kernel answered, and nothing blocked.
  const outcome = await aio.read(p.readFd, buf, 0, { rwFlags: constants.RWF_NOWAIT }).then((n) => n, (e) => e.code);
  t.true(outcome === 5 || outcome === 'ENOTSUP', String(outcome));
  if (outcome === 5) t.is(buf.toString(), 'ready');
  p.close();
  await aio.destroy();
});

aioTest('aio-context-fifo-refused: an AioContext pread on a FIFO refuses the submit with EAGAIN instead of blocking', (t) => {
  const ctx = new AioContext();
  const p = fifo();
  const error = t.throws(() => ctx.submit([{ command: 'pread', fd: p.readFd, buffer: Buffer.alloc(8), offset: 0, data: 'fifo' }]), { instanceOf: IoError, code: 'EAGAIN' });
  t.is(error.syscall, 'io_submit');
  t.regex(error.message, /inside io_submit/);
  t.is(ctx.inFlight, 0);
  p.close();
  return ctx.destroy();
});

aioTest('aio-fifo-checked-at-submit: a descriptor that becomes a FIFO between the call and io_submit is still refused', async (t) => {
  // The check runs when the iocb goes to the kernel (one fstat per descriptor per
  // io_submit batch), not when the call is made: on the old code the read was checked
  // against the regular file, and the thread froze in io_submit on the FIFO.
  const r = await runChildAsync(`
    import fs from 'node:fs';
    import { execFileSync } from 'node:child_process';
    import { Aio } from DIST;
    const file = '/tmp/uring-aio-fifo-swap-' + process.pid;
    execFileSync('mkfifo', [file]);
    fs.writeFileSync(file + '.data', 'data');
    const fd = fs.openSync(file + '.data', 'r');
    const aio = new Aio();
    const read = aio.read(fd, Buffer.alloc(8), 0).then(() => 'read', (e) => e.code);
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

aioTest('aio-submit-sync-full: submitSync returns while polls that never complete fill maxEvents', async (t) => {
  const r = await runChildAsync(`
    import { execFileSync } from 'node:child_process';
    import fs from 'node:fs';
    import os from 'node:os';
    import path from 'node:path';
    import { Aio, constants } from DIST;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uring-aio-aio-full-'));
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const pollFd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const keep = fs.openSync(fifo, 'w');
    const file = path.join(dir, 'data.bin');
    fs.writeFileSync(file, Buffer.alloc(4096, 7));
    const fd = fs.openSync(file, 'r');
    const aio = new Aio({ maxEvents: 8, fixedBuffers: { count: 1, size: 4096 } });
    const polls = Array.from({ length: 16 }, () => aio.poll(pollFd, constants.POLLIN).catch((e) => e.code));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const batch = aio.batch(1);
    batch.read(fd, 0, 0);
    console.log('ran', batch.submitSync(), batch.result(0), aio.fixedBuffers[0][0]);
    await aio.destroy();
    console.log('polls', (await Promise.all(polls)).every((c) => c === 'ECANCELED'));
    fs.rmSync(dir, { recursive: true });
  `, { timeout: 20000 });
  t.is(r.signal, null, 'submitSync hung');
  t.is(r.status, 0, r.stderr);
  t.deepEqual(r.stdout.trim().split('\n'), ['ran 1 4096 7', 'polls true']);
});
