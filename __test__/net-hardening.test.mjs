// The defects of the networking probe (issue 22), one test each: zero-copy sends
// behind a peer that never reads, buffer rings running dry, more than IOV_MAX
// iovecs, EMFILE under a multishot accept, chunks left when a receive loop is left,
// drained ops and cancels, IPv6 zones, and concurrent next() calls.
import net from 'node:net';
import path from 'node:path';
import { localAddress } from '../dist/index.js';
import { encodeAddress } from '../dist/net.js';
import { opTest, ringTest, runChildAsync, tmpDir } from './helpers.mjs';
import { Ring, c, ringListener, ringPair } from './net-helpers.mjs';

ringTest('ipv6-zone-range: a numeric zone above 2^32 - 1 is ERR_INVALID_ARG_VALUE, not a wrapped scope id', (t) => {
  for (const address of ['fe80::1%4294967296', 'fe80::1%4294967297', 'fe80::1%99999999999999999999']) {
    t.throws(() => encodeAddress({ address, port: 80 }), { code: 'ERR_INVALID_ARG_VALUE', message: /zone index above 2\^32 - 1/ }, address);
  }
  const top = encodeAddress({ address: 'fe80::1%4294967295', port: 80 });
  t.is(top.readUInt32LE(24), 4294967295, 'the largest index is kept');
});

opTest(['socket', 'bind', 'listen', 'acceptMultishot'], 'multishot-concurrent-next: a second next() while one is pending rejects with ERR_INVALID_STATE, and the first still settles', async (t) => {
  const ring = new Ring();
  const listener = await ringListener(ring);
  const loop = ring.acceptMultishot(listener.fd);
  const first = loop.next();
  await t.throwsAsync(loop.next(), { code: 'ERR_INVALID_STATE', message: /earlier next\(\) is pending/ });
  const client = net.connect(listener.address.port, '127.0.0.1');
  const { value } = await first;
  t.true(value.fd > 0);
  await loop.return();
  client.destroy();
  await ring.close(value.fd);
  await ring.close(listener.fd);
  await ring.destroy();
});


/** Two UDP sockets on 127.0.0.1 through the ring, the second's address. */
async function udpPair(ring) {
  const a = await ring.socket(c.AF_INET, c.SOCK_DGRAM);
  const b = await ring.socket(c.AF_INET, c.SOCK_DGRAM);
  await ring.bind(a, { address: '127.0.0.1', port: 0 });
  await ring.bind(b, { address: '127.0.0.1', port: 0 });
  return { a, b, to: localAddress(b) };
}

const manyViews = (n) => Array.from({ length: n }, (_, i) => Buffer.from([i & 0xff]));

opTest(['socket', 'bind', 'sendmsg', 'recvmsg'], 'iov-max-datagram: sendmsg/recvmsg of more than 1,024 views reject with EMSGSIZE instead of a truncated datagram', async (t) => {
  const ring = new Ring();
  const { a, b, to } = await udpPair(ring);
  await t.throwsAsync(ring.sendmsg(a, manyViews(1100), { address: to }), { code: 'EMSGSIZE' });
  await t.throwsAsync(ring.sendmsgZc(a, manyViews(1100), { address: to }), { code: 'EMSGSIZE' });
  // Nothing arrived: the next datagram is the one sent now, whole.
  t.is(await ring.sendmsg(a, manyViews(1024), { address: to }), 1024);
  await t.throwsAsync(ring.recvmsg(b, manyViews(1025)), { code: 'EMSGSIZE' });
  const got = await ring.recvmsg(b, [Buffer.alloc(2048)]);
  t.is(got.bytesRead, 1024);
  // readv on a datagram socket: the kernel refuses past IOV_MAX (EINVAL).
  await ring.sendmsg(a, [Buffer.alloc(10)], { address: to });
  await t.throwsAsync(ring.readv(b, manyViews(1100)), { code: 'EINVAL' });
  for (const fd of [a, b]) await ring.close(fd);
  await ring.destroy();
});

ringTest('iov-max-file: readv/writev of a file with more than 1,024 views take the first 1,024 and say so in the count', async (t) => {
  const ring = new Ring();
  const dir = tmpDir();
  const fd = await ring.open(path.join(dir, 'f'), 'w+');
  t.is(await ring.writev(fd, manyViews(1100), 0), 1024, 'a short count, as node:fs writev');
  t.is(await ring.readv(fd, manyViews(1100).map(() => Buffer.alloc(1)), 0), 1024);
  await ring.close(fd);
  await ring.destroy();
});

