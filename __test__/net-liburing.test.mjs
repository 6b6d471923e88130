// The socket preps of uring-aio/liburing, with liburing's argument lists: socket, bind,
// listen, accept, connect, send, recv, sendmsg/recvmsg with a msghdr, send_zc (two
// CQEs, as in liburing), shutdown; recv_multishot is refused with a pointer to Ring.
import {
  io_uring_cqe_seen, io_uring_get_sqe, io_uring_prep_accept, io_uring_prep_bind, io_uring_prep_connect,
  io_uring_prep_listen, io_uring_prep_recv, io_uring_prep_recv_multishot, io_uring_prep_recvmsg,
  io_uring_prep_send, io_uring_prep_send_zc, io_uring_prep_sendmsg, io_uring_prep_shutdown, io_uring_prep_socket,
  io_uring_queue_exit, io_uring_queue_init, io_uring_sqe_set_data, io_uring_submit, io_uring_wait_cqe,
  IORING_CQE_F_MORE, IORING_CQE_F_NOTIF,
} from 'uring-aio/liburing';
import { constants as c, localAddress } from '../dist/index.js';
import { opTest } from './helpers.mjs';

/** Prepares one SQE per [prep, ...args], submits them together, and returns each CQE by position. */
async function run(ring, ...steps) {
  for (const [i, [prep, ...args]] of steps.entries()) {
    const sqe = io_uring_get_sqe(ring);
    prep(sqe, ...args);
    io_uring_sqe_set_data(sqe, i);
  }
  io_uring_submit(ring);
  const out = [];
  let done = 0;
  while (done < steps.length) {
    const cqe = await io_uring_wait_cqe(ring);
    io_uring_cqe_seen(ring, cqe);
    // A zero-copy send's first CQE (IORING_CQE_F_MORE) is followed by its notification.
    if ((cqe.flags & IORING_CQE_F_MORE) !== 0) {
      out[cqe.user_data] = { first: cqe.res };
      continue;
    }
    out[cqe.user_data] = out[cqe.user_data] === undefined ? cqe.res : { ...out[cqe.user_data], notif: cqe.res, notifFlags: cqe.flags };
    done++;
  }
  return out;
}

opTest(['socket', 'bind', 'listen', 'accept', 'connect', 'send', 'recv', 'sendZc', 'shutdown'], 'liburing-tcp-preps: socket/bind/listen/accept/connect/send/recv/send_zc/shutdown with liburing arguments', async (t) => {
  const ring = io_uring_queue_init(8);
  const [listener, client] = await run(ring, [io_uring_prep_socket, c.AF_INET, c.SOCK_STREAM, 0, 0], [io_uring_prep_socket, c.AF_INET, c.SOCK_STREAM, 0, 0]);
  t.true(listener > 2 && client > 2);
  t.deepEqual(await run(ring, [io_uring_prep_bind, listener, { address: '127.0.0.1', port: 0 }, 16]), [0]);
  t.deepEqual(await run(ring, [io_uring_prep_listen, listener, 8]), [0]);
  const [server, connected] = await run(ring, [io_uring_prep_accept, listener, null, null, 0], [io_uring_prep_connect, client, localAddress(listener), 16]);
  t.true(server > 2);
  t.is(connected, 0);
  const data = Buffer.from('liburing says hi');
  const back = Buffer.alloc(64);
  const [sent] = await run(ring, [io_uring_prep_send, client, data, data.length, 0]);
  t.is(sent, data.length);
  const [got] = await run(ring, [io_uring_prep_recv, server, back, 10, 0]);
  t.is(got, 10, 'recv takes only the first len bytes of the buffer');
  const [zc] = await run(ring, [io_uring_prep_send_zc, client, data, 4, 0, 0]);
  t.is(zc.first, 4, 'the first CQE carries the result, IORING_CQE_F_MORE set');
  t.is(typeof zc.notif, 'number', 'then the notification');
  t.is(zc.notifFlags & IORING_CQE_F_NOTIF, IORING_CQE_F_NOTIF, 'flagged IORING_CQE_F_NOTIF');
  t.deepEqual(await run(ring, [io_uring_prep_shutdown, client, c.SHUT_WR]), [0]);
  const [rest] = await run(ring, [io_uring_prep_recv, server, back.subarray(10), 54, c.MSG_WAITALL]);
  t.is(back.toString('utf8', 0, 10 + rest), 'liburing says hiliburing'.slice(0, 10 + rest));
  t.is(10 + rest, data.length + 4);
  t.throws(() => io_uring_prep_recv_multishot(io_uring_get_sqe(ring), server, null, 0, 0), { code: 'ERR_INVALID_ARG_VALUE', message: /use ring\.recvMultishot/ });
  const { closeSync } = await import('node:fs');
  for (const fd of [listener, client, server]) closeSync(fd);
  await io_uring_queue_exit(ring);
});

opTest(['socket', 'bind', 'sendmsg', 'recvmsg'], 'liburing-udp-msghdr: sendmsg/recvmsg take a msghdr of { msg_iov, msg_name }', async (t) => {
  const ring = io_uring_queue_init(8);
  const [a, b] = await run(ring, [io_uring_prep_socket, c.AF_INET, c.SOCK_DGRAM, 0, 0], [io_uring_prep_socket, c.AF_INET, c.SOCK_DGRAM, 0, 0]);
  await run(ring, [io_uring_prep_bind, b, { address: '127.0.0.1', port: 0 }, 16]);
  const buf = Buffer.alloc(16);
  const [sent] = await run(ring, [io_uring_prep_sendmsg, a, { msg_iov: [Buffer.from('dgram')], msg_name: localAddress(b) }, 0]);
  t.is(sent, 5);
  const [got] = await run(ring, [io_uring_prep_recvmsg, b, { msg_iov: [buf] }, 0]);
  t.is(got, 5);
  t.is(buf.toString('utf8', 0, 5), 'dgram');
  const { closeSync } = await import('node:fs');
  for (const fd of [a, b]) closeSync(fd);
  await io_uring_queue_exit(ring);
});
