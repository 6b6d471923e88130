// Socket addresses as Node writes them: what is refused (with Node's codes, before
// anything reaches the kernel), and the shapes results come back in.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { localAddress, peerAddress } from '../dist/index.js';
import { decodeAddress, encodeAddress } from '../dist/net.js';
import { opTest, ringTest, testUnless, tmpDir } from './helpers.mjs';
import { Ring, c, noIpv6Reason } from './net-helpers.mjs';

ringTest('bad-address-codes: bad addresses reject with ERR_INVALID_ARG_TYPE, ERR_SOCKET_BAD_PORT, ERR_INVALID_IP_ADDRESS, ERR_INVALID_ARG_VALUE', async (t) => {
  const ring = new Ring();
  const cases = [
    [null, 'ERR_INVALID_ARG_TYPE', /The "address" argument must be of type object\. Received null/],
    ['127.0.0.1:80', 'ERR_INVALID_ARG_TYPE', /must be of type object/],
    [{ address: 127, port: 80 }, 'ERR_INVALID_ARG_TYPE', /The "address\.address" property must be of type string/],
    [{ address: '127.0.0.1', port: 65536 }, 'ERR_SOCKET_BAD_PORT', /^Port should be >= 0 and < 65536\. Received type number \(65536\)\.$/],
    [{ address: '127.0.0.1', port: -1 }, 'ERR_SOCKET_BAD_PORT', /Received type number \(-1\)/],
    [{ address: '127.0.0.1', port: 1.5 }, 'ERR_SOCKET_BAD_PORT', /Received type number \(1\.5\)/],
    [{ address: '127.0.0.1', port: 'http' }, 'ERR_SOCKET_BAD_PORT', /Received type string \('http'\)/],
    [{ address: '127.0.0.1', port: ' ' }, 'ERR_SOCKET_BAD_PORT', /Received type string \(' '\)/],
    [{ address: '127.0.0.1' }, 'ERR_SOCKET_BAD_PORT', /Received undefined/],
    [{ address: 'localhost', port: 80 }, 'ERR_INVALID_IP_ADDRESS', /^Invalid IP address: localhost$/],
    [{ address: '1.2.3', port: 80 }, 'ERR_INVALID_IP_ADDRESS', /Invalid IP address: 1\.2\.3/],
    [{ address: '::1', port: 80, family: 4 }, 'ERR_INVALID_ARG_VALUE', /'address\.family' must match the address ::1 \(IPv6\)/],
    [{ address: '127.0.0.1', port: 80, family: 5 }, 'ERR_INVALID_ARG_VALUE', /'address\.family' must be 4, 6/],
    [{ address: 'fe80::1%no-such-interface-x', port: 80 }, 'ERR_INVALID_IP_ADDRESS', /Invalid IP address/],
    [{ path: '' }, 'ERR_INVALID_ARG_VALUE', /'address\.path' must not be empty/],
    [{ path: 'x'.repeat(108) }, 'ERR_INVALID_ARG_VALUE', /at most 107 bytes/],
    [{ path: 'a\0b' }, 'ERR_INVALID_ARG_VALUE', /without null bytes/],
    [{ path: 42 }, 'ERR_INVALID_ARG_TYPE', /"address\.path" property must be of type string/],
  ];
  for (const [address, code, message] of cases) {
    const error = await t.throwsAsync(ring.connect(0, address), { code }, `connect ${JSON.stringify(address)}`);
    t.regex(error.message, message);
    await t.throwsAsync(ring.bind(0, address), { code }, `bind ${JSON.stringify(address)}`);
  }
  await t.throwsAsync(ring.sendmsg(0, [Buffer.from('x')], { address: { address: 'nope', port: 1 } }), { code: 'ERR_INVALID_IP_ADDRESS' });
  t.is(ring.inFlight, 0, 'nothing reached the kernel');
  t.is(ring.submitCalls, 0);
  await ring.destroy();
});

