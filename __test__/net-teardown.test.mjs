// Many connections at once: 1,000 accepted connections, each with a multishot receive
// pending (more than the ring's completion queue has entries), keep being accepted and
// leave room for other operations; process.exit and a Worker's termination with all of
// them open finish promptly (the environment cleanup hook cancels and drains every
// request instead of hanging on them).
import fs from 'node:fs';
import { opTest, runChildAsync, tmpFile } from './helpers.mjs';
import { Ring, ringListener, nodeClient } from './net-helpers.mjs';

const needs = ['socket', 'bind', 'listen', 'acceptMultishot', 'recvMultishot'];
const CONNECTIONS = 1000;

/** Module code that opens CONNECTIONS connections to a ring server, all receiving. */
const serve = `
  import net from 'node:net';
  import { Ring, constants } from @@PKG@@;
  const ring = new Ring({ entries: 256 });
  const listener = await ring.socket(constants.AF_INET, constants.SOCK_STREAM);
  await ring.bind(listener, { address: '127.0.0.1', port: 0 });
  await ring.listen(listener, 4096);
  const { localAddress } = await import(@@PKG@@);
  const port = localAddress(listener).port;
  const bufferRing = ring.bufferRing({ count: 64, size: 4096 });
  let receiving = 0;
  const accepted = new Promise((resolve) => {
    (async () => {
      for await (const { fd } of ring.acceptMultishot(listener)) {
        (async () => { for await (const chunk of ring.recvMultishot(fd, { bufferRing })) chunk.release(); })().catch(() => {});
        if (++receiving === ${CONNECTIONS}) resolve();
      }
    })().catch(() => {});
  });
  const clients = [];
  for (let i = 0; i < ${CONNECTIONS}; i++) clients.push(net.connect(port, '127.0.0.1'));
  await accepted;
  // Every accepted connection has its receive in the kernel once this turn's submission ran.
  await new Promise((resolve) => setImmediate(resolve));
  console.log(JSON.stringify({ receiving, inFlight: ring.inFlight }));
`;

opTest(needs, 'exit-1000-connections: process.exit with 1,000 connections receiving returns promptly', async (t) => {
  const r = await runChildAsync(`${serve.replaceAll('@@PKG@@', 'DIST')}\nprocess.exit(0);`, { timeout: 60000 });
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  t.is(out.receiving, CONNECTIONS);
  t.true(out.inFlight >= CONNECTIONS, `${out.inFlight} requests in flight at exit`);
  t.true(r.ms < 30000, `exited after ${Math.round(r.ms)} ms`);
});

opTest(needs, 'worker-terminate-1000-connections: terminating a Worker with 1,000 connections receiving ends it promptly', async (t) => {
  const worker = `
    import { Worker } from 'node:worker_threads';
    const code = ${JSON.stringify(serve)}.replaceAll('@@PKG@@', JSON.stringify(DIST)).replaceAll('console.log(', 'parentPort.postMessage(');
    const w = new Worker("import { parentPort } from 'node:worker_threads';" + code, { eval: true, type: 'module' });
    const ready = await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    const start = performance.now();
    const exitCode = await w.terminate();
    console.log(JSON.stringify({ ready: JSON.parse(ready), exitCode, ms: performance.now() - start }));
  `;
  const r = await runChildAsync(worker, { timeout: 60000 });
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  t.is(out.ready.receiving, CONNECTIONS);
  t.true(out.ready.inFlight >= CONNECTIONS);
  t.true(out.ms < 30000, `terminated after ${Math.round(out.ms)} ms`);
});

opTest(needs, 'multishot-beyond-cq: more idle multishot receives than CQ entries keep accepting and leave room for a file read', async (t) => {
  // A ring of 8 entries has a 16-entry completion queue; multishot ops stay in the
  // kernel until cancelled, so if they counted toward the cap on ops in the kernel,
  // the 17th would wait forever, and so would everything after it.
  const ring = new Ring({ entries: 8 });
  const listener = await ringListener(ring);
  const bufferRing = ring.bufferRing({ count: 8, size: 1024 });
  const loops = [];
  let accepted = 0;
  const acceptLoop = (async () => {
    for await (const { fd } of ring.acceptMultishot(listener.fd)) {
      accepted++;
      loops.push((async () => {
        for await (const chunk of ring.recvMultishot(fd, { bufferRing })) chunk.release();
        await ring.close(fd);
      })());
    }
  })();
  const clients = await Promise.all(Array.from({ length: 40 }, () => nodeClient(listener.address)));
  const deadline = Date.now() + 10000;
  while (accepted < 40 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  t.is(accepted, 40, 'every connection was accepted');
  const file = tmpFile(Buffer.from('still served'));
  const fd = fs.openSync(file, 'r');
  const back = Buffer.alloc(12);
  t.is(await ring.read(fd, back, 0), 12, 'a file read went through beside 40 pending receives');
  t.is(back.toString(), 'still served');
  fs.closeSync(fd);
  for (const socket of clients) socket.end();
  await Promise.all(loops);
  await ring.close(listener.fd);
  await acceptLoop;
  await ring.destroy();
});
