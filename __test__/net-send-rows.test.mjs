// Sends made in one JS turn go to the kernel together (the turn's rows, one
// io_uring_enter): their bytes are taken when each call is made, they reach the socket
// in call order (with larger sends, which take the other path, in between), and their
// failures keep Node's shape.
import { opTest } from './helpers.mjs';
import { Ring, c, ringPair } from './net-helpers.mjs';

const ops = ['socket', 'bind', 'listen', 'accept', 'connect', 'send', 'recv'];

/** Reads exactly `n` bytes from socket `fd` with plain recvs. */
async function recvExactly(ring, fd, n) {
  const out = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    const r = await ring.recv(fd, out.subarray(got));
    if (r === 0) break;
    got += r;
  }
  return out.subarray(0, got);
}

/** `count` bytes of a pattern that differs at every offset mod 251, starting at `seed`. */
const pattern = (count, seed) => Buffer.from(Array.from({ length: count }, (_, i) => (seed + i) % 251));

opTest(ops, 'send-rows-order: sends made in one turn, small and large, arrive in call order', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  // Small sends share the turn's rows; the 100 KiB one does not: it must not overtake them.
  const parts = [pattern(10, 1), pattern(5000, 2), pattern(100 * 1024, 3), pattern(7, 4), pattern(60 * 1024, 5)];
  const total = parts.reduce((n, p) => n + p.length, 0);
  const reading = recvExactly(ring, server, total);
  const sent = await Promise.all(parts.map((p) => ring.send(client, p)));
  t.deepEqual(sent, parts.map((p) => p.length));
  t.true((await reading).equals(Buffer.concat(parts)), 'every byte, in call order');
  for (const f of [server, client]) await ring.close(f);
  await ring.destroy();
});

opTest(ops, 'send-rows-bytes-at-call: a send takes its bytes when called; changing the buffer afterwards changes nothing sent', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  const data = Buffer.from('taken when called');
  const sending = ring.send(client, data);
  data.fill(0x2a);
  t.is(await sending, 17);
  t.is((await recvExactly(ring, server, 17)).toString(), 'taken when called');
  for (const f of [server, client]) await ring.close(f);
  await ring.destroy();
});

opTest(ops, 'send-rows-staging-full: more bytes in one turn than the send staging holds all arrive, each on its socket', async (t) => {
  const ring = new Ring();
  // 70 sockets × 4 KiB in one turn: past the 256 KiB staging, so the rows are handed
  // over mid-turn and the rest go to a new staging.
  const pairs = [];
  for (let i = 0; i < 70; i++) pairs.push(await ringPair(ring));
  const parts = pairs.map((_, i) => pattern(4096, i));
  const reading = Promise.all(pairs.map(({ server }) => recvExactly(ring, server, 4096)));
  const sent = await Promise.all(pairs.map(({ client }, i) => ring.send(client, parts[i])));
  t.true(sent.every((n) => n === 4096));
  const received = await reading;
  t.true(received.every((r, i) => r.equals(parts[i])), 'every socket got its own bytes');
  for (const { server, client } of pairs) for (const f of [server, client]) await ring.close(f);
  await ring.destroy();
});

opTest(ops, 'send-rows-staging-held: sends waiting for room keep their bytes while later turns send more', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  // 1,000 × 4 KiB, one per turn, with nobody reading: the socket's buffer fills, and
  // the sends behind it wait in the kernel holding the staging they were copied into.
  const parts = Array.from({ length: 1000 }, (_, i) => pattern(4096, i));
  const sending = [];
  for (const part of parts) {
    sending.push(ring.send(client, part));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const [received] = await Promise.all([recvExactly(ring, server, total), Promise.all(sending)]);
  t.true(received.equals(Buffer.concat(parts)), 'every byte, in order, none overwritten');
  for (const f of [server, client]) await ring.close(f);
  await ring.destroy();
});

opTest(ops, 'send-partial-inline-after-pending: a large send partly sent inline behind an earlier send on its socket finishes (it waited on itself)', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  // Small buffers on both sides, so the large send (under the 256 KiB inline cap) fits
  // only in part.
  await ring.setsockopt(client, c.SOL_SOCKET ?? 1, c.SO_SNDBUF ?? 7, 4096);
  await ring.setsockopt(server, c.SOL_SOCKET ?? 1, c.SO_RCVBUF ?? 8, 4096);
  // The first send is in flight when the second is made: the second waits for it, then
  // goes inline, where the socket takes only part of it.
  const small = pattern(1000, 1);
  const large = pattern(250 * 1024, 2);
  const first = ring.send(client, small);
  const second = ring.send(client, large);
  const total = small.length + large.length;
  await new Promise((r) => setTimeout(r, 50));
  const received = recvExactly(ring, server, total);
  const settled = await Promise.race([second, new Promise((r) => setTimeout(() => r('pending'), 5000))]);
  t.is(settled, large.length, 'the large send settled with every byte');
  t.is(await first, small.length);
  t.true((await received).equals(Buffer.concat([small, large])));
  for (const f of [server, client]) await ring.close(f);
  await ring.destroy();
});

opTest(['send'], 'send-rows-ebadf: a send to a closed descriptor rejects with EBADF from send', async (t) => {
  const ring = new Ring();
  // Above any descriptor this process opens (the soft limit is far lower).
  const e = await t.throwsAsync(ring.send(100000, 'x'));
  t.is(e.code, 'EBADF');
  t.is(e.syscall, 'send');
  t.is(ring.inFlight, 0);
  await ring.destroy();
});

opTest(['send'], 'send-rows-aborted: a send with an aborted signal rejects with AbortError and sends nothing', async (t) => {
  const ring = new Ring();
  const ac = new AbortController();
  ac.abort();
  const e = await t.throwsAsync(ring.send(1, 'x', { signal: ac.signal }));
  t.is(e.name, 'AbortError');
  await ring.destroy();
});
