//! Words for failures: each AIO syscall's documented errors (io_setup(2),
//! io_submit(2), io_getevents(2) and io_pgetevents, io_cancel(2), io_destroy(2), plus
//! the eventfd(2) a context creates), and a request's error given what it asked for.
//! The binding's errors carry these as their detail. The texts are ours, written from
//! the man pages and the kernel's fs/aio.c.

use std::os::fd::RawFd;

use crate::abi::{cmd, rwf};

/// A call whose errors `explain` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syscall {
    /// eventfd(2): the context's completion eventfd, made before io_setup.
    Eventfd,
    IoSetup,
    IoSubmit,
    IoGetevents,
    IoPgetevents,
    IoCancel,
    IoDestroy,
}

impl Syscall {
    pub const ALL: [Syscall; 7] = [
        Syscall::Eventfd,
        Syscall::IoSetup,
        Syscall::IoSubmit,
        Syscall::IoGetevents,
        Syscall::IoPgetevents,
        Syscall::IoCancel,
        Syscall::IoDestroy,
    ];

    /// The name errors carry as their `syscall`.
    pub fn name(self) -> &'static str {
        match self {
            Syscall::Eventfd => "eventfd",
            Syscall::IoSetup => "io_setup",
            Syscall::IoSubmit => "io_submit",
            Syscall::IoGetevents => "io_getevents",
            Syscall::IoPgetevents => "io_pgetevents",
            Syscall::IoCancel => "io_cancel",
            Syscall::IoDestroy => "io_destroy",
        }
    }

    pub fn from_name(name: &str) -> Option<Syscall> {
        Syscall::ALL.into_iter().find(|s| s.name() == name)
    }
}

const NO_AIO: &str =
    "this kernel was built without AIO support (CONFIG_AIO), or a seccomp filter refuses the call";
const LIBRARY_BUG: &str =
    "the kernel could not use a pointer this library passed: a bug in uring-aio, please report it";

