//! The AIO system calls, 1:1, returning `io::Result`. Each is `unsafe` where the kernel
//! keeps pointers we pass beyond the call.

use std::io;
use std::ptr;

use crate::abi::{AioContext, IoEvent, Iocb};

/// io_pgetevents' syscall number, which `libc` does not define on every target.
#[cfg(target_arch = "x86_64")]
const SYS_IO_PGETEVENTS: libc::c_long = 333;
#[cfg(target_arch = "x86")]
const SYS_IO_PGETEVENTS: libc::c_long = 385;
#[cfg(target_arch = "arm")]
const SYS_IO_PGETEVENTS: libc::c_long = 399;
/// The asm-generic table (aarch64, riscv64, loongarch64).
#[cfg(not(any(target_arch = "x86_64", target_arch = "x86", target_arch = "arm")))]
const SYS_IO_PGETEVENTS: libc::c_long = 292;

fn timespec(d: std::time::Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: d.as_secs() as libc::time_t,
        tv_nsec: d.subsec_nanos() as _,
    }
}

fn check(ret: libc::c_long) -> io::Result<usize> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

/// io_setup(2): a context able to hold `nr_events` in-flight requests. Kernel 2.6.
pub fn io_setup(nr_events: u32) -> io::Result<AioContext> {
    let mut ctx: AioContext = 0;
    // SAFETY: the kernel writes the new context handle into `ctx`, a local.
    check(unsafe { libc::syscall(libc::SYS_io_setup, nr_events, &mut ctx as *mut AioContext) })?;
    Ok(ctx)
}

/// io_destroy(2): cancels what it can and blocks until every request has finished.
/// Kernel 2.6.
pub fn io_destroy(ctx: AioContext) -> io::Result<()> {
    // SAFETY: plain syscall on a handle; after it returns the kernel holds no pointer
    // into our memory for this context.
    check(unsafe { libc::syscall(libc::SYS_io_destroy, ctx) }).map(drop)
}

/// io_submit(2): queues `iocbs`; returns how many the kernel took (a prefix). Kernel 2.6.
///
/// # Safety
/// Every iocb and every buffer or iovec array it points to must stay valid and
/// unmoved until its io_event is reaped (or the context is destroyed).
pub unsafe fn io_submit(ctx: AioContext, iocbs: &[*mut Iocb]) -> io::Result<usize> {
    // SAFETY: the caller guarantees the memory contract above; the pointer array
    // itself is only read during the call.
    check(unsafe {
        libc::syscall(
            libc::SYS_io_submit,
            ctx,
            iocbs.len() as libc::c_long,
            iocbs.as_ptr(),
        )
    })
}

/// io_cancel(2): asks the kernel to cancel `iocb`. Kernel 2.6. Only requests that
/// registered a cancel callback can be cancelled (IOCB_CMD_POLL, kernel 4.19; some
/// drivers' requests; never a file read or write, O_DIRECT included). Current kernels
/// (since the 3.x AIO rework) answer a successful cancel with EINPROGRESS
/// ("cancellation under way": the event still arrives through the ring, with
/// -ECANCELED or, for a poll, no events); older ones returned 0 and wrote the event
/// into `result` instead of the ring, which is what `Ok` carries. A request that
/// cannot be cancelled gets EINVAL (EAGAIN: a cancel callback could not stop it) and
/// completes normally.
///
/// # Safety
/// `iocb` must be a request submitted to `ctx` and not yet reaped.
pub unsafe fn io_cancel(ctx: AioContext, iocb: *mut Iocb) -> io::Result<IoEvent> {
    let mut event = IoEvent::default();
    // SAFETY: the kernel may write one io_event into our local.
    check(unsafe { libc::syscall(libc::SYS_io_cancel, ctx, iocb, &mut event as *mut IoEvent) })?;
    Ok(event)
}

