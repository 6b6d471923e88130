// The lifetime scenarios under valgrind memcheck (scripts/memcheck.mjs): no invalid
// read or write, use after free or bad free while GC, detach, transfer, resize,
// destroy, abort, Worker termination and exit race the kernel.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { support } from './helpers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const valgrind = spawnSync('valgrind', ['--version']).status === 0;
if (!valgrind) console.warn('memcheck skips: valgrind is not installed');
if (!support.ok) console.warn(`memcheck skips: io_uring unavailable (${support.reason})`);

(valgrind && support.ok ? test : test.skip)('memcheck: the lifetime scenarios run clean under valgrind', async (t) => {
  t.timeout(20 * 60_000);
  const child = spawn(process.execPath, ['scripts/memcheck.mjs'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const status = await new Promise((resolve) => child.on('close', resolve));
  t.regex(out, /memcheck: \d+ lifetime scenarios, valgrind errors: 0,/, out.slice(-3000));
  t.is(status, 0);
});
