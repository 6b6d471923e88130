// Submission does not depend on which source's libuv handles run first: every
// operation queued during a JS callback reaches the kernel before that callback's
// microtasks finish. Each scenario runs in a child process with nothing else on its
// loop (no timer, no IPC), so an operation left in user space hangs it until the
// timeout kills it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Ring } from '../dist/index.js';
import { aioTest, distUrl, pattern, ringTest, runChildAsync, support, tmpDir, tmpFile } from './helpers.mjs';

const ITERATIONS = 1000;
const HANG_TIMEOUT = 20_000;

/**
 * A module that alternates awaited operations over `kinds` (each 'ring' or 'aio') on
 * one thread: a file read, a NOP (Ring) or fsync (Aio), and a FIFO read on one
 * source whose data is written by the next source. Prints 'ok <iterations>'.
 */
function alternatingModule(kinds, file, fifoPath) {
  return `
    import fs from 'node:fs';
    import { Ring, Aio } from ${JSON.stringify(distUrl)};
    const kinds = ${JSON.stringify(kinds)};
    const sources = kinds.map((k) => (k === 'ring' ? new Ring({ entries: 8 }) : new Aio({ maxEvents: 8 })));
    const fd = fs.openSync(${JSON.stringify(file)}, 'r');
    const fifoRead = fs.openSync(${JSON.stringify(fifoPath)}, 'r+');
    const fifoWrite = fs.openSync(${JSON.stringify(fifoPath)}, 'w');
    const expected = fs.readFileSync(${JSON.stringify(file)});
    const buf = Buffer.alloc(4096);
    const one = Buffer.alloc(1);
    for (let i = 0; i < ${ITERATIONS}; i++) {
      const s = sources[i % sources.length];
      const next = sources[(i + 1) % sources.length];
      switch (i % 3) {
        case 0: {
          const n = await s.read(fd, buf, (i % 4) * 4096);
          if (n !== 4096 || !buf.equals(expected.subarray((i % 4) * 4096, (i % 4 + 1) * 4096))) throw new Error('bad read at ' + i);
          break;
        }
        case 1:
          if (s instanceof Ring) await s.nop(); else await s.fsync(fd);
          break;
        default: {
          // The reader is the ring among the two (kernel AIO would run a FIFO read
          // synchronously); the writer is the other source.
          const [reader, writer] = s instanceof Ring ? [s, next] : [next, s];
          if (!(reader instanceof Ring)) { await writer.fsync(fd); break; }
          const pending = reader.read(fifoRead, one, null);
          // Aio refuses FIFOs (it would write inside io_submit): it takes a turn with
          // an fsync, and the byte goes in with a plain write.
          if (writer instanceof Ring) await writer.write(fifoWrite, Buffer.from([i & 0xff]), null);
          else {
            await writer.fsync(fd);
            fs.writeSync(fifoWrite, Buffer.from([i & 0xff]));
          }
          if (await pending !== 1 || one[0] !== (i & 0xff)) throw new Error('bad fifo read at ' + i);
        }
      }
    }
    await Promise.all(sources.map((s) => s.destroy()));
    console.log('ok ${ITERATIONS}');
  `;
}

/** A path to a new FIFO in a fresh temp dir. */
function makeFifo() {
  const file = path.join(tmpDir(), 'fifo');
  execFileSync('mkfifo', [file]);
  return file;
}

function fixtures() {
  return { file: tmpFile(pattern(4 * 4096, 21)), fifoPath: makeFifo() };
}

async function runAlternating(t, kinds) {
  const { file, fifoPath } = fixtures();
  const r = await runChildAsync(alternatingModule(kinds, file, fifoPath), { timeout: HANG_TIMEOUT });
  t.is(r.signal, null, `hung (killed after ${HANG_TIMEOUT} ms): ${r.stderr}`);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), `ok ${ITERATIONS}`);
}

for (const count of [2, 3, 8]) {
  ringTest(`rings-${count}: ${count} rings on one thread alternate awaited reads, nops and FIFO reads`, (t) => runAlternating(t, Array(count).fill('ring')));
}

(support.ok ? aioTest : ringTest.skip)('ring-and-aio: a Ring and an Aio on one thread alternate awaited operations', (t) => runAlternating(t, ['ring', 'aio']));

