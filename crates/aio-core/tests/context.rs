//! aio-core against the real kernel, one behaviour per test. O_DIRECT tests use the
//! system temp dir and skip where its file system refuses O_DIRECT (tmpfs).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use aio_core::{
    cmd, explain, explain_request, ioprio, setup_syscall, sys, CancelOutcome, Completion, Context,
    IoEvent, IoprioClass, Request, RequestOptions, RequestShape, Syscall,
};
use iobuf::{AlignedBuf, IoBuf};

fn context(max: u32) -> Option<Context<u32>> {
    match Context::new(max) {
        Ok(c) => Some(c),
        Err(e) => {
            eprintln!("skipped: io_setup failed: {e}");
            None
        }
    }
}

struct TempFile(std::path::PathBuf);
impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn temp_path() -> TempFile {
    static N: AtomicU32 = AtomicU32::new(0);
    TempFile(std::env::temp_dir().join(format!(
        "aio-core-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )))
}

fn direct_file(size: usize) -> Option<(TempFile, std::fs::File)> {
    let path = temp_path();
    std::fs::write(&path.0, vec![0u8; size]).unwrap();
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(&path.0)
    {
        Ok(f) => Some((path, f)),
        Err(e) => {
            eprintln!("skipped: O_DIRECT refused here: {e}");
            None
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

fn wait_for(ctx: &mut Context<u32>, n: usize) -> Vec<Completion<u32>> {
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while out.len() < n {
        ctx.flush();
        ctx.reap(|c| out.push(c));
        assert!(Instant::now() < deadline, "events did not arrive");
        if out.len() < n {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    out
}

fn no_options() -> RequestOptions {
    RequestOptions::default()
}

#[test]
fn o_direct_write_then_read_32_in_flight() {
    let Some(mut ctx) = context(64) else { return };
    let Some((_path, file)) = direct_file(32 * 4096) else {
        return;
    };
    let fd = file.as_raw_fd();
    for i in 0..32u32 {
        let data = vec![i as u8 + 1; 4096];
        let buf = IoBuf::Owned(AlignedBuf::copy_of(&data).unwrap());
        ctx.push(
            Request::Pwrite {
                fd,
                buf,
                offset: i64::from(i) * 4096,
            },
            no_options(),
            i,
        );
    }
    assert!(wait_for(&mut ctx, 32).iter().all(|c| c.result == 4096));
    for i in 0..32u32 {
        ctx.push(
            Request::Pread {
                fd,
                buf: IoBuf::landing(4096).unwrap(),
                offset: i64::from(i) * 4096,
            },
            no_options(),
            i,
        );
    }
    for c in wait_for(&mut ctx, 32) {
        assert_eq!(c.result, 4096);
        let out = c.outputs();
        assert!(
            out[0].1.iter().all(|&b| b == c.user as u8 + 1),
            "block {} has the wrong bytes",
            c.user
        );
    }
}

#[test]
fn o_direct_misaligned_offset_is_einval() {
    let Some(mut ctx) = context(8) else { return };
    let Some((_path, file)) = direct_file(8192) else {
        return;
    };
    ctx.push(
        Request::Pread {
            fd: file.as_raw_fd(),
            buf: IoBuf::landing(4096).unwrap(),
            offset: 1,
        },
        no_options(),
        0,
    );
    assert_eq!(wait_for(&mut ctx, 1)[0].result, -i64::from(libc::EINVAL));
}

#[test]
fn fsync_and_fdsync_complete() {
    let Some(mut ctx) = context(8) else { return };
    let path = temp_path();
    let file = std::fs::File::create(&path.0).unwrap();
    ctx.push(
        Request::Fsync {
            fd: file.as_raw_fd(),
        },
        no_options(),
        0,
    );
    ctx.push(
        Request::Fdsync {
            fd: file.as_raw_fd(),
        },
        no_options(),
        1,
    );
    assert!(wait_for(&mut ctx, 2).iter().all(|c| c.result == 0));
}

#[test]
fn preadv_scatters_in_order() {
    let Some(mut ctx) = context(8) else { return };
    let path = temp_path();
    std::fs::write(&path.0, b"0123456789").unwrap();
    let file = std::fs::File::open(&path.0).unwrap();
    let bufs = vec![IoBuf::landing(3).unwrap(), IoBuf::landing(7).unwrap()];
    ctx.push(Request::preadv(file.as_raw_fd(), bufs, 0), no_options(), 0);
    let c = wait_for(&mut ctx, 1).pop().unwrap();
    assert_eq!(c.result, 10);
    let out = c.outputs();
    assert_eq!(out, vec![(0, &b"012"[..]), (1, &b"3456789"[..])]);
}

#[test]
fn poll_on_pipe_waits_for_data() {
    let Some(mut ctx) = context(8) else { return };
    let (rx, tx) = pipe();
    ctx.push(
        Request::Poll {
            fd: rx.as_raw_fd(),
            events: libc::POLLIN as u32,
        },
        no_options(),
        0,
    );
    ctx.flush();
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(ctx.reap(drop), 0, "no data yet, no event");
    // SAFETY: one byte from a static into our pipe.
    let written = unsafe { libc::write(tx.as_raw_fd(), b"x".as_ptr().cast(), 1) };
    assert_eq!(written, 1);
    let c = wait_for(&mut ctx, 1).pop().unwrap();
    assert!(c.result & i64::from(libc::POLLIN) != 0);
}

#[test]
fn cancel_pending_poll() {
    let Some(mut ctx) = context(8) else { return };
    let (rx, _tx) = pipe();
    let id = ctx.push(
        Request::Poll {
            fd: rx.as_raw_fd(),
            events: libc::POLLIN as u32,
        },
        no_options(),
        0,
    );
    ctx.flush();
    assert_eq!(ctx.cancel(id), CancelOutcome::Cancelled);
    let c = wait_for(&mut ctx, 1).pop().unwrap();
    assert_eq!(c.result, -i64::from(libc::ECANCELED));
}

#[test]
fn full_submit_batch_goes_in_at_push() {
    let Some(mut ctx) = context(16) else { return };
    ctx.set_submit_batch(4);
    let (rx, _tx) = pipe();
    let poll = || Request::Poll {
        fd: rx.as_raw_fd(),
        events: libc::POLLIN as u32,
    };
    for i in 0..3 {
        ctx.push(poll(), no_options(), i);
    }
    assert_eq!(ctx.submits(), 0, "three of four wait for flush");
    assert!(ctx.has_unsubmitted());
    ctx.push(poll(), no_options(), 3);
    assert_eq!(ctx.submits(), 1, "the fourth sends all four");
    assert!(!ctx.has_unsubmitted());
    ctx.cancel_all();
    let done = wait_for(&mut ctx, 4);
    assert!(done.iter().all(|c| c.result == -i64::from(libc::ECANCELED)));
}

#[test]
fn queue_beyond_max_events() {
    let Some(mut ctx) = context(16) else { return };
    let path = temp_path();
    let data: Vec<u8> = (0..10_000u32).flat_map(|i| i.to_le_bytes()).collect();
    std::fs::write(&path.0, &data).unwrap();
    let file = std::fs::File::open(&path.0).unwrap();
    for i in 0..10_000u32 {
        ctx.push(
            Request::Pread {
                fd: file.as_raw_fd(),
                buf: IoBuf::landing(4).unwrap(),
                offset: i64::from(i) * 4,
            },
            no_options(),
            i,
        );
    }
    let done = wait_for(&mut ctx, 10_000);
    for c in &done {
        let out = c.outputs();
        assert_eq!(out[0].1, &c.user.to_le_bytes()[..]);
    }
    assert_eq!(ctx.pending(), 0);
}

#[test]
fn bad_fd_is_ebadf_and_alone() {
    let Some(mut ctx) = context(8) else { return };
    let (rx, tx) = pipe();
    // SAFETY: one byte into our pipe.
    unsafe { libc::write(tx.as_raw_fd(), b"y".as_ptr().cast(), 1) };
    ctx.push(
        Request::Pread {
            fd: 9999,
            buf: IoBuf::landing(1).unwrap(),
            offset: 0,
        },
        no_options(),
        1,
    );
    ctx.push(
        Request::Poll {
            fd: rx.as_raw_fd(),
            events: libc::POLLIN as u32,
        },
        no_options(),
        2,
    );
    let mut done = wait_for(&mut ctx, 2);
    done.sort_by_key(|c| c.user);
    assert_eq!(done[0].result, -i64::from(libc::EBADF));
    assert!(
        done[1].result > 0,
        "the request behind the bad one still ran"
    );
}

#[test]
fn drop_with_pending_polls_returns() {
    let Some(mut ctx) = context(8) else { return };
    let (rx, _tx) = pipe();
    for i in 0..8 {
        ctx.push(
            Request::Poll {
                fd: rx.as_raw_fd(),
                events: libc::POLLIN as u32,
            },
            no_options(),
            i,
        );
    }
    ctx.flush();
    let start = Instant::now();
    drop(ctx);
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn rw_flags_dsync_write() {
    let Some(mut ctx) = context(8) else { return };
    let path = temp_path();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path.0)
        .unwrap();
    let buf = IoBuf::Owned(AlignedBuf::copy_of(b"hello").unwrap());
    let options = RequestOptions {
        rw_flags: aio_core::rwf::DSYNC,
        ioprio: Some(ioprio(IoprioClass::BestEffort, 4)),
        ..RequestOptions::default()
    };
    ctx.push(
        Request::Pwrite {
            fd: file.as_raw_fd(),
            buf,
            offset: 0,
        },
        options,
        0,
    );
    assert_eq!(wait_for(&mut ctx, 1)[0].result, 5);
    assert_eq!(std::fs::read(&path.0).unwrap(), b"hello");
}

#[test]
fn ioprio_packs_class_and_level() {
    assert_eq!(ioprio(IoprioClass::BestEffort, 4), (2 << 13) | 4);
    assert_eq!(
        ioprio(IoprioClass::Idle, 9),
        (3 << 13) | 7,
        "levels clamp to 7"
    );
}

#[test]
fn raw_syscalls_batch_submit_and_getevents() {
    let Ok(ctx) = sys::io_setup(8) else { return };
    let (rx, tx) = pipe();
    // SAFETY: two bytes into our pipe.
    unsafe { libc::write(tx.as_raw_fd(), b"ab".as_ptr().cast(), 2) };
    let mut iocbs: Vec<aio_core::Iocb> = (0..2)
        .map(|i| aio_core::Iocb {
            aio_data: i,
            aio_lio_opcode: cmd::POLL,
            aio_fildes: rx.as_raw_fd() as u32,
            aio_buf: libc::POLLIN as u64,
            ..Default::default()
        })
        .collect();
    let ptrs: Vec<*mut aio_core::Iocb> = iocbs.iter_mut().map(|c| c as *mut _).collect();
    // SAFETY: the iocbs outlive the events, which we wait for below.
    assert_eq!(unsafe { sys::io_submit(ctx, &ptrs) }.unwrap(), 2);
    let mut events = [IoEvent::default(); 4];
    let n = sys::io_pgetevents(ctx, 2, &mut events, Some(Duration::from_secs(5)), None).unwrap();
    assert_eq!(n, 2);
    sys::io_destroy(ctx).unwrap();
}

#[test]
fn setup_error_explains_aio_max_nr() {
    assert!(aio_core::explain_setup(libc::EAGAIN).contains("fs.aio-max-nr"));
}

/// Whether `fd` is readable now.
fn readable(fd: i32) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one pollfd, a local.
    unsafe { libc::poll(&mut pfd, 1, 0) == 1 }
}

#[test]
fn cancel_of_an_o_direct_read_reports_io_cancel_refusing_it() {
    let Some((_path, file)) = direct_file(4096) else {
        return;
    };
    let Some(mut ctx) = context(8) else { return };
    let buf = IoBuf::Owned(AlignedBuf::zeroed(4096, 4096).unwrap());
    let id = ctx.push(
        Request::Pread {
            fd: file.as_raw_fd(),
            buf,
            offset: 0,
        },
        no_options(),
        0,
    );
    ctx.flush();
    assert_eq!(ctx.cancel(id), CancelOutcome::Refused(libc::EINVAL));
    assert_eq!(wait_for(&mut ctx, 1).pop().unwrap().result, 4096);
}

#[test]
fn cancel_of_a_queued_request_dequeues_it() {
    let Some(mut ctx) = context(8) else { return };
    let (rx, _tx) = pipe();
    let id = ctx.push(
        Request::Poll {
            fd: rx.as_raw_fd(),
            events: libc::POLLIN as u32,
        },
        no_options(),
        0,
    );
    assert_eq!(ctx.cancel(id), CancelOutcome::Dequeued);
    assert_eq!(ctx.cancel(id), CancelOutcome::NotFound);
    let c = wait_for(&mut ctx, 1).pop().unwrap();
    assert_eq!((c.result, c.res2), (-i64::from(libc::ECANCELED), 0));
}

#[test]
fn caller_eventfd_is_signalled_instead_and_collect_reaps_the_event() {
    let Some(mut ctx) = context(8) else { return };
    let (rx, tx) = pipe();
    let mine = sys::eventfd(true).unwrap();
    let options = RequestOptions {
        resfd: Some(mine.as_raw_fd()),
        ..RequestOptions::default()
    };
    let id = ctx.push(
        Request::Poll {
            fd: rx.as_raw_fd(),
            events: libc::POLLIN as u32,
        },
        options,
        7,
    );
    ctx.flush();
    ctx.clear_eventfd();
    // SAFETY: one byte into our pipe.
    unsafe { libc::write(tx.as_raw_fd(), b"x".as_ptr().cast(), 1) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while !readable(mine.as_raw_fd()) {
        assert!(
            Instant::now() < deadline,
            "the caller's eventfd was not signalled"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(
        !readable(ctx.eventfd()),
        "the context's own eventfd stays quiet"
    );
    assert_eq!(ctx.collect(None).unwrap(), 1);
    assert!(ctx.has_completions());
    let mut out = Vec::new();
    ctx.reap(|c| out.push(c));
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].id, out[0].user), (id, 7));
    assert!(out[0].result & i64::from(libc::POLLIN) != 0);
}

#[test]
fn a_valid_ioprio_reads_and_an_invalid_class_is_einval() {
    let Some(mut ctx) = context(8) else { return };
    let path = temp_path();
    std::fs::write(&path.0, b"prio").unwrap();
    let file = std::fs::File::open(&path.0).unwrap();
    let read = |ctx: &mut Context<u32>, prio: i16| {
        let options = RequestOptions {
            ioprio: Some(prio),
            ..RequestOptions::default()
        };
        let buf = IoBuf::Owned(AlignedBuf::zeroed(4, 8).unwrap());
        let request = Request::Pread {
            fd: file.as_raw_fd(),
            buf,
            offset: 0,
        };
        ctx.push(request, options, 0);
        wait_for(ctx, 1).pop().unwrap().result
    };
    assert_eq!(read(&mut ctx, ioprio(IoprioClass::BestEffort, 4)), 4);
    assert_eq!(
        read(&mut ctx, (7u16 << 13) as i16),
        -i64::from(libc::EINVAL)
    );
}

#[test]
fn signal_mask_sets_one_bit_per_signal() {
    assert_eq!(sys::signal_mask(&[1, 64]).unwrap(), 1 | 1 << 63);
    assert_eq!(
        sys::signal_mask(&[libc::SIGINT, libc::SIGUSR2]).unwrap(),
        1 << (libc::SIGINT - 1) | 1 << (libc::SIGUSR2 - 1)
    );
    for bad in [0, 65, -1] {
        let e = sys::signal_mask(&[bad]).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EINVAL));
    }
}

static USR2_HANDLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_usr2(_: libc::c_int) {
    USR2_HANDLED.store(true, Ordering::SeqCst);
}

#[test]
fn collect_with_a_sigmask_applies_it_for_the_call() {
    let Some(mut ctx) = context(8) else { return };
    // SAFETY: installs a handler that only stores to an atomic, blocks SIGUSR2 on this
    // test thread and raises it there (raise targets the calling thread), so it stays
    // pending; all structures are locals.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_usr2 as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGUSR2, &action, std::ptr::null_mut()),
            0
        );
        let mut block: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGUSR2);
        assert_eq!(
            libc::pthread_sigmask(libc::SIG_BLOCK, &block, std::ptr::null_mut()),
            0
        );
        assert_eq!(libc::raise(libc::SIGUSR2), 0);
    }
    let keep_blocked = sys::signal_mask(&[libc::SIGUSR2]).unwrap();
    match ctx.collect(Some(keep_blocked)) {
        Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
            eprintln!("skipped: no io_pgetevents (kernel 4.18)");
            return;
        }
        other => assert_eq!(other.unwrap(), 0),
    }
    assert!(
        !USR2_HANDLED.load(Ordering::SeqCst),
        "the mask kept it pending"
    );
    let e = ctx.collect(Some(0)).unwrap_err();
    assert_eq!(
        e.raw_os_error(),
        Some(libc::EINTR),
        "an empty mask let it in"
    );
    assert!(USR2_HANDLED.load(Ordering::SeqCst));
    // SAFETY: restores this thread's mask (the signal was delivered above).
    unsafe {
        let mut block: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut block);
        libc::sigaddset(&mut block, libc::SIGUSR2);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &block, std::ptr::null_mut());
    }
}

