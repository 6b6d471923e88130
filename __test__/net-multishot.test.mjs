// Multishot accept and receive over real sockets: many connections from one request,
// zero-copy chunks from a provided buffer ring given back by release or by the garbage
// collector, a ring smaller than the data in flight (ENOBUFS, re-armed), and every
// way a loop ends: break, close, destroy, abort, a peer reset.
import { createHash } from 'node:crypto';
import { BufferRing, IoError, localAddress } from '../dist/index.js';
import { opTest, pattern, runChild } from './helpers.mjs';
import { Ring, c, nodeClient, ringListener, ringPair } from './net-helpers.mjs';

const base = ['socket', 'bind', 'listen', 'accept', 'connect'];
const recvOps = [...base, 'recvMultishot'];

/** Every chunk of a multishot receive until the end of the stream, released as read. */
async function receiveAll(ring, fd, bufferRing, onChunk) {
  const parts = [];
  for await (const chunk of ring.recvMultishot(fd, { bufferRing })) {
    parts.push(Buffer.from(chunk));
    await onChunk?.(chunk);
    chunk.release();
  }
  return Buffer.concat(parts);
}

opTest([...base, 'acceptMultishot'], 'accept-multishot-100: one multishot accept takes 100 connections, each with its peer address', async (t) => {
  const ring = new Ring();
  const { fd: listener, address } = await ringListener(ring);
  const clients = [];
  const connecting = Promise.all(Array.from({ length: 100 }, () => nodeClient(address).then((s) => clients.push(s))));
  const accepted = [];
  for await (const conn of ring.acceptMultishot(listener)) {
    accepted.push(conn);
    if (accepted.length === 100) break;
  }
  await connecting;
  t.is(accepted.length, 100);
  const clientPorts = new Set(clients.map((s) => s.localPort));
  for (const { fd, address: peer } of accepted) {
    t.true(fd > 2);
    t.is(peer.address, '127.0.0.1');
    t.is(peer.family, 4);
    t.true(clientPorts.has(peer.port), `peer port ${peer.port} is one of the clients'`);
  }
  t.is(new Set(accepted.map((a) => a.fd)).size, 100, '100 distinct fds');
  t.is(ring.inFlight, 0, 'break cancelled the accept and its last completion was reaped');
  for (const { fd } of accepted) await ring.close(fd);
  for (const s of clients) s.destroy();
  await ring.close(listener);
  await ring.destroy();
});

opTest([...base, 'acceptMultishot'], 'accept-multishot-break-closes-unread: connections accepted but not yet taken when the loop is left are closed, not leaked', async (t) => {
  const ring = new Ring();
  const { fd: listener, address } = await ringListener(ring);
  const clients = await Promise.all(Array.from({ length: 20 }, () => nodeClient(address)));
  // Let the kernel accept them all before the loop takes the first.
  await new Promise((r) => setTimeout(r, 50));
  const it = ring.acceptMultishot(listener);
  const first = await it.next();
  await new Promise((r) => setTimeout(r, 50));
  await it.return();
  await ring.close(first.value.fd);
  const ended = await Promise.all(clients.map((s) => new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 2000);
    s.once('end', () => resolve(true)).once('close', () => resolve(true)).resume();
    s.end();
    s.once('close', () => clearTimeout(timer));
  })));
  // A leaked accepted fd would keep its connection open: its client never sees the end.
  t.true(ended.every(Boolean), 'every client saw its connection closed');
  for (const s of clients) s.destroy();
  await ring.close(listener);
  await ring.destroy();
});

opTest(recvOps, 'recv-multishot-10mib-order: 10 MiB in random chunk sizes arrive whole and in order, zero-copy from the buffer ring', async (t) => {
  const ring = new Ring();
  const { fd: listener, address } = await ringListener(ring);
  const accepting = ring.accept(listener);
  const peer = await nodeClient(address);
  const { fd } = await accepting;
  const data = pattern(10 << 20, 11);
  // Random chunk sizes from 1 byte to 64 KiB, written as fast as the socket takes them.
  let seed = 12345;
  const writer = (async () => {
    for (let at = 0; at < data.length;) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const n = Math.min(1 + (seed % 65536), data.length - at);
      if (!peer.write(data.subarray(at, at + n))) await new Promise((r) => peer.once('drain', r));
      at += n;
    }
    peer.end();
  })();
  const bufferRing = ring.bufferRing({ count: 64, size: 16384 });
  let chunks = 0;
  const got = await receiveAll(ring, fd, bufferRing, (chunk) => {
    chunks++;
    t.true(chunk.length <= 16384);
  });
  await writer;
  t.is(got.length, data.length);
  t.is(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(data).digest('hex'), 'every byte, in order');
  t.is(bufferRing.available, 64, 'every buffer was given back');
  t.is(ring.inFlight, 0);
  t.log(`${chunks} chunks`);
  for (const f of [fd, listener]) await ring.close(f);
  await ring.destroy();
});

