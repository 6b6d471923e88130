//! ring-core against the real kernel: one behaviour per test. Tests skip (pass with a
//! message) where io_uring is unavailable, like liburing's test/.

use std::ffi::CString;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use ring_core::{
    probe, AlignedBuf, ArgList, Completion, IoBuf, Op, Ring, RingOptions, CURRENT_POSITION,
};

fn ring(entries: u32) -> Option<Ring<u32>> {
    if let Err(e) = probe() {
        eprintln!("skipped: {}", e.reason);
        return None;
    }
    Some(
        Ring::new(RingOptions {
            entries,
            ..RingOptions::default()
        })
        .expect("ring"),
    )
}

fn temp_file(contents: &[u8]) -> (tempdir::Dir, std::fs::File) {
    let dir = tempdir::Dir::new();
    let path = dir.0.join("data");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(contents)
        .unwrap();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    (dir, file)
}

mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Self {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let p = std::env::temp_dir().join(format!(
                "ring-core-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors are fresh and owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// Submits what is queued and blocks until `n` completions were delivered.
fn wait_for(ring: &mut Ring<u32>, n: usize) -> Vec<Completion<u32>> {
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while out.len() < n {
        ring.flush().unwrap();
        ring.reap(|c| out.push(c));
        assert!(Instant::now() < deadline, "completions did not arrive");
        if out.len() < n {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    out
}

#[test]
fn write_then_read_roundtrip() {
    let Some(mut ring) = ring(8) else { return };
    let (_dir, file) = temp_file(&[0u8; 8192]);
    let data: Vec<u8> = (0..4096u32).map(|i| (i * 7) as u8).collect();
    let w = Op::Write {
        fd: file.as_raw_fd(),
        buf: IoBuf::Owned(AlignedBuf::copy_of(&data).unwrap()),
        offset: 4096,
        rw_flags: 0,
    };
    ring.push(w, 1);
    assert_eq!(wait_for(&mut ring, 1)[0].result, 4096);
    ring.push(
        Op::Read {
            fd: file.as_raw_fd(),
            buf: IoBuf::landing(4096).unwrap(),
            offset: 4096,
            rw_flags: 0,
        },
        2,
    );
    let done = wait_for(&mut ring, 1);
    assert_eq!(done[0].result, 4096);
    let out = done[0].outputs();
    assert_eq!(out[0].1, &data[..]);
}

#[test]
fn short_read_at_eof() {
    let Some(mut ring) = ring(8) else { return };
    let (_dir, file) = temp_file(b"hello");
    ring.push(
        Op::Read {
            fd: file.as_raw_fd(),
            buf: IoBuf::landing(100).unwrap(),
            offset: 0,
            rw_flags: 0,
        },
        0,
    );
    let done = wait_for(&mut ring, 1);
    assert_eq!(done[0].result, 5);
    assert_eq!(done[0].outputs()[0].1, b"hello");
}

#[test]
fn current_position_advances() {
    let Some(mut ring) = ring(8) else { return };
    let (_dir, file) = temp_file(b"abcdef");
    for expect in [&b"abc"[..], &b"def"[..]] {
        ring.push(
            Op::Read {
                fd: file.as_raw_fd(),
                buf: IoBuf::landing(3).unwrap(),
                offset: CURRENT_POSITION,
                rw_flags: 0,
            },
            0,
        );
        let done = wait_for(&mut ring, 1);
        assert_eq!(done[0].outputs()[0].1, expect);
    }
}

#[test]
fn backpressure_more_ops_than_ring_entries() {
    let Some(mut ring) = ring(4) else { return };
    let total = 5000u32;
    for i in 0..total {
        ring.push(Op::Nop {}, i);
    }
    assert_eq!(ring.pending(), total as usize);
    let done = wait_for(&mut ring, total as usize);
    let mut tags: Vec<u32> = done.iter().map(|c| c.user).collect();
    tags.sort_unstable();
    assert_eq!(tags, (0..total).collect::<Vec<_>>());
    assert_eq!(ring.pending(), 0);
    assert_eq!(ring.outstanding(), 0);
}

#[test]
fn full_submit_batch_enters_at_push() {
    if ring(8).is_none() {
        return;
    }
    let mut ring: Ring<u32> = Ring::new(RingOptions {
        entries: 16,
        submit_batch: 8,
        ..RingOptions::default()
    })
    .expect("ring");
    for i in 0..7 {
        ring.push(Op::Nop {}, i);
    }
    assert_eq!(ring.enters(), 0, "seven of eight wait for flush");
    ring.push(Op::Nop {}, 7);
    assert_eq!(ring.enters(), 1, "the eighth sends all eight");
    assert!(!ring.has_unsubmitted());
    assert_eq!(wait_for(&mut ring, 8).len(), 8);
}

#[test]
fn cancel_pipe_read_consumes_no_data() {
    let Some(mut ring) = ring(8) else { return };
    let (rx, tx) = pipe();
    let id = ring.push(
        Op::Read {
            fd: rx.as_raw_fd(),
            buf: IoBuf::landing(16).unwrap(),
            offset: CURRENT_POSITION,
            rw_flags: 0,
        },
        7,
    );
    ring.flush().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    assert!(ring.cancel(id));
    let done = wait_for(&mut ring, 1);
    assert_eq!(done[0].user, 7);
    assert_eq!(done[0].result, -libc::ECANCELED);
    // The data written after the cancel is still in the pipe.
    // SAFETY: writes/reads a few bytes with valid local buffers.
    unsafe {
        assert_eq!(libc::write(tx.as_raw_fd(), b"xyz".as_ptr().cast(), 3), 3);
        let mut got = [0u8; 3];
        assert_eq!(libc::read(rx.as_raw_fd(), got.as_mut_ptr().cast(), 3), 3);
        assert_eq!(&got, b"xyz");
    }
}

#[test]
fn cancel_before_submit_never_reaches_kernel() {
    let Some(mut ring) = ring(8) else { return };
    let (rx, tx) = pipe();
    let id = ring.push(
        Op::Read {
            fd: rx.as_raw_fd(),
            buf: IoBuf::landing(4).unwrap(),
            offset: CURRENT_POSITION,
            rw_flags: 0,
        },
        1,
    );
    assert!(ring.cancel(id));
    let done = wait_for(&mut ring, 1);
    assert_eq!(done[0].result, -libc::ECANCELED);
    // SAFETY: plain write/read on our own pipe.
    unsafe {
        assert_eq!(libc::write(tx.as_raw_fd(), b"ok".as_ptr().cast(), 2), 2);
        let mut got = [0u8; 2];
        assert_eq!(libc::read(rx.as_raw_fd(), got.as_mut_ptr().cast(), 2), 2);
    }
}

#[test]
fn cancel_after_completion_keeps_result() {
    let Some(mut ring) = ring(8) else { return };
    let id = ring.push(Op::Nop {}, 3);
    ring.flush().unwrap();
    std::thread::sleep(Duration::from_millis(5));
    ring.cancel(id);
    let done = wait_for(&mut ring, 1);
    assert_eq!(done[0].result, 0, "a finished op keeps its real result");
}

#[test]
fn eventfd_signals_completion() {
    let Some(mut ring) = ring(8) else { return };
    ring.push(Op::Nop {}, 0);
    ring.flush().unwrap();
    let mut pfd = libc::pollfd {
        fd: ring.eventfd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    assert_eq!(unsafe { libc::poll(&mut pfd, 1, 5000) }, 1);
    ring.clear_eventfd();
    assert_eq!(ring.reap(drop), 1);
    // SAFETY: one valid pollfd.
    let quiet = unsafe { libc::poll(&mut pfd, 1, 0) };
    assert_eq!(quiet, 0, "cleared eventfd is quiet");
}

#[test]
fn drop_with_pending_pipe_reads_returns() {
    let Some(mut ring) = ring(8) else { return };
    let (rx, _tx) = pipe();
    for i in 0..32 {
        ring.push(
            Op::Read {
                fd: rx.as_raw_fd(),
                buf: IoBuf::landing(8).unwrap(),
                offset: CURRENT_POSITION,
                rw_flags: 0,
            },
            i,
        );
    }
    ring.flush().unwrap();
    let start = Instant::now();
    drop(ring);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "teardown cancels instead of waiting for data"
    );
}

#[test]
fn shared_buffer_window_is_bounds_checked() {
    let mem = std::sync::Arc::new(AlignedBuf::zeroed(8192, 4096).unwrap());
    assert!(IoBuf::shared(mem.clone(), 4096, 4096).is_some());
    assert!(IoBuf::shared(mem.clone(), 4097, 4096).is_none());
    assert!(IoBuf::shared(mem, usize::MAX, 2).is_none());
}

#[test]
fn statx_reports_size() {
    let Some(mut ring) = ring(8) else { return };
    let (dir, _file) = temp_file(&[1u8; 1234]);
    let path = CString::new(dir.0.join("data").to_str().unwrap()).unwrap();
    let mut args = ArgList::new([
        f64::from(libc::AT_FDCWD),
        0.0,
        f64::from(libc::STATX_BASIC_STATS),
    ])
    .buf(IoBuf::landing(std::mem::size_of::<libc::statx>()).unwrap());
    args.paths.push_back(path);
    let index = Op::index_of("statx").unwrap();
    ring.push(Op::from_args(index, &mut args).unwrap(), 0);
    let done = wait_for(&mut ring, 1);
    assert_eq!(done[0].result, 0);
    let out = done[0].outputs();
    let raw = out[0].1;
    // SAFETY: `raw` holds a whole struct statx the kernel wrote; read it unaligned.
    let stx: libc::statx = unsafe { std::ptr::read_unaligned(raw.as_ptr().cast()) };
    assert_eq!(stx.stx_size, 1234);
}

#[test]
fn openat_missing_file_is_enoent() {
    let Some(mut ring) = ring(8) else { return };
    let path = CString::new("/no/such/file").unwrap();
    ring.push(
        Op::OpenAt {
            dirfd: libc::AT_FDCWD,
            path,
            flags: libc::O_RDONLY,
            mode: 0,
        },
        0,
    );
    assert_eq!(wait_for(&mut ring, 1)[0].result, -libc::ENOENT);
}

#[test]
fn readv_scatters_in_order() {
    let Some(mut ring) = ring(8) else { return };
    let (_dir, file) = temp_file(b"0123456789");
    let bufs = vec![
        IoBuf::landing(3).unwrap(),
        IoBuf::landing(4).unwrap(),
        IoBuf::landing(10).unwrap(),
    ];
    ring.push(Op::readv(file.as_raw_fd(), bufs, 0), 0);
    let done = wait_for(&mut ring, 1);
    assert_eq!(done[0].result, 10);
    let out = done[0].outputs();
    let parts: Vec<(usize, &[u8])> = out;
    assert_eq!(
        parts,
        vec![(0, &b"012"[..]), (1, &b"3456"[..]), (2, &b"789"[..])]
    );
}

#[test]
fn cancel_reaches_kernel_when_ring_is_full() {
    let Some(mut ring) = ring(4) else { return };
    let (rx, _tx) = pipe();
    let limit = ring.cq_entries() as usize;
    let ids: Vec<u64> = (0..limit as u32 * 3)
        .map(|i| {
            ring.push(
                Op::Read {
                    fd: rx.as_raw_fd(),
                    buf: IoBuf::landing(8).unwrap(),
                    offset: CURRENT_POSITION,
                    rw_flags: 0,
                },
                i,
            )
        })
        .collect();
    // Fill the kernel up to its limit (one flush moves at most an SQ's worth).
    for _ in 0..8 {
        ring.flush().unwrap();
    }
    std::thread::sleep(Duration::from_millis(20));
    for id in ids {
        ring.cancel(id);
    }
    let done = wait_for(&mut ring, limit * 3);
    assert!(done.iter().all(|c| c.result == -libc::ECANCELED));
    assert_eq!(
        ring.outstanding(),
        0,
        "the internal cancels were reaped too"
    );
}

fn pipe_read(fd: &OwnedFd) -> Op {
    Op::Read {
        fd: fd.as_raw_fd(),
        buf: IoBuf::landing(1).unwrap(),
        offset: CURRENT_POSITION,
        rw_flags: 0,
    }
}

#[test]
fn link_timeout_reports_etime() {
    let Some(mut ring) = ring(8) else { return };
    let (rx, _tx) = pipe();
    let options = ring_core::SqeOptions {
        timeout_ms: Some(20.0),
        ..Default::default()
    };
    ring.push_with(pipe_read(&rx), 1, options);
    let done = wait_for(&mut ring, 1);
    assert_eq!(done[0].user, 1);
    assert_eq!(done[0].result, -libc::ETIME);
    assert_eq!(
        ring.outstanding(),
        0,
        "the timer's own completion was reaped too"
    );
}

#[test]
fn link_chain_cancels_rest_on_failure() {
    let Some(mut ring) = ring(8) else { return };
    let link = ring_core::SqeOptions {
        link: true,
        ..Default::default()
    };
    let bad = Op::Read {
        fd: -1,
        buf: IoBuf::landing(1).unwrap(),
        offset: 0,
        rw_flags: 0,
    };
    ring.push_with(bad, 1, link);
    ring.push_with(Op::Nop {}, 2, link);
    ring.push(Op::Nop {}, 3);
    let mut done = wait_for(&mut ring, 3);
    done.sort_by_key(|c| c.user);
    let results: Vec<i32> = done.iter().map(|c| c.result).collect();
    assert_eq!(results, [-libc::EBADF, -libc::ECANCELED, -libc::ECANCELED]);
}

#[test]
fn chain_waits_whole_behind_a_full_queue() {
    let Some(mut ring) = ring(4) else { return };
    let link = ring_core::SqeOptions {
        link: true,
        ..Default::default()
    };
    // Three unlinked nops fill three of four SQ slots; a chain of three cannot
    // follow in the same submission and must wait, whole, for the next.
    for i in 0..3 {
        ring.push(Op::Nop {}, i);
    }
    ring.push_with(Op::Nop {}, 10, link);
    ring.push_with(Op::Nop {}, 11, link);
    ring.push(Op::Nop {}, 12);
    let done = wait_for(&mut ring, 6);
    assert!(done.iter().all(|c| c.result == 0));
}