#[test]
fn every_documented_errno_of_each_syscall_has_an_explanation() {
    use libc::*;
    let documented: [(Syscall, &[i32]); 7] = [
        (Syscall::Eventfd, &[EINVAL, EMFILE, ENFILE, ENODEV, ENOMEM]),
        (Syscall::IoSetup, &[EAGAIN, EFAULT, EINVAL, ENOMEM, ENOSYS]),
        (
            Syscall::IoSubmit,
            &[EAGAIN, EBADF, EFAULT, EINVAL, ENOSYS, EPERM],
        ),
        (Syscall::IoGetevents, &[EFAULT, EINTR, EINVAL, ENOSYS]),
        (Syscall::IoPgetevents, &[EFAULT, EINTR, EINVAL, ENOSYS]),
        (Syscall::IoCancel, &[EAGAIN, EFAULT, EINVAL, ENOSYS]),
        (Syscall::IoDestroy, &[EFAULT, EINVAL, ENOSYS]),
    ];
    for (call, errnos) in documented {
        assert_eq!(Syscall::from_name(call.name()), Some(call));
        for &errno in errnos {
            assert!(explain(call, errno).is_some(), "{} {errno}", call.name());
        }
        assert!(explain(call, EXDEV).is_none());
    }
    assert_eq!(setup_syscall(EMFILE), Syscall::Eventfd);
    assert_eq!(setup_syscall(EAGAIN), Syscall::IoSetup);
    assert!(aio_core::explain_setup(EMFILE).contains("too many open files"));
}

