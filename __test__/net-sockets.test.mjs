// Socket opcodes on real sockets: TCP over 127.0.0.1 and ::1, Unix stream sockets in a
// temp dir, UDP datagrams with addresses, zero-copy sends, shutdown, peer resets, and
// the plain-syscall fallback of socket/bind/listen.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { IoError, localAddress, peerAddress } from '../dist/index.js';
import { opTest, pattern, ringTest, runChild, testUnless, tmpDir } from './helpers.mjs';
import { Ring, c, noIpv6Reason, nodeClient, ringListener, ringPair } from './net-helpers.mjs';

const tcp = ['socket', 'bind', 'listen', 'accept', 'connect', 'send', 'recv'];

async function echoOnce(t, ring, host) {
  const { server, client, peer } = await ringPair(ring, host);
  t.deepEqual(peer, localAddress(client), 'accept gives the client as its peer');
  t.deepEqual(peerAddress(server), localAddress(client));
  const data = pattern(100_000, 7);
  const back = Buffer.alloc(data.length);
  let got = 0;
  const echo = (async () => {
    const buf = Buffer.alloc(65536);
    for (;;) {
      const n = await ring.recv(server, buf);
      if (n === 0) break;
      let sent = 0;
      while (sent < n) sent += await ring.send(server, buf.subarray(sent, n));
    }
    await ring.shutdown(server, c.SHUT_WR);
  })();
  let sent = 0;
  while (sent < data.length) sent += await ring.send(client, data.subarray(sent, sent + 30_000));
  await ring.shutdown(client, c.SHUT_WR);
  for (;;) {
    const n = await ring.recv(client, back.subarray(got));
    if (n === 0) break;
    got += n;
  }
  await echo;
  t.is(got, data.length);
  t.true(back.equals(data), 'every byte came back in order');
  await ring.close(server);
  await ring.close(client);
}

opTest(tcp, 'accept-connect-echo: 100 KB through accept/connect/send/recv on 127.0.0.1 comes back whole', async (t) => {
  const ring = new Ring();
  await echoOnce(t, ring, '127.0.0.1');
  t.is(ring.inFlight, 0);
  await ring.destroy();
});

testUnless(noIpv6Reason, 'IPv6 loopback tests')('accept-connect-echo-ipv6: the same over ::1, with IPv6 addresses', async (t) => {
  const ring = new Ring();
  const { address } = await ringListener(ring, '::1').then(async (l) => {
    await ring.close(l.fd);
    return l;
  });
  t.is(address.family, 6);
  t.is(address.address, '::1');
  await echoOnce(t, ring, '::1');
  await ring.destroy();
});

opTest(tcp, 'unix-stream-echo: a Unix stream socket in a temp dir; addresses are { path }', async (t) => {
  const ring = new Ring();
  const file = path.join(tmpDir(), 'echo.sock');
  const listener = await ring.socket(c.AF_UNIX, c.SOCK_STREAM);
  await ring.bind(listener, { path: file });
  await ring.listen(listener);
  t.deepEqual(localAddress(listener), { path: file });
  t.true(fs.statSync(file).isSocket());
  const client = await ring.socket(c.AF_UNIX, c.SOCK_STREAM);
  const [accepted] = await Promise.all([ring.accept(listener), ring.connect(client, { path: file })]);
  t.deepEqual(accepted.address, { path: '' }, 'an unbound client is unnamed');
  t.is(await ring.send(client, 'ping'), 4);
  const buf = Buffer.alloc(16);
  t.is(await ring.recv(accepted.fd, buf), 4);
  t.is(buf.toString('utf8', 0, 4), 'ping');
  for (const fd of [listener, client, accepted.fd]) await ring.close(fd);
  await ring.destroy();
});

