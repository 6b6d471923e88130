//! Socket entries against the real kernel on 127.0.0.1: accept/connect/send/recv,
//! UDP sendmsg/recvmsg with addresses, multishot receive from a provided buffer ring,
//! and zero-copy send's two completions. Skip (pass with a message) where io_uring or
//! an opcode is unavailable.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ring_core::sockaddr::{self, Address};
use ring_core::{
    probe, AlignedBuf, ArgList, Completion, IoBuf, Op, Reaped, Ring, RingOptions, ADDR_OUT,
};

fn ring() -> Option<Ring<u32>> {
    if let Err(e) = probe() {
        eprintln!("skipped: {}", e.reason);
        return None;
    }
    Some(Ring::new(RingOptions::default()).expect("ring"))
}

fn has(ring: &Ring<u32>, name: &str) -> bool {
    let code = ring_core::OPCODES
        .iter()
        .find(|i| i.name == name)
        .unwrap()
        .code;
    ring.supported_opcodes().contains(&code)
}

fn push(ring: &mut Ring<u32>, name: &str, args: &mut ArgList, tag: u32) -> u64 {
    let op = Op::from_args(Op::index_of(name).expect("entry"), args).expect("arguments");
    ring.push(op, tag)
}

fn copy(bytes: &[u8]) -> IoBuf {
    IoBuf::Owned(AlignedBuf::copy_of(bytes).unwrap())
}

/// Every completion until `done` says stop: (id, result, flags, outputs).
fn run(
    ring: &mut Ring<u32>,
    mut done: impl FnMut(&[(u64, i32, u32, Vec<Vec<u8>>)]) -> bool,
) -> Vec<(u64, i32, u32, Vec<Vec<u8>>)> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(&seen) {
        ring.flush().unwrap();
        ring.reap_all(|r| match r {
            Reaped::Done(c) => {
                let outs = Completion::outputs(&c)
                    .into_iter()
                    .map(|(_, b)| b.to_vec())
                    .collect();
                seen.push((c.id, c.result, c.flags, outs));
            }
            Reaped::More {
                id, result, flags, ..
            } => seen.push((id, result, flags, Vec::new())),
            Reaped::Message { .. } => {}
        });
        assert!(Instant::now() < deadline, "completions did not arrive");
        std::thread::sleep(Duration::from_micros(200));
    }
    seen
}

fn result_of(seen: &[(u64, i32, u32, Vec<Vec<u8>>)], id: u64) -> Option<i32> {
    seen.iter().rev().find(|s| s.0 == id).map(|s| s.1)
}

/// A listening TCP socket on 127.0.0.1 (plain syscalls) and its address.
fn listener() -> (i32, SocketAddr) {
    let fd =
        sockaddr::socket_now(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0).unwrap();
    sockaddr::bind_now(fd, &sockaddr::encode_inet(&"127.0.0.1:0".parse().unwrap())).unwrap();
    sockaddr::listen_now(fd, 16).unwrap();
    let Some(Address::Inet(addr)) = sockaddr::decode(&sockaddr::local_name(fd).unwrap()) else {
        panic!("no address");
    };
    (fd, addr)
}

fn close(fd: i32) {
    // SAFETY: a socket this test made, closed once.
    unsafe { libc::close(fd) };
}

/// A connected pair over 127.0.0.1 through the ring's accept and connect.
fn connected(ring: &mut Ring<u32>) -> (i32, i32, Vec<u8>) {
    let (lfd, addr) = listener();
    let cfd =
        sockaddr::socket_now(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0).unwrap();
    let accept = push(
        ring,
        "accept",
        &mut ArgList::new([f64::from(lfd), f64::from(libc::SOCK_CLOEXEC)])
            .buf(IoBuf::landing(ADDR_OUT).unwrap()),
        1,
    );
    let connect = push(
        ring,
        "connect",
        &mut ArgList::new([f64::from(cfd)]).buf(copy(&sockaddr::encode_inet(&addr))),
        2,
    );
    let seen = run(ring, |s| s.len() >= 2);
    assert_eq!(result_of(&seen, connect), Some(0));
    let afd = result_of(&seen, accept).unwrap();
    assert!(afd >= 0, "accept: {afd}");
    let out = seen.iter().find(|s| s.0 == accept).unwrap().3[0].clone();
    close(lfd);
    (afd, cfd, out)
}