#[test]
fn einval_blames_alignment_only_for_o_direct() {
    let path = temp_path();
    std::fs::write(&path.0, vec![0u8; 4096]).unwrap();
    let plain = std::fs::File::open(&path.0).unwrap();
    let shape = |fd| RequestShape {
        opcode: cmd::PREAD,
        fd,
        offset: 100,
        buffers: vec![(0, 4096)],
        ..RequestShape::default()
    };
    let said = explain_request(libc::EINVAL, &shape(plain.as_raw_fd())).unwrap();
    assert!(!said.contains("O_DIRECT"), "{said}");
    let huge = RequestShape {
        offset: i64::MAX as u64 - 1,
        ..shape(plain.as_raw_fd())
    };
    assert!(explain_request(libc::EINVAL, &huge)
        .unwrap()
        .contains("largest file offset"));
    let Some((_direct_path, direct)) = direct_file(4096) else {
        return;
    };
    let said = explain_request(libc::EINVAL, &shape(direct.as_raw_fd())).unwrap();
    assert!(
        said.starts_with("with O_DIRECT") && said.contains("offset 100"),
        "{said}"
    );
}

// The batch path: entry rows (see iobuf::batch) on the context's buffer pool.
mod batch {
    use super::*;
    use aio_core::{EntryError, FixedBuffers, RESULT_FIELDS};
    use iobuf::batch::{BATCH_NOP, BATCH_READ_FIXED, BATCH_WRITE_FIXED};
    use std::sync::Arc;