opTest(['socket', 'bind', 'listen', 'accept', 'connect', 'send', 'recv'], 'send-whole-blocking: a 64 MiB send on a blocking TCP socket resolves to every byte, and they arrive in order', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  const data = Buffer.alloc(64 * 1024 * 1024);
  for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i, i);
  const got = Buffer.alloc(data.length);
  const reading = (async () => {
    let n = 0;
    while (n < got.length) {
      const r = await ring.recv(server, got.subarray(n, n + 4 * 1024 * 1024));
      if (r === 0) break;
      n += r;
    }
    return n;
  })();
  t.is(await ring.send(client, data), data.length, 'no short count on a blocking socket');
  t.is(await reading, data.length);
  t.true(got.equals(data));
  for (const fd of [server, client]) await ring.close(fd);
  await ring.destroy();
});

opTest(['socket', 'bind', 'listen', 'accept', 'connect', 'recvMultishot'], 'recv-multishot-break-keeps-chunks: chunks received before a loop is left go to the socket\'s next loop, so every byte arrives in order', async (t) => {
  const ring = new Ring();
  const bufferRing = ring.bufferRing({ count: 256, size: 4096 });
  const { server, client } = await ringPair(ring);
  const data = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 12)) & 0xff;
  const sending = (async () => {
    await ring.send(client, data);
    await ring.shutdown(client, c.SHUT_WR);
  })();
  const parts = [];
  let loops = 0;
  for (;;) {
    loops++;
    let taken = 0;
    let ended = true;
    for await (const chunk of ring.recvMultishot(server, { bufferRing })) {
      parts.push(Buffer.from(chunk));
      chunk.release();
      // Leave after two chunks, while more are queued behind them.
      if (++taken === 2) {
        ended = false;
        break;
      }
    }
    if (ended) break;
  }
  await sending;
  const got = Buffer.concat(parts);
  t.true(loops > 2, `${loops} loops`);
  t.is(got.length, data.length);
  t.true(got.equals(data), 'in order');
  t.is(bufferRing.available, bufferRing.count, 'every buffer given back');
  for (const fd of [server, client]) await ring.close(fd);
  await ring.destroy();
});

opTest(['socket', 'bind', 'listen', 'accept', 'connect', 'recvMultishot', 'close'], 'recv-multishot-unread-released-on-close: chunks kept for a next loop go back to the buffer ring when the socket is closed', async (t) => {
  const ring = new Ring();
  const bufferRing = ring.bufferRing({ count: 64, size: 1024, copyUpTo: 0 });
  const { server, client } = await ringPair(ring);
  await ring.send(client, Buffer.alloc(32 * 1024, 1));
  // Give the data time to reach the server's receive queue.
  await new Promise((resolve) => setTimeout(resolve, 50));
  for await (const chunk of ring.recvMultishot(server, { bufferRing })) {
    chunk.release();
    break;
  }
  t.true(bufferRing.available < bufferRing.count, 'some chunks are kept');
  await ring.close(server);
  t.is(bufferRing.available, bufferRing.count);
  await ring.close(client);
  await ring.destroy();
});

/** `n` connections through the ring, each client sending `bytes` then ending its side. */
async function manySenders(ring, n, bytes) {
  const { fd: listener, address } = await ringListener(ring);
  const conns = [];
  const clients = [];
  for (let i = 0; i < n; i++) {
    const client = net.connect(address.port, '127.0.0.1');
    client.on('error', () => {});
    clients.push(client);
    conns.push((await ring.accept(listener)).fd);
    client.end(Buffer.alloc(bytes, i));
  }
  await ring.close(listener);
  return { conns, clients };
}

