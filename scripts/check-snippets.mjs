#!/usr/bin/env node
// Type-checks every ```ts block of the documentation (README.md and docs/*.md, as
// scripts/doc-blocks.mjs lists them) under `strict`, as a user's module that imports
// 'uring-aio' would be: each block is written to .snippets/<page>-NN.mts (inside the
// package, so 'uring-aio' resolves to this package's own exports) and compiled with
// the TypeScript given by --tsc (default: the project's). Also checks that every relative
// link of the pages leads to a file and heading that exist. Exits non-zero on an error.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { brokenLinks, docBlocks, root } from './doc-blocks.mjs';

const tscArg = process.argv.indexOf('--tsc');
const tsc = tscArg > 0 ? path.resolve(process.argv[tscArg + 1]) : path.join(root, 'node_modules/typescript/bin/tsc');
const dir = path.join(root, '.snippets');
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir);
const blocks = docBlocks();
const files = blocks.map(({ code, name }) => {
  const file = path.join(dir, `${name}.mts`);
  // `export {}` keeps each block a module of its own even without imports.
  fs.writeFileSync(file, `${code}\nexport {};\n`);
  return file;
});
const version = execFileSync(process.execPath, [tsc, '--version'], { encoding: 'utf8' }).trim();
// Before 5.2, TypeScript has no `esnext.disposable` lib (Symbol.asyncDispose).
const [major, minor] = version.replace(/^Version /, '').split('.').map(Number);
const version5_0 = major === 5 && minor < 2;
fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
  compilerOptions: {
    target: 'ES2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    lib: version5_0 ? ['ES2022'] : ['ES2022', 'esnext.disposable'],
    types: ['node'],
    typeRoots: [path.join(root, 'node_modules/@types')],
    strict: true,
    noEmit: true,
    skipLibCheck: false,
  },
  files: files.map((f) => path.basename(f)),
}, null, 2));
try {
  execFileSync(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json')], { encoding: 'utf8', stdio: 'pipe' });
} catch (e) {
  console.error(`documentation snippets fail to compile under ${version}:\n${e.stdout}${e.stderr}`);
  console.error(`(.snippets/<page>-NN.mts is block NN of that page; ${blocks.length} blocks)`);
  process.exit(1);
}
console.log(`${blocks.length} documentation TypeScript blocks (README.md, docs/*.md) compile under strict with ${version}`);
const broken = brokenLinks();
if (broken.length > 0) {
  console.error(`documentation links that lead nowhere:\n${broken.join('\n')}`);
  process.exit(1);
}
