// A minimal HTTP/1.1 responder on io_uring: every request gets "Hello, world!" and the
// connection stays open for the next one (keep-alive, pipelined requests included)
// unless the client says `Connection: close` or speaks HTTP/1.0 without keep-alive.
// Requests are read with a multishot receive into a provided buffer ring; request
// bodies (Content-Length) are skipped. Ctrl-C (SIGINT) or SIGTERM shuts it down.
//
//   node http-hello.js [port]        (or PORT=8080 node http-hello.js)
//
// Prints "listening on 127.0.0.1:<port>". Not a web server: no chunked request
// bodies, no limits beyond a 64 KiB header block.
import { Ring, constants, localAddress, type BufferRing } from 'uring-aio';

const { AF_INET, AF_INET6, SOCK_STREAM, IPPROTO_TCP, TCP_NODELAY } = constants;
const BODY = 'Hello, world!\n';
const HEADERS_MAX = 65536;

function response(keepAlive: boolean): Buffer {
  return Buffer.from(
    'HTTP/1.1 200 OK\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(BODY)}\r\n` +
    `Connection: ${keepAlive ? 'keep-alive' : 'close'}\r\n` +
    '\r\n' +
    BODY,
  );
}

const KEEP_ALIVE = response(true);
const CLOSE = response(false);

/** One request head: whether the connection stays open, and the body bytes to skip. */
function parseHead(head: string): { keepAlive: boolean; bodyLength: number } {
  const [requestLine = '', ...lines] = head.split('\r\n');
  const http10 = requestLine.endsWith('HTTP/1.0');
  let connection = '';
  let bodyLength = 0;
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim().toLowerCase();
    if (name === 'connection') connection = value;
    if (name === 'content-length') bodyLength = Number.parseInt(value, 10) || 0;
  }
  const keepAlive = http10 ? connection === 'keep-alive' : connection !== 'close';
  return { keepAlive, bodyLength };
}

async function sendAll(ring: Ring, fd: number, data: Uint8Array): Promise<void> {
  for (let sent = 0; sent < data.length;) sent += await ring.send(fd, data.subarray(sent));
}

/** Answers the requests of one connection; closes it at the end. */
async function serve(ring: Ring, fd: number, bufferRing: BufferRing, open: Set<number>): Promise<void> {
  let pending = Buffer.alloc(0);
  let skip = 0;
  try {
    loop: for await (const chunk of ring.recvMultishot(fd, { bufferRing })) {
      // Copy what is kept across chunks, then give the buffer back at once.
      pending = Buffer.concat([pending, chunk]);
      chunk.release();
      for (;;) {
        if (skip > 0) {
          const n = Math.min(skip, pending.length);
          pending = pending.subarray(n);
          skip -= n;
          if (skip > 0) break;
        }
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) {
          if (pending.length > HEADERS_MAX) break loop;
          break;
        }
        const { keepAlive, bodyLength } = parseHead(pending.toString('latin1', 0, end));
        pending = pending.subarray(end + 4);
        skip = bodyLength;
        await sendAll(ring, fd, keepAlive ? KEEP_ALIVE : CLOSE);
        if (!keepAlive) break loop;
      }
    }
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'ECONNRESET' && code !== 'EPIPE' && code !== 'ECANCELED') console.error(`connection ${fd}:`, e);
  } finally {
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

  const bufferRing = ring.bufferRing({ count: 256, size: 8192 });
  const open = new Set<number>();
  const serving = new Set<Promise<void>>();
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());

  try {
    for await (const { fd } of ring.acceptMultishot(listener, { signal: stop.signal })) {
      open.add(fd);
      // Each response is one small send: no waiting for Nagle's algorithm (node:http
      // sets TCP_NODELAY too). Not awaited: it is queued before the first send.
      ring.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, true).catch(() => {});
      const task = serve(ring, fd, bufferRing, open);
      serving.add(task);
      void task.finally(() => serving.delete(task));
    }
  } catch (e) {
    if ((e as Error).name !== 'AbortError') throw e;
  }
  // Closing each connection through the ring ends its receive loop.
  await Promise.all([...open].map((fd) => {
    open.delete(fd);
    return ring.close(fd).catch(() => {});
  }));
  await Promise.all(serving);
  await ring.close(listener);
  await ring.destroy();
  console.log('closed');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
