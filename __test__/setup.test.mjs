// Setup and register options of Ring: CQ size, SQPOLL, single issuer, shared io-wq,
// registered files with { fixedFile }, io-wq worker caps.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { IoError, Ring, alignedBuffer } from '../dist/index.js';
import { fifo, pattern, ringTest, runChildAsync, tmpFile } from './helpers.mjs';

function releaseAtLeast(version) {
  const [major, minor] = os.release().split('.').map(Number);
  const [wantMajor, wantMinor] = version.split('.').map(Number);
  return major > wantMajor || (major === wantMajor && minor >= wantMinor);
}

/** `ringTest` on Linux `version` or later; a reported skip (with the reason) before. */
function sinceTest(version, title, fn) {
  if (releaseAtLeast(version)) return ringTest(title, fn);
  console.warn(`${title.split(':')[0]} skips: needs Linux ${version}`);
  return test.skip(title, fn);
}

ringTest('cq-entries: cqEntries sizes the completion queue; fewer than entries is refused', async (t) => {
  const ring = new Ring({ entries: 8, cqEntries: 64 });
  t.is(ring.entries, 8);
  t.is(ring.cqEntries, 64);
  await ring.destroy();
  t.throws(() => new Ring({ entries: 8, cqEntries: 4 }), { code: 'ERR_OUT_OF_RANGE' });
});

