//! Fault injection: io_submit failing with EAGAIN, EINTR, ENOMEM or EBADF, or taking
//! fewer iocbs than given. Every request settles exactly once; reads bring the right
//! bytes; a refusal settles only the request it names.

use std::io::Write;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::fault::{inject, Fault};
use super::*;

const REQUESTS: u64 = 48;
const BLOCK: usize = 512;

/// What one request brought back: its block, its result and the bytes it read.
type Settled = (u64, i64, Vec<u8>);

fn run(faults: &[Fault]) -> (Vec<Settled>, Vec<u8>) {
    let data: Vec<u8> = (0..REQUESTS as usize * BLOCK)
        .map(|i| (i * 13 % 251) as u8)
        .collect();
    let path = std::env::temp_dir().join(format!(
        "aio-core-fault-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&data)
        .unwrap();
    let file = std::fs::File::open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let mut ctx: Context<u64> = Context::new(16).expect("io_setup");
    for block in 0..REQUESTS {
        ctx.push(
            Request::Pread {
                fd: file.as_raw_fd(),
                buf: iobuf::IoBuf::landing(BLOCK).unwrap(),
                offset: (block * BLOCK as u64) as i64,
            },
            RequestOptions::default(),
            block,
        );
    }
    inject(faults);
    let mut done: Vec<Settled> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while done.len() < REQUESTS as usize && Instant::now() < deadline {
        ctx.flush();
        ctx.reap(|c| {
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
        assert!(seen.insert(*block), "request {block} settled twice");
    }
    assert_eq!(done.len(), REQUESTS as usize, "every request settled");
    assert_eq!(ctx.pending(), 0);
    (done, data)
}

fn assert_read(done: &[Settled], data: &[u8]) {
    for (block, result, bytes) in done {
        assert_eq!(*result, BLOCK as i64, "request {block}");
        let at = *block as usize * BLOCK;
        assert_eq!(&bytes[..], &data[at..at + BLOCK], "request {block}'s bytes");
    }
}

#[test]
fn submit_eagain_and_short_submissions_keep_every_request() {
    let (done, data) = run(&[
        Fault::Errno(libc::EAGAIN),
        Fault::Short(1),
        Fault::Short(0),
        Fault::Errno(libc::EAGAIN),
        Fault::Short(3),
    ]);
    assert_read(&done, &data);
}

#[test]
fn a_refused_submission_settles_only_the_request_it_names() {
    // io_submit failing (EINTR, ENOMEM, EBADF) took none of the batch and names its
    // first iocb: that request settles with the error, the rest go on.
    for errno in [libc::EINTR, libc::ENOMEM, libc::EBADF] {
        let (done, data) = run(&[Fault::Errno(errno)]);
        let failed: Vec<_> = done.iter().filter(|(_, r, _)| *r < 0).collect();
        assert_eq!(failed.len(), 1, "one request settled with errno {errno}");
        assert_eq!(failed[0].1, -i64::from(errno));
        let read: Vec<_> = done.iter().filter(|(_, r, _)| *r >= 0).cloned().collect();
        assert_read(&read, &data);
    }
}