ringTest('worker: three rings alternating inside a Worker finish', async (t) => {
  const { file, fifoPath } = fixtures();
  const workerFile = path.join(tmpDir(), 'worker.mjs');
  fs.writeFileSync(workerFile, alternatingModule(['ring', 'ring', 'ring'], file, fifoPath));
  const r = await runChildAsync(`
    import { Worker } from 'node:worker_threads';
    const w = new Worker(${JSON.stringify(workerFile)}, { execArgv: [] });
    w.on('error', (e) => { console.error(e); process.exitCode = 1; });
  `, { timeout: HANG_TIMEOUT });
  t.is(r.signal, null, `hung (killed after ${HANG_TIMEOUT} ms): ${r.stderr}`);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), `ok ${ITERATIONS}`);
});

/**
 * A FIFO read (1 MiB buffer) queued `where`, then, from a setImmediate callback that
 * runs in the same loop turn, a synchronous write of 100 KiB: more than the pipe holds
 * (64 KiB), less than the pipe plus one read. It returns only if the read was already
 * in the kernel.
 */
const FIFO_PLACES = {
  'top-level': { what: 'at the top level of a module', wrap: (queue, write) => `${queue}; setImmediate(() => { ${write} });` },
  'set-immediate': { what: 'in a setImmediate callback', wrap: (queue, write) => `setImmediate(() => { ${queue} }); setImmediate(() => { ${write} });` },
  'io-callback': { what: 'in an I/O callback', wrap: (queue, write) => `fs.stat('.', () => { ${queue}; setImmediate(() => { ${write} }); });` },
};

for (const [where, { what, wrap }] of Object.entries(FIFO_PLACES)) {
  ringTest(`fifo-before-immediate-${where}: a FIFO read queued ${what} is in the kernel before the turn's setImmediate callbacks`, async (t) => {
    const fifo = makeFifo();
    const queue = 'globalThis.pending = ring.read(readFd, big, null)';
    const write = `
      const n = fs.writeSync(writeFd, Buffer.alloc(100 * 1024, 7));
      globalThis.pending.then((got) => { console.log(got > 0 && n === 100 * 1024 ? 'ok' : 'bad ' + got + ' ' + n); return ring.destroy(); });`;
    const r = await runChildAsync(`
      import fs from 'node:fs';
      import { Ring } from DIST;
      const ring = new Ring();
      const readFd = fs.openSync(${JSON.stringify(fifo)}, 'r+');
      const writeFd = fs.openSync(${JSON.stringify(fifo)}, 'w');
      const big = Buffer.alloc(1024 * 1024);
      ${wrap(queue, write)}
    `, { timeout: HANG_TIMEOUT });
    t.is(r.signal, null, `hung: the read was not in the kernel when the writer blocked. ${r.stderr}`);
    t.is(r.status, 0, r.stderr);
    t.is(r.stdout.trim(), 'ok');
  });
}

ringTest('continuation-on-idle-ring: a read queued in one ring\'s completion continuation on an idle second ring completes', async (t) => {
  const file = tmpFile(pattern(4096, 5));
  const r = await runChildAsync(`
    import fs from 'node:fs';
    import { Ring } from DIST;
    const a = new Ring(), b = new Ring();
    const fd = fs.openSync(${JSON.stringify(file)}, 'r');
    const buf = Buffer.alloc(4096);
    // Each completion's continuation queues on the other ring, which is idle and whose
    // libuv handles may already have run this loop turn.
    for (let i = 0; i < 10; i++) { await a.nop(); await b.nop(); }
    const n = await b.nop().then(() => a.read(fd, buf, 0));
    console.log(n === 4096 && buf.equals(fs.readFileSync(${JSON.stringify(file)})) ? 'ok' : 'bad');
    await Promise.all([a.destroy(), b.destroy()]);
  `, { timeout: HANG_TIMEOUT });
  t.is(r.signal, null, `hung: ${r.stderr}`);
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), 'ok');
});

ringTest('batching-depth-32: 32 awaiting readers share one io_uring_enter per turn', async (t) => {
  const file = tmpFile(pattern(64 * 4096, 3));
  const ring = new Ring({ entries: 64, inline: false });
  const fd = fs.openSync(file, 'r');
  const before = ring.submitCalls;
  const perWorker = 100;
  await Promise.all(Array.from({ length: 32 }, async (_, w) => {
    const buf = Buffer.alloc(4096);
    for (let i = 0; i < perWorker; i++) await ring.read(fd, buf, ((w + i) % 64) * 4096);
  }));
  const reads = 32 * perWorker;
  const enters = ring.submitCalls - before;
  t.log(`${enters} io_uring_enter for ${reads} reads (${(enters / reads).toFixed(4)} per read)`);
  t.true(enters <= reads / 16, `${enters} enters for ${reads} reads: batching per turn is lost`);
  fs.closeSync(fd);
  await ring.destroy();
});