#[test]
fn accept_connect_send_recv() {
    let Some(mut ring) = ring() else { return };
    let (afd, cfd, addr_out) = connected(&mut ring);
    // The peer address accept wrote: 127.0.0.1, the client's port.
    let len = u32::from_ne_bytes(addr_out[0..4].try_into().unwrap()) as usize;
    let peer = sockaddr::decode(&addr_out[8..8 + len]).unwrap();
    assert_eq!(
        peer,
        sockaddr::decode(&sockaddr::local_name(cfd).unwrap()).unwrap()
    );
    let send = push(
        &mut ring,
        "send",
        &mut ArgList::new([f64::from(cfd), 0.0]).buf(copy(b"hello")),
        3,
    );
    let recv = push(
        &mut ring,
        "recv",
        &mut ArgList::new([f64::from(afd), 0.0]).buf(IoBuf::landing(64).unwrap()),
        4,
    );
    let seen = run(&mut ring, |s| s.len() >= 2);
    assert_eq!(result_of(&seen, send), Some(5));
    assert_eq!(result_of(&seen, recv), Some(5));
    assert_eq!(seen.iter().find(|s| s.0 == recv).unwrap().3[0], b"hello");
    close(afd);
    close(cfd);
}

#[test]
fn udp_sendmsg_recvmsg_carry_addresses() {
    let Some(mut ring) = ring() else { return };
    let udp =
        || sockaddr::socket_now(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0).unwrap();
    let (a, b) = (udp(), udp());
    let any = sockaddr::encode_inet(&"127.0.0.1:0".parse().unwrap());
    sockaddr::bind_now(a, &any).unwrap();
    sockaddr::bind_now(b, &any).unwrap();
    let b_addr = sockaddr::local_name(b).unwrap();
    let mut args = ArgList::new([f64::from(b), 0.0]).buf(IoBuf::landing(ADDR_OUT).unwrap());
    args.vecs.push_back(vec![
        IoBuf::landing(3).unwrap(),
        IoBuf::landing(16).unwrap(),
    ]);
    let recv = push(&mut ring, "recvmsg", &mut args, 1);
    let mut args = ArgList::new([f64::from(a), 0.0]).buf(copy(&b_addr));
    args.vecs.push_back(vec![copy(b"dat"), copy(b"agram")]);
    let send = push(&mut ring, "sendmsg", &mut args, 2);
    let seen = run(&mut ring, |s| s.len() >= 2);
    assert_eq!(result_of(&seen, send), Some(8));
    assert_eq!(result_of(&seen, recv), Some(8));
    let outs = &seen.iter().find(|s| s.0 == recv).unwrap().3;
    assert_eq!(outs[0], b"dat");
    assert_eq!(outs[1], b"agram");
    let meta = &outs[2];
    let len = u32::from_ne_bytes(meta[0..4].try_into().unwrap()) as usize;
    assert_eq!(len, 16, "the kernel wrote the address length back");
    assert_eq!(
        sockaddr::decode(&meta[8..8 + len]),
        sockaddr::decode(&sockaddr::local_name(a).unwrap())
    );
    close(a);
    close(b);
}