/// The explanation of `errno` from `syscall`, for each error its man page documents
/// (and a few it does not but the kernel returns). None for any other errno.
pub fn explain(call: Syscall, errno: i32) -> Option<&'static str> {
    use libc::{
        EAGAIN, EBADF, EFAULT, EINPROGRESS, EINTR, EINVAL, EMFILE, ENFILE, ENODEV, ENOMEM, ENOSYS,
        EOPNOTSUPP, EPERM,
    };
    Some(match (call, errno) {
        (Syscall::Eventfd, EMFILE) => "creating the context's completion eventfd failed: this process has too many open files (RLIMIT_NOFILE): close some, or raise `ulimit -n`",
        (Syscall::Eventfd, ENFILE) => "creating the context's completion eventfd failed: the system-wide limit on open files (fs.file-max) was reached",
        (Syscall::Eventfd, ENODEV) => "creating the context's completion eventfd failed: the kernel could not mount its anonymous-inode file system",
        (Syscall::Eventfd, ENOMEM) => "not enough memory to create the context's completion eventfd",
        (Syscall::Eventfd, EINVAL) => "eventfd(2) refused EFD_CLOEXEC | EFD_NONBLOCK (kernel 2.6.27 or later needed)",

        (Syscall::IoSetup, EAGAIN) => "the system-wide limit on AIO events was reached (fs.aio-max-nr; see fs.aio-nr for the \
            current use): raise it with `sysctl -w fs.aio-max-nr=1048576` or use a smaller maxEvents",
        (Syscall::IoSetup, EINVAL) => "maxEvents is out of range for this system: 0, or more than the kernel can map for one context (more than fs.aio-max-nr?)",
        (Syscall::IoSetup, ENOMEM) => "not enough kernel memory for the context's event ring",
        (Syscall::IoSetup, ENFILE) => "the system-wide limit on open files (fs.file-max) was reached: the context's event ring is a file",
        (Syscall::IoSetup, ENOSYS) => NO_AIO,
        (Syscall::IoSetup, EPERM) => "io_setup was denied, likely by a seccomp filter",
        (Syscall::IoSetup, EFAULT) => LIBRARY_BUG,

        (Syscall::IoSubmit, EAGAIN) => "the kernel could not queue the request now (the context's event ring is full, or it is short of memory)",
        (Syscall::IoSubmit, EBADF) => "aio_fildes is not an open descriptor, or not open for this direction (reading or writing); or the request's eventfd (aio_resfd) is not open",
        (Syscall::IoSubmit, EINVAL) => "the kernel refused the iocb: a command or flag this file does not support, a misaligned O_DIRECT transfer, \
            an offset + length past 2^63 - 1, more than IOV_MAX (1024) buffers, an aio_reqprio that is not a valid I/O priority, \
            or an aio_resfd that is not an eventfd",
        (Syscall::IoSubmit, EFAULT) => "a buffer, iovec array or iocb lies outside this process's memory",
        (Syscall::IoSubmit, EPERM) => "aio_reqprio asks for the real-time I/O class (IOPRIO_CLASS_RT), which needs CAP_SYS_ADMIN or CAP_SYS_NICE",
        (Syscall::IoSubmit, EOPNOTSUPP) => "an rwFlags bit this kernel or file does not support (RWF_NOWAIT and RWF_DONTCACHE need the file system's support, RWF_ATOMIC a device that writes untorn)",
        (Syscall::IoSubmit, ENOSYS) => NO_AIO,

        (Syscall::IoGetevents, EINTR) => "a signal handler ran before any event was ready",
        (Syscall::IoGetevents, EINVAL) => "the context is invalid (destroyed?), or min_nr or nr is out of range",
        (Syscall::IoGetevents, EFAULT) => LIBRARY_BUG,
        (Syscall::IoGetevents, ENOSYS) => NO_AIO,

        (Syscall::IoPgetevents, ENOSYS) => "io_pgetevents needs Linux 4.18 (or a seccomp filter refuses it): leave out sigmask to collect with io_getevents",
        (Syscall::IoPgetevents, EINTR) => "a signal that sigmask leaves unblocked was delivered during the call (its handler ran) before any event was ready",
        (Syscall::IoPgetevents, EINVAL) => "the context is invalid (destroyed?), min_nr or nr is out of range, or the kernel's signal set is not 8 bytes on this architecture",
        (Syscall::IoPgetevents, EFAULT) => LIBRARY_BUG,

        (Syscall::IoCancel, EINPROGRESS) => "cancellation is under way: the request's event arrives with -ECANCELED",
        (Syscall::IoCancel, EAGAIN) => "the request was not cancelled (its cancel callback could not stop it): it completes normally",
        (Syscall::IoCancel, EINVAL) => "the request cannot be cancelled (only polls and some drivers' requests can; file reads and writes, \
            O_DIRECT included, run to completion) or has already completed: it completes normally",
        (Syscall::IoCancel, EFAULT) => LIBRARY_BUG,
        (Syscall::IoCancel, ENOSYS) => NO_AIO,

        (Syscall::IoDestroy, EINVAL) => "the context is invalid (already destroyed?)",
        (Syscall::IoDestroy, EFAULT) => LIBRARY_BUG,
        (Syscall::IoDestroy, ENOSYS) => NO_AIO,
        _ => return None,
    })
}

/// Which call of `Context::new` failed with `errno`: the eventfd comes first, and
/// EMFILE and ENODEV are errors io_setup cannot return (it installs no descriptor), so
/// they name the eventfd; every other errno is io_setup's.
pub fn setup_syscall(errno: i32) -> Syscall {
    match errno {
        libc::EMFILE | libc::ENODEV => Syscall::Eventfd,
        _ => Syscall::IoSetup,
    }
}

/// Explains a failure of `Context::new` (see `setup_syscall` for which call failed).
pub fn explain_setup(errno: i32) -> String {
    let syscall = setup_syscall(errno);
    match explain(syscall, errno) {
        Some(text) => text.to_string(),
        None => format!(
            "{} failed with errno {errno}, which its man page does not document",
            syscall.name()
        ),
    }
}

/// What a failed request asked for, as far as its error depends on it.
#[derive(Debug, Clone, Default)]
pub struct RequestShape {
    /// `IOCB_CMD_*`.
    pub opcode: u16,
    pub fd: RawFd,
    pub offset: u64,
    /// (address, length) of each buffer. The library's own copies are page-aligned;
    /// give them address 0.
    pub buffers: Vec<(u64, u64)>,
    pub rw_flags: i32,
    pub ioprio: Option<i16>,
    /// The caller's eventfd (IOCB_FLAG_RESFD), if any.
    pub resfd: Option<RawFd>,
}

