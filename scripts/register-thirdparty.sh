#!/usr/bin/env bash
# uring-aio/fs/register on code nobody here wrote: runs the test suite of move-file
# (sindresorhus/move-file, a small, widely used package whose file I/O is
# `fs.promises` mkdir, rename, copyFile and unlink) unchanged, without and with
# `--import uring-aio/fs/register`, and compares the pass counts; then times a
# workload of it both ways, and counts io_uring syscalls to show the hook was used.
#
#   bash scripts/register-thirdparty.sh [scratch dir, default /work/scratch-register]
#
# Needs a built repository (npm run build), git, npm with registry access, strace for
# the syscall count (skipped without it). MOVE_FILE_SRC may name a local clone or
# mirror of the repository instead of GitHub. Nothing is installed in this repository.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
scratch=${1:-/work/scratch-register}
src=${MOVE_FILE_SRC:-https://github.com/sindresorhus/move-file.git}
commit=3b538f1778f5f8aec4fbcee50c3443c2c1e1f552 # move-file 3.1.0 + readme tweaks
hook="--import $repo/esm/register.mjs"

mkdir -p "$scratch"
dir="$scratch/move-file"
rm -rf "$dir"
git clone --quiet "$src" "$dir"
git -C "$dir" checkout --quiet "$commit"
cd "$dir"

# Its `npm test` is `xo && ava && tsd`: ava runs the tests (test/*.js); xo lints and tsd
# checks the type declarations. Install what the tests need, each pinned to the newest
# release in its package.json range, without the linters.
npm pkg delete devDependencies.xo devDependencies.tsd devDependencies.@types/node
npm pkg set dependencies.path-exists=5.0.0 devDependencies.ava=5.3.1 devDependencies.sinon=15.1.2 \
  devDependencies.temp-write=5.0.0 devDependencies.tempy=3.1.2
npm install --no-audit --no-fund --loglevel=error

# The hook goes in through NODE_OPTIONS, so ava's worker processes get it too;
# --no-worker-threads makes each test file a child process (the same both ways).
suite() {
  node_modules/.bin/ava --tap --no-worker-threads 2>&1 | tee "$scratch/ava-$1.tap" | grep -E '^# (tests|pass|skip|fail|todo)' | tr '\n' ' '
  echo
}
echo "node $(node --version), move-file @ ${commit:0:7}"
echo "without the hook: $(suite plain)"
echo "with the hook:    $(NODE_OPTIONS="$hook" suite hook)"

# Proof the hook was used: io_uring syscalls made by the whole run, every process.
if command -v strace > /dev/null; then
  count() {
    strace -f -qq -c -e trace=io_uring_setup,io_uring_enter -o "$scratch/strace-$1.txt" \
      node_modules/.bin/ava --no-worker-threads > /dev/null 2>&1 || true
    awk '/total/ { print $4 " io_uring syscalls" } END { if (NR == 0) print "0 io_uring syscalls" }' "$scratch/strace-$1.txt"
  }
  echo "suite without the hook: $(count plain); with it: $(NODE_OPTIONS="$hook" count hook)"
fi

# A workload: 2,000 files of 4 KiB moved into a nested directory and back, 64 at a
# time, with move-file's moveFile (mkdir -p, rename), three rounds each way, alternating.
cat > "$scratch/workload.mjs" << 'EOF'
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { moveFile } from './move-file/index.js';
const files = 2000;
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'move-file-workload-'));
const from = path.join(base, 'from');
fs.mkdirSync(from);
for (let i = 0; i < files; i++) fs.writeFileSync(path.join(from, `f${i}`), Buffer.alloc(4096, i));
async function moveAll(src, dst) {
  let next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < files) {
      const i = next++;
      await moveFile(path.join(src(i), `f${i}`), path.join(dst(i), `f${i}`));
    }
  }));
}
const nested = (i) => path.join(base, 'to', `d${i % 50}`);
const started = performance.now();
const cpu = process.cpuUsage();
await moveAll(() => from, nested);
await moveAll(nested, () => from);
const ms = performance.now() - started;
const used = process.cpuUsage(cpu);
// Whether the hook is loaded (and active), without loading it here.
const require = createRequire(import.meta.url);
const hook = process.env.URING_AIO_REGISTER;
const active = require.cache[hook] !== undefined && require(hook).active;
console.log(`${(files * 2 / ms * 1000).toFixed(0)} moves/s, ${((used.user + used.system) / files / 2).toFixed(1)} µs CPU per move (hook active: ${active})`);
fs.rmSync(base, { recursive: true });
EOF
export URING_AIO_REGISTER="$repo/dist/register.js"
for round in 1 2 3; do
  echo "workload round $round without the hook: $(node "$scratch/workload.mjs")"
  echo "workload round $round with the hook:    $(NODE_OPTIONS="$hook" node "$scratch/workload.mjs")"
done