opTest(['socket', 'bind', 'listen', 'accept', 'recvMultishot'], 'buffer-ring-dry-no-polling: receive loops waiting on a dry buffer ring sleep until a release (no re-arm every 5 ms), then all finish', async (t) => {
  const ring = new Ring();
  const bufferRing = ring.bufferRing({ count: 8, size: 4096 });
  const { conns, clients } = await manySenders(ring, 40, 64 * 1024);
  const proto = Object.getPrototypeOf(bufferRing);
  const original = proto.whenAvailable;
  let waits = 0;
  proto.whenAvailable = function (...args) {
    waits++;
    return original.apply(this, args);
  };
  try {
    const held = [];
    const received = new Array(conns.length).fill(0);
    let holding = true;
    const loops = conns.map(async (fd, i) => {
      for await (const chunk of ring.recvMultishot(fd, { bufferRing })) {
        received[i] += chunk.length;
        if (holding) held.push(chunk);
        else chunk.release();
      }
    });
    // Every buffer held: the loops wait.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const waitsWhileDry = waits;
    t.is(bufferRing.available, 0);
    // Old code: every waiting loop re-armed every 5 ms (40 loops x 100 in 500 ms).
    t.true(waitsWhileDry < 120, `${waitsWhileDry} re-arms while the ring was dry`);
    holding = false;
    for (const chunk of held.splice(0)) chunk.release();
    await Promise.all(loops);
    t.deepEqual(received, conns.map(() => 64 * 1024), 'every connection got all of its data');
    t.log(`${waits} waits in all, ${waitsWhileDry} while dry`);
  } finally {
    proto.whenAvailable = original;
  }
  for (const fd of conns) await ring.close(fd);
  for (const client of clients) client.destroy();
  await ring.destroy();
});

opTest(['socket', 'bind', 'listen', 'accept', 'recvMultishot'], 'buffer-ring-dry-collected: a loop waiting on a dry ring starts again once the collector gives dropped chunks back', async (t) => {
  const r = await runChildAsync(`
    import net from 'node:net';
    import { Ring, constants as c, localAddress } from DIST;
    const ring = new Ring();
    const bufferRing = ring.bufferRing({ count: 2, size: 1024 });
    const listener = await ring.socket(c.AF_INET, c.SOCK_STREAM);
    await ring.bind(listener, { address: '127.0.0.1', port: 0 });
    await ring.listen(listener);
    const client = net.connect(localAddress(listener).port, '127.0.0.1');
    const { fd } = await ring.accept(listener);
    client.end(Buffer.alloc(64 * 1024, 1));
    // The collector runs now and then; nothing releases a chunk.
    const gcs = setInterval(() => globalThis.gc(), 20);
    let got = 0;
    for await (const chunk of ring.recvMultishot(fd, { bufferRing })) got += chunk.length;
    clearInterval(gcs);
    await ring.close(fd);
    await ring.close(listener);
    await ring.destroy();
    console.log(got);
  `, { args: ['--expose-gc'], timeout: 20000 });
  t.is(r.status, 0, r.stderr);
  t.is(Number(r.stdout), 64 * 1024);
});

opTest(['socket', 'bind', 'listen', 'acceptMultishot'], 'accept-multishot-emfile: running out of descriptors reports EMFILE to onError and the loop accepts on once some are free', async (t) => {
  const r = await runChildAsync(`
    import fs from 'node:fs';
    import { Ring, constants as c, localAddress } from DIST;
    const ring = new Ring();
    const listener = await ring.socket(c.AF_INET, c.SOCK_STREAM);
    await ring.bind(listener, { address: '127.0.0.1', port: 0 });
    await ring.listen(listener);
    const { port } = localAddress(listener);
    // Take every descriptor left, then give back none until EMFILE was seen.
    const hog = [];
    for (;;) {
      try { hog.push(fs.openSync('/dev/null', 'r')); } catch { break; }
    }
    const errors = [];
    const accepted = [];
    const clients = [];
    const done = (async () => {
      for await (const { fd } of ring.acceptMultishot(listener, { onError: (e) => {
        errors.push(e.code);
        // Free room for the waiting connections.
        for (const h of hog.splice(0, 8)) fs.closeSync(h);
      } })) {
        accepted.push(fd);
        if (accepted.length === 5) break;
      }
    })();
    for (let i = 0; i < 5; i++) {
      // One descriptor for the client socket; none for its accept until onError frees some.
      fs.closeSync(hog.pop());
      const s = await ring.socket(c.AF_INET, c.SOCK_STREAM);
      clients.push(s);
      await ring.connect(s, { address: '127.0.0.1', port });
    }
    await done;
    for (const h of hog) fs.closeSync(h);
    for (const fd of accepted) await ring.close(fd);
    for (const s of clients) await ring.close(s);
    await ring.close(listener);
    await ring.destroy();
    console.log(JSON.stringify({ errors: [...new Set(errors)], accepted: accepted.length }));
  `, { timeout: 20000 });
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), { errors: ['EMFILE'], accepted: 5 });
});

/** Fills `fd`'s send path (its buffer and the peer's receive buffer) until a send would block. */
async function fillSendPath(ring, fd) {
  const block = Buffer.alloc(65536, 7);
  for (;;) {
    try {
      await ring.send(fd, block, { flags: c.MSG_DONTWAIT });
    } catch (e) {
      if (e.code === 'EAGAIN') return;
      throw e;
    }
  }
}