    const SIZE: usize = 4096;

    fn with_pool(count: usize) -> Option<(Context<u32>, Arc<FixedBuffers>)> {
        let mut ctx = context(64)?;
        let mem = Arc::new(AlignedBuf::zeroed(count * SIZE, 4096).unwrap());
        let pool = Arc::new(FixedBuffers::new(mem, SIZE).unwrap());
        ctx.set_buffers(Arc::clone(&pool)).unwrap();
        Some((ctx, pool))
    }

    fn row(opcode: u8, fd: i32, buffer: usize, position: f64) -> [f64; 9] {
        let fd = f64::from(fd);
        let (opcode, buffer) = (f64::from(opcode), buffer as f64);
        [
            opcode,
            fd,
            buffer,
            0.0,
            SIZE as f64,
            position,
            buffer,
            0.0,
            0.0,
        ]
    }

    fn bytes(pool: &FixedBuffers, index: usize) -> Vec<u8> {
        // SAFETY: the batch that used this buffer has completed.
        unsafe { std::slice::from_raw_parts(pool.memory().as_ptr().add(index * SIZE), SIZE) }
            .to_vec()
    }

    #[test]
    fn batch_direct_writes_then_reads_round_trip() {
        let Some((mut ctx, pool)) = with_pool(16) else {
            return;
        };
        let Some((_path, file)) = direct_file(16 * SIZE) else {
            return;
        };
        let fd = file.as_raw_fd();
        for i in 0..8 {
            // SAFETY: no request uses the pool yet.
            unsafe {
                std::ptr::write_bytes(pool.memory().as_ptr().add(i * SIZE), i as u8 + 1, SIZE)
            };
        }
        let writes: Vec<f64> = (0..8)
            .flat_map(|i| row(BATCH_WRITE_FIXED, fd, i, ((7 - i) * SIZE) as f64))
            .collect();
        ctx.push_batch(&writes, 1);
        let done = wait_for(&mut ctx, 1).pop().unwrap();
        assert_eq!((done.user, done.result), (1, 8));
        let reads: Vec<f64> = (0..8)
            .flat_map(|i| row(BATCH_READ_FIXED, fd, 8 + i, (i * SIZE) as f64))
            .collect();
        let mut results = vec![0.0; 8 * RESULT_FIELDS];
        ctx.run_batch(&reads, &mut results);
        for i in 0..8 {
            assert_eq!(results[i * RESULT_FIELDS + 1], SIZE as f64);
            assert!(
                bytes(&pool, 8 + i).iter().all(|&b| b == 8 - i as u8),
                "block {i}"
            );
        }
        assert_eq!(ctx.pending(), 0);
    }

