// A TCP echo server on io_uring: one multishot accept for every connection, one
// multishot receive per connection into a shared provided buffer ring (zero-copy
// chunks), each chunk sent back. Ctrl-C (SIGINT) or SIGTERM shuts it down gracefully:
// no new connections, open ones closed, every request of the ring settled.
//
//   node echo-server.js [port]        (or PORT=7000 HOST=::1 node echo-server.js)
//
// Port 0 (the default) lets the kernel pick one; the server prints the one it got:
// "listening on 127.0.0.1:40123". Compile it with tsc (or run it with Node 22.6+
// --experimental-strip-types).
import { Ring, constants, localAddress, type BufferRing, type IoError } from 'uring-aio';

const { AF_INET, AF_INET6, SOCK_STREAM } = constants;

/**
 * Sends every byte of `data`. A send on a stream socket settles with all of it (the
 * library adds MSG_WAITALL) unless the connection failed midway: then it settles with
 * what went, and the next send rejects with the error.
 */
async function sendAll(ring: Ring, fd: number, data: Uint8Array): Promise<void> {
  for (let sent = 0; sent < data.length;) sent += await ring.send(fd, data.subarray(sent));
}

/** Echoes one connection until the peer ends it (or it is closed), then closes it. */
async function serve(ring: Ring, fd: number, bufferRing: BufferRing, open: Set<number>): Promise<void> {
  try {
    for await (const chunk of ring.recvMultishot(fd, { bufferRing })) {
      try {
        await sendAll(ring, fd, chunk);
      } finally {
        chunk.release(); // the buffer goes back to the kernel
      }
    }
  } catch (e) {
    const code = (e as IoError).code;
    // A peer that resets or vanishes is normal for a server; anything else is not.
    if (code !== 'ECONNRESET' && code !== 'EPIPE' && code !== 'ECANCELED') console.error(`connection ${fd}:`, e);
  } finally {
    // `shutdown()` closes it (and so ended the loop) already.
    if (open.delete(fd)) await ring.close(fd).catch(() => {});
  }
}

async function main(): Promise<void> {
  const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
  const host = process.env.HOST ?? '127.0.0.1';
  const ring = new Ring();
  const listener = await ring.socket(host.includes(':') ? AF_INET6 : AF_INET, SOCK_STREAM);
  await ring.bind(listener, { address: host, port });
  await ring.listen(listener);
  const address = localAddress(listener);
  if (address === undefined || !('port' in address)) throw new Error('no address');
  console.log(`listening on ${address.family === 6 ? `[${address.address}]` : address.address}:${address.port}`);

  // One provided buffer ring shared by every connection: 256 buffers of 16 KiB.
  const bufferRing = ring.bufferRing({ count: 256, size: 16384 });
  const open = new Set<number>();
  const serving = new Set<Promise<void>>();
  const stop = new AbortController();

  const shutdown = async (): Promise<void> => {
    // Closing a socket through the ring ends the receive loop reading it.
    await Promise.all([...open].map((fd) => {
      open.delete(fd);
      return ring.close(fd).catch(() => {});
    }));
  };
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());

  // Out of descriptors (EMFILE under `ulimit -n`): the loop accepts on once some are
  // free, as a node:net server does; say so once per spell.
  let starved = false;
  const onError = (e: IoError): void => {
    if (!starved) console.error(`accept: ${e.code}, ${open.size} connections open; accepting on once descriptors are free`);
    starved = true;
  };
  try {
    for await (const { fd } of ring.acceptMultishot(listener, { signal: stop.signal, onError })) {
      starved = false;
      open.add(fd);
      const task = serve(ring, fd, bufferRing, open);
      serving.add(task);
      void task.finally(() => serving.delete(task));
    }
  } catch (e) {
    if ((e as Error).name !== 'AbortError') throw e;
  }
  await shutdown();
  await Promise.all(serving);
  await ring.close(listener);
  await ring.destroy();
  console.log('closed');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
