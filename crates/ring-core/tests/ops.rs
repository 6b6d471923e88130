//! Table entries added for the file and process opcodes: what Rust refuses before the
//! kernel sees it, and the poll update against the real kernel. Kernel tests skip
//! (pass with a message) where io_uring or the opcode is unavailable.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ring_core::{probe, AlignedBuf, ArgList, Completion, IoBuf, Op, Ring, RingOptions};

fn errno_of(index: &str, args: &mut ArgList) -> Option<i32> {
    Op::from_args(Op::index_of(index).expect("entry"), args)
        .err()
        .and_then(|e| e.raw_os_error())
}

fn window(len: usize) -> IoBuf {
    IoBuf::shared(Arc::new(AlignedBuf::zeroed(len, 4096).unwrap()), 0, len).unwrap()
}

#[test]
fn readv_fixed_refuses_a_range_outside_its_buffer() {
    // fd, the window (taken by `shared`), 1 range (offset, length), offset, rw_flags, index.
    let mut args = ArgList::new([3.0, 1.0, 4000.0, 97.0, 0.0, 0.0, 0.0]).buf(window(4096));
    assert_eq!(errno_of("readvFixed", &mut args), Some(libc::EFAULT));
    let mut args = ArgList::new([3.0, 1.0, 4000.0, 96.0, 0.0, 0.0, 0.0]).buf(window(4096));
    assert_eq!(
        errno_of("readvFixed", &mut args),
        None,
        "the last 96 bytes fit"
    );
    let mut args = ArgList::new([3.0, 1.0, -1.0, 1.0, 0.0, 0.0, 0.0]).buf(window(4096));
    assert_eq!(errno_of("writevFixed", &mut args), Some(libc::EINVAL));
}

#[test]
fn futex_waitv_refuses_words_outside_or_misaligned_or_wide() {
    // The window, 1 waiter (offset, value, flags).
    let mut args = ArgList::new([1.0, 8.0, 0.0, 130.0]).buf(window(8));
    assert_eq!(errno_of("futexWaitv", &mut args), Some(libc::EFAULT));
    let mut args = ArgList::new([1.0, 2.0, 0.0, 130.0]).buf(window(8));
    assert_eq!(errno_of("futexWaitv", &mut args), Some(libc::EINVAL));
    let mut args = ArgList::new([1.0, 0.0, 0.0, 3.0]).buf(window(8));
    assert_eq!(
        errno_of("futexWaitv", &mut args),
        Some(libc::EINVAL),
        "FUTEX2_SIZE_U64"
    );
    let mut args = ArgList::new([0.0]).buf(window(8));
    assert_eq!(
        errno_of("futexWaitv", &mut args),
        Some(libc::EINVAL),
        "no waiter"
    );
}

#[test]
fn flags_that_would_escape_the_table_are_refused() {
    // IORING_POLL_UPDATE_USER_DATA would re-key the poll under an unknown id.
    let mut args = ArgList::new([5.0, 1.0, 6.0]);
    assert_eq!(errno_of("pollUpdate", &mut args), Some(libc::EINVAL));
    // An op id must be a real one: not 0, below MSG_TAG.
    let mut args = ArgList::new([0.0]);
    assert_eq!(errno_of("pollRemove", &mut args), Some(libc::EINVAL));
    let mut args = ArgList::new([2f64.powi(52)]);
    assert_eq!(errno_of("timeoutRemove", &mut args), Some(libc::EINVAL));
    // IORING_ASYNC_CANCEL_ANY reaches the ring's own ops.
    let mut args = ArgList::new([3.0, 4.0]);
    assert_eq!(errno_of("cancelFd", &mut args), Some(libc::EINVAL));
    // Clock bits in a timeout update (the kernel keeps the timeout's clock).
    let mut args = ArgList::new([5.0, 10.0, 8.0]);
    assert_eq!(errno_of("timeoutUpdate", &mut args), Some(libc::EINVAL));
    // SOCKET_URING_OP_GETSOCKOPT points the kernel at memory: not offered.
    let mut args = ArgList::new([3.0, 2.0]);
    assert_eq!(errno_of("uringCmd", &mut args), Some(libc::EINVAL));
    // More epoll events than the output holds.
    let mut args = ArgList::new([3.0, 2.0, 0.0])
        .buf(IoBuf::landing(std::mem::size_of::<libc::epoll_event>()).unwrap());
    assert_eq!(errno_of("epollWait", &mut args), Some(libc::EINVAL));
}

#[test]
fn waitid_output_starts_zeroed() {
    let landing = IoBuf::landing(std::mem::size_of::<libc::siginfo_t>()).unwrap();
    // SAFETY: the landing zone is ours, valid for its length.
    unsafe { std::ptr::write_bytes(landing.ptr(), 0xff, landing.len()) };
    let mut args = ArgList::new([1.0, 1.0, 4.0, 0.0]).buf(landing);
    let op = Op::from_args(Op::index_of("waitid").unwrap(), &mut args).unwrap();
    // SAFETY: the op never reached a kernel; its memory is only ours.
    let out = unsafe { iobuf::inflight::Outputs::outputs(&op, 0) };
    assert!(out[0].1.iter().all(|&b| b == 0));
}

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
fn poll_update_changes_the_events_a_poll_waits_for() {
    if let Err(e) = probe() {
        eprintln!("skipped: {}", e.reason);
        return;
    }
    let mut ring: Ring<u32> = Ring::new(RingOptions::default()).expect("ring");
    if !ring
        .supported_opcodes()
        .contains(&ring_core::opcode::PollRemove::CODE)
    {
        eprintln!("skipped: no IORING_OP_POLL_REMOVE");
        return;
    }
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors are fresh and owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: one byte from a live buffer into a pipe we own.
    let written = unsafe { libc::write(write.as_raw_fd(), b"x".as_ptr().cast(), 1) };
    assert_eq!(written, 1);
    // The read end of a pipe is never writable: POLLOUT never comes.
    let mut args = ArgList::new([f64::from(read.as_raw_fd()), f64::from(libc::POLLOUT)]);
    let poll = ring.push(
        Op::from_args(Op::index_of("poll").unwrap(), &mut args).unwrap(),
        1,
    );
    let mut args = ArgList::new([poll as f64, f64::from(libc::POLLIN), 2.0]);
    ring.push(
        Op::from_args(Op::index_of("pollUpdate").unwrap(), &mut args).unwrap(),
        2,
    );
    let mut done = wait_for(&mut ring, 2);
    done.sort_by_key(|c| c.user);
    assert_eq!(
        done[0].result & i32::from(libc::POLLIN),
        i32::from(libc::POLLIN)
    );
    assert_eq!(done[1].result, 0);
}
