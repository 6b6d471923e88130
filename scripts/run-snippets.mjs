#!/usr/bin/env node
// Runs every ```ts block of the documentation (README.md and docs/*.md, as
// scripts/doc-blocks.mjs lists them) as a user would: transpiled to JavaScript
// (TypeScript's transpileModule; scripts/check-snippets.mjs type-checks them), written
// into .snippets/ inside the package (so 'uring-aio' resolves to this package), and run
// with node in a fresh directory holding the files the examples open (data.bin,
// a.bin, b.bin, package.json), with a file of one line as stdin. Exits 1 if a block fails.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { docBlocks, root } from './doc-blocks.mjs';

const blocks = docBlocks();
const out = path.join(root, '.snippets');
fs.mkdirSync(out, { recursive: true });

let failed = 0;
for (const { page, line, code, name: blockName } of blocks) {
  const name = `run-${blockName}.mjs`;
  const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  fs.writeFileSync(path.join(out, name), js);
  // A directory of its own, on the file system of the package (O_DIRECT needs a real one).
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'uring-aio-snippet-'));
  const data = Buffer.alloc(1 << 16);
  for (let j = 0; j < data.length; j++) data[j] = j & 0xff;
  for (const f of ['data.bin', 'a.bin', 'b.bin']) fs.writeFileSync(path.join(cwd, f), data);
  fs.writeFileSync(path.join(cwd, 'package.json'), '{ "name": "snippet" }\n');
  // stdin is a file (a pipe from spawnSync would be a socket, which /dev/stdin cannot open).
  fs.writeFileSync(path.join(cwd, 'stdin.txt'), 'a line on stdin\n');
  const stdin = fs.openSync(path.join(cwd, 'stdin.txt'), 'r');
  const r = spawnSync(process.execPath, [path.join(out, name)], { cwd, stdio: [stdin, 'pipe', 'pipe'], encoding: 'utf8', timeout: 30_000 });
  fs.closeSync(stdin);
  fs.rmSync(cwd, { recursive: true, force: true });
  const first = code.split('\n').find((l) => l.trim() && !l.startsWith('import'))?.trim();
  if (r.status === 0) {
    console.log(`ok   ${page}:${line}: ${first}`);
  } else {
    failed++;
    console.log(`FAIL ${page}:${line}: ${first}\n${(r.stderr || r.stdout || `killed by ${r.signal}`).trim().split('\n').slice(0, 8).join('\n')}`);
  }
}
console.log(`${blocks.length - failed} of ${blocks.length} documentation TypeScript blocks ran`);
process.exit(failed > 0 ? 1 : 0);