ringTest('address-codes-match-node: the codes are the ones node:net gives for the same mistakes', async (t) => {
  const nodeCode = (fn) => {
    try {
      fn();
    } catch (e) {
      return e.code;
    }
    return undefined;
  };
  t.is(nodeCode(() => net.connect({ host: '127.0.0.1', port: 65536 })), 'ERR_SOCKET_BAD_PORT');
  const ring = new Ring();
  const error = await t.throwsAsync(ring.connect(0, { address: '127.0.0.1', port: 65536 }));
  t.is(error.code, 'ERR_SOCKET_BAD_PORT');
  t.true(error instanceof RangeError);
  t.is(net.isIP('localhost'), 0);
  await ring.destroy();
});

opTest(['socket', 'bind'], 'address-shapes: results carry { address, port, family } and { path }', async (t) => {
  const ring = new Ring();
  const v4 = await ring.socket(c.AF_INET, c.SOCK_DGRAM);
  await ring.bind(v4, { address: '127.0.0.1', port: 0 });
  const a = localAddress(v4);
  t.deepEqual(Object.keys(a), ['address', 'port', 'family']);
  t.is(a.family, 4);
  t.is(t.throws(() => peerAddress(v4), { code: 'ENOTCONN' }).syscall, 'getpeername');
  const dir = tmpDir();
  const unix = await ring.socket(c.AF_UNIX, c.SOCK_DGRAM);
  await ring.bind(unix, { path: Buffer.from(path.join(dir, 'u.sock')) });
  t.deepEqual(localAddress(unix), { path: path.join(dir, 'u.sock') });
  const abstract = await ring.socket(c.AF_UNIX, c.SOCK_DGRAM);
  const name = `\0uring-aio-test-${process.pid}`;
  await ring.bind(abstract, { path: name });
  t.deepEqual(localAddress(abstract), { path: name }, 'an abstract name keeps its leading NUL');
  for (const fd of [v4, unix, abstract]) await ring.close(fd);
  t.is(t.throws(() => localAddress(v4), { code: 'EBADF' }).syscall, 'getsockname');
  await ring.destroy();
});

testUnless(noIpv6Reason, 'IPv6 loopback tests')('address-ipv6-inferred: an IPv6 address without family binds an AF_INET6 socket; binding an AF_INET socket to it fails EAFNOSUPPORT', async (t) => {
  const ring = new Ring();
  const fd = await ring.socket(c.AF_INET6, c.SOCK_STREAM);
  await ring.bind(fd, { address: '::1', port: 0 });
  const address = localAddress(fd);
  t.is(address.family, 6);
  t.is(address.address, '::1');
  t.true(address.port > 0);
  const v4 = await ring.socket(c.AF_INET, c.SOCK_STREAM);
  t.is((await t.throwsAsync(ring.bind(v4, { address: '::1', port: 0 }), { code: 'EAFNOSUPPORT' })).syscall, 'bind');
  for (const f of [fd, v4]) await ring.close(f);
  await ring.destroy();
});

ringTest('address-ipv6-scope: a %index or %name zone becomes the scope id, and comes back as scopeid', (t) => {
  const lo = Number(fs.readFileSync('/sys/class/net/lo/ifindex', 'utf8'));
  for (const address of ['fe80::1%1', 'fe80::1%lo']) {
    const bytes = encodeAddress({ address, port: 80 });
    t.is(bytes.length, 28);
    const scope = new DataView(bytes.buffer, bytes.byteOffset).getUint32(24, os.endianness() === 'LE'); // the CPU's byte order
    t.is(scope, address.endsWith('%1') ? 1 : lo);
  }
  t.deepEqual(decodeAddress(encodeAddress({ address: 'fe80::1', port: 80, scopeid: 7, flowinfo: 3 })), { address: 'fe80::1', port: 80, family: 6, flowinfo: 3, scopeid: 7 });
  t.deepEqual(decodeAddress(encodeAddress({ address: '::ffff:1.2.3.4', port: 1 })), { address: '::ffff:1.2.3.4', port: 1, family: 6 });
  t.deepEqual(decodeAddress(encodeAddress({ address: '10.0.0.1', port: 65535, family: 'IPv4' })), { address: '10.0.0.1', port: 65535, family: 4 });
  // A port string, as process.env.PORT is and net.connect() takes.
  t.deepEqual(decodeAddress(encodeAddress({ address: '10.0.0.1', port: ' 8080 ' })), { address: '10.0.0.1', port: 8080, family: 4 });
});