ringTest('sqpoll: a ring with a polling kernel thread reads the right bytes', async (t) => {
  const data = pattern(16384, 4);
  const fd = fs.openSync(tmpFile(data), 'r');
  const ring = new Ring({ entries: 16, sqpoll: { idleMs: 50 } });
  const bufs = Array.from({ length: 4 }, () => Buffer.alloc(4096));
  t.deepEqual(await Promise.all(bufs.map((b, i) => ring.read(fd, b, i * 4096))), [4096, 4096, 4096, 4096]);
  t.true(Buffer.concat(bufs).equals(data));
  fs.closeSync(fd);
  await ring.destroy();
  t.throws(() => new Ring({ sqpoll: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => new Ring({ sqpoll: { idleMs: -1 } }), { code: 'ERR_OUT_OF_RANGE' });
});

ringTest('single-issuer: a single-issuer ring works from its own thread', async (t) => {
  const ring = new Ring({ singleIssuer: true });
  t.is(await ring.nop(), 0);
  await ring.destroy();
});

ringTest('attach-wq: a ring sharing another ring\'s io-wq runs forced-async work', async (t) => {
  const a = new Ring();
  const b = new Ring({ attachWq: a });
  const data = pattern(4096, 5);
  const fd = fs.openSync(tmpFile(data), 'r');
  const buf = Buffer.alloc(4096);
  t.is(await b.read(fd, buf, 0, { async: true }), 4096);
  t.true(buf.equals(data));
  fs.closeSync(fd);
  await Promise.all([a.destroy(), b.destroy()]);
  t.throws(() => new Ring({ attachWq: {} }), { code: 'ERR_INVALID_ARG_TYPE' });
  t.throws(() => new Ring({ attachWq: a }), { code: 'ERR_USE_AFTER_CLOSE' });
});

ringTest('fixed-files: an op with { fixedFile } names the registered index; unregistered is EBADF', async (t) => {
  const data = pattern(4096, 6);
  const other = pattern(4096, 7);
  const fdA = fs.openSync(tmpFile(data), 'r');
  const fdB = fs.openSync(tmpFile(other), 'r');
  const ring = new Ring();
  ring.registerFiles([fdA, -1]);
  const buf = Buffer.alloc(4096);
  t.is(await ring.read(0, buf, 0, { fixedFile: true }), 4096);
  t.true(buf.equals(data));
  await t.throwsAsync(ring.read(1, buf, 0, { fixedFile: true }), { code: 'EBADF' }, 'an empty slot');
  t.is(ring.updateFiles(1, [fdB]), 1);
  t.is(await ring.read(1, buf, 0, { fixedFile: true }), 4096);
  t.true(buf.equals(other));
  const busy = t.throws(() => ring.registerFiles([fdA]), { instanceOf: IoError });
  t.is(busy.code, 'EBUSY');
  ring.unregisterFiles();
  await t.throwsAsync(ring.read(0, buf, 0, { fixedFile: true }), { code: 'EBADF' }, 'no files registered any more');
  t.throws(() => ring.registerFiles(['3']), { code: 'ERR_INVALID_ARG_TYPE' });
  [fdA, fdB].forEach((fd) => fs.closeSync(fd));
  await ring.destroy();
  t.throws(() => ring.registerFiles([0]), { code: 'ERR_USE_AFTER_CLOSE' });
});

ringTest('iowq-max-workers: the caps set are the ones read back', async (t) => {
  const ring = new Ring();
  const before = ring.iowqMaxWorkers(0, 0);
  t.true(before.every((n) => Number.isInteger(n) && n > 0));
  ring.iowqMaxWorkers(2, 3);
  t.deepEqual(ring.iowqMaxWorkers(0, 0), [2, 3]);
  await ring.destroy();
});

/** A FIFO read that completes while the thread sleeps in the event loop: a child writes after 50 ms. */
async function readWokenByChild(t, options) {
  const f = fifo();
  const ring = new Ring(options);
  const buf = Buffer.alloc(5);
  const read = ring.read(f.readFd, buf, -1);
  const child = runChildAsync(`import fs from 'node:fs'; setTimeout(() => fs.writeFileSync(${JSON.stringify(f.file)}, 'wake!'), 50);`);
  t.is(await read, 5);
  t.is(buf.toString(), 'wake!');
  t.is((await child).status, 0);
  t.is(await ring.timeout(5), undefined, 'a timer completes through task work too');
  f.close();
  await ring.destroy();
}

sinceTest('5.19', 'coop-taskrun: completions queued while the thread sleeps still wake it', async (t) => {
  await readWokenByChild(t, { coopTaskrun: true });
});

sinceTest('6.1', 'defer-taskrun: deferred completion work runs when the loop wakes', async (t) => {
  await readWokenByChild(t, { deferTaskrun: true });
});

sinceTest('6.1', 'defer-taskrun-batch: a synchronous batch on a deferred ring completes', async (t) => {
  const ring = new Ring({ deferTaskrun: true, fixedBuffers: { count: 2, size: 4096 } });
  const data = pattern(8192, 9);
  const fd = fs.openSync(tmpFile(data), 'r');
  const batch = ring.batch(2);
  batch.read(fd, 0, 4096);
  batch.read(fd, 1, 0);
  batch.submitSync();
  t.deepEqual([batch.result(0), batch.result(1)], [4096, 4096]);
  t.true(ring.fixedBuffers[0].equals(data.subarray(4096)));
  fs.closeSync(fd);
  await ring.destroy();
});

ringTest('setup-flags-validated: iopoll, coopTaskrun and deferTaskrun take booleans only', (t) => {
  for (const name of ['iopoll', 'coopTaskrun', 'deferTaskrun']) {
    t.throws(() => new Ring({ [name]: 1 }), { code: 'ERR_INVALID_ARG_TYPE' }, name);
  }
});

ringTest('iopoll-refuses-buffered: an IOPOLL ring runs nop but refuses buffered reads and timers', async (t) => {
  const ring = new Ring({ iopoll: true });
  t.is(await ring.nop(), 0);
  const fd = fs.openSync(tmpFile(Buffer.from('buffered')), 'r');
  const refused = await t.throwsAsync(ring.read(fd, Buffer.alloc(8), 0), { instanceOf: IoError });
  t.is(refused.errno, -95, 'EOPNOTSUPP');
  await t.throwsAsync(ring.timeout(1), { code: 'EINVAL' });
  fs.closeSync(fd);
  await ring.destroy();
});

// O_DIRECT on a device with poll queues is the one thing an IOPOLL ring is for; on a
// device without (virtio, most clouds), the kernel refuses it with EOPNOTSUPP.
const pollDevice = (() => {
  try {
    const dev = fs.statSync(process.cwd()).dev;
    const sys = `/sys/dev/block/${dev >> 8}:${dev & 0xff}`;
    const queue = fs.existsSync(`${sys}/queue`) ? `${sys}/queue` : `${sys}/../queue`;
    return fs.readFileSync(`${queue}/io_poll`, 'utf8').trim() === '1';
  } catch {
    return false;
  }
})();
if (!pollDevice) console.warn('iopoll-direct-read skips: the file system under the working directory is not on a device with poll queues (queue/io_poll is not 1)');

(pollDevice ? ringTest : test.skip)('iopoll-direct-read: an IOPOLL ring reads O_DIRECT data by polling the device', async (t) => {
  const data = pattern(8192, 11);
  const file = path.join(fs.mkdtempSync(path.join(process.cwd(), '.iopoll-')), 'data.bin');
  fs.writeFileSync(file, data);
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
  const ring = new Ring({ iopoll: true });
  const buf = alignedBuffer(4096);
  t.is(await ring.read(fd, buf, 4096), 4096);
  t.true(buf.equals(data.subarray(4096)));
  fs.closeSync(fd);
  fs.rmSync(path.dirname(file), { recursive: true });
  await ring.destroy();
});

ringTest('iowq-affinity: workers pin to a CPU and unpin; a CPU outside the set is refused', async (t) => {
  const ring = new Ring();
  t.notThrows(() => ring.iowqAffinity([0]));
  const data = pattern(4096, 12);
  const fd = fs.openSync(tmpFile(data), 'r');
  const buf = Buffer.alloc(4096);
  t.is(await ring.read(fd, buf, 0, { async: true }), 4096, 'forced-async work runs on the pinned worker');
  t.true(buf.equals(data));
  t.notThrows(() => ring.iowqAffinity(null));
  t.throws(() => ring.iowqAffinity([1024]), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => ring.iowqAffinity([-1]), { code: 'ERR_OUT_OF_RANGE' });
  t.throws(() => ring.iowqAffinity('0'), { code: 'ERR_INVALID_ARG_TYPE' });
  fs.closeSync(fd);
  await ring.destroy();
  t.throws(() => ring.iowqAffinity([0]), { code: 'ERR_USE_AFTER_CLOSE' });
});

ringTest('setup-emfile: a ring made with no descriptors left says so, without sending the user to Aio', async (t) => {
  const code = `
    import fs from 'node:fs';
    import { Ring } from DIST;
    await new Ring({ entries: 2 }).destroy(); // loads the addon while descriptors remain
    try { for (;;) fs.openSync('/dev/null', 'r'); } catch (e) { if (e.code !== 'EMFILE') throw e; }
    try { new Ring(); console.log('created'); } catch (e) { console.log(JSON.stringify({ code: e.code, syscall: e.syscall, message: e.message })); }
  `;
  const r = await new Promise((resolve) => {
    const child = spawn('sh', ['-c', 'ulimit -n 64 && exec "$0" --input-type=module -e "$1"', process.execPath, code.replaceAll('DIST', JSON.stringify(new URL('../dist/index.js', import.meta.url).href))]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  t.is(r.status, 0, r.stderr);
  const err = JSON.parse(r.stdout);
  t.is(err.code, 'EMFILE');
  t.regex(err.message, /too many open files: the process is at its descriptor limit \(raise it with `ulimit -n`/);
  t.notRegex(err.message, /Aio/);
});

ringTest('pool-over-4gib: a pool larger than 4 GiB is refused naming options.fixedBuffers and the product', (t) => {
  const error = t.throws(() => new Ring({ fixedBuffers: { count: 16384, size: 2 ** 20 } }), { code: 'ERR_OUT_OF_RANGE' });
  t.regex(error.message, /^The value of "options\.fixedBuffers" is out of range\. It must be count × size at most 4 GiB .* Received '16384 × 1048576'$/);
});