    #[test]
    fn run_batch_larger_than_the_context_completes() {
        // 64 reads through an 8-event context: the run must keep flushing the backlog
        // as events free up, not only wait for the eventfd.
        let Some(mut ctx) = context(8) else {
            return;
        };
        let mem = Arc::new(AlignedBuf::zeroed(64 * SIZE, 4096).unwrap());
        ctx.set_buffers(Arc::new(FixedBuffers::new(mem, SIZE).unwrap()))
            .unwrap();
        let Some((_path, file)) = direct_file(64 * SIZE) else {
            return;
        };
        let reads: Vec<f64> = (0..64)
            .flat_map(|i| row(BATCH_READ_FIXED, file.as_raw_fd(), i, (i * SIZE) as f64))
            .collect();
        let mut results = vec![0.0; 64 * RESULT_FIELDS];
        ctx.run_batch(&reads, &mut results);
        assert!((0..64).all(|i| results[i * RESULT_FIELDS + 1] == SIZE as f64));
    }

    #[test]
    fn batch_refuses_what_aio_cannot_do_alone() {
        let Some((mut ctx, _pool)) = with_pool(2) else {
            return;
        };
        let Some((_path, file)) = direct_file(4 * SIZE) else {
            return;
        };
        let fd = file.as_raw_fd();
        let mut rows = Vec::new();
        rows.extend(row(BATCH_READ_FIXED, fd, 0, 0.0));
        rows.extend(row(BATCH_NOP, fd, 0, 0.0)); // AIO has no NOP
        rows.extend(row(BATCH_READ_FIXED, fd, 1, -1.0)); // nor a file position
        rows.extend(row(BATCH_READ_FIXED, fd, 2, 0.0)); // no buffer 2
        let mut results = vec![0.0; 4 * RESULT_FIELDS];
        ctx.run_batch(&rows, &mut results);
        assert_eq!(results[1], SIZE as f64);
        for (i, why) in [
            (1, EntryError::Opcode),
            (2, EntryError::Position),
            (3, EntryError::Buffer),
        ] {
            let at = i * RESULT_FIELDS;
            assert_eq!(results[at + 1], -f64::from(why.errno()), "entry {i}");
            assert_eq!(results[at + 2], -f64::from(why as i32), "entry {i}");
        }
    }

