//! The kernel AIO ABI (include/uapi/linux/aio_abi.h), defined here because the `libc`
//! crate lacks most of it (and `iocb` entirely on musl).

/// `aio_context_t`: an opaque handle (the address of the kernel's ring mapping).
pub type AioContext = libc::c_ulong;

/// `IOCB_CMD_*`: what an iocb asks for.
pub mod cmd {
    /// pread(2) semantics. Kernel 2.6.
    pub const PREAD: u16 = 0;
    /// pwrite(2) semantics. Kernel 2.6.
    pub const PWRITE: u16 = 1;
    /// fsync(2). Accepted since kernel 4.18 (EINVAL before).
    pub const FSYNC: u16 = 2;
    /// fdatasync(2). Accepted since kernel 4.18 (EINVAL before).
    pub const FDSYNC: u16 = 3;
    /// poll(2) on one fd; `aio_buf` holds the event mask. Kernel 4.19.
    pub const POLL: u16 = 5;
    /// Does nothing (reserved; the kernel rejects it with EINVAL).
    pub const NOOP: u16 = 6;
    /// preadv(2) semantics: `aio_buf` points to an iovec array. Kernel 2.6.19.
    pub const PREADV: u16 = 7;
    /// pwritev(2) semantics. Kernel 2.6.19.
    pub const PWRITEV: u16 = 8;
}

/// `aio_flags` bits.
pub mod flag {
    /// Signal `aio_resfd` (an eventfd) on completion. Kernel 2.6.22. The context sets
    /// it on every iocb, with its own eventfd or the caller's (`RequestOptions::resfd`).
    pub const RESFD: u32 = 1 << 0;
    /// Use `aio_reqprio` as the request's I/O priority. Kernel 4.18.
    pub const IOPRIO: u32 = 1 << 1;
}

/// `RWF_*` flags usable in `aio_rw_flags` (kernel 4.13+ for the field itself).
pub mod rwf {
    /// High-priority request, poll if possible (block devices with polling). Kernel 4.6.
    pub const HIPRI: i32 = 0x0000_0001;
    /// Per-IO O_DSYNC. Kernel 4.7.
    pub const DSYNC: i32 = 0x0000_0002;
    /// Per-IO O_SYNC. Kernel 4.7.
    pub const SYNC: i32 = 0x0000_0004;
    /// Fail with EAGAIN instead of blocking. Kernel 4.14 (AIO: 4.14 for O_DIRECT).
    pub const NOWAIT: i32 = 0x0000_0008;
    /// Per-IO O_APPEND. Kernel 4.16.
    pub const APPEND: i32 = 0x0000_0010;
    /// Per-IO negation of O_APPEND. Kernel 6.9.
    pub const NOAPPEND: i32 = 0x0000_0020;
    /// Untorn (atomic) write. Kernel 6.11.
    pub const ATOMIC: i32 = 0x0000_0040;
    /// Buffered I/O that drops its page-cache pages afterwards. Kernel 6.14.
    pub const DONTCACHE: i32 = 0x0000_0080;
}

/// I/O priority classes for `IOCB_FLAG_IOPRIO` (linux/ioprio.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoprioClass {
    /// Real time: served first; needs CAP_SYS_ADMIN or CAP_SYS_NICE.
    RealTime = 1,
    /// Best effort: the default class.
    BestEffort = 2,
    /// Idle: served only when the disk is otherwise idle.
    Idle = 3,
}

/// `IOPRIO_PRIO_VALUE(class, level)`; `level` is 0 (highest) to 7 (lowest).
pub fn ioprio(class: IoprioClass, level: u8) -> i16 {
    (((class as u16) << 13) | u16::from(level.min(7))) as i16
}

/// `struct iocb`. The key and rw_flags fields swap places on big-endian machines.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Iocb {
    pub aio_data: u64,
    #[cfg(target_endian = "little")]
    pub aio_key: u32,
    #[cfg(target_endian = "little")]
    pub aio_rw_flags: i32,
    #[cfg(target_endian = "big")]
    pub aio_rw_flags: i32,
    #[cfg(target_endian = "big")]
    pub aio_key: u32,
    pub aio_lio_opcode: u16,
    pub aio_reqprio: i16,
    pub aio_fildes: u32,
    pub aio_buf: u64,
    pub aio_nbytes: u64,
    pub aio_offset: i64,
    pub aio_reserved2: u64,
    pub aio_flags: u32,
    pub aio_resfd: u32,
}

/// `struct io_event`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct IoEvent {
    /// The iocb's `aio_data`.
    pub data: u64,
    /// The address of the iocb.
    pub obj: u64,
    /// Bytes transferred, poll revents, or a negated errno.
    pub res: i64,
    /// A secondary result. 0 from every kernel since 5.16, when completions lost their
    /// second value; before, some drivers (USB gadget functionfs) set it.
    pub res2: i64,
}

const _: () = assert!(std::mem::size_of::<Iocb>() == 64);
const _: () = assert!(std::mem::size_of::<IoEvent>() == 32);
