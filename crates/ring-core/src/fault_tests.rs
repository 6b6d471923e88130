//! Fault injection: `io_uring_enter` failing with EAGAIN, EBUSY, EINTR or ENOMEM, or
//! submitting fewer SQEs than queued. Whatever the kernel says, every op settles exactly
//! once, reads bring the right bytes, and nothing the kernel holds is freed early (a
//! freed slot would show as a wrong byte or a completion for an unknown id).

use std::io::Write;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::fault::{inject, Fault};
use super::*;

const OPS: u64 = 64;
const BLOCK: usize = 512;

fn data_file() -> (std::fs::File, Vec<u8>) {
    let data: Vec<u8> = (0..OPS as usize * BLOCK)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    let path = std::env::temp_dir().join(format!(
        "ring-core-fault-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&data)
        .unwrap();
    let file = std::fs::File::open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    (file, data)
}

/// Pushes one read per block, then flushes and reaps until every op has completed,
/// with `faults` injected into the first enters. Returns each op's (block, result,
/// bytes), checking that none completes twice.
/// What one op brought back: its block, its result and the bytes it read.
type Settled = (u64, i32, Vec<u8>);

fn run(faults: &[Fault]) -> (Vec<Settled>, Vec<u8>, Ring<u64>) {
    let (file, data) = data_file();
    let mut ring: Ring<u64> = Ring::new(RingOptions {
        entries: 16,
        ..RingOptions::default()
    })
    .expect("io_uring_setup");
    for block in 0..OPS {
        ring.push(
            Op::Read {
                fd: file.as_raw_fd(),
                buf: iobuf::IoBuf::landing(BLOCK).unwrap(),
                offset: block * BLOCK as u64,
                rw_flags: 0,
            },
            block,
        );
    }
    inject(faults);
    let mut done: Vec<Settled> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while done.len() < OPS as usize && Instant::now() < deadline {
        let _ = ring.flush();
        ring.reap(|c| {
            let bytes = c
                .outputs()
                .first()
                .map(|(_, b)| b.to_vec())
                .unwrap_or_default();
            done.push((c.user, c.result, bytes));
        });
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut seen = std::collections::HashSet::new();
    for (block, _, _) in &done {
        assert!(seen.insert(*block), "op {block} settled twice");
    }
    assert_eq!(done.len(), OPS as usize, "every op settled");
    assert_eq!(ring.pending(), 0);
    drop(file);
    (done, data, ring)
}

fn assert_all_read(done: &[Settled], data: &[u8]) {
    for (block, result, bytes) in done {
        assert_eq!(*result, BLOCK as i32, "op {block}");
        let at = *block as usize * BLOCK;
        assert_eq!(&bytes[..], &data[at..at + BLOCK], "op {block}'s bytes");
    }
}

#[test]
fn enter_backpressure_keeps_every_op() {
    for errno in [libc::EAGAIN, libc::EBUSY, libc::EINTR] {
        let (done, data, _ring) = run(&[
            Fault::Errno(errno),
            Fault::Errno(errno),
            Fault::Errno(errno),
        ]);
        assert_all_read(&done, &data);
    }
}

#[test]
fn short_submissions_submit_the_rest_later() {
    let (done, data, _ring) = run(&[
        Fault::Short(1),
        Fault::Short(0),
        Fault::Short(3),
        Fault::Short(1),
    ]);
    assert_all_read(&done, &data);
}

#[test]
fn enter_enomem_settles_what_it_stranded_and_breaks_the_ring() {
    // The first enter fails for good: the SQEs it left and the backlog settle with
    // -ENOMEM, once each; nothing was in the kernel, so nothing else can arrive.
    let (done, _data, mut ring) = run(&[Fault::Errno(libc::ENOMEM)]);
    assert!(done.iter().all(|(_, result, _)| *result == -libc::ENOMEM));
    assert_eq!(ring.outstanding(), 0);
    let id = ring.push(Op::Nop {}, 99);
    assert!(id > 0);
    let mut after = Vec::new();
    let _ = ring.flush();
    ring.reap(|c| after.push(c.result));
    assert_eq!(
        after,
        vec![-libc::ENOMEM],
        "a broken ring settles new ops with its error"
    );
}

#[test]
fn enomem_after_a_short_submission_keeps_the_ops_in_the_kernel() {
    // Some SQEs reach the kernel, then an enter fails for good: the ops in the kernel
    // still complete with their data; only the stranded ones settle with -ENOMEM.
    let (done, data, _ring) = run(&[Fault::Short(5), Fault::Errno(libc::ENOMEM)]);
    let read: Vec<_> = done.iter().filter(|(_, r, _)| *r >= 0).cloned().collect();
    assert!(
        read.len() >= 5,
        "the 5 submitted ops completed ({})",
        read.len()
    );
    assert_all_read(&read, &data);
    assert!(done.iter().all(|(_, r, _)| *r >= 0 || *r == -libc::ENOMEM));
}