    #[test]
    fn cancelled_queued_batch_completes_once_with_ecanceled() {
        // Cancelled before any flush: every request settles without the kernel.
        let Some((mut ctx, _pool)) = with_pool(2) else {
            return;
        };
        let (r, _w) = pipe();
        let reads: Vec<f64> = (0..2)
            .flat_map(|i| row(BATCH_READ_FIXED, r.as_raw_fd(), i, 0.0))
            .collect();
        let id = ctx.push_batch(&reads, 9);
        assert!(ctx.cancel(id).cancelled());
        let done = wait_for(&mut ctx, 1).pop().unwrap();
        assert_eq!((done.id, done.result), (id, -i64::from(libc::ECANCELED)));
        let rows = done.batch.unwrap();
        assert_eq!(rows.get(0).0, -i64::from(libc::ECANCELED));
        assert_eq!(ctx.pending(), 0);
    }
}

/// A read of `len` bytes at 0 on `fd`, into a landing zone.
fn pread(fd: i32, len: usize) -> Request {
    Request::Pread {
        fd,
        buf: IoBuf::landing(len).unwrap(),
        offset: 0,
    }
}

#[test]
fn flush_exact_stops_at_the_refused_request() {
    // io_submit(2) stops at the first iocb it refuses: those after it are not taken.
    let Some(mut ctx) = context(8) else { return };
    let path = temp_path();
    std::fs::write(&path.0, b"seed").unwrap();
    let file = std::fs::File::open(&path.0).unwrap();
    let ids = [
        ctx.push(pread(file.as_raw_fd(), 4), no_options(), 0),
        ctx.push(pread(9999, 4), no_options(), 1),
        ctx.push(pread(file.as_raw_fd(), 4), no_options(), 2),
    ];
    assert_eq!(ctx.flush_exact(&ids), Some((1, libc::EBADF)));
    let mut done = wait_for(&mut ctx, 3);
    done.sort_by_key(|c| c.user);
    let results: Vec<i64> = done.iter().map(|c| c.result).collect();
    assert_eq!(
        results,
        [4, -i64::from(libc::EBADF), -i64::from(libc::ECANCELED)]
    );
    assert_eq!(
        ctx.submits(),
        2,
        "one io_submit took the first, one refused the second"
    );
}