opTest(recvOps, 'buffer-ring-enobufs-rearm: a 2-buffer ring holding back 1 MiB in flight runs dry and starts again, losing nothing', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  const bufferRing = ring.bufferRing({ count: 2, size: 1024 });
  const data = pattern(1 << 20, 5);
  const sending = (async () => {
    for (let sent = 0; sent < data.length;) sent += await ring.send(client, data.subarray(sent));
    await ring.shutdown(client, c.SHUT_WR);
  })();
  let starved = 0;
  const got = await receiveAll(ring, server, bufferRing, async () => {
    // Both buffers held now and then: the kernel has nowhere to put data.
    if (bufferRing.available === 0) {
      starved++;
      await new Promise((r) => setTimeout(r, 2));
    }
  });
  await sending;
  t.true(got.equals(data), 'the data arrived whole and in order');
  t.true(starved > 0, 'the ring ran dry while data was in flight');
  t.is(bufferRing.available, 2);
  for (const f of [server, client]) await ring.close(f);
  await ring.destroy();
});

opTest(recvOps, 'chunk-release: a released chunk is detached, a second release does nothing, and a collected chunk gives its buffer back', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  const bufferRing = ring.bufferRing({ count: 4, size: 64 , copyUpTo: 0 });
  t.true(bufferRing instanceof BufferRing);
  const it = ring.recvMultishot(server, { bufferRing });
  await ring.send(client, 'first');
  const { value: first } = await it.next();
  t.true(Buffer.isBuffer(first));
  t.is(first.toString(), 'first');
  t.is(bufferRing.available, 3);
  t.true(bufferRing.release(first));
  t.is(first.length, 0, 'its memory is out of reach once the kernel may fill it again');
  t.false(first.release(), 'released already');
  t.false(bufferRing.release(Buffer.from('not a chunk')));
  t.is(bufferRing.available, 4);
  // Dropped without a release: the garbage collector gives it back.
  await ring.send(client, 'second');
  await it.next();
  t.is(bufferRing.available, 3);
  const deadline = Date.now() + 5000;
  while (bufferRing.available < 4 && Date.now() < deadline) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  t.is(bufferRing.available, 4, 'the collected chunk was given back');
  await it.return();
  t.is(ring.inFlight, 0);
  for (const f of [server, client]) await ring.close(f);
  await ring.destroy();
});

opTest(recvOps, 'chunk-outlives-ring: a chunk held across ring.destroy() still reads its bytes and can be released', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  const bufferRing = ring.bufferRing({ count: 2, size: 64 , copyUpTo: 0 });
  const it = ring.recvMultishot(server, { bufferRing });
  await ring.send(client, 'kept across destroy');
  const { value: chunk } = await it.next();
  await it.return();
  await ring.destroy();
  // The buffer ring's memory is held by the chunk, not by the (gone) ring.
  globalThis.gc();
  t.is(chunk.toString(), 'kept across destroy');
  t.true(chunk.release());
  t.is(bufferRing.available, 2);
  const { closeSync } = await import('node:fs');
  closeSync(server);
  closeSync(client);
});

opTest(recvOps, 'recv-multishot-break-releases: chunks a left loop never yielded are kept for the socket\'s next loop and given back when it is closed', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  const bufferRing = ring.bufferRing({ count: 8, size: 16 , copyUpTo: 0 });
  await ring.send(client, Buffer.alloc(100, 1));
  await new Promise((r) => setTimeout(r, 20));
  for await (const chunk of ring.recvMultishot(server, { bufferRing })) {
    chunk.release();
    break;
  }
  t.true(bufferRing.available < 8, 'chunks queued behind the break are kept (net-hardening: recv-multishot-break-keeps-chunks)');
  t.is(ring.inFlight, 0);
  for (const f of [server, client]) await ring.close(f);
  t.is(bufferRing.available, 8, 'closing the socket gave them back to the kernel');
  await ring.destroy();
});

