// uring-aio/fs copyFile against node:fs/promises': the same files, modes and errors,
// including sources whose size says 0 (/proc files, /dev/null) and files large enough
// to take node:fs's copy_file_range path.
import fs from 'node:fs';
import * as nodeFs from 'node:fs/promises';
import path from 'node:path';
import * as uringFs from 'uring-aio/fs';
import { outcome } from './fs-compat-scenarios.mjs';
import { pattern, ringTest } from './helpers.mjs';

const same = (title, scenario) => ringTest(`fs-copyfile: ${title}`, async (t) => {
  const theirs = await outcome(nodeFs, scenario);
  const mine = await outcome(uringFs, scenario);
  t.deepEqual(mine, theirs);
});

const copied = (dir, name) => {
  const p = path.join(dir, name);
  return { size: fs.statSync(p).size, mode: fs.statSync(p).mode & 0o7777, sum: [...fs.readFileSync(p)].reduce((a, x) => (a * 31 + x) % 1000003, 0) };
};

same('copyFile of /proc/version gives what Node gives (its size says 0)', async (f, dir) => {
  await f.copyFile('/proc/version', path.join(dir, 'v'));
  return copied(dir, 'v');
});

same('copyFile of /dev/null gives an empty file', async (f, dir) => {
  await f.copyFile('/dev/null', path.join(dir, 'n'));
  return copied(dir, 'n').size;
});

for (const size of [1, 65536, 65537, 1024 * 1024, 1024 * 1024 + 1, 5 * 1024 * 1024 + 7]) {
  same(`copyFile of ${size} bytes copies every byte and the mode`, async (f, dir) => {
    const src = path.join(dir, 'src');
    fs.writeFileSync(src, pattern(size, size));
    fs.chmodSync(src, 0o640);
    await f.copyFile(src, path.join(dir, 'dst'));
    return copied(dir, 'dst');
  });
}

same('copyFile over a longer file truncates it, keeping its mode', async (f, dir) => {
  fs.writeFileSync(path.join(dir, 'src'), 'short');
  fs.writeFileSync(path.join(dir, 'dst'), 'a much longer file');
  fs.chmodSync(path.join(dir, 'dst'), 0o600);
  await f.copyFile(path.join(dir, 'src'), path.join(dir, 'dst'));
  return [fs.readFileSync(path.join(dir, 'dst'), 'utf8'), copied(dir, 'dst').mode];
});

same('copyFile with COPYFILE_EXCL onto a large existing file is EEXIST and leaves it', async (f, dir) => {
  fs.writeFileSync(path.join(dir, 'src'), pattern(2 * 1024 * 1024));
  fs.writeFileSync(path.join(dir, 'dst'), 'kept');
  try {
    return await f.copyFile(path.join(dir, 'src'), path.join(dir, 'dst'), fs.constants.COPYFILE_EXCL);
  } finally {
    if (fs.readFileSync(path.join(dir, 'dst'), 'utf8') !== 'kept') throw new Error('destination changed');
  }
});

same('copyFile of a large file onto itself leaves it', async (f, dir) => {
  const p = path.join(dir, 'self');
  fs.writeFileSync(p, pattern(3 * 1024 * 1024, 5));
  await f.copyFile(p, p);
  return copied(dir, 'self');
});
