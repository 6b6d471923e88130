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
pub fn io_destroy(ctx: AioContext) -> io::Result<()> {
    // SAFETY: plain syscall on a handle; after it returns the kernel holds no pointer
    // into our memory for this context.
    check(unsafe { libc::syscall(libc::SYS_io_destroy, ctx) }).map(drop)
}

/// io_submit(2): queues `iocbs`; returns how many the kernel took (a prefix).
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

/// io_cancel(2): asks the kernel to cancel `iocb`. Since kernel 4.19 a cancelled
/// request still completes through the event ring (the call returns EINPROGRESS).
///
/// # Safety
/// `iocb` must be a request submitted to `ctx` and not yet reaped.
pub unsafe fn io_cancel(ctx: AioContext, iocb: *mut Iocb) -> io::Result<()> {
    let mut event = IoEvent::default();
    // SAFETY: the kernel may write one io_event into our local.
    check(unsafe { libc::syscall(libc::SYS_io_cancel, ctx, iocb, &mut event as *mut IoEvent) })
        .map(drop)
}

/// io_getevents(2): waits for at least `min_nr` events (up to `events.len()`), or
/// until `timeout` passes (`None`: forever). Returns how many were written.
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

/// io_pgetevents(2): io_getevents with a signal mask applied while waiting. Kernel 4.18.
pub fn io_pgetevents(
    ctx: AioContext,
    min_nr: usize,
    events: &mut [IoEvent],
    timeout: Option<std::time::Duration>,
    sigmask: Option<&libc::sigset_t>,
) -> io::Result<usize> {
    #[repr(C)]
    struct AioSigset {
        sigmask: *const libc::sigset_t,
        sigsetsize: libc::size_t,
    }
    let ts = timeout.map(timespec);
    let ts_ptr = ts
        .as_ref()
        .map_or(ptr::null(), |t| t as *const libc::timespec);
    // The kernel's sigset is 8 bytes (_NSIG / 8), not glibc's 128.
    let usig = sigmask.map(|m| AioSigset {
        sigmask: m,
        sigsetsize: 8,
    });
    let usig_ptr = usig.as_ref().map_or(ptr::null(), |u| u as *const AioSigset);
    // SAFETY: events is valid for events.len() writes; ts, usig and the mask they
    // point to live across the call.
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
