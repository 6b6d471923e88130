//! The operations the ring can run. Each variant is one declarative entry: its
//! arguments, the memory it owns while in flight, and how it becomes an SQE. Adding an
//! opcode means adding a variant here and one arm in `build` (and `output` if the
//! kernel writes results into memory the operation owns).

use std::ffi::CString;
use std::os::fd::RawFd;

use io_uring::{opcode, squeue, types};

use iobuf::IoBuf;

/// `offset` value that means "the file's current position" (kernel 5.6+,
/// IORING_FEAT_RW_CUR_POS).
pub const CURRENT_POSITION: u64 = u64::MAX;

/// One operation and everything the kernel may touch while it runs. Heap-allocated
/// parts (buffers, iovec arrays, paths, statx) keep their address when the `Op` moves,
/// so the SQE built from them stays valid until the completion is reaped.
#[derive(Debug)]
pub enum Op {
    /// IORING_OP_NOP, kernel 5.1.
    Nop,
    /// IORING_OP_READ, kernel 5.6. Fills `buf` from `offset`.
    Read { fd: RawFd, buf: IoBuf, offset: u64 },
    /// IORING_OP_WRITE, kernel 5.6. Writes `buf` at `offset`.
    Write { fd: RawFd, buf: IoBuf, offset: u64 },
    /// IORING_OP_READ_FIXED / IORING_OP_WRITE_FIXED, kernel 5.1: `buf` is a window of
    /// the ring's registered buffer `buf_index` (see `batch::FixedBuffers`).
    /// `rw_flags` are RWF_* flags as for preadv2/pwritev2.
    Fixed {
        write: bool,
        fd: RawFd,
        buf: IoBuf,
        buf_index: u16,
        offset: u64,
        rw_flags: i32,
    },
    /// IORING_OP_READV, kernel 5.1. Scatters into `bufs` in order.
    Readv {
        fd: RawFd,
        bufs: Vec<IoBuf>,
        iovecs: Box<[libc::iovec]>,
        offset: u64,
    },
    /// IORING_OP_WRITEV, kernel 5.1. Gathers from `bufs` in order.
    Writev {
        fd: RawFd,
        bufs: Vec<IoBuf>,
        iovecs: Box<[libc::iovec]>,
        offset: u64,
    },
    /// IORING_OP_FSYNC, kernel 5.1 (`datasync`: IORING_FSYNC_DATASYNC).
    Fsync { fd: RawFd, datasync: bool },
    /// IORING_OP_FALLOCATE, kernel 5.6.
    Fallocate {
        fd: RawFd,
        mode: i32,
        offset: u64,
        len: u64,
    },
    /// IORING_OP_FTRUNCATE, kernel 6.9.
    Ftruncate { fd: RawFd, len: u64 },
    /// IORING_OP_OPENAT, kernel 5.6.
    OpenAt {
        dirfd: RawFd,
        path: CString,
        flags: i32,
        mode: u32,
    },
    /// IORING_OP_CLOSE, kernel 5.6.
    Close { fd: RawFd },
    /// IORING_OP_STATX, kernel 5.6. The kernel fills `out`.
    Statx {
        dirfd: RawFd,
        path: CString,
        flags: i32,
        mask: u32,
        out: Box<libc::statx>,
    },
    /// IORING_OP_UNLINKAT, kernel 5.11.
    UnlinkAt {
        dirfd: RawFd,
        path: CString,
        flags: i32,
    },
    /// IORING_OP_RENAMEAT, kernel 5.11.
    RenameAt {
        olddirfd: RawFd,
        oldpath: CString,
        newdirfd: RawFd,
        newpath: CString,
        flags: u32,
    },
    /// IORING_OP_MKDIRAT, kernel 5.15.
    MkdirAt {
        dirfd: RawFd,
        path: CString,
        mode: u32,
    },
    /// IORING_OP_ASYNC_CANCEL, kernel 5.5. Internal: cancels the op with `target` id.
    Cancel { target: u64 },
}

impl Op {
    /// Builds vectored ops: the iovec array points into `bufs`' heap memory.
    pub fn readv(fd: RawFd, bufs: Vec<IoBuf>, offset: u64) -> Op {
        let iovecs = bufs.iter().map(IoBuf::iovec).collect();
        Op::Readv {
            fd,
            bufs,
            iovecs,
            offset,
        }
    }

    pub fn writev(fd: RawFd, bufs: Vec<IoBuf>, offset: u64) -> Op {
        let iovecs = bufs.iter().map(IoBuf::iovec).collect();
        Op::Writev {
            fd,
            bufs,
            iovecs,
            offset,
        }
    }

    pub fn statx(dirfd: RawFd, path: CString, flags: i32, mask: u32) -> Op {
        // SAFETY: statx is a plain C struct of integers; all-zero is a valid value.
        let out: Box<libc::statx> = Box::new(unsafe { std::mem::zeroed() });
        Op::Statx {
            dirfd,
            path,
            flags,
            mask,
            out,
        }
    }

    /// Whether this op was made by the ring itself (never reported to the caller).
    pub fn is_internal(&self) -> bool {
        matches!(self, Op::Cancel { .. })
    }

