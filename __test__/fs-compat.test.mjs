// uring-aio/fs against node:fs/promises on io_uring: the shared scenarios
// (fs-compat-scenarios.mjs), and what only the io_uring backend shows.
import fs from 'node:fs';
import * as nodeFs from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import * as uringFs from 'uring-aio/fs';
import uringDefault from 'uring-aio/fs';
import { defineScenarios, layout } from './fs-compat-scenarios.mjs';
import { fifo, ringTest, runChildAsync } from './helpers.mjs';

defineScenarios((title, run) => ringTest(`fs-compat: ${title}`, run), uringFs);

ringTest('fs-compat: a FIFO is read to EOF by readFile', async (t) => {
  const read = async (impl) => {
    const p = fifo();
    fs.closeSync(p.writeFd);
    fs.closeSync(p.pollFd);
    // p.readFd (O_RDWR) is the writer: readFile's open does not wait for one.
    const pending = impl.readFile(p.file, 'utf8');
    setTimeout(() => {
      fs.writeSync(p.readFd, 'through a fifo');
      fs.closeSync(p.readFd);
    }, 50);
    return pending;
  };
  t.is(await read(uringFs), 'through a fifo');
  t.is(await read(nodeFs), 'through a fifo');
});

ringTest('fs-compat: the default export has the named functions, backend and backendReason', (t) => {
  t.is(uringDefault.readFile, uringFs.readFile);
  t.is(uringFs.backend, 'io_uring');
  t.is(uringDefault.backend, 'io_uring');
  t.regex(uringFs.backendReason, /io_uring works/);
  for (const name of ['access', 'readdir', 'readlink', 'realpath', 'rm', 'mkdtemp', 'chmod', 'utimes', 'opendir', 'truncate']) {
    t.is(uringFs[name], nodeFs[name], `${name} is node:fs/promises' own`);
  }
  t.is(uringFs.constants, fs.constants);
});

test('fs-fallback: URING_AIO_FS_BACKEND=node:fs sends every call to node:fs/promises', async (t) => {
  const dir = layout();
  // The child inherits the environment at spawn.
  process.env.URING_AIO_FS_BACKEND = 'node:fs';
  const child = runChildAsync(`
    import * as f from 'uring-aio/fs';
    import * as n from 'node:fs/promises';
    const out = { backend: f.backend, reason: f.backendReason };
    out.text = await f.readFile(${JSON.stringify(path.join(dir, 'hello.txt'))}, 'utf8');
    const h = await f.open(${JSON.stringify(path.join(dir, 'hello.txt'))});
    out.read = (await h.read(Buffer.alloc(5), 0, 5, 0)).buffer.toString();
    out.stat = (await h.stat()) instanceof (await import('node:fs')).Stats;
    await h.close();
    try { await f.stat('/no/such'); } catch (e) { out.error = [e.code, e.syscall, e.message]; }
    console.log(JSON.stringify(out));
  `);
  delete process.env.URING_AIO_FS_BACKEND;
  const r = await child;
  t.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  t.is(out.backend, 'node:fs');
  t.regex(out.reason, /URING_AIO_FS_BACKEND=node:fs/);
  t.is(out.text, 'hello, world\n');
  t.is(out.read, 'hello');
  t.true(out.stat);
  t.deepEqual(out.error, ['ENOENT', 'stat', "ENOENT: no such file or directory, stat '/no/such'"]);
});

ringTest('fs-compat: FileHandle.read at a bigint position reads where node:fs/promises of this Node reads', async (t) => {
  // Node 20's fs/promises reads at the file position for a bigint (the callback fs.read
  // reads at it); uring-aio/fs follows the running Node's fs/promises.
  const dir = layout();
  const at = 5 * 2 ** 30 + 17;
  const readBoth = async (impl, name) => {
    const h = await impl.open(path.join(dir, name), 'w+');
    await h.write(Buffer.from('near'), 0, 4, 0);
    await h.write(Buffer.from('far away'), 0, 8, at);
    await h.read(Buffer.alloc(1), 0, 1, null);
    const { buffer } = await h.read(Buffer.alloc(3), 0, 3, BigInt(at + 4));
    await h.close();
    return buffer.toString('latin1');
  };
  t.is(await readBoth(uringFs, 'ours'), await readBoth(nodeFs, 'theirs'));
});

ringTest('fs-compat: readFile of a file that grows while it is read returns a prefix of the final file, at least its first size', async (t) => {
  const dir = layout();
  const file = path.join(dir, 'growing');
  const first = Buffer.alloc(24 * 2 ** 20, 1);
  fs.writeFileSync(file, first);
  const reading = uringFs.readFile(file);
  // Appends while the 8 MiB pieces are being read (each append is a separate turn).
  let appended = 0;
  const appender = setInterval(() => {
    fs.appendFileSync(file, Buffer.alloc(2 ** 20, 2 + (appended % 200)));
    appended++;
  }, 1);
  const data = await reading;
  clearInterval(appender);
  const final = fs.readFileSync(file);
  t.true(data.length >= first.length, `${data.length} bytes read`);
  t.true(data.equals(final.subarray(0, data.length)), 'every byte read is the file\'s byte at that offset');
});