opTest(['socket', 'bind', 'sendmsg', 'recvmsg'], 'udp-sendmsg-recvmsg: datagrams carry their destination and source addresses', async (t) => {
  const ring = new Ring();
  const a = await ring.socket(c.AF_INET, c.SOCK_DGRAM);
  const b = await ring.socket(c.AF_INET, c.SOCK_DGRAM);
  await ring.bind(a, { address: '127.0.0.1', port: 0 });
  await ring.bind(b, { address: '127.0.0.1', port: 0, family: 4 });
  const head = Buffer.alloc(3);
  const tail = Buffer.alloc(16);
  const [received, sent] = await Promise.all([
    ring.recvmsg(b, [head, tail]),
    ring.sendmsg(a, [Buffer.from('dat'), Buffer.from('agram')], { address: localAddress(b) }),
  ]);
  t.is(sent, 8);
  t.is(received.bytesRead, 8);
  t.deepEqual(received.address, localAddress(a));
  t.is(received.flags & c.MSG_TRUNC, 0);
  t.is(head.toString() + tail.toString('utf8', 0, 5), 'datagram');
  for (const fd of [a, b]) await ring.close(fd);
  await ring.destroy();
});

opTest(['socket', 'bind', 'sendmsg', 'recvmsg'], 'udp-recvmsg-trunc: a datagram longer than the buffers sets MSG_TRUNC', async (t) => {
  const ring = new Ring();
  const a = await ring.socket(c.AF_INET, c.SOCK_DGRAM);
  const b = await ring.socket(c.AF_INET, c.SOCK_DGRAM);
  await ring.bind(b, { address: '127.0.0.1', port: 0 });
  const small = Buffer.alloc(4);
  const [received] = await Promise.all([
    ring.recvmsg(b, [small]),
    ring.sendmsg(a, [Buffer.from('0123456789')], { address: localAddress(b) }),
  ]);
  t.is(received.bytesRead, 4);
  t.is(small.toString(), '0123');
  t.not(received.flags & c.MSG_TRUNC, 0);
  for (const fd of [a, b]) await ring.close(fd);
  await ring.destroy();
});

opTest([...tcp, 'sendZc'], 'send-zc-notif: a 4 MiB zero-copy send resolves to its length after the notification, and the peer gets every byte', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  const data = pattern(4 << 20, 3);
  const received = [];
  let total = 0;
  const reader = (async () => {
    const buf = Buffer.alloc(1 << 20);
    while (total < data.length) {
      const n = await ring.recv(server, buf);
      if (n === 0) break;
      received.push(Buffer.from(buf.subarray(0, n)));
      total += n;
    }
  })();
  let sent = 0;
  let calls = 0;
  while (sent < data.length) {
    sent += await ring.sendZc(client, data.subarray(sent));
    calls++;
  }
  await reader;
  t.is(sent, data.length);
  t.true(Buffer.concat(received).equals(data));
  t.is(ring.inFlight, 0, 'nothing left waiting for a notification');
  t.log(`${calls} sendZc call(s)`);
  for (const fd of [server, client]) await ring.close(fd);
  await ring.destroy();
});

opTest([...tcp, 'sendZc'], 'send-zc-error: a zero-copy send on a socket the peer reset rejects with the send error, not the notification', async (t) => {
  const ring = new Ring();
  const { address, fd: listener } = await ringListener(ring);
  const accepting = ring.accept(listener);
  const peer = await nodeClient(address);
  const { fd } = await accepting;
  peer.resetAndDestroy();
  await new Promise((r) => setTimeout(r, 50));
  const error = await t.throwsAsync(async () => {
    // The first send may still be taken before the reset is seen.
    for (let i = 0; i < 10; i++) await ring.sendZc(fd, Buffer.alloc(1000));
  });
  t.true(error instanceof IoError);
  t.true(['ECONNRESET', 'EPIPE'].includes(error.code), error.message);
  t.is(error.syscall, 'send');
  for (const f of [fd, listener]) await ring.close(f);
  await ring.destroy();
});

