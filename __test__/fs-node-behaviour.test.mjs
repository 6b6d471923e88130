// uring-aio/fs where it used to differ from node:fs/promises (issue 20, medium items):
// pipes read to EOF, writeFile checks before it opens, write's options form, memory
// of many concurrent readFile calls, and Buffers that own their ArrayBuffer.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import * as nodeFs from 'node:fs/promises';
import path from 'node:path';
import * as uringFs from 'uring-aio/fs';
import { pattern, ringTest, runAsync, tmpDir } from './helpers.mjs';

const fsUrl = new URL('../esm/fs.mjs', import.meta.url).href;

/** Runs `code` in a child whose stdin is `feed` (a shell command's output); resolves to its stdout. */
function withStdinFrom(feed, code) {
  const script = path.join(tmpDir(), 'child.mjs');
  fs.writeFileSync(script, code.replaceAll('FS', JSON.stringify(fsUrl)));
  return runAsync('/bin/sh', ['-c', `${feed} | ${JSON.stringify(process.execPath)} ${JSON.stringify(script)}`], { timeout: 60000 });
}

ringTest('fs-node: readFile of /dev/stdin fed through a pipe in bursts reads all of it, and the writer is not killed by SIGPIPE', async (t) => {
  const file = path.join(tmpDir(), 'one-mib');
  fs.writeFileSync(file, pattern(2 ** 20));
  // Two bursts with a pause between them: a read comes back short in the middle.
  const r = await withStdinFrom(`{ head -c 393216 ${file}; sleep 0.2; tail -c +393217 ${file}; echo status $? >&2; }`, `
    import * as f from FS;
    const b = await f.readFile('/dev/stdin');
    console.log(JSON.stringify({ length: b.length, sum: [...b.subarray(0, 4096)].reduce((a, x) => a + x, 0) }));
  `);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stderr, /status 0/, 'the writer ended normally');
  const out = JSON.parse(r.stdout);
  t.is(out.length, 2 ** 20);
  t.is(out.sum, [...fs.readFileSync(file).subarray(0, 4096)].reduce((a, x) => a + x, 0));
});

