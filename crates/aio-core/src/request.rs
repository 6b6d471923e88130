//! What an AIO request asks for and the memory it owns while in flight. Heap parts
//! (buffers, iovec arrays) keep their addresses when the request moves, so the iocb
//! built from them stays valid until the io_event is reaped.

use std::os::fd::RawFd;

use iobuf::IoBuf;

use crate::abi::{cmd, flag, Iocb};

#[derive(Debug)]
pub enum Request {
    /// IOCB_CMD_PREAD (kernel 2.6).
    Pread { fd: RawFd, buf: IoBuf, offset: i64 },
    /// IOCB_CMD_PWRITE (kernel 2.6).
    Pwrite { fd: RawFd, buf: IoBuf, offset: i64 },
    /// IOCB_CMD_PREADV (kernel 2.6.19).
    Preadv {
        fd: RawFd,
        bufs: Vec<IoBuf>,
        iovecs: Box<[libc::iovec]>,
        offset: i64,
    },
    /// IOCB_CMD_PWRITEV (kernel 2.6.19).
    Pwritev {
        fd: RawFd,
        bufs: Vec<IoBuf>,
        iovecs: Box<[libc::iovec]>,
        offset: i64,
    },
    /// IOCB_CMD_FSYNC (kernel 4.18).
    Fsync { fd: RawFd },
    /// IOCB_CMD_FDSYNC (kernel 4.18).
    Fdsync { fd: RawFd },
    /// IOCB_CMD_POLL (kernel 4.19): completes with the ready events (`POLLIN`, ...).
    Poll { fd: RawFd, events: u32 },
    /// IOCB_CMD_NOOP: defined by the ABI, refused by every kernel's io_submit (EINVAL).
    /// Also what a whole-batch completion carries as its request.
    Noop,
}

/// Per-request options that map to iocb fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestOptions {
    /// `RWF_*` flags (`aio_rw_flags`, kernel 4.13).
    pub rw_flags: i32,
    /// An I/O priority, `IOPRIO_PRIO_VALUE(class, level)` (see `abi::ioprio`), as
    /// `aio_reqprio` with IOCB_FLAG_IOPRIO (kernel 4.18). The kernel checks it only for
    /// reads and writes (EINVAL for an invalid class or level, EPERM for the real-time
    /// class without CAP_SYS_ADMIN or CAP_SYS_NICE); fsync and poll ignore it.
    pub ioprio: Option<i16>,
    /// The caller's eventfd to signal on completion (`aio_resfd`, IOCB_FLAG_RESFD,
    /// kernel 2.6.22) instead of the context's own. The kernel signals exactly one
    /// eventfd per iocb, so the context is not woken by this request: it reaps the
    /// event the next time it collects events (another request's completion,
    /// `Context::collect`, or teardown, which polls at least every 100 ms).
    pub resfd: Option<RawFd>,
}

impl Request {
    pub fn preadv(fd: RawFd, bufs: Vec<IoBuf>, offset: i64) -> Request {
        let iovecs = bufs.iter().map(IoBuf::iovec).collect();
        Request::Preadv {
            fd,
            bufs,
            iovecs,
            offset,
        }
    }

    pub fn pwritev(fd: RawFd, bufs: Vec<IoBuf>, offset: i64) -> Request {
        let iovecs = bufs.iter().map(IoBuf::iovec).collect();
        Request::Pwritev {
            fd,
            bufs,
            iovecs,
            offset,
        }
    }

    /// The fd of a read or write (the requests the kernel may run inside io_submit).
    pub fn rw_fd(&self) -> Option<RawFd> {
        match self {
            Request::Pread { fd, .. }
            | Request::Pwrite { fd, .. }
            | Request::Preadv { fd, .. }
            | Request::Pwritev { fd, .. } => Some(*fd),
            _ => None,
        }
    }

    /// The iocb for this request; pointers in it refer to memory this request owns.
    pub(crate) fn iocb(&self, id: u64, options: RequestOptions, resfd: RawFd) -> Iocb {
        let (opcode, fd, buf, nbytes, offset) = match self {
            Request::Pread { fd, buf, offset } => {
                (cmd::PREAD, *fd, buf.ptr() as u64, buf.len() as u64, *offset)
            }
            Request::Pwrite { fd, buf, offset } => (
                cmd::PWRITE,
                *fd,
                buf.ptr() as u64,
                buf.len() as u64,
                *offset,
            ),
            Request::Preadv {
                fd, iovecs, offset, ..
            } => (
                cmd::PREADV,
                *fd,
                iovecs.as_ptr() as u64,
                iovecs.len() as u64,
                *offset,
            ),
            Request::Pwritev {
                fd, iovecs, offset, ..
            } => (
                cmd::PWRITEV,
                *fd,
                iovecs.as_ptr() as u64,
                iovecs.len() as u64,
                *offset,
            ),
            Request::Fsync { fd } => (cmd::FSYNC, *fd, 0, 0, 0),
            Request::Fdsync { fd } => (cmd::FDSYNC, *fd, 0, 0, 0),
            Request::Poll { fd, events } => (cmd::POLL, *fd, u64::from(*events), 0, 0),
            Request::Noop => (cmd::NOOP, 0, 0, 0, 0),
        };
        let mut flags = flag::RESFD;
        if options.ioprio.is_some() {
            flags |= flag::IOPRIO;
        }
        Iocb {
            aio_data: id,
            aio_rw_flags: options.rw_flags,
            aio_lio_opcode: opcode,
            aio_reqprio: options.ioprio.unwrap_or(0),
            aio_fildes: fd as u32,
            aio_buf: buf,
            aio_nbytes: nbytes,
            aio_offset: offset,
            aio_flags: flags,
            aio_resfd: options.resfd.unwrap_or(resfd) as u32,
            ..Iocb::default()
        }
    }
}

impl iobuf::inflight::Outputs for Request {
    /// Bytes to copy out of owned buffers after a completion with `result`.
    unsafe fn outputs(&self, result: i64) -> Vec<(usize, &[u8])> {
        if result <= 0 {
            return Vec::new();
        }
        let bufs = match self {
            Request::Pread { buf, .. } => std::slice::from_ref(buf),
            Request::Preadv { bufs, .. } => bufs.as_slice(),
            _ => return Vec::new(),
        };
        // SAFETY: the caller (`Reaped::outputs`) guarantees the event was reaped.
        unsafe { iobuf::filled(bufs, result as usize) }
    }
}