/// Explains a request's failure with `errno` (from io_submit or its io_event), looking
/// at the request and at its descriptors as they are now (so a descriptor closed or
/// reused since can mislead it). None where nothing more than the errno's own text can
/// be said.
pub fn explain_request(errno: i32, shape: &RequestShape) -> Option<String> {
    let rw = matches!(
        shape.opcode,
        cmd::PREAD | cmd::PWRITE | cmd::PREADV | cmd::PWRITEV
    );
    match errno {
        libc::EINVAL => Some(explain_einval(shape, rw)),
        libc::EBADF => Some(explain_ebadf(shape)),
        libc::EPERM if shape.ioprio.is_some_and(|p| ioprio_class(p) == 1) => {
            explain(Syscall::IoSubmit, libc::EPERM).map(str::to_string)
        }
        libc::EOPNOTSUPP if shape.rw_flags != 0 => {
            explain(Syscall::IoSubmit, libc::EOPNOTSUPP).map(str::to_string)
        }
        libc::EAGAIN if rw && shape.rw_flags & rwf::NOWAIT == 0 && crate::sys::submits_synchronously(shape.fd) => Some(
            "kernel AIO would run this read or write on a pipe, FIFO, socket or character device inside io_submit, blocking the event loop until data comes; use Aio.poll() and then read, or Ring, or pass rwFlags RWF_NOWAIT where the kernel supports it for that file".to_string(),
        ),
        libc::EAGAIN if rw => Some(if shape.rw_flags & rwf::NOWAIT != 0 {
            "RWF_NOWAIT, and the I/O would have blocked (a page-cache miss, a block allocation, a busy device queue)".to_string()
        } else {
            "the kernel was short of resources for the request".to_string()
        }),
        _ => None,
    }
}

fn explain_einval(shape: &RequestShape, rw: bool) -> String {
    if let Some(why) = shape.resfd.and_then(|fd| resfd_problem(fd, false)) {
        return why;
    }
    if !rw {
        return match shape.opcode {
            cmd::POLL => "IOCB_CMD_POLL supports only files that wait on one queue: not a pipe or FIFO opened for both reading and writing".to_string(),
            cmd::FSYNC | cmd::FDSYNC => "this file cannot be synced (a pipe, socket or eventfd has no fsync), or the kernel predates IOCB_CMD_FSYNC (4.18)".to_string(),
            _ => explain(Syscall::IoSubmit, libc::EINVAL).unwrap_or_default().to_string(),
        };
    }
    if let Some(why) = shape.ioprio.and_then(ioprio_problem) {
        return why;
    }
    if shape.buffers.len() > 1024 {
        return format!(
            "{} buffers in one request: at most IOV_MAX (1024)",
            shape.buffers.len()
        );
    }
    let length: u64 = shape.buffers.iter().map(|&(_, len)| len).sum();
    if shape
        .offset
        .checked_add(length)
        .is_none_or(|end| end > i64::MAX as u64)
    {
        return format!(
            "offset {} + length {length} passes the largest file offset (2^63 - 1)",
            shape.offset
        );
    }
    if is_o_direct(shape.fd) {
        if let Some(why) = misalignment(shape) {
            return why;
        }
    }
    if shape.rw_flags != 0 {
        return "an rwFlags combination this file or kernel refuses (RWF_APPEND with RWF_NOAPPEND; RWF_ATOMIC with a length \
                the file system cannot write untorn; ...)"
            .to_string();
    }
    "the file does not support asynchronous reads or writes of this kind (no read_iter/write_iter), or refuses this offset".to_string()
}

fn explain_ebadf(shape: &RequestShape) -> String {
    if let Some(why) = shape.resfd.and_then(|fd| resfd_problem(fd, true)) {
        return why;
    }
    let write = matches!(shape.opcode, cmd::PWRITE | cmd::PWRITEV);
    match fd_status_flags(shape.fd) {
        None => format!("fd {} is not an open descriptor", shape.fd),
        Some(flags) => {
            let mode = flags & libc::O_ACCMODE;
            if write && mode == libc::O_RDONLY {
                format!("fd {} is open for reading only", shape.fd)
            } else if !write && mode == libc::O_WRONLY && shape.opcode != cmd::POLL {
                format!("fd {} is open for writing only", shape.fd)
            } else {
                explain(Syscall::IoSubmit, libc::EBADF)
                    .unwrap_or_default()
                    .to_string()
            }
        }
    }
}

/// What is wrong with `resfd` as an IOCB_FLAG_RESFD target: not open (for EBADF), or
/// not an eventfd (for EINVAL). None when it looks right or cannot be checked (no /proc).
fn resfd_problem(resfd: RawFd, closed_only: bool) -> Option<String> {
    if fd_status_flags(resfd).is_none() {
        return Some(format!(
            "aio_resfd {resfd} (the request's eventfd) is not an open descriptor"
        ));
    }
    if closed_only {
        return None;
    }
    let target = std::fs::read_link(format!("/proc/self/fd/{resfd}")).ok()?;
    let target = target.to_string_lossy();
    (target != "anon_inode:[eventfd]").then(|| {
        format!("aio_resfd {resfd} (the request's eventfd) is not an eventfd but {target}")
    })
}