ringTest('fs-node: readFile of a FIFO written in pieces with pauses reads to EOF', async (t) => {
  const file = path.join(tmpDir(), 'fifo');
  await new Promise((resolve, reject) => spawn('mkfifo', [file]).on('close', (c) => (c === 0 ? resolve() : reject(new Error(`mkfifo ${c}`)))));
  const data = pattern(3 * 2 ** 20, 7);
  const reading = uringFs.readFile(file);
  // Opened on libuv's thread pool: a FIFO's open waits for the reader's.
  const w = await nodeFs.open(file, 'w');
  for (let at = 0; at < data.length; at += 256 * 1024) {
    await w.write(data, at, Math.min(256 * 1024, data.length - at));
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await w.close();
  const got = await reading;
  t.is(got.length, data.length);
  t.true(got.equals(data));
});

for (const [name, call] of [
  ['writeFile(f, 123)', (f, file) => f.writeFile(file, 123)],
  ['writeFile with an unknown encoding', (f, file) => f.writeFile(file, 'x', 'nope')],
  ['writeFile with a non-boolean flush', (f, file) => f.writeFile(file, 'x', { flush: 1 })],
  ['appendFile(f, {})', (f, file) => f.appendFile(file, {})],
  ['writeFile with a bad signal', (f, file) => f.writeFile(file, 'x', { signal: 'no' })],
]) {
  ringTest(`fs-node: ${name} rejects as Node does and leaves the file untouched`, async (t) => {
    const dir = tmpDir();
    const shapes = [];
    for (const [impl, file] of [[nodeFs, path.join(dir, 'theirs')], [uringFs, path.join(dir, 'ours')]]) {
      fs.writeFileSync(file, 'kept');
      const e = await t.throwsAsync(call(impl, file));
      shapes.push({ name: e.name, code: e.code, message: e.message });
      t.is(fs.readFileSync(file, 'utf8'), 'kept');
      fs.unlinkSync(file);
      await t.throwsAsync(call(impl, file));
      t.false(fs.existsSync(file), 'no file was created');
    }
    t.deepEqual(shapes[1], shapes[0]);
  });
}

ringTest('fs-node: writeFile of an iterable with a number in it is ERR_INVALID_ARG_TYPE, as Node', async (t) => {
  const dir = tmpDir();
  const errors = [];
  for (const impl of [nodeFs, uringFs]) {
    const e = await t.throwsAsync(impl.writeFile(path.join(dir, impl === nodeFs ? 'a' : 'b'), ['ok', 1, 'never']));
    errors.push({ name: e.name, code: e.code, message: e.message });
  }
  t.is(errors[1].code, 'ERR_INVALID_ARG_TYPE');
  t.deepEqual(errors[1], errors[0]);
  t.is(fs.readFileSync(path.join(dir, 'b'), 'utf8'), fs.readFileSync(path.join(dir, 'a'), 'utf8'));
});

ringTest('fs-node: FileHandle.write(buffer, { offset, length, position }) writes that range there', async (t) => {
  const dir = tmpDir();
  const results = [];
  for (const impl of [nodeFs, uringFs]) {
    const file = path.join(dir, impl === nodeFs ? 'a' : 'b');
    fs.writeFileSync(file, '..........');
    const h = await impl.open(file, 'r+');
    const r = await h.write(Buffer.from('abcdef'), { offset: 1, length: 3, position: 4 });
    await h.close();
    results.push([r.bytesWritten, fs.readFileSync(file, 'utf8')]);
  }
  t.deepEqual(results[1], [3, '....bcd...']);
  t.deepEqual(results[1], results[0]);
});

for (const size of [0, 2400, 70 * 1024, 9 * 2 ** 20 + 3]) {
  ringTest(`fs-node: readFile of ${size} bytes returns a Buffer that owns an ArrayBuffer of exactly its size`, async (t) => {
    const file = path.join(tmpDir(), 'f');
    fs.writeFileSync(file, pattern(size, 3));
    const b = await uringFs.readFile(file);
    t.is(b.length, size);
    t.is(b.byteOffset, 0);
    t.is(b.buffer.byteLength, size);
    t.true(b.equals(fs.readFileSync(file)));
    const h = await uringFs.open(file);
    const c = await h.readFile();
    await h.close();
    t.is(c.buffer.byteLength, size, 'FileHandle.readFile too');
  });
}

ringTest('fs-node: 10,000 concurrent readFile calls of 2.4 KB files peak within 1.2x of node:fs/promises\' RSS', async (t) => {
  const dir = tmpDir();
  const body = pattern(2400, 9);
  for (let i = 0; i < 10000; i++) fs.writeFileSync(path.join(dir, `f${i}`), body);
  const peak = async (module) => {
    const r = await runAsync(process.execPath, ['--input-type=module', '-e', `
      import * as f from ${JSON.stringify(module)};
      await import(${JSON.stringify(fsUrl)});
      const names = Array.from({ length: 10000 }, (_, i) => ${JSON.stringify(dir)} + '/f' + i);
      const all = await Promise.all(names.map((n) => f.readFile(n)));
      if (all.some((b) => b.length !== 2400)) throw new Error('short');
      console.log(process.resourceUsage().maxRSS);
    `], { timeout: 120000 });
    t.is(r.status, 0, r.stderr);
    return Number(r.stdout.trim()) * 1024;
  };
  const theirs = await peak('node:fs/promises');
  const ours = await peak(fsUrl);
  t.log(`peak RSS: uring-aio/fs ${(ours / 2 ** 20).toFixed(0)} MiB, node:fs/promises ${(theirs / 2 ** 20).toFixed(0)} MiB`);
  t.true(ours <= theirs * 1.2, `${ours} > 1.2 x ${theirs}`);
});

ringTest('fs-node: with no descriptor left, the first readFile fails as Node\'s does (EMFILE from open, not io_uring_setup)', async (t) => {
  const script = path.join(tmpDir(), 'emfile.mjs');
  fs.writeFileSync(script, `
    import fs from 'node:fs';
    const impl = process.argv[2] === 'node' ? await import('node:fs/promises') : await import(${JSON.stringify(fsUrl)});
    const fds = [];
    try { for (;;) fds.push(fs.openSync('/dev/null', 'r')); } catch {}
    const shape = (e) => ({ name: e.name, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, message: e.message });
    const out = [];
    for (const call of [() => impl.readFile('/proc/self/status', 'utf8'), () => impl.stat('/proc/self/status').then((s) => s.isFile())]) {
      try { out.push(typeof await call()); } catch (e) { out.push(shape(e)); }
    }
    console.log(JSON.stringify(out));
  `);
  const outcomes = [];
  for (const which of ['node', 'uring']) {
    const r = await runAsync('/bin/sh', ['-c', `ulimit -n 256 && ${JSON.stringify(process.execPath)} ${JSON.stringify(script)} ${which}`]);
    t.is(r.status, 0, r.stderr);
    outcomes.push(JSON.parse(r.stdout));
  }
  t.is(outcomes[0][0].syscall, 'open');
  t.deepEqual(outcomes[1], outcomes[0]);
});