opTest(recvOps, 'recv-multishot-return-while-dry: leaving a loop whose ring ran dry on chunks it never yielded returns at once', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  const bufferRing = ring.bufferRing({ count: 2, size: 64, copyUpTo: 0 });
  const it = ring.recvMultishot(server, { bufferRing });
  const first = it.next();
  await ring.send(client, Buffer.alloc(64, 1));
  (await first).value.release();
  // Three more buffers' worth with no next(): two chunks wait in the loop holding both
  // buffers, and the receive waits (ENOBUFS) for one of them.
  await ring.send(client, Buffer.alloc(192, 2));
  await new Promise((r) => setTimeout(r, 50));
  t.is(bufferRing.available, 0);
  const returned = await Promise.race([it.return().then(() => 'returned'), new Promise((r) => setTimeout(() => r('pending'), 3000))]);
  t.is(returned, 'returned', 'return() did not wait for a buffer only its own chunks hold');
  t.is(ring.inFlight, 0);
  for (const f of [server, client]) await ring.close(f);
  t.is(bufferRing.available, 2, 'closing the socket gave the unread chunks back');
  await ring.destroy();
});

opTest(recvOps, 'recv-multishot-close-ends: ring.close(fd) ends a loop waiting on the socket, without an error', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  const bufferRing = ring.bufferRing({ count: 4, size: 64 });
  const loop = (async () => {
    let n = 0;
    for await (const chunk of ring.recvMultishot(server, { bufferRing })) {
      n++;
      chunk.release();
    }
    return n;
  })();
  await ring.send(client, 'x');
  await new Promise((r) => setTimeout(r, 20));
  await ring.close(server);
  t.is(await loop, 1);
  t.is(ring.inFlight, 0);
  await ring.close(client);
  await ring.destroy();
});

opTest([...base, 'acceptMultishot'], 'accept-multishot-close-ends: ring.close(listener) ends a multishot accept', async (t) => {
  const ring = new Ring();
  const { fd: listener } = await ringListener(ring);
  const loop = (async () => {
    let n = 0;
    for await (const conn of ring.acceptMultishot(listener)) n += conn.fd;
    return n;
  })();
  await new Promise((r) => setTimeout(r, 20));
  await ring.close(listener);
  t.is(await loop, 0);
  t.is(ring.inFlight, 0);
  await ring.destroy();
});

opTest(recvOps, 'recv-multishot-destroy: destroy() ends a waiting loop with ECANCELED', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  const bufferRing = ring.bufferRing({ count: 4, size: 64 });
  const loop = (async () => {
    for await (const chunk of ring.recvMultishot(server, { bufferRing })) chunk.release();
  })();
  await new Promise((r) => setTimeout(r, 20));
  await ring.destroy();
  const error = await t.throwsAsync(loop);
  t.is(error.code, 'ECANCELED');
  // The buffer ring outlives its ring for the chunks still held.
  t.is(bufferRing.available, 4);
  const { closeSync } = await import('node:fs');
  closeSync(server);
  closeSync(client);
});

opTest(recvOps, 'recv-multishot-abort: an aborted signal ends the loop with an AbortError', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  const bufferRing = ring.bufferRing({ count: 4, size: 64 });
  const ac = new AbortController();
  const loop = (async () => {
    for await (const chunk of ring.recvMultishot(server, { bufferRing, signal: ac.signal })) chunk.release();
  })();
  await new Promise((r) => setTimeout(r, 20));
  ac.abort();
  await t.throwsAsync(loop, { name: 'AbortError' });
  t.is(ring.inFlight, 0);
  for (const f of [server, client]) await ring.close(f);
  await ring.destroy();
});

opTest(recvOps, 'recv-multishot-peer-reset: a reset peer ends the loop with IoError ECONNRESET', async (t) => {
  const ring = new Ring();
  const { fd: listener, address } = await ringListener(ring);
  const accepting = ring.accept(listener);
  const peer = await nodeClient(address);
  const { fd } = await accepting;
  const bufferRing = ring.bufferRing({ count: 4, size: 64 });
  const loop = (async () => {
    for await (const chunk of ring.recvMultishot(fd, { bufferRing })) chunk.release();
  })();
  await new Promise((r) => setTimeout(r, 20));
  peer.resetAndDestroy();
  const error = await t.throwsAsync(loop);
  t.true(error instanceof IoError);
  t.is(error.code, 'ECONNRESET');
  t.is(error.syscall, 'recv');
  for (const f of [fd, listener]) await ring.close(f);
  await ring.destroy();
});

