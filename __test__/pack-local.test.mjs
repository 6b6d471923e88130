// pack:local reuses a current build instead of rebuilding with cargo, and says which
// source is newer when it does build (--dry-run reports the decision and packs nothing).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { tmpDir } from './helpers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function dryRun() {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'pack-local.mjs'), tmpDir(), '--dry-run'], { encoding: 'utf8' });
  return { status: r.status, said: r.stderr.trim() };
}

test.serial('pack-local-reuse: after a build, pack:local reuses it', (t) => {
  const { status, said } = dryRun();
  t.is(status, 0);
  t.is(said, 'pack:local: would reuse the build in the checkout');
});

test.serial('pack-local-stale: a source newer than the build is named as the reason to build', (t) => {
  const source = path.join(root, 'lib', 'index.ts');
  const { atime, mtime } = fs.statSync(source);
  const later = new Date(Date.now() + 60_000);
  fs.utimesSync(source, later, later);
  try {
    const { status, said } = dryRun();
    t.is(status, 0);
    t.is(said, `pack:local: would build first: ${path.join('lib', 'index.ts')} is newer than dist/`);
  } finally {
    fs.utimesSync(source, atime, mtime);
  }
});
