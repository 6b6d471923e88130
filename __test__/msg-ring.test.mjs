// IORING_OP_MSG_RING: one ring posts { data, result } to another, which reads them from
// ring.messages(), also across threads.
import { Ring } from '../dist/index.js';
import { distUrl, ringTest, runChildAsync } from './helpers.mjs';

ringTest('msg-ring: a message posted by one ring arrives in the other\'s messages()', async (t) => {
  const a = new Ring();
  const b = new Ring();
  t.is(await a.msgRing(b, 42, 7), undefined);
  for await (const message of b.messages()) {
    t.deepEqual(message, { data: 42, result: 7 });
    break;
  }
  t.is(b.inFlight, 0, 'a message is no operation of the receiver');
  await Promise.all([a.destroy(), b.destroy()]);
});

ringTest('msg-ring-queued: messages that came before the loop are kept, in order', async (t) => {
  const a = new Ring();
  const b = new Ring();
  await Promise.all([1, 2, 3].map((n) => a.msgRing(b, n)));
  const got = [];
  for await (const { data } of b.messages()) {
    got.push(data);
    if (got.length === 3) break;
  }
  t.deepEqual(got.sort(), [1, 2, 3]);
  await Promise.all([a.destroy(), b.destroy()]);
});

ringTest('msg-ring-destroy: destroy() ends a waiting messages() loop', async (t) => {
  const b = new Ring();
  const loop = (async () => {
    for await (const _ of b.messages()) { /* none */ }
    return 'ended';
  })();
  await new Promise((r) => setTimeout(r, 10));
  await b.destroy();
  t.is(await loop, 'ended');
});

ringTest('msg-ring-errors: a bad target is a coded error; a closed ring fd is EBADF', async (t) => {
  const a = new Ring();
  await t.throwsAsync(a.msgRing({}, 1), { code: 'ERR_INVALID_ARG_TYPE' });
  await t.throwsAsync(a.msgRing('3', 1), { code: 'ERR_INVALID_ARG_TYPE' });
  await t.throwsAsync(a.msgRing(a, 2 ** 52), { code: 'ERR_OUT_OF_RANGE' });
  await t.throwsAsync(a.msgRing(999999, 1), { code: 'EBADF' });
  await a.destroy();
});

ringTest('msg-ring-worker: a Worker posts to the main thread\'s ring by its fd; the waiting loop keeps the process alive', async (t) => {
  const r = await runChildAsync(`
    import { Worker } from 'node:worker_threads';
    import { Ring } from DIST;
    const ring = new Ring();
    const code = \`
      const { workerData } = require('node:worker_threads');
      import(workerData.dist).then(async ({ Ring }) => {
        const sender = new Ring();
        await new Promise((r) => setTimeout(r, 200));
        await sender.msgRing(workerData.fd, 1234, 5);
        await sender.destroy();
      });
    \`;
    new Worker(code, { eval: true, execArgv: [], workerData: { fd: ring.ringFd, dist: ${JSON.stringify(distUrl)} } }).unref();
    for await (const m of ring.messages()) {
      console.log(JSON.stringify(m));
      break;
    }
    await ring.destroy();
  `, { timeout: 20000 });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), JSON.stringify({ data: 1234, result: 5 }));
});

ringTest('msg-ring-return-while-waiting: return() on a waiting messages() iterator settles it and lets the process exit', async (t) => {
  const r = await runChildAsync(`
    import { Ring } from DIST;
    const ring = new Ring();
    const it = ring.messages();
    const pending = it.next();
    setTimeout(async () => {
      await it.return();
      console.log(JSON.stringify(await pending));
    }, 50);
  `, { timeout: 20000 });
  t.is(r.signal, null, 'hung');
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), JSON.stringify({ done: true }));
});

ringTest('msg-ring-gc: a ring that only waits in messages() is not collected; the message arrives', async (t) => {
  const r = await runChildAsync(`
    import { Ring } from DIST;
    let fd;
    (async () => {
      const ring = new Ring();
      fd = ring.ringFd;
      for await (const m of ring.messages()) { console.log(m.data); break; }
    })();
    for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
    const sender = new Ring();
    await sender.msgRing(fd, 77);
    await sender.destroy();
  `, { args: ['--expose-gc'], timeout: 20000 });
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout.trim(), '77');
});