#[test]
fn flush_exact_none_when_all_taken() {
    let Some(mut ctx) = context(8) else { return };
    let path = temp_path();
    std::fs::write(&path.0, b"seed").unwrap();
    let file = std::fs::File::open(&path.0).unwrap();
    let ids = [
        ctx.push(pread(file.as_raw_fd(), 4), no_options(), 0),
        ctx.push(pread(file.as_raw_fd(), 2), no_options(), 1),
    ];
    assert_eq!(ctx.flush_exact(&ids), None);
    assert_eq!(ctx.submits(), 1);
    assert_eq!(wait_for(&mut ctx, 2).len(), 2);
}

#[test]
fn pipe_read_refused_at_flush() {
    // The check happens when the iocb goes to the kernel: a descriptor that became a
    // pipe after the request was queued (closed and reused) is still refused, instead
    // of freezing the thread inside io_submit. On the old code (checked at push) the
    // read blocked until the writer thread wrote, and returned 1.
    let Some(mut ctx) = context(8) else { return };
    let path = temp_path();
    std::fs::write(&path.0, b"seed").unwrap();
    let file = std::fs::File::open(&path.0).unwrap();
    let (rx, tx) = pipe();
    let target = file.as_raw_fd();
    ctx.push(pread(target, 4), no_options(), 0);
    // SAFETY: dup2 replaces our own file's descriptor with our pipe's read end.
    assert_eq!(unsafe { libc::dup2(rx.as_raw_fd(), target) }, target);
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        // SAFETY: one byte into our pipe, which unblocks a frozen io_submit.
        unsafe { libc::write(tx.as_raw_fd(), b"z".as_ptr().cast(), 1) };
        tx
    });
    let started = Instant::now();
    ctx.flush();
    let elapsed = started.elapsed();
    let done = wait_for(&mut ctx, 1);
    drop(writer.join());
    assert_eq!(done[0].result, -i64::from(libc::EAGAIN));
    assert!(
        elapsed < Duration::from_millis(400),
        "flush blocked for {elapsed:?}"
    );
    drop(file);
}

