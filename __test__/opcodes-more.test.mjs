// One behaviour per test for the file and process operations added after the first
// table: poll and timeout removal and update, epoll, waitid, futexWaitv,
// readvFixed/writevFixed, socket commands, cancelFd without ALL. Real kernel, real
// files, FIFOs, child processes and loopback sockets. An operation this kernel lacks
// (ring.supports) is a reported skip.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { IoError, Ring, alignedBuffer, constants, epollCreate } from '../dist/index.js';
import { fifo, opTest, pattern, tmpFile } from './helpers.mjs';

const tick = () => new Promise((resolve) => setImmediate(resolve));

opTest(['poll', 'pollRemove'], 'poll-remove: pollRemove removes a pending poll, which rejects with ECANCELED', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const poll = ring.poll(p.pollFd, constants.POLLIN);
  t.is(await ring.pollRemove(poll), undefined);
  const err = await t.throwsAsync(poll, { instanceOf: IoError, code: 'ECANCELED' });
  t.is(err.syscall, 'poll');
  p.close();
  await ring.destroy();
});

opTest(['poll', 'pollRemove'], 'poll-remove-target: a target that is not a poll pending on this ring is ENOENT; a non-object is ERR_INVALID_ARG_TYPE', async (t) => {
  const ring = new Ring();
  const other = new Ring();
  const p = fifo();
  const settled = ring.poll(p.readFd, constants.POLLOUT);
  await settled;
  t.is((await t.throwsAsync(ring.pollRemove(settled), { code: 'ENOENT' })).syscall, 'poll_remove', 'a poll that already completed');
  const elsewhere = other.poll(p.pollFd, constants.POLLIN);
  const elsewhereCancelled = t.throwsAsync(elsewhere, { code: 'ECANCELED' });
  await t.throwsAsync(ring.pollRemove(elsewhere), { code: 'ENOENT' }, "another ring's poll");
  const timer = ring.timeout(60_000);
  await t.throwsAsync(ring.pollRemove(timer), { code: 'ENOENT' }, 'a timeout is not a poll');
  await t.throwsAsync(ring.pollRemove(Promise.resolve()), { code: 'ENOENT' }, 'a promise of no operation');
  await t.throwsAsync(ring.pollRemove(42), { code: 'ERR_INVALID_ARG_TYPE' });
  t.is(ring.inFlight, 1, 'only the timeout is pending');
  await ring.timeoutRemove(timer);
  await t.throwsAsync(timer, { code: 'ECANCELED' });
  await Promise.all([ring.destroy(), other.destroy()]);
  await elsewhereCancelled;
  p.close();
});

opTest(['pollMultishot', 'pollRemove'], 'poll-remove-multishot: pollRemove ends a running pollMultishot loop with ECANCELED', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const polls = ring.pollMultishot(p.pollFd, constants.POLLIN);
  const first = polls.next();
  await tick();
  t.is(await ring.pollRemove(polls), undefined);
  await t.throwsAsync(first, { code: 'ECANCELED' });
  t.is(ring.inFlight, 0);
  p.close();
  await ring.destroy();
});

opTest(['poll', 'pollUpdate'], 'poll-update: pollUpdate makes a poll that cannot fire wait for POLLIN instead, and it fires', async (t) => {
  t.timeout(20_000);
  const ring = new Ring();
  const p = fifo();
  fs.writeSync(p.writeFd, 'x');
  // A FIFO's read-only end is never writable: this poll waits for nothing it can get.
  const poll = ring.poll(p.pollFd, constants.POLLOUT);
  await tick();
  t.is(await ring.pollUpdate(poll, constants.POLLIN), undefined);
  t.is((await poll) & constants.POLLIN, constants.POLLIN);
  await t.throwsAsync(ring.pollUpdate(poll, constants.POLLIN), { code: 'ENOENT' }, 'the poll completed');
  await t.throwsAsync(ring.pollUpdate(poll, constants.POLLIN, { updateUserData: true }), { code: 'ERR_INVALID_ARG_VALUE' });
  p.close();
  await ring.destroy();
});

