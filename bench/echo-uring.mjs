// The echo benchmark's uring-aio server: the same echo as echo-node-net.mjs, over one
// Ring: a multishot accept, and per connection a multishot receive from one provided
// buffer ring shared by all connections, each chunk sent back before its buffer is
// returned to the kernel. suite.mjs runs it in a process of its own and drives it
// through the protocol of echo-server-control.mjs.
//
// Where this build of uring-aio has no sockets yet (or io_uring is refused), it prints
// {"unavailable":"why"} and exits 0, and the suite reports its rows as skipped.
import net from 'node:net';
import { Ring, constants, isSupported } from '../dist/index.js';
import { serverControl } from './echo-server-control.mjs';

/** The Ring methods this server uses (the socket API of issue 12). */
const NEEDED = ['socket', 'bind', 'listen', 'acceptMultishot', 'recvMultishot', 'send', 'bufferRing', 'close'];
// One buffer per message in flight at 64 connections. A message that arrives in pieces
// holds more than one, and receives then wait on ENOBUFS: raise the count if the 16 KiB
// rows show that.
const BUFFER_COUNT = 1024;
const BUFFER_SIZE = 16384;
// Linux's values, for a build whose constants lack them.
const AF_INET = constants.AF_INET ?? 2;
const SOCK_STREAM = constants.SOCK_STREAM ?? 1;
const IPPROTO_TCP = constants.IPPROTO_TCP ?? 6;
const TCP_NODELAY = constants.TCP_NODELAY ?? 1;

const unavailable = (reason, details = {}) => {
  process.stdout.write(`${JSON.stringify({ unavailable: reason, ...details })}\n`);
  process.exit(0);
};

const support = isSupported();
if (!support.ok) unavailable(`io_uring unavailable: ${support.reason}`);
const ring = new Ring();
const missing = NEEDED.filter((name) => typeof ring[name] !== 'function');
if (missing.length) {
  await ring.destroy();
  const more = missing.length > 1 ? ` (nor ${missing.length - 1} more of the socket methods)` : '';
  unavailable(`this build of uring-aio has no Ring.${missing[0]}${more}`, { missing: missing.map((name) => `Ring.${name}`) });
}

/** A port nobody listens on now: bound by node:net to port 0, then closed. */
const freePort = () => new Promise((resolve, reject) => {
  const probe = net.createServer();
  probe.once('error', reject);
  probe.listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});

/** A listening socket on 127.0.0.1 and its port. */
async function listen() {
  for (let attempt = 1; ; attempt++) {
    const fd = await ring.socket(AF_INET, SOCK_STREAM);
    try {
      // Without getsockname, bind a port found free a moment ago (another process
      // could take it in between: then try another).
      const chosen = typeof ring.getsockname === 'function' ? 0 : await freePort();
      await ring.bind(fd, { address: '127.0.0.1', port: chosen });
      await ring.listen(fd, 511);
      const port = chosen || (await ring.getsockname(fd)).port;
      return { fd, port };
    } catch (e) {
      await ring.close(fd).catch(() => {});
      if (e.code !== 'EADDRINUSE' || attempt === 5) throw e;
    }
  }
}

const { fd: listener, port } = await listen();
// Accepted sockets inherit TCP_NODELAY from the listener on Linux. Best effort: only
// where the ring has setsockopt; without it a reply sent in two pieces may wait on
// Nagle's algorithm (one message in flight per connection makes that rare).
let noDelay = false;
if (typeof ring.setsockopt === 'function') {
  try {
    await ring.setsockopt(listener, IPPROTO_TCP, TCP_NODELAY, 1);
    noDelay = true;
  } catch {
    // Reported as noDelay: false.
  }
}
const bufferRing = ring.bufferRing({ count: BUFFER_COUNT, size: BUFFER_SIZE });
// The buffer goes back to the kernel through the ring (or, in a build that has it,
// the chunk's own release()).
const release = typeof bufferRing.release === 'function' ? (chunk) => bufferRing.release(chunk) : (chunk) => chunk.release?.();

/** Sends all of `chunk`, however the kernel splits it. */
async function sendAll(fd, chunk) {
  for (let offset = 0; offset < chunk.length;) {
    const sent = await ring.send(fd, offset ? chunk.subarray(offset) : chunk);
    // A send that resolves to no count sent everything.
    if (typeof sent !== 'number' || sent <= 0) return;
    offset += sent;
  }
}

async function serve(fd) {
  try {
    for await (const chunk of ring.recvMultishot(fd, { bufferRing })) {
      try {
        await sendAll(fd, chunk);
      } finally {
        release(chunk);
      }
    }
  } catch {
    // The client drops its connections when it stops measuring: resets are expected.
  } finally {
    await ring.close(fd).catch(() => {});
  }
}

const accepting = (async () => {
  for await (const { fd } of ring.acceptMultishot(listener)) serve(fd);
})();
accepting.catch((e) => {
  process.stderr.write(`echo-uring: accept failed: ${e.stack ?? e}\n`);
  process.exit(1);
});

serverControl({
  port,
  noDelay,
  close: async () => {
    await ring.close(listener).catch(() => {});
    await ring.destroy();
  },
});