/** `promise`'s outcome, or 'pending' after `ms`. */
function within(promise, ms) {
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(() => resolve('pending'), ms); });
  return Promise.race([promise.then((value) => ({ value }), (error) => ({ error })), late]).finally(() => clearTimeout(timer));
}

opTest(['socket', 'bind', 'listen', 'accept', 'connect', 'send', 'sendZc'], 'send-zc-stuck-timeout-abort: a zero-copy send behind a peer that never reads rejects at its timeout and at an abort, and destroy() does not wait for its notification', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  // Fixed buffer sizes: the kernel does not grow them while the test waits.
  await ring.setsockopt(client, c.SOL_SOCKET, c.SO_SNDBUF, 16384);
  await ring.setsockopt(server, c.SOL_SOCKET, c.SO_RCVBUF, 16384);
  await fillSendPath(ring, client);
  const timed = await within(ring.sendZc(client, Buffer.alloc(1 << 20), { timeout: 100 }), 3000);
  t.not(timed, 'pending', 'settled at the timeout');
  t.is(timed.error?.code, 'ETIME');
  await fillSendPath(ring, client);
  const ac = new AbortController();
  const aborted = ring.sendZc(client, Buffer.alloc(1 << 20), { signal: ac.signal });
  setTimeout(() => ac.abort(), 100);
  const outcome = await within(aborted, 3000);
  t.not(outcome, 'pending', 'settled at the abort');
  t.is(outcome.error?.name, 'AbortError', JSON.stringify(outcome));
  // One more, never cancelled, with room for a part of it: the peer's queue holds
  // that part (its notification with it); destroy() does not wait on the peer.
  await ring.setsockopt(client, c.SOL_SOCKET, c.SO_SNDBUF, 1 << 20);
  await ring.setsockopt(server, c.SOL_SOCKET, c.SO_RCVBUF, 1 << 20);
  const stuck = ring.sendZc(client, Buffer.alloc(8 << 20));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = performance.now();
  t.not(await within(ring.destroy(), 5000), 'pending', 'destroy() settled');
  t.true(performance.now() - started < 3000, `destroy took ${Math.round(performance.now() - started)} ms`);
  const last = await within(stuck, 100);
  t.not(last, 'pending');
  t.true(last.value < 8 << 20 || last.error?.code === 'ECANCELED', JSON.stringify(last));
  const { closeSync } = await import('node:fs');
  closeSync(server);
  closeSync(client);
});

opTest(['socket', 'bind', 'listen', 'accept', 'connect', 'send', 'sendZc'], 'send-zc-stuck-worker-exit: Worker.terminate() with a zero-copy send stuck behind a peer that never reads takes well under the teardown deadline', async (t) => {
  const { Worker } = await import('node:worker_threads');
  const { distUrl } = await import('./helpers.mjs');
  const worker = new Worker(`
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(distUrl)}).then(async ({ Ring, constants: c, localAddress }) => {
      const ring = new Ring();
      const listener = await ring.socket(c.AF_INET, c.SOCK_STREAM);
      await ring.bind(listener, { address: '127.0.0.1', port: 0 });
      await ring.listen(listener);
      const client = await ring.socket(c.AF_INET, c.SOCK_STREAM);
      await Promise.all([ring.accept(listener), ring.connect(client, localAddress(listener))]);
      // Part of it reaches the peer's queue, which holds its notification back.
      ring.sendZc(client, Buffer.alloc(8 << 20)).catch(() => {});
      setTimeout(() => parentPort.postMessage('stuck'), 100);
    });
  `, { eval: true });
  await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
  const started = performance.now();
  await worker.terminate();
  const ms = performance.now() - started;
  t.true(ms < 3000, `terminate took ${Math.round(ms)} ms`);
});

opTest(['socket', 'bind', 'listen', 'accept', 'connect', 'recv', 'nop', 'cancelFd'], 'drain-blocked-cancel-fd: behind nop({ drain }) waiting on a blocked recv, cancelFd(fd) settles and ends the recv and the nop', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  const read = ring.recv(server, Buffer.alloc(16));
  const drained = ring.nop({ drain: true });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const cancelled = await within(ring.cancelFd(server), 3000);
  t.not(cancelled, 'pending', 'cancelFd settled');
  t.is(cancelled.value, 0);
  t.is((await within(read, 3000)).error?.code, 'ECANCELED');
  t.deepEqual(await within(drained, 3000), { value: 0 });
  for (const fd of [server, client]) await within(ring.close(fd), 3000);
  await ring.destroy();
});