    /// The SQE for this op. Pointers in it refer to memory this `Op` owns.
    pub(crate) fn build(&self, user_data: u64) -> squeue::Entry {
        let entry = match self {
            Op::Nop => opcode::Nop::new().build(),
            Op::Read { fd, buf, offset } => {
                opcode::Read::new(types::Fd(*fd), buf.ptr(), rw_len(buf.len()))
                    .offset(*offset)
                    .build()
            }
            Op::Write { fd, buf, offset } => {
                opcode::Write::new(types::Fd(*fd), buf.ptr(), rw_len(buf.len()))
                    .offset(*offset)
                    .build()
            }
            Op::Fixed {
                write: false,
                fd,
                buf,
                buf_index,
                offset,
                rw_flags,
            } => opcode::ReadFixed::new(types::Fd(*fd), buf.ptr(), rw_len(buf.len()), *buf_index)
                .offset(*offset)
                .rw_flags(*rw_flags)
                .build(),
            Op::Fixed {
                write: true,
                fd,
                buf,
                buf_index,
                offset,
                rw_flags,
            } => opcode::WriteFixed::new(types::Fd(*fd), buf.ptr(), rw_len(buf.len()), *buf_index)
                .offset(*offset)
                .rw_flags(*rw_flags)
                .build(),
            Op::Readv {
                fd, iovecs, offset, ..
            } => opcode::Readv::new(types::Fd(*fd), iovecs.as_ptr(), iovecs.len() as u32)
                .offset(*offset)
                .build(),
            Op::Writev {
                fd, iovecs, offset, ..
            } => opcode::Writev::new(types::Fd(*fd), iovecs.as_ptr(), iovecs.len() as u32)
                .offset(*offset)
                .build(),
            Op::Fsync { fd, datasync } => {
                let flags = if *datasync {
                    types::FsyncFlags::DATASYNC
                } else {
                    types::FsyncFlags::empty()
                };
                opcode::Fsync::new(types::Fd(*fd)).flags(flags).build()
            }
            Op::Fallocate {
                fd,
                mode,
                offset,
                len,
            } => opcode::Fallocate::new(types::Fd(*fd), *len)
                .offset(*offset)
                .mode(*mode)
                .build(),
            Op::Ftruncate { fd, len } => opcode::Ftruncate::new(types::Fd(*fd), *len).build(),
            Op::OpenAt {
                dirfd,
                path,
                flags,
                mode,
            } => opcode::OpenAt::new(types::Fd(*dirfd), path.as_ptr())
                .flags(*flags)
                .mode(*mode)
                .build(),
            Op::Close { fd } => opcode::Close::new(types::Fd(*fd)).build(),
            Op::Statx {
                dirfd,
                path,
                flags,
                mask,
                out,
            } => {
                let out_ptr = (&**out as *const libc::statx)
                    .cast_mut()
                    .cast::<types::statx>();
                opcode::Statx::new(types::Fd(*dirfd), path.as_ptr(), out_ptr)
                    .flags(*flags)
                    .mask(*mask)
                    .build()
            }
            Op::UnlinkAt { dirfd, path, flags } => {
                opcode::UnlinkAt::new(types::Fd(*dirfd), path.as_ptr())
                    .flags(*flags)
                    .build()
            }
            Op::RenameAt {
                olddirfd,
                oldpath,
                newdirfd,
                newpath,
                flags,
            } => opcode::RenameAt::new(
                types::Fd(*olddirfd),
                oldpath.as_ptr(),
                types::Fd(*newdirfd),
                newpath.as_ptr(),
            )
            .flags(*flags)
            .build(),
            Op::MkdirAt { dirfd, path, mode } => {
                opcode::MkDirAt::new(types::Fd(*dirfd), path.as_ptr())
                    .mode(*mode)
                    .build()
            }
            Op::Cancel { target } => opcode::AsyncCancel::new(*target).build(),
        };
        entry.user_data(user_data)
    }

    /// Bytes the kernel produced into memory this op owns and the caller cannot see,
    /// in order, given the completion's `result`: what must be copied out. Each item
    /// pairs the index of the caller's target (iovec index, or 0) with the bytes.
    ///
    /// # Safety
    /// Call only after this op's completion has been reaped (the kernel is done with
    /// its memory).
    pub unsafe fn output(&self, result: i32) -> Vec<(usize, &[u8])> {
        if result < 0 {
            return Vec::new();
        }
        match self {
            // SAFETY (both arms): the caller guarantees the completion was reaped.
            Op::Read { buf, .. } => unsafe {
                iobuf::filled(std::slice::from_ref(buf), result as usize)
            },
            Op::Readv { bufs, .. } => unsafe { iobuf::filled(bufs, result as usize) },
            Op::Statx { out, .. } => {
                let ptr = (&**out as *const libc::statx).cast::<u8>();
                // SAFETY: `out` is a live statx; viewing its bytes is sound for plain data.
                vec![(0, unsafe {
                    std::slice::from_raw_parts(ptr, std::mem::size_of::<libc::statx>())
                })]
            }
            _ => Vec::new(),
        }
    }
}

/// Read/write lengths are u32 in the SQE; the kernel caps one transfer at
/// MAX_RW_COUNT (2 GiB - 4 KiB) anyway, so clamp rather than wrap.
fn rw_len(len: usize) -> u32 {
    len.min(u32::MAX as usize) as u32
}
