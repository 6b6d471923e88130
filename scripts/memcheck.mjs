#!/usr/bin/env node
// Runs the lifetime scenarios (scripts/memcheck-scenarios.mjs) under valgrind memcheck,
// over Node and the release addon, and reports the errors it finds in the addon's
// memory handling: invalid reads and writes, use after free, bad frees.
//
//   npm run test:memcheck        # needs valgrind (apt-get install valgrind)
//
// Undefined-value checking is off: valgrind cannot see the kernel write into memory
// through io_uring or AIO completions (there is no system call to intercept), so every
// byte the kernel filled would count as uninitialised. Leaks are not counted: Node
// keeps memory until exit by design. Exits 1 if valgrind reports an error.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('valgrind is not installed (apt-get install valgrind)');
  process.exit(2);
}
const started = performance.now();
const run = spawnSync(
  'valgrind',
  [
    '--tool=memcheck',
    '--error-exitcode=99',
    '--leak-check=no',
    '--undef-value-errors=no',
    '--smc-check=all-non-file',
    '--trace-children=no',
    process.execPath,
    '--expose-gc',
    path.join(root, 'scripts/memcheck-scenarios.mjs'),
  ],
  { cwd: root, encoding: 'utf8', timeout: 30 * 60 * 1000 },
);
const seconds = ((performance.now() - started) / 1000).toFixed(0);
const summary = run.stderr.match(/ERROR SUMMARY: (\d+) errors from (\d+) contexts/);
const passed = run.stdout.match(/scenarios: (\d+) passed/);
process.stdout.write(run.stdout);
if (run.status !== 0) process.stderr.write(run.stderr.split('\n').slice(-80).join('\n'));
console.log(`memcheck: ${passed ? passed[1] : 0} lifetime scenarios, valgrind errors: ${summary ? summary[1] : 'none reported'}, ${seconds} s`);
process.exit(run.status === 0 && passed ? 0 : 1);
