// Socket options: setsockopt/getsockopt through the ring's socket commands (6.7) and
// the system call, typed values, Node's codes for bad input, and binds that take a
// port back from TIME_WAIT (SO_REUSEADDR by default, as node:net) or share it
// (reusePort).
import net from 'node:net';
import test from 'ava';
import { localAddress } from '../dist/index.js';
import { opTest, runChild } from './helpers.mjs';
import { Ring, c } from './net-helpers.mjs';

const sockopts = ['socket', 'setsockopt', 'getsockopt'];

/** Every typed option on a fresh socket of `family`: set, read back. */
async function roundTrip(t, ring, family) {
  const fd = await ring.socket(family, c.SOCK_STREAM);
  const cases = [
    [c.SOL_SOCKET, c.SO_REUSEADDR, true],
    [c.SOL_SOCKET, c.SO_REUSEPORT, true],
    [c.SOL_SOCKET, c.SO_KEEPALIVE, true],
    [c.SOL_SOCKET, c.SO_LINGER, { onoff: true, linger: 7 }],
    [c.IPPROTO_TCP, c.TCP_NODELAY, true],
    [c.IPPROTO_TCP, c.TCP_KEEPIDLE, 42],
  ];
  if (family === c.AF_INET6) cases.push([c.IPPROTO_IPV6, c.IPV6_V6ONLY, true]);
  for (const [level, name, value] of cases) {
    await ring.setsockopt(fd, level, name, value);
    t.deepEqual(await ring.getsockopt(fd, level, name), value, `option ${level}:${name}`);
  }
  await ring.setsockopt(fd, c.SOL_SOCKET, c.SO_KEEPALIVE, false);
  t.false(await ring.getsockopt(fd, c.SOL_SOCKET, c.SO_KEEPALIVE));
  // The kernel doubles a buffer size it is given (socket(7)).
  await ring.setsockopt(fd, c.SOL_SOCKET, c.SO_RCVBUF, 65536);
  t.is(await ring.getsockopt(fd, c.SOL_SOCKET, c.SO_RCVBUF), 131072);
  // An option without a type: the raw int's bytes (SO_TYPE, 3).
  const raw = await ring.getsockopt(fd, c.SOL_SOCKET, 3);
  t.true(Buffer.isBuffer(raw));
  t.is(raw.readInt32LE(0), c.SOCK_STREAM);
  await ring.close(fd);
}

opTest(sockopts, 'sockopt-round-trip: every typed option set through the ring reads back the same, IPv4 and IPv6', async (t) => {
  const ring = new Ring();
  await roundTrip(t, ring, c.AF_INET);
  await roundTrip(t, ring, c.AF_INET6);
  await ring.destroy();
});

opTest(sockopts, 'sockopt-in-ring: at SOL_SOCKET an option goes through the ring (a pending operation), at IPPROTO_TCP getsockopt is the system call', async (t) => {
  const ring = new Ring();
  const fd = await ring.socket(c.AF_INET, c.SOCK_STREAM);
  const set = ring.setsockopt(fd, c.SOL_SOCKET, c.SO_KEEPALIVE, true);
  t.is(ring.inFlight, 1, 'SOCKET_URING_OP_SETSOCKOPT is in flight');
  await set;
  const get = ring.getsockopt(fd, c.IPPROTO_TCP, c.TCP_NODELAY);
  t.is(ring.inFlight, 0, 'the socket command refuses other levels: getsockopt(2) at once');
  t.false(await get);
  await ring.close(fd);
  await ring.destroy();
});

test('sockopt-fallback: with the socket commands hidden (a kernel before 6.7), setsockopt/getsockopt are the system calls and give the same values', (t) => {
  process.env.URING_AIO_HIDE_OPCODES = 'setsockopt,getsockopt';
  let r;
  try {
    r = runChild(`
      import { Ring, constants as c } from DIST;
      const ring = new Ring();
      const fd = await ring.socket(c.AF_INET, c.SOCK_STREAM);
      const set = ring.setsockopt(fd, c.SOL_SOCKET, c.SO_LINGER, { onoff: true, linger: 3 });
      const inFlight = ring.inFlight;
      await set;
      const linger = await ring.getsockopt(fd, c.SOL_SOCKET, c.SO_LINGER);
      await ring.setsockopt(fd, c.IPPROTO_TCP, c.TCP_NODELAY, true);
      const nodelay = await ring.getsockopt(fd, c.IPPROTO_TCP, c.TCP_NODELAY);
      const supported = ring.supports('setsockopt');
      await ring.close(fd);
      await ring.destroy();
      console.log(JSON.stringify({ inFlight, linger, nodelay, supported }));
    `);
  } finally {
    delete process.env.URING_AIO_HIDE_OPCODES;
  }
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), { inFlight: 0, linger: { onoff: true, linger: 3 }, nodelay: true, supported: false });
});