fn ioprio_class(prio: i16) -> u16 {
    (prio as u16) >> 13
}

/// Why the kernel may refuse `prio` (ioprio_check_cap, leaving out capabilities), or
/// None if every kernel accepts it. The idle class takes any data; the real-time and
/// best-effort classes take levels 0-7, and larger data only where bits 3-12 are hints
/// (Linux 6.5 and later); class 0 (none) takes level 0.
fn ioprio_problem(prio: i16) -> Option<String> {
    let class = ioprio_class(prio);
    let data = (prio as u16) & 0x1fff;
    let level = data & 7;
    let why = match class {
        3 => return None,
        1 | 2 if data <= 7 => return None,
        1 | 2 => format!("kernels before Linux 6.5 take levels 0-7 only for this class (later ones read bits 3-12, here {:#x}, as hints)", data >> 3),
        0 if level == 0 => return None,
        0 => "class 0 (none) takes level 0 only".to_string(),
        _ => "the class must be 1 (real time), 2 (best effort), 3 (idle) or 0 (none)".to_string(),
    };
    Some(format!(
        "aio_reqprio {:#06x} (class {class}, data {data}) is not a valid I/O priority: {why}",
        prio as u16
    ))
}

fn fd_status_flags(fd: RawFd) -> Option<i32> {
    // SAFETY: F_GETFL reads the descriptor's flags; no memory is passed.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    (flags >= 0).then_some(flags)
}

fn is_o_direct(fd: RawFd) -> bool {
    fd_status_flags(fd).is_some_and(|f| f & libc::O_DIRECT != 0)
}

/// The file's O_DIRECT alignment (memory, offset) from statx(STATX_DIOALIGN, kernel
/// 6.1); None where the kernel or file system does not report it. (0, 0) means the
/// file does not support O_DIRECT.
fn dio_alignment(fd: RawFd) -> Option<(u64, u64)> {
    // SAFETY: an all-zero statx is a valid value of this plain C struct.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    // SAFETY: the kernel writes one struct statx into our local; the path is a valid
    // empty C string (AT_EMPTY_PATH: the descriptor itself).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_statx,
            fd,
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            libc::STATX_DIOALIGN,
            &mut stx as *mut libc::statx,
        )
    };
    (ret == 0 && stx.stx_mask & libc::STATX_DIOALIGN != 0).then_some((
        u64::from(stx.stx_dio_mem_align),
        u64::from(stx.stx_dio_offset_align),
    ))
}

/// Which part of an O_DIRECT request breaks the file's alignment, if any.
fn misalignment(shape: &RequestShape) -> Option<String> {
    let exact = dio_alignment(shape.fd);
    if exact == Some((0, 0)) {
        return Some("with O_DIRECT: this file's file system does not support O_DIRECT for it (statx reports no alignment)".to_string());
    }
    // Without STATX_DIOALIGN, 512 is the smallest logical block size any device has.
    let (mem, off) = exact.unwrap_or((512, 512));
    let source = if exact.is_some() {
        "this file's O_DIRECT alignment, from statx"
    } else {
        "the smallest logical block size; 4096 on many devices"
    };
    let bad = if !shape.offset.is_multiple_of(off) {
        Some(format!(
            "offset {} is not a multiple of {off}",
            shape.offset
        ))
    } else if let Some(&(_, len)) = shape
        .buffers
        .iter()
        .find(|&&(_, len)| !len.is_multiple_of(off))
    {
        Some(format!("length {len} is not a multiple of {off}"))
    } else if shape
        .buffers
        .iter()
        .any(|&(addr, _)| !addr.is_multiple_of(mem.max(1)))
    {
        Some(format!("the buffer address is not a multiple of {mem}"))
    } else {
        None
    };
    match bad {
        Some(bad) => Some(format!(
            "with O_DIRECT, the offset, each length and each buffer address must be aligned: {bad} ({source}); \
             use alignedBuffer and block-sized transfers"
        )),
        None if exact.is_none() => Some(
            "with O_DIRECT, the offset, each length and each buffer address must be aligned to the device's logical block size, \
             which may be 4096 here (this kernel does not report it: statx STATX_DIOALIGN needs Linux 6.1)"
                .to_string(),
        ),
        None => None,
    }
}
