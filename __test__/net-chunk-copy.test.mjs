// Small received chunks are copied out of the buffer ring as their completions are
// delivered (`bufferRing({ copyUpTo })`): the buffer goes straight back to the kernel,
// the chunk is the caller's own Buffer, and larger chunks stay zero-copy views.
import { opTest } from './helpers.mjs';
import { Ring, ringPair } from './net-helpers.mjs';

const recvOps = ['socket', 'bind', 'listen', 'accept', 'connect', 'recvMultishot'];

/** Resolves once `n` bytes were read from `it`, with every chunk (held, not released). */
async function take(it, n) {
  const chunks = [];
  let got = 0;
  while (got < n) {
    const { value, done } = await it.next();
    if (done) break;
    chunks.push(value);
    got += value.length;
  }
  return chunks;
}

opTest(recvOps, 'chunk-copy-returns-buffer: a chunk up to copyUpTo is a copy, and its buffer is back in the ring before the chunk is released', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  const bufferRing = ring.bufferRing({ count: 2, size: 64 });
  t.is(bufferRing.copyUpTo, 64, 'the default (4096) is capped at the buffer size');
  const it = ring.recvMultishot(server, { bufferRing });
  // Ten messages, one at a time, none released: with held views a 2-buffer ring would
  // run dry after two.
  const held = [];
  for (let i = 0; i < 10; i++) {
    await ring.send(client, `message ${i}`);
    const [chunk] = await take(it, `message ${i}`.length);
    held.push(chunk);
    t.is(bufferRing.available, 2, `buffer of chunk ${i} went back at once`);
  }
  t.deepEqual(held.map(String), Array.from({ length: 10 }, (_, i) => `message ${i}`), 'every held copy keeps its bytes');
  t.true(Buffer.isBuffer(held[0]));
  t.false(held[0].release(), 'nothing to give back');
  t.is(held[0].toString(), 'message 0', 'release leaves a copy readable');
  await it.return();
  for (const f of [server, client]) await ring.close(f);
  await ring.destroy();
});

opTest(recvOps, 'chunk-copy-up-to-boundary: a chunk of copyUpTo bytes is copied, one byte more is a held view', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  const bufferRing = ring.bufferRing({ count: 4, size: 64, copyUpTo: 8 });
  t.is(bufferRing.copyUpTo, 8);
  const it = ring.recvMultishot(server, { bufferRing });
  await ring.send(client, 'A'.repeat(8));
  const [small] = await take(it, 8);
  t.is(small.toString(), 'AAAAAAAA');
  t.is(bufferRing.available, 4);
  await ring.send(client, 'B'.repeat(9));
  const [large] = await take(it, 9);
  t.is(large.toString(), 'BBBBBBBBB');
  t.is(bufferRing.available, 3, 'the 9-byte chunk holds its buffer');
  t.true(large.release());
  t.is(large.length, 0, 'a released view is detached');
  t.is(bufferRing.available, 4);
  await it.return();
  for (const f of [server, client]) await ring.close(f);
  await ring.destroy();
});

opTest(recvOps, 'chunk-copy-zero-is-zero-copy: copyUpTo 0 hands every chunk over as a view of its buffer', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  const bufferRing = ring.bufferRing({ count: 4, size: 64, copyUpTo: 0 });
  t.is(bufferRing.copyUpTo, 0);
  const it = ring.recvMultishot(server, { bufferRing });
  await ring.send(client, 'x');
  const [chunk] = await take(it, 1);
  t.is(bufferRing.available, 3);
  t.true(chunk.release());
  await it.return();
  for (const f of [server, client]) await ring.close(f);
  await ring.destroy();
});

opTest(recvOps, 'chunk-copy-large-stream: 4 MiB of copied 64 KiB chunks, some past what one delivery copies, arrive whole and in order', async (t) => {
  const ring = new Ring();
  const { server, client } = await ringPair(ring);
  // Every chunk may be copied; a delivery copies at most 1 MiB, and the chunks past
  // that are handed over as views (which of the two each is depends on timing).
  const bufferRing = ring.bufferRing({ count: 128, size: 65536, copyUpTo: 65536 });
  const data = Buffer.alloc(4 << 20);
  for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i / 4, i);
  const it = ring.recvMultishot(server, { bufferRing });
  const first = it.next();
  let sent = 0;
  while (sent < data.length) sent += await ring.send(client, data.subarray(sent));
  const firstChunk = (await first).value;
  const parts = [Buffer.from(firstChunk)];
  firstChunk.release();
  let got = parts[0].length;
  let views = 0;
  while (got < data.length) {
    const { value, done } = await it.next();
    if (done) break;
    parts.push(Buffer.from(value));
    got += value.length;
    if (value.release()) views++;
  }
  t.log(`${parts.length} chunks, ${views} of them views`);
  t.true(Buffer.concat(parts).equals(data), 'every byte, in order');
  t.is(bufferRing.available, 128, 'every buffer is back');
  await it.return();
  for (const f of [server, client]) await ring.close(f);
  await ring.destroy();
});

opTest(['recvMultishot'], 'chunk-copy-bad-option: copyUpTo must be an integer from 0 to 2^31 - 1', (t) => {
  const ring = new Ring();
  t.throws(() => ring.bufferRing({ count: 4, size: 64, copyUpTo: -1 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => ring.bufferRing({ count: 4, size: 64, copyUpTo: 1.5 }), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => ring.bufferRing({ count: 4, size: 64, copyUpTo: '8' }), { code: 'ERR_INVALID_ARG_TYPE' });
  return ring.destroy();
});