opTest(['timeout', 'timeoutRemove'], 'timeout-remove: timeoutRemove removes a pending timeout, which rejects with ECANCELED', async (t) => {
  const ring = new Ring();
  const timer = ring.timeout(60_000);
  t.is(await ring.timeoutRemove(timer), undefined);
  t.is((await t.throwsAsync(timer, { code: 'ECANCELED' })).syscall, 'timeout');
  await t.throwsAsync(ring.timeoutRemove(timer), { code: 'ENOENT' }, 'it is gone');
  await t.throwsAsync(ring.timeoutRemove('timer'), { code: 'ERR_INVALID_ARG_TYPE' });
  await ring.destroy();
});

opTest(['timeoutMultishot', 'timeoutRemove'], 'timeout-remove-multishot: timeoutRemove ends a running timeoutMultishot loop with ECANCELED', async (t) => {
  const ring = new Ring();
  const ticks = ring.timeoutMultishot(60_000);
  const first = ticks.next();
  await tick();
  await ring.timeoutRemove(ticks);
  await t.throwsAsync(first, { code: 'ECANCELED' });
  await ring.destroy();
});

opTest(['timeout', 'timeoutUpdate'], 'timeout-update: timeoutUpdate makes a one-minute timeout fire after 10 ms', async (t) => {
  t.timeout(20_000);
  const ring = new Ring();
  const timer = ring.timeout(60_000);
  t.is(await ring.timeoutUpdate(timer, 10), undefined);
  t.is(await timer, undefined, 'it fired (its -ETIME is success)');
  await ring.destroy();
});

opTest(['timeout', 'timeoutUpdate'], "timeout-update-clock: an update naming another clock than the timeout's is refused; a missing timeout is ENOENT", async (t) => {
  const ring = new Ring();
  const timer = ring.timeout(60_000);
  await t.throwsAsync(ring.timeoutUpdate(timer, 10, { clock: 'realtime' }), { code: 'ERR_INVALID_ARG_VALUE' });
  await t.throwsAsync(ring.timeoutUpdate(ring.nop(), 10), { code: 'ENOENT' });
  await ring.timeoutUpdate(timer, 0, { clock: 'monotonic' });
  await timer;
  await ring.destroy();
});

opTest(['epollCtl', 'epollWait'], 'epoll: epollCtl adds a FIFO and epollWait reports it readable with its data', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const epfd = epollCreate();
  t.is(await ring.epollCtl(epfd, p.readFd, constants.EPOLL_CTL_ADD, constants.EPOLLIN, 2 ** 40 + 7), undefined);
  t.is(await ring.epollCtl(epfd, p.pollFd, constants.EPOLL_CTL_ADD, constants.EPOLLIN), undefined);
  const waiting = ring.epollWait(epfd, 8);
  await tick();
  fs.writeSync(p.writeFd, 'x');
  const events = await waiting;
  t.is(events.length, 2);
  const byData = new Map(events.map((e) => [e.data, e.events]));
  t.is(byData.get(2 ** 40 + 7) & constants.EPOLLIN, constants.EPOLLIN, 'the data given');
  t.is(byData.get(p.pollFd) & constants.EPOLLIN, constants.EPOLLIN, 'the fd when no data was given');
  await ring.epollCtl(epfd, p.pollFd, constants.EPOLL_CTL_DEL, 0);
  t.deepEqual((await ring.epollWait(epfd, 8)).map((e) => e.data), [2 ** 40 + 7]);
  fs.closeSync(epfd);
  p.close();
  await ring.destroy();
});

opTest(['epollCtl', 'epollWait'], 'epoll-errors: adding an fd twice is EEXIST, and epollWait on a file that is not epoll is EINVAL', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const epfd = epollCreate();
  await ring.epollCtl(epfd, p.readFd, constants.EPOLL_CTL_ADD, constants.EPOLLIN);
  t.is((await t.throwsAsync(ring.epollCtl(epfd, p.readFd, constants.EPOLL_CTL_ADD, constants.EPOLLIN), { code: 'EEXIST' })).syscall, 'epoll_ctl');
  await t.throwsAsync(ring.epollWait(p.readFd, 1), { code: 'EINVAL' });
  await t.throwsAsync(ring.epollWait(epfd, 0), { code: 'ERR_OUT_OF_RANGE' });
  fs.closeSync(epfd);
  p.close();
  await ring.destroy();
});

