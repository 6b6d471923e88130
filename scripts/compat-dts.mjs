#!/usr/bin/env node
// Makes the emitted declarations readable by TypeScript before 5.7: TypeScript 5.7+
// prints a typed array's default type argument (`Uint8Array<ArrayBufferLike>`), which
// older compilers reject ("Type 'Uint8Array' is not generic"). `<ArrayBufferLike>` is
// the default, so dropping it changes nothing for newer compilers.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const generic = /\b(ArrayBufferView|Buffer|Uint8Array|Int8Array|Uint8ClampedArray|Uint16Array|Int16Array|Uint32Array|Int32Array|Float32Array|Float64Array|BigInt64Array|BigUint64Array|DataView)<ArrayBufferLike>/g;
let changed = 0;
for (const name of fs.readdirSync(dist)) {
  if (!name.endsWith('.d.ts')) continue;
  const file = path.join(dist, name);
  const text = fs.readFileSync(file, 'utf8');
  const fixed = text.replace(generic, '$1');
  if (fixed !== text) {
    fs.writeFileSync(file, fixed);
    changed++;
  }
}
const left = fs.readdirSync(dist).filter((n) => n.endsWith('.d.ts')).flatMap((n) => {
  const m = fs.readFileSync(path.join(dist, n), 'utf8').match(/\b\w+(Array|ArrayBufferView|Buffer|DataView)<[^>]*>/g);
  return m ? m.map((x) => `${n}: ${x}`) : [];
});
// Internals are marked @internal and stripped (tsconfig stripInternal): a user sees
// only the API.
for (const name of fs.readdirSync(dist).filter((n) => n.endsWith('.d.ts'))) {
  const text = fs.readFileSync(path.join(dist, name), 'utf8');
  if (/^\s*protected /m.test(text)) left.push(`${name}: a protected member is declared (mark it @internal)`);
}
if (left.length > 0) {
  console.error(`declarations need fixing (generic typed arrays, which TypeScript < 5.7 rejects, or internals):\n${left.join('\n')}`);
  process.exit(1);
}
if (changed > 0) console.log(`compat-dts: ${changed} declaration files made readable by TypeScript < 5.7`);