opTest(['socket', 'bind', 'sendmsgZc', 'recvmsg'], 'sendmsg-zc-udp: a zero-copy datagram arrives and resolves to its length', async (t) => {
  const ring = new Ring();
  const a = await ring.socket(c.AF_INET, c.SOCK_DGRAM);
  const b = await ring.socket(c.AF_INET, c.SOCK_DGRAM);
  await ring.bind(b, { address: '127.0.0.1', port: 0 });
  const buf = Buffer.alloc(64);
  const [received, sent] = await Promise.all([
    ring.recvmsg(b, [buf]),
    ring.sendmsgZc(a, [Buffer.from('zero'), Buffer.from('copy')], { address: localAddress(b) }),
  ]);
  t.is(sent, 8);
  t.is(buf.toString('utf8', 0, received.bytesRead), 'zerocopy');
  for (const fd of [a, b]) await ring.close(fd);
  await ring.destroy();
});

opTest(tcp, 'peer-reset-econnreset: a recv on a socket the peer reset rejects with IoError ECONNRESET', async (t) => {
  const ring = new Ring();
  const { address, fd: listener } = await ringListener(ring);
  const accepting = ring.accept(listener);
  const peer = await nodeClient(address);
  const { fd } = await accepting;
  const pending = ring.recv(fd, Buffer.alloc(16));
  peer.resetAndDestroy();
  const error = await t.throwsAsync(pending);
  t.true(error instanceof IoError);
  t.is(error.code, 'ECONNRESET');
  t.is(error.errno, -104);
  t.is(error.syscall, 'recv');
  t.regex(error.message, /^ECONNRESET: connection reset by peer, recv$/);
  for (const f of [fd, listener]) await ring.close(f);
  await ring.destroy();
});

opTest(tcp, 'node-net-interop: a ring client talks to a node:net echo server', async (t) => {
  const ring = new Ring();
  const server = net.createServer((s) => s.pipe(s));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const fd = await ring.socket(c.AF_INET, c.SOCK_STREAM);
  await ring.connect(fd, { address: '127.0.0.1', port: server.address().port });
  await ring.send(fd, 'round trip');
  const buf = Buffer.alloc(32);
  let n = 0;
  while (n < 10) n += await ring.recv(fd, buf.subarray(n));
  t.is(buf.toString('utf8', 0, n), 'round trip');
  await ring.close(fd);
  server.close();
  await ring.destroy();
});

ringTest('socket-bind-listen-fallback: where the probe lacks the opcodes, socket/bind/listen are the plain system calls', (t) => {
  // URING_AIO_HIDE_OPCODES is read at import: a child process of its own.
  const r = runChildWithEnv();
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.deepEqual(out.supports, [false, false, false]);
  t.is(out.address.address, '127.0.0.1');
  t.true(out.address.port > 0);
  t.deepEqual(out.error, ['EINVAL', 'bind'], 'errors keep their system call name');
  t.is(out.submits, 0, 'nothing went through the ring');
});

function runChildWithEnv() {
  const previous = process.env.URING_AIO_HIDE_OPCODES;
  process.env.URING_AIO_HIDE_OPCODES = 'socket,bind,listen';
  try {
    return runChild(`
      import { Ring, constants as c, localAddress } from DIST;
      const ring = new Ring();
      const fd = await ring.socket(c.AF_INET, c.SOCK_STREAM);
      await ring.bind(fd, { address: '127.0.0.1', port: 0 });
      await ring.listen(fd, 8);
      const bad = await ring.bind(fd, { address: '127.0.0.1', port: 0 }).catch((e) => e);
      console.log(JSON.stringify({
        supports: ['socket', 'bind', 'listen'].map((n) => ring.supports(n)),
        address: localAddress(fd),
        error: [bad.code, bad.syscall],
        submits: ring.submitCalls,
      }));
      (await import('node:fs')).closeSync(fd);
      await ring.destroy();
    `);
  } finally {
    if (previous === undefined) delete process.env.URING_AIO_HIDE_OPCODES;
    else process.env.URING_AIO_HIDE_OPCODES = previous;
  }
}