#[test]
fn pipe_read_among_file_reads_settles_alone() {
    let Some(mut ctx) = context(8) else { return };
    ctx.set_submit_batch(0);
    let path = temp_path();
    std::fs::write(&path.0, b"seed").unwrap();
    let file = std::fs::File::open(&path.0).unwrap();
    let (rx, _tx) = pipe();
    ctx.push(pread(file.as_raw_fd(), 4), no_options(), 0);
    ctx.push(pread(rx.as_raw_fd(), 1), no_options(), 1);
    ctx.push(pread(file.as_raw_fd(), 4), no_options(), 2);
    let mut done = wait_for(&mut ctx, 3);
    done.sort_by_key(|c| c.user);
    let results: Vec<i64> = done.iter().map(|c| c.result).collect();
    assert_eq!(results, [4, -i64::from(libc::EAGAIN), 4]);
}

#[test]
fn idle_priority_any_level_accepted() {
    // ioprio_check_cap: the idle class takes any level (the seed's test_read_w_priority
    // uses 10); only the class and, for class 0, the level are checked.
    let Some(mut ctx) = context(8) else { return };
    let path = temp_path();
    std::fs::write(&path.0, b"seed").unwrap();
    let file = std::fs::File::open(&path.0).unwrap();
    let options = RequestOptions {
        ioprio: Some(((3u16 << 13) | 10) as i16),
        ..no_options()
    };
    ctx.push(pread(file.as_raw_fd(), 4), options, 0);
    assert_eq!(wait_for(&mut ctx, 1)[0].result, 4);
}
