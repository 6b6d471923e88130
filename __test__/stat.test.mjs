import fs from 'node:fs';
import path from 'node:path';
import { Ring, Stats } from '../dist/index.js';
import { ringTest, tmpDir, tmpFile } from './helpers.mjs';

const FIELDS = ['dev', 'ino', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'size', 'blksize', 'blocks', 'atimeMs', 'mtimeMs', 'ctimeMs', 'birthtimeMs'];

ringTest('stat: every field matches fs.statSync', async (t) => {
  const file = tmpFile(Buffer.alloc(12345, 1));
  const ring = new Ring();
  const st = await ring.stat(file);
  const ref = fs.statSync(file);
  t.true(st instanceof Stats);
  for (const key of FIELDS) t.is(st[key], ref[key], key);
  t.is(st.mtime.getTime(), ref.mtime.getTime());
  const big = fs.statSync(file, { bigint: true });
  t.is(st.mtimeNs, big.mtimeNs);
  t.is(st.atimeNs, big.atimeNs);
  t.true(st.isFile());
  t.false(st.isDirectory());
  await ring.destroy();
});

ringTest('stat: predicates for directories, FIFOs, character devices and symlinks', async (t) => {
  const dir = tmpDir();
  const ring = new Ring();
  t.true((await ring.stat(dir)).isDirectory());
  t.true((await ring.stat('/dev/null')).isCharacterDevice());
  t.is((await ring.stat('/dev/null')).rdev, fs.statSync('/dev/null').rdev);
  const link = path.join(dir, 'link');
  fs.symlinkSync(dir, link);
  t.true((await ring.lstat(link)).isSymbolicLink());
  t.true((await ring.stat(link)).isDirectory());
  await ring.destroy();
});

ringTest('fstat: stat of an open descriptor matches fs.fstatSync', async (t) => {
  const file = tmpFile(Buffer.alloc(777));
  const ring = new Ring();
  const fd = await ring.open(file);
  const st = await ring.fstat(fd);
  t.is(st.size, 777);
  t.is(st.ino, fs.fstatSync(fd).ino);
  await ring.close(fd);
  await ring.destroy();
});