test('sockopt-bad-input: Node codes before anything reaches the kernel', async (t) => {
  const ring = new Ring();
  const fd = await ring.socket(c.AF_INET, c.SOCK_STREAM);
  await t.throwsAsync(ring.setsockopt(fd, c.SOL_SOCKET, c.SO_REUSEADDR, 1), { code: 'ERR_INVALID_ARG_TYPE' });
  await t.throwsAsync(ring.setsockopt(fd, c.IPPROTO_TCP, c.TCP_KEEPIDLE, 0), { code: 'ERR_OUT_OF_RANGE' });
  await t.throwsAsync(ring.setsockopt(fd, c.IPPROTO_TCP, c.TCP_KEEPIDLE, 1.5), { code: 'ERR_OUT_OF_RANGE' });
  await t.throwsAsync(ring.setsockopt(fd, c.IPPROTO_TCP, c.TCP_KEEPIDLE, '5'), { code: 'ERR_INVALID_ARG_TYPE' });
  await t.throwsAsync(ring.setsockopt(fd, c.SOL_SOCKET, c.SO_LINGER, true), { code: 'ERR_INVALID_ARG_TYPE' });
  await t.throwsAsync(ring.setsockopt(fd, c.SOL_SOCKET, c.SO_LINGER, { onoff: 1, linger: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
  await t.throwsAsync(ring.setsockopt(fd, c.SOL_SOCKET, c.SO_LINGER, { onoff: true, linger: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  await t.throwsAsync(ring.setsockopt(fd, c.SOL_SOCKET, 3, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
  await t.throwsAsync(ring.setsockopt(fd, c.SOL_SOCKET, 3, Buffer.alloc(257)), { code: 'ERR_OUT_OF_RANGE' });
  await t.throwsAsync(ring.setsockopt(fd, -1, c.SO_REUSEADDR, true), { code: 'ERR_OUT_OF_RANGE' });
  await t.throwsAsync(ring.setsockopt(fd, 'SOL_SOCKET', c.SO_REUSEADDR, true), { code: 'ERR_INVALID_ARG_TYPE' });
  await t.throwsAsync(ring.getsockopt(-1, c.SOL_SOCKET, c.SO_REUSEADDR), { code: 'ERR_OUT_OF_RANGE' });
  await t.throwsAsync(ring.getsockopt(fd, c.SOL_SOCKET, 1.5), { code: 'ERR_OUT_OF_RANGE' });
  t.is(ring.inFlight, 0);
  await ring.close(fd);
  await ring.destroy();
});

opTest(sockopts, 'sockopt-kernel-errors: a file that is no socket and an unknown option reject with the kernel errno', async (t) => {
  const ring = new Ring();
  const fd = await ring.open(new URL(import.meta.url), 'r');
  const err = await t.throwsAsync(ring.setsockopt(fd, c.SOL_SOCKET, c.SO_KEEPALIVE, true));
  t.true(['ENOTSOCK', 'ENOTSUP'].includes(err.code), err.code);
  await ring.close(fd);
  const sock = await ring.socket(c.AF_INET, c.SOCK_STREAM);
  await t.throwsAsync(ring.setsockopt(sock, c.SOL_SOCKET, 9999, 1), { code: 'ENOPROTOOPT' });
  await ring.close(sock);
  await ring.destroy();
});

/** A server on `port` (0: any) that accepts one connection per client and closes it first (its side goes to TIME_WAIT). */
async function serveAndCloseFirst(ring, port, bindOptions) {
  const fd = await ring.socket(c.AF_INET, c.SOCK_STREAM);
  await ring.bind(fd, { address: '127.0.0.1', port }, bindOptions);
  await ring.listen(fd);
  const address = localAddress(fd);
  for (let i = 0; i < 3; i++) {
    const client = net.connect({ host: '127.0.0.1', port: address.port });
    const closed = new Promise((resolve) => client.on('close', resolve));
    client.on('error', () => {});
    client.on('end', () => client.end()).resume();
    const { fd: conn } = await ring.accept(fd);
    await ring.send(conn, 'bye');
    // The server closes first: its side of the connection waits in TIME_WAIT.
    await ring.close(conn);
    await closed;
  }
  await ring.close(fd);
  return address.port;
}

opTest(['socket', 'bind', 'listen', 'accept'], 'listen-restart-time-wait: a server closed after serving connections is replaced at once on its port (SO_REUSEADDR by default, as node:net)', async (t) => {
  const ring = new Ring();
  const port = await serveAndCloseFirst(ring, 0);
  // Without SO_REUSEADDR this bind fails with EADDRINUSE for as long as TIME_WAIT lasts.
  const again = await serveAndCloseFirst(ring, port);
  t.is(again, port);
  // node:net can take it too.
  const server = net.createServer();
  await new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  await new Promise((resolve) => server.close(resolve));
  // And reuseAddress: false is the kernel's plain rule again.
  const fd = await ring.socket(c.AF_INET, c.SOCK_STREAM);
  await t.throwsAsync(ring.bind(fd, { address: '127.0.0.1', port }, { reuseAddress: false }), { code: 'EADDRINUSE' });
  await ring.close(fd);
  await ring.destroy();
});

opTest(['socket', 'bind', 'listen'], 'listen-reuse-port: two listeners share a port with reusePort, and not without it', async (t) => {
  const ring = new Ring();
  const first = await ring.socket(c.AF_INET, c.SOCK_STREAM);
  await ring.bind(first, { address: '127.0.0.1', port: 0 }, { reusePort: true });
  await ring.listen(first);
  t.true(await ring.getsockopt(first, c.SOL_SOCKET, c.SO_REUSEPORT));
  t.true(await ring.getsockopt(first, c.SOL_SOCKET, c.SO_REUSEADDR));
  const { port } = localAddress(first);
  const second = await ring.socket(c.AF_INET, c.SOCK_STREAM);
  await ring.bind(second, { address: '127.0.0.1', port }, { reusePort: true });
  await ring.listen(second);
  const third = await ring.socket(c.AF_INET, c.SOCK_STREAM);
  await t.throwsAsync(ring.bind(third, { address: '127.0.0.1', port }), { code: 'EADDRINUSE' });
  await t.throwsAsync(ring.bind(third, { address: '127.0.0.1', port }, { reusePort: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE' });
  for (const fd of [first, second, third]) await ring.close(fd);
  await ring.destroy();
});

opTest(['socket', 'bind'], 'bind-udp-no-reuseaddr: a datagram socket does not get SO_REUSEADDR (two could bind one port)', async (t) => {
  const ring = new Ring();
  const fd = await ring.socket(c.AF_INET, c.SOCK_DGRAM);
  await ring.bind(fd, { address: '127.0.0.1', port: 0 });
  t.false(await ring.getsockopt(fd, c.SOL_SOCKET, c.SO_REUSEADDR));
  await ring.close(fd);
  await ring.destroy();
});


opTest(sockopts, 'sockopt-chain: setsockopt at SOL_SOCKET links in a chain; getsockopt below it (a system call) rejects there with EOPNOTSUPP (ENOTSUP) saying why', async (t) => {
  const ring = new Ring();
  const fd = await ring.socket(c.AF_INET, c.SOCK_STREAM);
  const [set, get] = await ring.chain()
    .setsockopt(fd, c.SOL_SOCKET, c.SO_KEEPALIVE, true)
    .getsockopt(fd, c.IPPROTO_TCP, c.TCP_NODELAY)
    .submit();
  t.is(set.status, 'fulfilled');
  t.is(get.status, 'rejected');
  t.is(get.reason.code, 'ENOTSUP'); // errno 95, as Node names it
  t.regex(get.reason.message, /plain system call here/);
  t.true(await ring.getsockopt(fd, c.SOL_SOCKET, c.SO_KEEPALIVE));
  await ring.close(fd);
  await ring.destroy();
});