/// io_getevents(2): waits for at least `min_nr` events (up to `events.len()`), or
/// until `timeout` passes (`None`: forever). Returns how many were written. Kernel 2.6.
pub fn io_getevents(
    ctx: AioContext,
    min_nr: usize,
    events: &mut [IoEvent],
    timeout: Option<std::time::Duration>,
) -> io::Result<usize> {
    let ts = timeout.map(timespec);
    let ts_ptr = ts
        .as_ref()
        .map_or(ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: events is valid for events.len() writes; ts lives across the call.
    check(unsafe {
        libc::syscall(
            libc::SYS_io_getevents,
            ctx,
            min_nr as libc::c_long,
            events.len() as libc::c_long,
            events.as_mut_ptr(),
            ts_ptr,
        )
    })
}

/// The kernel's signal set for io_pgetevents: bit `signo - 1` for each signal, 64
/// signals (`_NSIG` on every architecture this crate builds for; MIPS has 128).
/// EINVAL for a number outside 1..=64. Blocking SIGKILL or SIGSTOP is silently
/// ignored by the kernel, as with sigprocmask(2).
pub fn signal_mask(signals: &[i32]) -> io::Result<u64> {
    signals.iter().try_fold(0u64, |mask, &sig| {
        if (1..=64).contains(&sig) {
            Ok(mask | 1 << (sig - 1))
        } else {
            Err(io::Error::from_raw_os_error(libc::EINVAL))
        }
    })
}

/// The kernel's `sigset_t` for 64 signals: an array of `unsigned long`, so one u64 on
/// 64-bit targets and two u32 words (low first) on 32-bit ones.
#[cfg(target_pointer_width = "64")]
type KernelSigset = u64;
#[cfg(target_pointer_width = "32")]
type KernelSigset = [u32; 2];

fn kernel_sigset(mask: u64) -> KernelSigset {
    #[cfg(target_pointer_width = "64")]
    return mask;
    #[cfg(target_pointer_width = "32")]
    return [mask as u32, (mask >> 32) as u32];
}

/// io_pgetevents(2): io_getevents with `sigmask` (see `signal_mask`) replacing the
/// thread's signal mask for the duration of the call, atomically; `None` leaves the
/// mask alone. Kernel 4.18 (ENOSYS before, or where a seccomp filter refuses it).
/// EINTR when a signal the mask leaves unblocked is delivered during the call.
pub fn io_pgetevents(
    ctx: AioContext,
    min_nr: usize,
    events: &mut [IoEvent],
    timeout: Option<std::time::Duration>,
    sigmask: Option<u64>,
) -> io::Result<usize> {
    #[repr(C)]
    struct AioSigset {
        sigmask: *const KernelSigset,
        sigsetsize: libc::size_t,
    }
    let ts = timeout.map(timespec);
    let ts_ptr = ts
        .as_ref()
        .map_or(ptr::null(), |t| t as *const libc::timespec);
    let set = sigmask.map(kernel_sigset);
    let usig = set.as_ref().map(|m| AioSigset {
        sigmask: m,
        sigsetsize: std::mem::size_of::<KernelSigset>(),
    });
    let usig_ptr = usig.as_ref().map_or(ptr::null(), |u| u as *const AioSigset);
    // SAFETY: events is valid for events.len() writes; ts, usig and the set it points
    // to live across the call.
    check(unsafe {
        libc::syscall(
            SYS_IO_PGETEVENTS,
            ctx,
            min_nr as libc::c_long,
            events.len() as libc::c_long,
            events.as_mut_ptr(),
            ts_ptr,
            usig_ptr,
        )
    })
}

/// eventfd(2) with EFD_CLOEXEC (and EFD_NONBLOCK if asked): a descriptor the caller
/// owns, to name in `RequestOptions::resfd` (IOCB_FLAG_RESFD, kernel 2.6.22).
pub fn eventfd(nonblocking: bool) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    let flags = libc::EFD_CLOEXEC | if nonblocking { libc::EFD_NONBLOCK } else { 0 };
    // SAFETY: eventfd(2) returns a new descriptor or -1; no pointers involved.
    let fd = unsafe { libc::eventfd(0, flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is fresh and owned by nobody else.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

/// Whether kernel AIO runs reads and writes on `fd` synchronously inside io_submit
/// (pipes, FIFOs, sockets, character devices: files without asynchronous
/// `read_iter`/`write_iter` for AIO), where a read with no data blocks the submitting
/// thread until data comes. False for regular files, block devices and unknown fds
/// (the kernel reports those itself: EBADF).
pub fn submits_synchronously(fd: std::os::fd::RawFd) -> bool {
    // SAFETY: all-zero is a valid `stat`, which fstat fills.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat writes one `stat` into our local; a bad fd is just an error.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return false;
    }
    matches!(
        st.st_mode & libc::S_IFMT,
        libc::S_IFIFO | libc::S_IFSOCK | libc::S_IFCHR
    )
}
