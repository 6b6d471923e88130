// Differential fuzzing of the argument parsers against Node's own (reached with
// --expose-internals in a child process): open flags, file modes and paths. For
// thousands of generated inputs, uring-aio must accept exactly what node:fs accepts,
// give the same flags and modes, and refuse the rest with the same error code.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { runChildAsync } from './helpers.mjs';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const CASES = Number(process.env.FUZZ_CASES ?? 20000);

const child = `
  import { createRequire } from 'node:module';
  const require = createRequire(import.meta.url);
  const { stringToFlags, getValidatedPath } = require('internal/fs/utils');
  const { parseFileMode } = require('internal/validators');
  const { parseOpenFlags, O_CLOEXEC } = require(${JSON.stringify(path.join(dist, 'flags.js'))});
  const { parseMode, validatePath } = require(${JSON.stringify(path.join(dist, 'validate.js'))});

  // A seeded generator, so a failure can be replayed (FUZZ_SEED).
  let seed = Number(process.env.FUZZ_SEED ?? 12345) >>> 0;
  const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const str = (alphabet, max) => Array.from({ length: Math.floor(rand() * (max + 1)) }, () => pick(alphabet)).join('');
  const number = () => pick([0, -1, 1, 0.5, -0.5, 2 ** 31, 2 ** 31 - 1, -(2 ** 31), 2 ** 32, 2 ** 53, NaN, Infinity, -Infinity,
    Math.floor(rand() * 2 ** 32) - 2 ** 31, Math.floor(rand() * 0o10000), rand() * 1e6]);
  const any = () => pick([undefined, null, true, {}, [], () => {}, 1n, Symbol('s'), number(), str('rwaxs+ 0178', 5)]);

  const outcome = (fn) => {
    try { return { ok: fn() }; } catch (e) { return { code: e.code ?? e.name }; }
  };
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  const mismatches = [];
  const check = (what, input, ours, node) => {
    if (!same(ours, node) && mismatches.length < 20) mismatches.push({ what, input: String(input), ours, node });
  };

  for (let i = 0; i < ${CASES}; i++) {
    // Flags: strings from the flag alphabet, numbers, anything.
    const f = pick([str('rwaxs+', 4), number(), any()]);
    const ours = outcome(() => parseOpenFlags(f) & ~O_CLOEXEC);
    const node = outcome(() => stringToFlags(f ?? 'r'));
    // Node checks numbers at open(), not in stringToFlags: compare numbers by range.
    if (typeof f === 'number') {
      const valid = Number.isInteger(f) && f >= -(2 ** 31) && f < 2 ** 31;
      check('flags', f, ours.code === undefined, valid);
    } else if (typeof f === 'string' || f == null) {
      check('flags', f, ours, node);
    } else {
      check('flags', typeof f, ours.code, 'ERR_INVALID_ARG_VALUE');
    }

    // Modes: octal strings and numbers; Node's range is 0..2^32-1, ours the permission bits.
    const m = pick([str('0123456789', 6), number(), any()]);
    const ourMode = outcome(() => parseMode(m, 'mode', 0o666));
    const nodeMode = outcome(() => parseFileMode(m, 'mode', 0o666));
    if (nodeMode.ok !== undefined && nodeMode.ok > 0o7777) {
      check('mode above 0o7777', m, ourMode.code, 'ERR_OUT_OF_RANGE');
    } else {
      check('mode', m, ourMode, nodeMode);
    }

    // Paths: strings (with and without NUL), bytes, URLs, anything.
    const p = pick([str('ab/\\0.%é', 6), Buffer.from(str('ab/\\0', 4)), new URL('file:///tmp/' + str('ab%2F', 4)), any()]);
    const ourPath = outcome(() => { const v = validatePath(p); return typeof v === 'string' ? v : Buffer.from(v).toString('hex'); });
    const nodePath = outcome(() => { const v = getValidatedPath(p); return typeof v === 'string' ? v : Buffer.from(v).toString('hex'); });
    check('path', p, ourPath, nodePath);
  }
  console.log(JSON.stringify({ cases: ${CASES}, mismatches }));
`;

test('parsers-differential: flags, modes and paths are accepted and refused exactly as node:fs does', async (t) => {
  t.timeout(120_000);
  const r = await runChildAsync(child, { args: ['--expose-internals'] });
  t.is(r.status, 0, r.stderr);
  const { cases, mismatches } = JSON.parse(r.stdout.trim().split('\n').pop());
  t.is(cases, CASES);
  t.deepEqual(mismatches, []);
});