#[test]
fn recv_multishot_fills_ring_buffers_in_order() {
    let Some(mut ring) = ring() else { return };
    if !has(&ring, "recv") {
        return;
    }
    let group = match ring.register_buf_ring(4, 1024) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("skipped: no provided buffer rings ({e})");
            return;
        }
    };
    let (afd, cfd, _) = connected(&mut ring);
    let mut args = ArgList::new([f64::from(afd), 0.0]);
    args.buf_ring = Some(group.clone());
    let recv = push(&mut ring, "recvMultishot", &mut args, 9);
    let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let mut got = Vec::new();
    let mut sent = 0;
    let mut eof = false;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut rearms = 0;
    while !eof {
        assert!(Instant::now() < deadline);
        if sent < data.len() {
            // SAFETY: a live slice written to a socket we own.
            let n = unsafe {
                libc::send(
                    cfd,
                    data[sent..].as_ptr().cast(),
                    (data.len() - sent).min(3000),
                    0,
                )
            };
            sent += n.max(0) as usize;
            if sent == data.len() {
                // SAFETY: our socket.
                unsafe { libc::shutdown(cfd, libc::SHUT_WR) };
            }
        }
        ring.flush().unwrap();
        let mut events: Vec<(i32, u32, bool)> = Vec::new();
        ring.reap_all(|r| match r {
            Reaped::More {
                id, result, flags, ..
            } if id == recv => events.push((result, flags, true)),
            Reaped::Done(c) if c.id == recv => events.push((c.result, c.flags, false)),
            _ => {}
        });
        for (result, flags, more) in events {
            if flags & 1 != 0 {
                let bid = (flags >> 16) as u16;
                let generation = group.take(bid).expect("a buffer is taken once");
                let ptr = group.buffer_ptr(bid).unwrap();
                // SAFETY: the kernel handed buffer `bid` over with this reaped
                // completion; it is ours until give_back.
                got.extend_from_slice(unsafe { std::slice::from_raw_parts(ptr, result as usize) });
                assert!(group.give_back(bid, generation));
            }
            if !more {
                if result == -libc::ENOBUFS || result > 0 {
                    rearms += 1;
                    let mut args = ArgList::new([f64::from(afd), 0.0]);
                    args.buf_ring = Some(group.clone());
                    push(&mut ring, "recvMultishot", &mut args, 9);
                } else {
                    assert_eq!(result, 0, "ends at end of stream");
                    eof = true;
                }
            }
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    assert_eq!(got, data);
    assert_eq!(group.held(), 0);
    eprintln!("recv multishot re-armed {rearms} times");
    close(afd);
    close(cfd);
}

#[test]
fn send_zc_completes_twice_and_keeps_its_buffer_until_the_notification() {
    let Some(mut ring) = ring() else { return };
    if !has(&ring, "sendZc") {
        eprintln!("skipped: no IORING_OP_SEND_ZC");
        return;
    }
    let (afd, cfd, _) = connected(&mut ring);
    let send = push(
        &mut ring,
        "sendZc",
        &mut ArgList::new([f64::from(cfd), 0.0]).buf(copy(&[7u8; 5000])),
        1,
    );
    let seen = run(&mut ring, |s| s.iter().any(|x| x.0 == send && x.2 & 2 == 0));
    let mine: HashMap<bool, (i32, u32)> = seen
        .iter()
        .filter(|s| s.0 == send)
        .map(|s| (s.2 & 2 != 0, (s.1, s.2)))
        .collect();
    assert_eq!(
        mine[&true].0, 5000,
        "the first completion carries the result"
    );
    assert_ne!(
        mine[&false].1 & 8,
        0,
        "the last is the notification (IORING_CQE_F_NOTIF)"
    );
    close(afd);
    close(cfd);
}

#[test]
fn recv_multishot_refuses_another_rings_buffer_ring() {
    let Some(mut ring) = ring() else { return };
    let mut other: Ring<u32> = Ring::new(RingOptions::default()).expect("ring");
    let Ok(foreign) = other.register_buf_ring(4, 64) else {
        eprintln!("skipped: no provided buffer rings");
        return;
    };
    // Same group id (0) as this ring's own first buffer ring would have.
    let own = ring.register_buf_ring(4, 64).unwrap();
    assert_eq!(own.bgid(), foreign.bgid());
    let (afd, cfd, _) = connected(&mut ring);
    let mut args = ArgList::new([f64::from(afd), 0.0]);
    args.buf_ring = Some(foreign.clone());
    let recv = push(&mut ring, "recvMultishot", &mut args, 1);
    let seen = run(&mut ring, |s| s.iter().any(|x| x.0 == recv));
    assert_eq!(
        result_of(&seen, recv),
        Some(-libc::EINVAL),
        "never reaches the kernel"
    );
    assert_eq!(foreign.held(), 0);
    close(afd);
    close(cfd);
}
