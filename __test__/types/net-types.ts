// Type test of the socket surface (tsconfig.examples.json compiles it under strict).
import { Ring, constants, localAddress, type Accepted, type BufferRing, type IoError, type Linger, type RecvmsgResult, type RingChunk, type SocketAddress } from 'uring-aio';

export async function types(ring: Ring): Promise<void> {
  const fd: number = await ring.socket(constants.AF_INET6, constants.SOCK_STREAM);
  const nothing: void = await ring.bind(fd, { address: '::1', port: 0 });
  void nothing;
  await ring.listen(fd);
  await ring.listen(fd, 16);
  const address: SocketAddress | undefined = localAddress(fd);
  if (address !== undefined) await ring.connect(fd, address); // a result is an input
  await ring.connect(fd, { path: '/run/x.sock' });
  await ring.connect(fd, { address: '127.0.0.1', port: '8080', family: 'IPv4' });
  const accepted: Accepted = await ring.accept(fd, { flags: constants.SOCK_NONBLOCK });
  const sent: number = await ring.send(accepted.fd, 'text', { flags: constants.MSG_MORE });
  const got: number = await ring.recv(accepted.fd, Buffer.alloc(16));
  const message: RecvmsgResult = await ring.recvmsg(fd, [Buffer.alloc(8)]);
  const zc: number = await ring.sendZc(fd, new Uint8Array(8)) + await ring.sendmsgZc(fd, [Buffer.alloc(1)], { address: { address: '::1', port: 1 } });
  await ring.shutdown(fd, constants.SHUT_RDWR);
  const bufferRing: BufferRing = ring.bufferRing({ count: 8, size: 4096 });
  for await (const conn of ring.acceptMultishot(fd, { signal: AbortSignal.timeout(10) })) {
    const peer: SocketAddress | undefined = conn.address;
    void peer;
    for await (const chunk of ring.recvMultishot(conn.fd, { bufferRing })) {
      const c: RingChunk = chunk;
      const b: Buffer = chunk;
      const released: boolean = c.release() || bufferRing.release(b);
      void released;
    }
  }
  void [sent, got, message.bytesRead, message.address, message.flags, zc, bufferRing.available];
  // Socket options: the value's type follows the option.
  await ring.setsockopt(fd, constants.IPPROTO_TCP, constants.TCP_NODELAY, true);
  await ring.setsockopt(fd, constants.SOL_SOCKET, constants.SO_RCVBUF, 1 << 20);
  await ring.setsockopt(fd, constants.SOL_SOCKET, constants.SO_LINGER, { onoff: true, linger: 5 });
  const reuse: boolean = await ring.getsockopt(fd, constants.SOL_SOCKET, constants.SO_REUSEADDR);
  const idle: number = await ring.getsockopt(fd, constants.IPPROTO_TCP, constants.TCP_KEEPIDLE);
  const linger: Linger = await ring.getsockopt(fd, constants.SOL_SOCKET, constants.SO_LINGER);
  const raw: Buffer = await ring.getsockopt(fd, constants.SOL_SOCKET, 3);
  void [reuse, idle, linger, raw];
  // @ts-expect-error: TCP_NODELAY is on or off
  await ring.setsockopt(fd, constants.IPPROTO_TCP, constants.TCP_NODELAY, 1);
  // @ts-expect-error: SO_LINGER takes { onoff, linger }
  await ring.setsockopt(fd, constants.SOL_SOCKET, constants.SO_LINGER, 5);
  await ring.bind(fd, { address: '::1', port: 0 }, { reusePort: true, reuseAddress: false });
  for await (const conn of ring.acceptMultishot(fd, { onError: (e: IoError) => void e.code })) void conn;
  // @ts-expect-error: recvMultishot needs its buffer ring
  ring.recvMultishot(fd);
  // @ts-expect-error: a host name is not an address object
  await ring.connect(fd, 'localhost:80');
}
