// Validation errors start their stack at the caller, as Node's own do
// (`fs.read('3', ...)` points at the line that called it, not at Node's internals).
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { Aio, Ring } from '../dist/index.js';
import * as liburing from '../dist/liburing.js';
import { aioTest, ringTest } from './helpers.mjs';

const thisFile = fileURLToPath(import.meta.url);

/** The first `at` line of a stack. */
function firstFrame(error) {
  return error.stack.split('\n').find((line) => line.startsWith('    at '));
}

ringTest('caller-stack-ring-rejection: a Ring method\'s argument error starts at the caller', async (t) => {
  const ring = new Ring({ entries: 4 });
  const error = await ring.read('3', Buffer.alloc(1)).catch((e) => e);
  t.is(error.code, 'ERR_INVALID_ARG_TYPE');
  t.true(firstFrame(error).includes(thisFile), error.stack);
  t.regex(error.stack, /^TypeError \[ERR_INVALID_ARG_TYPE\]: The "fd" argument/);
  await ring.destroy();
});

test('caller-stack-constructor: a constructor\'s option error starts at the caller', (t) => {
  const error = t.throws(() => new Ring({ entries: 'x' }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.true(firstFrame(error).includes(thisFile), error.stack);
});

ringTest('caller-stack-liburing: a prep function\'s argument error starts at the caller', (t) => {
  const error = t.throws(() => liburing.io_uring_prep_nop({}), { code: 'ERR_INVALID_ARG_TYPE' });
  t.true(firstFrame(error).includes(thisFile), error.stack);
});

aioTest('caller-stack-aio-throw: an Aio method\'s synchronous argument error starts at the caller', async (t) => {
  const aio = new Aio({ maxEvents: 4 });
  const error = t.throws(() => aio.read(-1, Buffer.alloc(1), 0), { code: 'ERR_OUT_OF_RANGE' });
  t.true(firstFrame(error).includes(thisFile), error.stack);
  await aio.destroy();
});

ringTest('caller-stack-frames-kept: trimming the library\'s frames keeps the caller\'s own callers', async (t) => {
  const ring = new Ring({ entries: 4 });
  function outer() {
    return inner();
  }
  function inner() {
    return ring.stat(42);
  }
  const error = await outer().catch((e) => e);
  const frames = error.stack.split('\n').filter((line) => line.startsWith('    at '));
  t.regex(frames[0], /at inner /);
  t.regex(frames[1], /at outer /);
  t.false(frames.some((line) => /[/\\]dist[/\\]/.test(line)), 'no library frame is left');
  await ring.destroy();
});
