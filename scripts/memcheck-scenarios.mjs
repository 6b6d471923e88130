// The lifetime scenarios scripts/memcheck.mjs runs under valgrind memcheck: each one
// gives the kernel memory through the library and then does what could free or move
// that memory under it (GC, detach, transfer, resize, destroy, abort, Worker exit,
// process exit). Run alone (`node --expose-gc scripts/memcheck-scenarios.mjs`) it is a
// quick self-check; its output ends with "scenarios: N passed".
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Aio, Ring, alignedBuffer, constants, localAddress } from '../dist/index.js';

const dist = new URL('../dist/index.js', import.meta.url).pathname;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uring-aio-memcheck-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const gc = globalThis.gc ?? (() => {});

let fifoCount = 0;
function fifo() {
  const file = path.join(dir, `fifo${fifoCount++}`);
  execFileSync('mkfifo', [file]);
  const readFd = fs.openSync(file, 'r+');
  const writeFd = fs.openSync(file, 'w');
  const pollFd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  return { file, readFd, writeFd, pollFd, close: () => [readFd, writeFd, pollFd].forEach((fd) => fs.closeSync(fd)) };
}
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

/** A connected TCP pair over 127.0.0.1 through `ring`: [server, client]. */
async function tcpPair(ring) {
  const listener = await ring.socket(constants.AF_INET, constants.SOCK_STREAM);
  await ring.bind(listener, { address: '127.0.0.1', port: 0 });
  await ring.listen(listener);
  const client = await ring.socket(constants.AF_INET, constants.SOCK_STREAM);
  const [accepted] = await Promise.all([ring.accept(listener), ring.connect(client, localAddress(listener))]);
  fs.closeSync(listener);
  return [accepted.fd, client];
}