opTest(['socket', 'bind', 'listen', 'accept', 'connect', 'recv', 'nop', 'cancelFd'], 'drain-same-turn-cancel-fd: a blocked recv, nop({ drain }) and cancelFd(fd) made in one turn all settle', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  // All three reach the kernel in one submission unless the cancel is held back.
  const read = within(ring.recv(server, Buffer.alloc(16)), 3000);
  const drained = within(ring.nop({ drain: true }), 3000);
  const cancelled = within(ring.cancelFd(server), 3000);
  t.deepEqual(await cancelled, { value: 0 }, 'cancelFd settled');
  t.is((await read).error?.code, 'ECANCELED');
  t.deepEqual(await drained, { value: 0 });
  for (const fd of [server, client]) await within(ring.close(fd), 3000);
  await ring.destroy();
});

opTest(['socket', 'bind', 'listen', 'accept', 'connect', 'recv', 'nop', 'close'], 'drain-same-turn-close: a blocked recv, nop({ drain }) and close(fd) made in one turn all settle', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  const read = within(ring.recv(server, Buffer.alloc(16)), 3000);
  const drained = within(ring.nop({ drain: true }), 3000);
  const closed = within(ring.close(server), 3000);
  t.deepEqual(await closed, { value: undefined }, 'close settled');
  t.is((await read).error?.code, 'ECANCELED');
  t.deepEqual(await drained, { value: 0 });
  await within(ring.close(client), 3000);
  await ring.destroy();
});

opTest(['socket', 'bind', 'listen', 'accept', 'connect', 'recv', 'nop', 'close'], 'drain-blocked-close: behind nop({ drain }) waiting on a blocked recv, close(fd) ends the recv and settles', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  const read = ring.recv(server, Buffer.alloc(16));
  const drained = ring.nop({ drain: true });
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.deepEqual(await within(ring.close(server), 3000), { value: undefined }, 'close settled');
  t.is((await within(read, 3000)).error?.code, 'ECANCELED');
  t.deepEqual(await within(drained, 3000), { value: 0 });
  await ring.close(client);
  await ring.destroy();
});

opTest(['socket', 'bind', 'listen', 'acceptMultishot', 'recvMultishot'], 'worker-exit-closes-sockets: Worker.terminate() with 200 live connections closes the sockets its ring made, and every peer sees the end', async (t) => {
  const fs = await import('node:fs');
  const { Worker } = await import('node:worker_threads');
  const { distUrl } = await import('./helpers.mjs');
  // This process's descriptors of TCP sockets on `port` (by inode, from /proc).
  const socketsOn = (port) => {
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    const inodes = new Set(fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[1]?.endsWith(`:${hex}`))
      .map((f) => f[9]));
    return fs.readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return inodes.has(/^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`))?.[1]);
      } catch {
        return false;
      }
    }).length;
  };
  const worker = new Worker(`
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(distUrl)}).then(async ({ Ring, constants: c, localAddress }) => {
      const ring = new Ring();
      const bufferRing = ring.bufferRing({ count: 64, size: 4096 });
      const listener = await ring.socket(c.AF_INET, c.SOCK_STREAM);
      await ring.bind(listener, { address: '127.0.0.1', port: 0 });
      await ring.listen(listener);
      parentPort.postMessage(localAddress(listener).port);
      let n = 0;
      for await (const { fd } of ring.acceptMultishot(listener)) {
        (async () => { for await (const chunk of ring.recvMultishot(fd, { bufferRing })) chunk.release(); })();
        if (++n === 200) parentPort.postMessage('all');
      }
    });
  `, { eval: true });
  const port = await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
  const all = new Promise((resolve) => worker.on('message', (m) => m === 'all' && resolve()));
  const clients = [];
  const ended = [];
  for (let i = 0; i < 200; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    ended.push(new Promise((resolve) => socket.once('end', resolve).once('close', resolve)));
    socket.resume();
    clients.push(socket);
  }
  await all;
  t.true(socketsOn(port) >= 201, 'the listener and 200 connections are open');
  await worker.terminate();
  const seen = await within(Promise.all(ended), 3000);
  t.not(seen, 'pending', 'every peer saw the connection end');
  t.is(socketsOn(port), 0, 'none of the worker\'s sockets is left open');
  for (const socket of clients) socket.destroy();
});
