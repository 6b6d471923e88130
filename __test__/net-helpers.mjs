// Helpers of the net-*.test.mjs files: real sockets on loopback and in temp dirs.
import net from 'node:net';
import { Ring, constants as c, localAddress } from '../dist/index.js';

/** Why IPv6 loopback cannot be used here, or undefined when ::1 takes a listener. */
export const noIpv6Reason = await new Promise((resolve) => {
  const server = net.createServer();
  server.once('error', (e) => resolve(`::1 is not available (${e.code})`));
  server.listen(0, '::1', () => server.close(() => resolve(undefined)));
});

/** A listening TCP socket made through the ring on `host`, and its address. */
export async function ringListener(ring, host = '127.0.0.1') {
  const family = host.includes(':') ? c.AF_INET6 : c.AF_INET;
  const fd = await ring.socket(family, c.SOCK_STREAM);
  await ring.bind(fd, { address: host, port: 0 });
  await ring.listen(fd);
  return { fd, address: localAddress(fd) };
}

/** A connected pair through the ring: the accepted fd and the client fd. */
export async function ringPair(ring, host = '127.0.0.1') {
  const listener = await ringListener(ring, host);
  const client = await ring.socket(listener.address.family === 6 ? c.AF_INET6 : c.AF_INET, c.SOCK_STREAM);
  const [accepted] = await Promise.all([ring.accept(listener.fd), ring.connect(client, listener.address)]);
  await ring.close(listener.fd);
  return { server: accepted.fd, client, peer: accepted.address };
}

/** A node:net client connected to `address`, once connected. */
export function nodeClient(address) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address.address, port: address.port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

export { Ring, c };