const scenarios = {
  'gc-of-the-view': async () => {
    const ring = new Ring();
    const p = fifo();
    let view = Buffer.alloc(64);
    const pending = ring.read(p.readFd, view, -1);
    view = undefined;
    gc();
    await tick();
    fs.writeSync(p.writeFd, Buffer.alloc(64, 1));
    assert.equal(await pending, 64);
    p.close();
    await ring.destroy();
  },
  'transfer-mid-read': async () => {
    const ring = new Ring();
    const p = fifo();
    const view = new Uint8Array(32);
    const pending = ring.read(p.readFd, view, -1);
    const moved = structuredClone(view.buffer, { transfer: [view.buffer] });
    gc();
    fs.writeSync(p.writeFd, Buffer.alloc(32, 2));
    assert.equal(await pending, 32);
    assert.equal(new Uint8Array(moved)[0], 0);
    p.close();
    await ring.destroy();
  },
  'resize-mid-read': async () => {
    const ring = new Ring();
    const p = fifo();
    const ab = new ArrayBuffer(64, { maxByteLength: 128 });
    const pending = ring.read(p.readFd, new Uint8Array(ab), -1);
    ab.resize(8);
    fs.writeSync(p.writeFd, Buffer.alloc(64, 3));
    assert.equal(await pending, 64);
    p.close();
    await ring.destroy();
  },
  'aligned-buffer-dropped-mid-read': async () => {
    const ring = new Ring();
    const p = fifo();
    let buf = alignedBuffer(4096);
    const pending = ring.read(p.readFd, buf, -1);
    buf = undefined;
    gc();
    await tick();
    gc();
    fs.writeSync(p.writeFd, Buffer.alloc(4096, 4));
    assert.equal(await pending, 4096);
    p.close();
    await ring.destroy();
  },
  'destroy-with-reads-pending': async () => {
    const ring = new Ring();
    const p = fifo();
    const reads = Array.from({ length: 32 }, () => ring.read(p.readFd, Buffer.alloc(16), -1));
    await ring.destroy();
    const settled = await Promise.allSettled(reads);
    assert.ok(settled.every((s) => s.status === 'rejected' && s.reason.code === 'ECANCELED'));
    p.close();
  },
  'abort-races': async () => {
    const ring = new Ring();
    const p = fifo();
    const all = [];
    for (let i = 0; i < 200; i++) {
      const ac = new AbortController();
      all.push(ring.read(p.readFd, Buffer.alloc(8), -1, { signal: ac.signal }).catch((e) => e.code));
      if (i % 2) ac.abort();
      else queueMicrotask(() => ac.abort());
    }
    assert.ok((await Promise.all(all)).every((code) => code === 'ABORT_ERR'));
    p.close();
    await ring.destroy();
  },
  'timeouts-and-chains': async () => {
    const ring = new Ring();
    const p = fifo();
    const timed = ring.read(p.readFd, Buffer.alloc(8), -1, { timeout: 2 }).catch((e) => e.code);
    const file = path.join(dir, 'chain.bin');
    const fd = fs.openSync(file, 'w+');
    const back = Buffer.alloc(5);
    const results = await ring.chain().write(fd, Buffer.from('hello'), 0).fsync(fd).read(fd, back, 0).submit();
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled']);
    assert.equal(back.toString(), 'hello');
    assert.equal(await timed, 'ETIME');
    fs.closeSync(fd);
    p.close();
    await ring.destroy();
  },
  'multishot-break': async () => {
    const ring = new Ring();
    let n = 0;
    for await (const _ of ring.timeoutMultishot(1)) if (++n === 5) break;
    assert.equal(n, 5);
    await ring.destroy();
  },
  'batch-destroyed-mid-flight': async () => {
    const ring = new Ring({ fixedBuffers: { count: 4, size: 4096 } });
    const p = fifo();
    const batch = ring.batch(4);
    for (let i = 0; i < 4; i++) batch.read(p.readFd, i, -1, 16);
    const done = batch.submit().catch((e) => e.code);
    await tick();
    await ring.destroy();
    assert.equal(await done, 'ECANCELED');
    p.close();
  },
  'aio-poll-and-destroy': async () => {
    const aio = new Aio();
    const p = fifo();
    const polls = Array.from({ length: 8 }, () => aio.poll(p.pollFd, 1).catch((e) => e.code));
    const buf = Buffer.alloc(16);
    const file = path.join(dir, 'aio.bin');
    fs.writeFileSync(file, 'aio data here...');
    const fd = fs.openSync(file, 'r');
    assert.equal(await aio.read(fd, buf, 0), 16);
    await aio.destroy();
    assert.ok((await Promise.all(polls)).every((code) => code === 'ECANCELED'));
    fs.closeSync(fd);
    p.close();
  },
  'worker-terminated-mid-read': async () => {
    const p = fifo();
    const code = `
      const { Ring } = require(${JSON.stringify(dist)});
      const { parentPort } = require('node:worker_threads');
      const ring = new Ring();
      for (let i = 0; i < 8; i++) ring.read(${p.readFd}, Buffer.alloc(8), -1).catch(() => {});
      ring.nop().then(() => parentPort.postMessage('ready'));
    `;
    const worker = new Worker(code, { eval: true });
    await new Promise((resolve) => worker.once('message', resolve));
    await worker.terminate();
    p.close();
  },
  'buffer-ring-chunks-outlive-ring': async () => {
    // Chunks over a provided buffer ring, one released, one dropped for the GC, one
    // held across destroy(): the ring's memory must outlive every one of them.
    const ring = new Ring();
    const [server, client] = await tcpPair(ring);
    const bufferRing = ring.bufferRing({ count: 4, size: 256, copyUpTo: 0 });
    const it = ring.recvMultishot(server, { bufferRing });
    const chunks = [];
    for (let i = 0; i < 3; i++) {
      await ring.send(client, Buffer.alloc(100, i + 1));
      chunks.push((await it.next()).value);
    }
    chunks[0].release();
    chunks[1] = undefined;
    await it.return();
    await ring.destroy();
    gc();
    await tick();
    gc();
    assert.equal(chunks[2][99], 3);
    assert.equal(chunks[2].release(), true);
    fs.closeSync(server);
    fs.closeSync(client);
  },
  'copied-chunks-and-send-staging': async () => {
    // Small chunks copied out of the chunk arena while their rows are handled, held
    // across destroy(); sends read from the send staging, some waiting for room in the
    // kernel while later turns send more and the ring is destroyed under them.
    const ring = new Ring();
    const [server, client] = await tcpPair(ring);
    const bufferRing = ring.bufferRing({ count: 2, size: 256 });
    const it = ring.recvMultishot(server, { bufferRing });
    const kept = [];
    for (let i = 0; i < 6; i++) {
      await ring.send(client, Buffer.alloc(100, i + 1));
      kept.push((await it.next()).value);
    }
    const big = Buffer.alloc(60 * 1024, 9);
    const waiting = [];
    for (let i = 0; i < 40; i++) {
      waiting.push(ring.send(client, big).catch(() => 0));
      await tick();
    }
    await it.return();
    await ring.destroy();
    await Promise.all(waiting);
    gc();
    await tick();
    gc();
    assert.ok(kept.every((chunk, i) => chunk.length === 100 && chunk[99] === i + 1));
    fs.closeSync(server);
    fs.closeSync(client);
  },
  'recv-multishot-break-with-data-in-flight': async () => {
    const ring = new Ring();
    const [server, client] = await tcpPair(ring);
    const bufferRing = ring.bufferRing({ count: 2, size: 64 });
    const sending = ring.send(client, Buffer.alloc(1 << 16, 7));
    let n = 0;
    for await (const chunk of ring.recvMultishot(server, { bufferRing })) {
      if (++n === 3) break; // the last one unreleased, for the GC
      chunk.release();
    }
    await sending;
    fs.closeSync(server);
    fs.closeSync(client);
    await ring.destroy();
    gc();
    await tick();
  },
  'send-zc-destroyed-before-notification': async () => {
    const ring = new Ring();
    const [server, client] = await tcpPair(ring);
    let data = Buffer.alloc(1 << 20, 9);
    const sends = [ring.sendZc(client, data).catch(() => {}), ring.sendmsgZc(client, [data]).catch(() => {})];
    data = undefined;
    gc();
    await ring.destroy();
    await Promise.all(sends);
    fs.closeSync(server);
    fs.closeSync(client);
  },
  'recvmsg-views-collected-and-a-refused-accept': async () => {
    const ring = new Ring();
    const [server, client] = await tcpPair(ring);
    const pending = ring.recvmsg(server, [Buffer.alloc(32), Buffer.alloc(32)]).catch((e) => e.code);
    const accepting = ring.accept(client).catch((e) => e.code);
    gc();
    await tick();
    await ring.send(client, 'x');
    await pending;
    await accepting;
    fs.closeSync(server);
    fs.closeSync(client);
    await ring.destroy();
  },
  'inline-read-then-transfer-and-resize': async () => {
    // Cached reads settle inside the call (preadv2 RWF_NOWAIT into the caller's view);
    // what JS does to the memory afterwards must not matter.
    const file = path.join(dir, 'inline.bin');
    fs.writeFileSync(file, Buffer.alloc(64 * 1024, 7));
    const fd = fs.openSync(file, 'r+');
    const ring = new Ring();
    const view = new Uint8Array(4096);
    const pending = ring.read(fd, view, 4096);
    const moved = structuredClone(view.buffer, { transfer: [view.buffer] });
    assert.equal(await pending, 4096);
    assert.equal(new Uint8Array(moved)[0], 7);
    const ab = new ArrayBuffer(8192, { maxByteLength: 16384 });
    const reading = ring.read(fd, new Uint8Array(ab), 0);
    ab.resize(16);
    assert.equal(await reading, 8192);
    const source = Buffer.alloc(4096, 9);
    const writing = ring.write(fd, source, 0);
    structuredClone(source.buffer, { transfer: [source.buffer] });
    gc();
    assert.equal(await writing, 4096);
    // A read across the end of the file: the inline part, then the rest through the ring.
    const tail = new Uint8Array(8192);
    const across = ring.read(fd, tail, 64 * 1024 - 100);
    structuredClone(tail.buffer, { transfer: [tail.buffer] });
    assert.equal(await across, 100);
    fs.closeSync(fd);
    await ring.destroy();
  },
  'turn-queue-destroyed-in-the-same-turn': async () => {
    const ring = new Ring();
    const p = fifo();
    const reads = Array.from({ length: 8 }, () => ring.read(p.readFd, Buffer.alloc(16), -1).catch((e) => e.code));
    const nops = Array.from({ length: 8 }, () => ring.nop());
    const destroyed = ring.destroy();
    gc();
    assert.deepEqual(await Promise.all(reads), Array(8).fill('ECANCELED'));
    await Promise.allSettled(nops);
    await destroyed;
    p.close();
  },
  'ring-collected-while-idle': async () => {
    for (let i = 0; i < 20; i++) new Ring({ entries: 4 });
    gc();
    await tick();
    gc();
  },
};

let passed = 0;
for (const [name, run] of Object.entries(scenarios)) {
  await run();
  passed++;
  console.log(`ok ${name}`);
}
// Last: exit with operations in flight (the env cleanup hook drains them).
const ring = new Ring();
const p = fifo();
for (let i = 0; i < 16; i++) ring.read(p.readFd, Buffer.alloc(8), -1).catch(() => {});
await ring.nop();
console.log(`scenarios: ${passed + 1} passed`);
process.exit(0);