opTest(['waitid'], 'waitid-echild: waitid for a pid that is not a child of this process is ECHILD', async (t) => {
  const ring = new Ring();
  const err = await t.throwsAsync(ring.waitid(constants.P_PID, 1, constants.WEXITED), { code: 'ECHILD' });
  t.is(err.syscall, 'waitid');
  await ring.destroy();
});

opTest(['waitid'], "waitid: waitid(P_PID, child, WEXITED | WNOWAIT) reports the child's pid and exit status, and leaves it for Node to reap", async (t) => {
  const ring = new Ring();
  const child = spawn('sh', ['-c', 'sleep 0.2; exit 7'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const info = await ring.waitid(constants.P_PID, child.pid, constants.WEXITED | constants.WNOWAIT);
  t.is(info.pid, child.pid);
  t.is(info.code, constants.CLD_EXITED);
  t.is(info.status, 7);
  t.is(info.uid, process.getuid());
  t.is(await exited, 7, 'Node still reaped it');
  await ring.destroy();
});

opTest(['futexWaitv', 'futexWake'], 'futex-waitv: futexWaitv wakes when the second of two words is woken, and resolves to its index', async (t) => {
  const ring = new Ring();
  const memory = alignedBuffer(64);
  const waiting = ring.futexWaitv(memory, [{ offset: 0, value: 0 }, { offset: 32, value: 0 }]);
  let woke = false;
  void waiting.then(() => { woke = true; });
  await tick();
  t.false(woke, 'still asleep');
  t.is(await ring.futexWake(memory.subarray(32, 36), 1), 1);
  t.is(await waiting, 1);
  await ring.destroy();
});

opTest(['futexWaitv'], 'futex-waitv-eagain: a word that does not hold its value is EAGAIN; a word outside the memory is refused', async (t) => {
  const ring = new Ring();
  const memory = alignedBuffer(8);
  memory.writeUInt32LE(5, 4);
  t.is((await t.throwsAsync(ring.futexWaitv(memory, [{ offset: 0, value: 0 }, { offset: 4, value: 0 }]), { code: 'EAGAIN' })).syscall, 'futex_waitv');
  await t.throwsAsync(ring.futexWaitv(memory, [{ offset: 8, value: 0 }]), { code: 'ERR_OUT_OF_RANGE' });
  await t.throwsAsync(ring.futexWaitv(Buffer.alloc(8), [{ offset: 0, value: 0 }]), { code: 'ERR_INVALID_ARG_VALUE' }, 'not library-owned');
  await ring.destroy();
});

opTest(['readvFixed', 'writevFixed'], 'readv-writev-fixed: writevFixed gathers ranges of a registered buffer and readvFixed scatters them back', async (t) => {
  const fd = fs.openSync(tmpFile(Buffer.alloc(0)), 'r+');
  const ring = new Ring({ fixedBuffers: { count: 2, size: 4096 } });
  const [, b] = ring.fixedBuffers;
  const data = pattern(300, 21);
  data.copy(b, 100);
  t.is(await ring.writevFixed(fd, 1, [{ offset: 300, length: 100 }, { offset: 100, length: 200 }], 0), 300);
  const file = fs.readFileSync(fd);
  t.true(file.equals(Buffer.concat([data.subarray(200, 300), data.subarray(0, 200)])));
  b.fill(0);
  t.is(await ring.readvFixed(fd, 1, [b.subarray(1000, 1100), { offset: 2000, length: 200 }], 0), 300);
  t.true(b.subarray(1000, 1100).equals(file.subarray(0, 100)));
  t.true(b.subarray(2000, 2200).equals(file.subarray(100, 300)));
  fs.closeSync(fd);
  await ring.destroy();
});

opTest(['readvFixed'], 'readv-fixed-outside: a range reaching outside the registered buffer is EFAULT, refused before the kernel', async (t) => {
  const fd = fs.openSync(tmpFile(pattern(8192, 5)), 'r');
  const ring = new Ring({ fixedBuffers: { count: 2, size: 4096 } });
  const [a, b] = ring.fixedBuffers;
  await t.throwsAsync(ring.readvFixed(fd, 0, [{ offset: 4000, length: 97 }], 0), { code: 'EFAULT' });
  await t.throwsAsync(ring.readvFixed(fd, 0, [b.subarray(0, 10)], 0), { code: 'EFAULT' }, 'a view of buffer 1 is not inside buffer 0');
  await t.throwsAsync(ring.readvFixed(fd, 2, [{ offset: 0, length: 1 }], 0), { code: 'EFAULT' }, 'no buffer 2');
  t.true(a.every((x) => x === 0), 'nothing was read');
  const plain = new Ring();
  await t.throwsAsync(plain.readvFixed(fd, 0, [{ offset: 0, length: 1 }], 0), { code: 'EFAULT' }, 'a ring without registered buffers');
  fs.closeSync(fd);
  await Promise.all([ring.destroy(), plain.destroy()]);
});

/** A loopback TCP connection whose accepted end libuv never reads (`pauseOnConnect`). */
async function pausedConnection() {
  let accepted;
  const server = net.createServer({ pauseOnConnect: true }, (socket) => accepted(socket));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const acceptedSocket = new Promise((resolve) => { accepted = resolve; });
  const client = net.connect(server.address().port, '127.0.0.1');
  await new Promise((resolve) => client.on('connect', resolve));
  const socket = await acceptedSocket;
  return {
    client,
    socket,
    close: () => { client.destroy(); socket.destroy(); server.close(); },
  };
}

opTest(['uringCmd', 'poll'], 'uring-cmd-siocinq: SOCKET_URING_OP_SIOCINQ reports the bytes waiting unread on a loopback TCP socket', async (t) => {
  const ring = new Ring();
  const conn = await pausedConnection();
  const fd = conn.socket._handle.fd;
  t.true(fd >= 0);
  t.is(await ring.uringCmd(fd, constants.SOCKET_URING_OP_SIOCINQ), 0);
  conn.client.write('hello uring');
  await ring.poll(fd, constants.POLLIN);
  t.is(await ring.uringCmd(fd, constants.SOCKET_URING_OP_SIOCINQ), 11);
  t.is(await ring.uringCmd(fd, constants.SOCKET_URING_OP_SIOCOUTQ), 0, 'nothing unsent on this end');
  conn.close();
  await ring.destroy();
});

opTest(['uringCmd'], 'uring-cmd-eopnotsupp: a regular file takes no commands (EOPNOTSUPP); GETSOCKOPT is not offered', async (t) => {
  const ring = new Ring();
  const fd = fs.openSync(tmpFile(Buffer.from('x')), 'r');
  // EOPNOTSUPP is 95 on Linux, the errno Node names ENOTSUP.
  const err = await t.throwsAsync(ring.uringCmd(fd, constants.SOCKET_URING_OP_SIOCINQ), { code: 'ENOTSUP' });
  t.is(err.errno, -95);
  t.is(err.syscall, 'uring_cmd');
  await t.throwsAsync(ring.uringCmd(fd, 2), { code: 'ERR_INVALID_ARG_VALUE' });
  fs.closeSync(fd);
  await ring.destroy();
});

opTest(['cancelFd', 'read'], 'cancel-fd-first: cancelFd with { all: false } cancels one read on the fd and leaves the others', async (t) => {
  const ring = new Ring();
  const p = fifo();
  const reads = [1, 2].map(() => ring.read(p.readFd, Buffer.alloc(1), null));
  const outcomes = reads.map((r) => r.then((n) => n, (e) => e.code));
  await tick();
  t.is(await ring.cancelFd(p.readFd, { all: false }), 0);
  fs.writeSync(p.writeFd, 'y');
  t.deepEqual((await Promise.all(outcomes)).sort(), [1, 'ECANCELED'].sort());
  p.close();
  await ring.destroy();
});
