#!/usr/bin/env node
// Reads a file at random 4 KiB-aligned offsets through the ring's batch path and
// checks every block against the same bytes read with fs.readSync.
//
//   node examples/random-read-batch.mjs [file] [--sync] [--seconds 2]
//
// Without a file it makes a 64 MiB temporary one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Ring } from 'uring-aio'; // this package, by name (package.json "exports")

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { sync: { type: 'boolean', default: false }, seconds: { type: 'string', default: '2' } },
});
const BLOCK = 4096;
const DEPTH = 32;

let file = positionals[0];
if (file === undefined) {
  file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'uring-aio-example-')), 'data');
  fs.writeFileSync(file, Buffer.alloc(64 << 20, 'uring-aio '));
  process.on('exit', () => fs.rmSync(path.dirname(file), { recursive: true }));
}
const blocks = Math.floor(fs.statSync(file).size / BLOCK);
if (blocks === 0) throw new Error(`${file} is smaller than one block`);
const fd = fs.openSync(file, 'r');

// One registered buffer per in-flight read; the batch refers to them by index.
const ring = new Ring({ entries: DEPTH, fixedBuffers: { count: DEPTH, size: BLOCK } });
const batch = ring.batch(DEPTH);
const check = Buffer.alloc(BLOCK);
let reads = 0;
let verified = 0;
const end = performance.now() + Number(values.seconds) * 1000;

while (performance.now() < end) {
  batch.clear();
  for (let i = 0; i < DEPTH; i++) batch.read(fd, i, Math.floor(Math.random() * blocks) * BLOCK);
  if (values.sync) batch.submitSync();
  else await batch.submit();
  for (let i = 0; i < DEPTH; i++) {
    const error = batch.error(i);
    if (error) throw error;
  }
  reads += DEPTH;
  // Verify one block per batch (verifying all would measure fs.readSync instead).
  const position = batch.entries[5]; // entry 0's position field
  fs.readSync(fd, check, 0, BLOCK, position);
  if (!check.equals(ring.fixedBuffers[0].subarray(0, batch.result(0)))) throw new Error(`block at ${position} differs`);
  verified++;
}

const seconds = Number(values.seconds);
console.log(`${(reads / seconds / 1000).toFixed(0)}k reads/s of ${BLOCK} bytes at depth ${DEPTH} (${values.sync ? 'submitSync' : 'await submit()'}), ${verified} blocks verified against fs.readSync`);
await ring.destroy();
fs.closeSync(fd);