opTest(recvOps, 'recv-multishot-bad-arguments: a missing buffer ring rejects the first next() with ERR_INVALID_ARG_TYPE', async (t) => {
  const ring = new Ring();
  await t.throwsAsync(ring.recvMultishot(0, {}).next(), { code: 'ERR_INVALID_ARG_TYPE' });
  await t.throwsAsync(ring.recvMultishot(0).next(), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => ring.bufferRing({ count: 3, size: 16 }), { code: 'ERR_INVALID_ARG_VALUE' });
  t.throws(() => ring.bufferRing({ count: 65536, size: 16 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => ring.bufferRing({ count: 4, size: 0 }), { code: 'ERR_OUT_OF_RANGE' });
  await ring.destroy();
});

opTest(recvOps, 'recv-multishot-foreign-buffer-ring: a buffer ring of another ring is refused with EINVAL before the kernel sees it', async (t) => {
  const ring = new Ring();
  const other = new Ring();
  const foreign = other.bufferRing({ count: 4, size: 64 });
  ring.bufferRing({ count: 4, size: 64 }); // the same group id, in this ring
  const { server, client } = await ringPair(ring);
  await ring.send(client, 'x');
  const error = await t.throwsAsync(ring.recvMultishot(server, { bufferRing: foreign }).next());
  t.is(error.code, 'EINVAL');
  t.is(error.syscall, 'recv');
  t.is(foreign.available, 4);
  for (const f of [server, client]) await ring.close(f);
  await ring.destroy();
  await other.destroy();
});

opTest([...recvOps, 'acceptMultishot'], 'multishot-break-no-leak: 12,000 receive and 1,200 accept break cycles leave fds and RSS flat', (t) => {
  const r = runChild(`
    import fs from 'node:fs';
    import net from 'node:net';
    import { Ring, constants as c, localAddress } from DIST;
    const ring = new Ring();
    const fdCount = () => fs.readdirSync('/proc/self/fd').length;
    const listener = await ring.socket(c.AF_INET, c.SOCK_STREAM);
    await ring.bind(listener, { address: '127.0.0.1', port: 0 });
    await ring.listen(listener);
    const address = localAddress(listener);
    const client = await ring.socket(c.AF_INET, c.SOCK_STREAM);
    const [{ fd: server }] = await Promise.all([ring.accept(listener), ring.connect(client, address)]);
    const bufferRing = ring.bufferRing({ count: 16, size: 4096 });
    async function recvCycles(n) {
      for (let i = 0; i < n; i++) {
        await ring.send(client, 'x');
        for await (const chunk of ring.recvMultishot(server, { bufferRing })) {
          chunk.release();
          break;
        }
      }
    }
    async function acceptCycles(n) {
      for (let i = 0; i < n; i++) {
        const peer = net.connect(address.port, '127.0.0.1');
        for await (const conn of ring.acceptMultishot(listener)) {
          await ring.close(conn.fd);
          break;
        }
        peer.destroy();
      }
    }
    async function rss() {
      for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
      return process.memoryUsage().rss / 2 ** 20;
    }
    // The allocator and V8 settle over the first cycles (plain send/recv rises the same
    // way, about 15 MiB, to a plateau); a leak keeps growing past it.
    await recvCycles(10000);
    await acceptCycles(500);
    const before = { fds: fdCount(), rss: await rss() };
    const start = performance.now();
    // Three rounds, sampled after each: a leak grows every round, while Node 24 may
    // take one RSS step of about 9 MiB at some point and then stay flat.
    const samples = [before.rss];
    for (let round = 0; round < 3; round++) {
      await recvCycles(4000);
      await acceptCycles(400);
      await new Promise((r) => setTimeout(r, 50));
      samples.push(await rss());
    }
    const after = { fds: fdCount(), rss: samples[samples.length - 1] };
    const steps = samples.slice(1).map((v, i) => v - samples[i]);
    const growth = steps.reduce((a, b) => a + b, 0) - Math.max(...steps);
    console.log(JSON.stringify({ before, after, growth, samples, ms: performance.now() - start, inFlight: ring.inFlight, available: bufferRing.available }));
    for (const fd of [server, client, listener]) await ring.close(fd);
    await ring.destroy();
  `, { args: ['--expose-gc', '--min-semi-space-size=16'], timeout: 120000 });
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.log(`fds ${out.before.fds} -> ${out.after.fds}, RSS ${out.samples.map((v) => v.toFixed(1)).join(' -> ')} MiB, ${out.ms.toFixed(0)} ms`);
  t.is(out.after.fds, out.before.fds, 'no descriptor leaked');
  t.true(out.growth < 6, `RSS grew ${out.growth.toFixed(1)} MiB over the rounds, leaving out the largest single step`);
  t.is(out.inFlight, 0);
  t.is(out.available, 16, 'every buffer back in the ring');
});
