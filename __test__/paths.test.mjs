// Path arguments as node:fs takes them: strings, Buffer or Uint8Array bytes (which
// need not be UTF-8), and file: URLs, each reaching the kernel exactly.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ring } from '../dist/index.js';
import { ringTest, tmpDir } from './helpers.mjs';

/** `dir/` followed by `name`, a file name that is not valid UTF-8. */
const bytePath = (dir, name) => Buffer.concat([Buffer.from(`${dir}/`), Buffer.from(name)]);

ringTest('path-bytes: a non-UTF-8 Buffer path reaches the kernel byte for byte', async (t) => {
  const dir = tmpDir();
  const file = bytePath(dir, [0x66, 0xff, 0xfe]);
  fs.writeFileSync(file, 'hello');
  const ring = new Ring();
  const fd = await ring.open(file);
  const buf = Buffer.alloc(5);
  t.is(await ring.read(fd, buf, 0), 5);
  t.is(buf.toString(), 'hello');
  t.is((await ring.stat(file)).size, 5);
  t.false(fs.existsSync(file.toString()), 'its UTF-8 decoding names another file');
  await ring.close(fd);
  await ring.destroy();
});

ringTest('path-uint8array: a plain Uint8Array path works like a Buffer', async (t) => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'u8'), 'abc');
  const ring = new Ring();
  const bytes = new Uint8Array(Buffer.from(path.join(dir, 'u8')));
  t.is((await ring.stat(bytes)).size, 3);
  await ring.destroy();
});

ringTest('path-bytes-ops: mkdir, rename, unlink and rmdir take byte paths', async (t) => {
  const dir = tmpDir();
  const ring = new Ring();
  const sub = bytePath(dir, [0x64, 0x80]);
  await ring.mkdir(sub);
  t.true(fs.statSync(sub).isDirectory());
  const from = bytePath(dir, [0x61, 0xc3]);
  const to = bytePath(dir, [0x62, 0xc3]);
  fs.writeFileSync(from, 'x');
  await ring.rename(from, to);
  t.false(fs.existsSync(from));
  t.is(fs.readFileSync(to, 'utf8'), 'x');
  await ring.unlink(to);
  t.false(fs.existsSync(to));
  await ring.rmdir(sub);
  t.false(fs.existsSync(sub));
  await ring.destroy();
});

ringTest('path-url: a file: URL with characters URLs escape names the right file', async (t) => {
  const dir = tmpDir();
  const file = path.join(dir, 'a b%20#?.txt');
  fs.writeFileSync(file, '12345678');
  const ring = new Ring();
  t.is((await ring.stat(pathToFileURL(file))).size, 8);
  await ring.destroy();
});

ringTest('path-url-errors: bad URLs get the errors node:fs gives them', async (t) => {
  const ring = new Ring();
  for (const url of [new URL('http://example.com/x'), new URL('file:///a%2Fb'), new URL('file://remote-host/x')]) {
    const fsError = await fs.promises.stat(url).catch((e) => e);
    const ours = await ring.stat(url).catch((e) => e);
    t.is(ours.code, fsError.code, url.href);
  }
  t.is(ring.inFlight, 0, 'nothing was submitted');
  await ring.destroy();
});

ringTest('path-nul: a NUL byte in a Buffer path is ERR_INVALID_ARG_VALUE', async (t) => {
  const ring = new Ring();
  await t.throwsAsync(ring.stat(Buffer.from('/tmp/a\0b')), { code: 'ERR_INVALID_ARG_VALUE' });
  await t.throwsAsync(ring.open(new Uint8Array([0x2f, 0])), { code: 'ERR_INVALID_ARG_VALUE' });
  await ring.destroy();
});
