//! The opcode table: every operation the ring can run, each one declarative entry in
//! the `ops!` invocation below. An entry gives the operation's name (the `Ring`
//! method name in JS), its io_uring opcode and minimum kernel, its fields in the order
//! the caller passes them (liburing's `io_uring_prep_<op>` order) with how each is read
//! from the caller's arguments (`OpArgs`), the SQE it becomes, and, if the kernel
//! writes into memory the op owns, which bytes go back to the caller. The memory an op
//! owns (buffers, iovec arrays, path `CString`s, timespec and open_how storage) lives
//! in its fields, so it stays put until the completion is reaped. Adding an opcode is
//! one entry here and one in lib/ops.ts; docs/ARCHITECTURE.md shows an example.

use std::ffi::CString;
use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;

use io_uring::{opcode, squeue, types};

use iobuf::IoBuf;

use crate::bufring::BufRing;
use crate::sockaddr::SOCKADDR_STORAGE;

/// The user_data bit of a completion another ring posted with MSG_RING: op ids stay
/// below it, and JS numbers hold it exactly (2^52).
pub const MSG_TAG: u64 = 1 << 52;

/// `offset` value that means "the file's current position" (kernel 5.6+,
/// IORING_FEAT_RW_CUR_POS).
pub const CURRENT_POSITION: u64 = u64::MAX;

/// Where an op's arguments come from, in the caller's order. The binding implements
/// it over JS values; Rust callers can use `ArgList`.
pub trait OpArgs {
    /// The next number (integers arrive as exact f64s).
    fn num(&mut self) -> io::Result<f64>;
    /// The next path, as the kernel takes it (no interior NUL).
    fn path(&mut self) -> io::Result<CString>;
    /// The next buffer the kernel reads: the op's own copy of the caller's bytes.
    fn input(&mut self) -> io::Result<IoBuf>;
    /// The next buffer the kernel writes: memory the op owns, copied back to the
    /// caller (in the order outputs are taken) once the completion is reaped.
    fn output(&mut self) -> io::Result<IoBuf>;
    /// The next window of library-owned memory, used in place (its address matters:
    /// a futex word, a registered buffer, a range to madvise). The op holds the
    /// memory alive until its completion is reaped.
    fn shared(&mut self) -> io::Result<IoBuf>;
    /// The next list of buffers the kernel reads.
    fn inputs(&mut self) -> io::Result<Vec<IoBuf>>;
    /// The next list of buffers the kernel writes.
    fn outputs(&mut self) -> io::Result<Vec<IoBuf>>;
    /// The provided buffer ring the op selects its buffers from (IOSQE_BUFFER_SELECT):
    /// the op holds it until its completion is reaped. EINVAL if the call gave none.
    fn buffer_ring(&mut self) -> io::Result<Arc<BufRing>> {
        Err(invalid())
    }
}

fn invalid() -> io::Error {
    io::Error::from_raw_os_error(libc::EINVAL)
}

/// The next number as an integer of type `T`; EINVAL if it is not one or out of range.
fn int<T: TryFrom<i64>>(a: &mut dyn OpArgs) -> io::Result<T> {
    let v = a.num()?;
    if v.fract() != 0.0 || !(-9.007_199_254_740_992e15..=9.007_199_254_740_992e15).contains(&v) {
        return Err(invalid());
    }
    T::try_from(v as i64).map_err(|_| invalid())
}

/// The next number as a u32 bit set (accepts any value that fits 32 bits).
fn bits(a: &mut dyn OpArgs) -> io::Result<u32> {
    let v: i64 = int(a)?;
    u32::try_from(v)
        .or_else(|_| i32::try_from(v).map(|v| v as u32))
        .map_err(|_| invalid())
}

/// The next number as a file offset: -1 is the current position.
fn offset(a: &mut dyn OpArgs) -> io::Result<u64> {
    let v: i64 = int(a)?;
    Ok(if v < 0 { CURRENT_POSITION } else { v as u64 })
}

/// The next number as milliseconds, into a timespec the op owns.
fn timespec(a: &mut dyn OpArgs) -> io::Result<Box<types::Timespec>> {
    let ms = a.num()?;
    if !(ms.is_finite() && ms >= 0.0) {
        return Err(invalid());
    }
    Ok(timespec_of(ms))
}

/// `ms` (finite, >= 0) milliseconds as a timespec the op owns.
fn timespec_of(ms: f64) -> Box<types::Timespec> {
    let ns = (ms * 1e6) as u64;
    Box::new(
        types::Timespec::new()
            .sec(ns / 1_000_000_000)
            .nsec((ns % 1_000_000_000) as u32),
    )
}

/// `buf` if it holds at least `min` bytes (memory the kernel fills whole), else EINVAL.
fn at_least(buf: IoBuf, min: usize) -> io::Result<IoBuf> {
    if buf.len() >= min {
        Ok(buf)
    } else {
        Err(invalid())
    }
}

/// `buf` with every byte set to 0: for memory the kernel fills only in part (the
/// fields of a `siginfo_t`, but not its padding; `struct epoll_event`s whose padding
/// it skips), so that what is copied back is never uninitialised memory.
fn zero_filled(buf: IoBuf) -> IoBuf {
    if !buf.is_empty() {
        // SAFETY: `buf.ptr()` is valid for `buf.len()` bytes (the allocation or window
        // `buf` holds), and nothing else reads or writes them: the op is being built
        // and no kernel has seen it.
        unsafe { std::ptr::write_bytes(buf.ptr(), 0, buf.len()) };
    }
    buf
}

/// `buf` if madvise may act on it, else EINVAL: whole pages of the system's page size
/// (madvise rounds to whole pages, which must not reach memory outside the window), at
/// most 4 GiB - 1 (the SQE's length field), and not memory a ring registered (its
/// pages are pinned for the kernel).
fn whole_pages(buf: IoBuf) -> io::Result<IoBuf> {
    // SAFETY: sysconf reads a system constant.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    if (buf.ptr() as usize).is_multiple_of(page)
        && buf.len().is_multiple_of(page)
        && buf.len() <= u32::MAX as usize
        && !buf.is_registered()
    {
        Ok(buf)
    } else {
        Err(invalid())
    }
}

/// MADV_* values that only advise or drop page contents: none changes how the memory
/// may be accessed later (guards, poisoning, fork behaviour are refused).
fn madvise_advice(a: &mut dyn OpArgs) -> io::Result<i32> {
    let advice: i32 = int(a)?;
    // NORMAL, RANDOM, SEQUENTIAL, WILLNEED, DONTNEED, FREE, COLD, PAGEOUT,
    // POPULATE_READ, POPULATE_WRITE.
    if [0, 1, 2, 3, 4, 8, 20, 21, 22, 23].contains(&advice) {
        Ok(advice)
    } else {
        Err(invalid())
    }
}

/// `buf` if it holds an aligned u32 (a futex word), else EINVAL.
fn futex_word(buf: IoBuf) -> io::Result<IoBuf> {
    if (buf.ptr() as usize).is_multiple_of(4) && buf.len() >= 4 {
        Ok(buf)
    } else {
        Err(invalid())
    }
}

fn iovecs(bufs: &[IoBuf]) -> Box<[libc::iovec]> {
    bufs.iter().map(IoBuf::iovec).collect()
}

/// Read/write lengths are u32 in the SQE; the kernel caps one transfer at
/// MAX_RW_COUNT (2 GiB - 4 KiB) anyway, so clamp rather than wrap.
fn rw_len(len: usize) -> u32 {
    len.min(u32::MAX as usize) as u32
}

/// The filled prefix of `bufs` after `result` bytes were transferred.
///
/// # Safety
/// The completion must have been reaped.
unsafe fn filled(bufs: &[IoBuf], result: i32) -> Vec<(usize, &[u8])> {
    // SAFETY: the caller guarantees the completion was reaped.
    unsafe { iobuf::filled(bufs, result.max(0) as usize) }
}

/// IORING_POLL_ADD_MULTI, IORING_POLL_UPDATE_EVENTS, IORING_POLL_UPDATE_USER_DATA
/// (uapi, kernel 5.13): the `len` flags of a POLL_REMOVE that updates.
const IORING_POLL_ADD_MULTI: u32 = 1;
const IORING_POLL_UPDATE_EVENTS: u32 = 2;
/// IORING_TIMEOUT_ABS: the only flag a timeout update takes here (the kernel keeps
/// the timeout's own clock and refuses clock bits in an update).
const IORING_TIMEOUT_ABS: u32 = 1;
/// IORING_ASYNC_CANCEL_ALL and IORING_ASYNC_CANCEL_FD_FIXED (uapi, 5.19 and 6.0).
const IORING_ASYNC_CANCEL_ALL: u32 = 1;
const IORING_ASYNC_CANCEL_FD_FIXED: u32 = 8;
/// SOCKET_URING_OP_SIOCINQ and SIOCOUTQ (uapi, kernel 6.7): socket commands that take
/// no memory and return a count.
const SOCKET_URING_OP_SIOCOUTQ: u32 = 1;
/// SOCKET_URING_OP_GETSOCKOPT and SETSOCKOPT (uapi, kernel 6.7): getsockopt(2) (only
/// SOL_SOCKET; the result is the option's length) and setsockopt(2).
const SOCKET_URING_OP_GETSOCKOPT: u32 = 2;
const SOCKET_URING_OP_SETSOCKOPT: u32 = 3;
/// FUTEX2_SIZE_U32 and FUTEX2_PRIVATE: the futex2 flags a `futex_waitv` entry may carry
/// here (a 32-bit word; FUTEX2_NUMA would need a second word).
const FUTEX2_SIZE_U32: u32 = 0x02;
const FUTEX2_PRIVATE: u32 = 0x80;
/// FUTEX_WAITV_MAX: the most futexes one FUTEX_WAITV takes.
const FUTEX_WAITV_MAX: usize = 128;
/// UIO_MAXIOV: the most iovecs one vectored op takes.
const IOV_MAX: usize = 1024;
/// The most events one EPOLL_WAIT may return here (its output is `max_events`
/// `struct epoll_event`s the op owns).
const EPOLL_MAX_EVENTS: u32 = 1 << 20;

fn fault() -> io::Error {
    io::Error::from_raw_os_error(libc::EFAULT)
}

/// The next number as the id of another op of the same ring (its user_data): below
/// `MSG_TAG`, never 0.
fn op_id(a: &mut dyn OpArgs) -> io::Result<u64> {
    let id: u64 = int(a)?;
    if id == 0 || id >= MSG_TAG {
        return Err(invalid());
    }
    Ok(id)
}

/// The next number as the `len` flags of a poll update: IORING_POLL_UPDATE_EVENTS,
/// optionally with IORING_POLL_ADD_MULTI. IORING_POLL_UPDATE_USER_DATA is refused: the
/// ring keys each op by its user_data, and an op moved to another one would complete
/// under an id the ring does not know (its slot would never be freed).
fn poll_update_flags(a: &mut dyn OpArgs) -> io::Result<u32> {
    let flags = bits(a)?;
    if flags & IORING_POLL_UPDATE_EVENTS == 0
        || flags & !(IORING_POLL_UPDATE_EVENTS | IORING_POLL_ADD_MULTI) != 0
    {
        return Err(invalid());
    }
    Ok(flags)
}

/// Byte offsets of `struct io_uring_sqe` (include/uapi/linux/io_uring.h) that the
/// pinned crate has no builder for: `opcode` (0), `addr` (16) and `len` (24).
const SQE_OPCODE: usize = 0;
const SQE_ADDR: usize = 16;
const SQE_LEN: usize = 24;
/// `optlen` (44) of a socket command, in the union with `splice_fd_in`/`file_index`.
const SQE_OPTLEN: usize = 44;

/// An SQE with the bytes at `at` replaced by `bytes` (fields the pinned crate has no
/// builder for).
fn with_sqe_bytes(entry: squeue::Entry, at: usize, bytes: &[u8]) -> squeue::Entry {
    // SAFETY: `squeue::Entry` is `#[repr(C)]` around the kernel's 64-byte `struct
    // io_uring_sqe` (transmute checks the size), a struct of plain integers in which
    // every bit pattern is valid.
    let mut raw: [u8; 64] = unsafe { std::mem::transmute::<squeue::Entry, [u8; 64]>(entry) };
    raw[at..at + bytes.len()].copy_from_slice(bytes);
    // SAFETY: as above: any 64 bytes are a valid `io_uring_sqe`.
    unsafe { std::mem::transmute::<[u8; 64], squeue::Entry>(raw) }
}

/// IORING_OP_URING_CMD with socket command `cmd_op` (GETSOCKOPT or SETSOCKOPT, 6.7)
/// on option `name` of `level`, over the `len` bytes at `value` (memory the op owns):
/// `level` and `optname` share the SQE's `addr`, `optval` is the first 8 bytes of
/// `cmd`, and `optlen` (offset 44) has no builder.
fn sockopt_entry(fd: RawFd, cmd_op: u32, level: u32, name: u32, value: &IoBuf) -> squeue::Entry {
    let mut cmd = [0u8; 16];
    cmd[..8].copy_from_slice(&(value.ptr() as u64).to_ne_bytes());
    let mut names = [0u8; 8];
    names[..4].copy_from_slice(&level.to_ne_bytes());
    names[4..].copy_from_slice(&name.to_ne_bytes());
    let entry = opcode::UringCmd16::new(types::Fd(fd), cmd_op)
        .cmd(cmd)
        .addr(Some(u64::from_ne_bytes(names)))
        .build();
    with_sqe_bytes(entry, SQE_OPTLEN, &(value.len() as u32).to_ne_bytes())
}

/// The next value as a socket option's bytes (at most `SOCKOPT_MAX`; EINVAL otherwise).
fn sockopt_value(buf: IoBuf) -> io::Result<IoBuf> {
    if buf.len() <= crate::sockaddr::SOCKOPT_MAX {
        Ok(buf)
    } else {
        Err(invalid())
    }
}

/// IORING_OP_POLL_REMOVE that updates poll `target` to `events` (liburing's
/// `io_uring_prep_poll_update` with no new user_data): the pinned `io-uring` crate has
/// no builder for it, so it is a POLL_ADD entry (which encodes `poll32_events` for
/// this CPU's byte order, fd -1 as the kernel wants) with its opcode, `addr` and `len`
/// rewritten.
fn poll_update_entry(target: u64, events: u32, flags: u32) -> squeue::Entry {
    // The entry points at no memory: `target` is an op id.
    let base = opcode::PollAdd::new(types::Fd(-1), events).build();
    let entry = with_sqe_bytes(base, SQE_OPCODE, &[opcode::PollRemove::CODE]);
    let entry = with_sqe_bytes(entry, SQE_ADDR, &target.to_ne_bytes());
    with_sqe_bytes(entry, SQE_LEN, &flags.to_ne_bytes())
}

/// The next number as timeout-update flags: 0 or IORING_TIMEOUT_ABS.
fn timeout_update_flags(a: &mut dyn OpArgs) -> io::Result<u32> {
    let flags = bits(a)?;
    if flags & !IORING_TIMEOUT_ABS != 0 {
        return Err(invalid());
    }
    Ok(flags)
}

/// The next number as async-cancel flags for a cancel by fd: IORING_ASYNC_CANCEL_ALL
/// and IORING_ASYNC_CANCEL_FD_FIXED only (ANY, USERDATA and OP would reach ops of the
/// ring's own, or need fields this entry does not fill).
fn cancel_fd_flags(a: &mut dyn OpArgs) -> io::Result<u32> {
    let flags = bits(a)?;
    if flags & !(IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_FD_FIXED) != 0 {
        return Err(invalid());
    }
    Ok(flags)
}

/// The next number as an EPOLL_CTL_* op (ADD 1, DEL 2, MOD 3).
fn epoll_op(a: &mut dyn OpArgs) -> io::Result<i32> {
    let op: i32 = int(a)?;
    if (libc::EPOLL_CTL_ADD..=libc::EPOLL_CTL_MOD).contains(&op) {
        Ok(op)
    } else {
        Err(invalid())
    }
}

/// The next two numbers as a `struct epoll_event` the op owns: the EPOLL* events and
/// the data handed back with them (an integer below 2^53).
fn epoll_event(a: &mut dyn OpArgs) -> io::Result<Box<libc::epoll_event>> {
    let events = bits(a)?;
    let data: u64 = int(a)?;
    Ok(Box::new(libc::epoll_event { events, u64: data }))
}

/// The next number as the most events an EPOLL_WAIT returns into `events`: at least
/// 1, and no more than `events` holds.
fn epoll_capacity(events: &IoBuf, a: &mut dyn OpArgs) -> io::Result<u32> {
    let max: u32 = int(a)?;
    if max == 0
        || max > EPOLL_MAX_EVENTS
        || (max as usize) * std::mem::size_of::<libc::epoll_event>() > events.len()
    {
        return Err(invalid());
    }
    Ok(max)
}

/// The futexes of a FUTEX_WAITV from the caller's arguments: a count, then for each
/// an offset into `memory` (library-owned, held by the op), the value to expect and
/// the futex2 flags. Each word must lie whole inside `memory`, 4-byte aligned.
fn futex_waiters(memory: &IoBuf, a: &mut dyn OpArgs) -> io::Result<Box<[types::FutexWaitV]>> {
    let count: usize = int(a)?;
    if count == 0 || count > FUTEX_WAITV_MAX {
        return Err(invalid());
    }
    let mut waiters = Vec::with_capacity(count);
    for _ in 0..count {
        let offset: usize = int(a)?;
        let value: u32 = int(a)?;
        let flags = bits(a)?;
        if flags != FUTEX2_SIZE_U32 && flags != FUTEX2_SIZE_U32 | FUTEX2_PRIVATE {
            return Err(invalid());
        }
        if offset.checked_add(4).is_none_or(|end| end > memory.len()) {
            return Err(fault());
        }
        // In bounds (checked above): the word's address inside `memory`.
        let addr = memory.ptr() as usize + offset;
        if !addr.is_multiple_of(4) {
            return Err(invalid());
        }
        waiters.push(
            types::FutexWaitV::new()
                .uaddr(addr as u64)
                .val(u64::from(value))
                .flags(flags),
        );
    }
    Ok(waiters.into_boxed_slice())
}

/// The iovecs of a READV_FIXED/WRITEV_FIXED from the caller's arguments: a count, then
/// (offset, length) pairs inside `buf`, the registered buffer the op holds. A range
/// reaching outside `buf` is EFAULT (the kernel's answer for a range outside the
/// registered buffer), refused before the kernel sees it: every iovec points into
/// memory the op keeps alive.
fn fixed_iovecs(buf: &IoBuf, a: &mut dyn OpArgs) -> io::Result<Box<[libc::iovec]>> {
    let count: usize = int(a)?;
    if count > IOV_MAX {
        return Err(invalid());
    }
    let mut iovecs = Vec::with_capacity(count);
    for _ in 0..count {
        let offset: usize = int(a)?;
        let len: usize = int(a)?;
        if offset.checked_add(len).is_none_or(|end| end > buf.len()) {
            return Err(fault());
        }
        iovecs.push(libc::iovec {
            // In bounds (checked above), so the pointer stays inside `buf`.
            iov_base: buf.ptr().wrapping_add(offset).cast(),
            iov_len: len,
        });
    }
    Ok(iovecs.into_boxed_slice())
}

/// The next number as a socket command (URING_CMD on a socket, 6.7) that takes no
/// memory: SOCKET_URING_OP_SIOCINQ (0) or SIOCOUTQ (1). GETSOCKOPT and SETSOCKOPT
/// point the kernel at an option buffer and need the SQE's `optlen`, which the pinned
/// crate's 16-byte command builder cannot set: they are refused, as is any other
/// command (a driver could read the SQE's fields as addresses).
fn socket_command(a: &mut dyn OpArgs) -> io::Result<u32> {
    let op: u32 = int(a)?;
    if op <= SOCKET_URING_OP_SIOCOUTQ {
        Ok(op)
    } else {
        Err(invalid())
    }
}

/// epoll_create1(EPOLL_CLOEXEC): a new epoll instance for `EpollCtl`/`EpollWait`
/// (Node has none to offer). The caller owns the fd.
pub fn epoll_create() -> io::Result<RawFd> {
    // SAFETY: epoll_create1 takes a flag and touches no memory of ours.
    let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if fd < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(fd)
    }
}

/// A socket address the kernel reads (`connect`, `bind`, `sendmsg`'s destination):
/// the op's copy of the caller's `struct sockaddr_*` bytes (built by `sockaddr`), 2
/// to 128 bytes; EINVAL otherwise.
fn sockaddr_in(buf: IoBuf) -> io::Result<IoBuf> {
    if (2..=SOCKADDR_STORAGE).contains(&buf.len()) {
        Ok(buf)
    } else {
        Err(invalid())
    }
}

/// The length of an optional address (a datagram's destination): 0 for none (an
/// empty buffer), else as `sockaddr_in` checks it.
fn sockaddr_in_or_none(buf: &IoBuf) -> io::Result<usize> {
    match buf.len() {
        0 => Ok(0),
        2..=SOCKADDR_STORAGE => Ok(buf.len()),
        _ => Err(invalid()),
    }
}

/// Bytes of an address the kernel writes (accept's peer, recvmsg's source): the
/// socklen_t (u32) at offset 0, the kernel's `flags` word at 4 (recvmsg's
/// msg_flags), the `struct sockaddr_storage` from offset 8.
pub const ADDR_OUT: usize = 8 + SOCKADDR_STORAGE;
const ADDR_OFFSET: usize = 8;

/// `buf` (at least `ADDR_OUT` bytes, else EINVAL) zeroed, with its socklen_t set to
/// the room the kernel has: what accept and recvmsg write the peer's address into.
fn addr_out(buf: IoBuf) -> io::Result<IoBuf> {
    let buf = zero_filled(at_least(buf, ADDR_OUT)?);
    let room = (SOCKADDR_STORAGE as u32).to_ne_bytes();
    // SAFETY: `buf` holds at least ADDR_OUT bytes (checked), owned by this op, which
    // no kernel has seen yet; the write is byte-wise (no alignment needed).
    unsafe { std::ptr::copy_nonoverlapping(room.as_ptr(), buf.ptr(), 4) };
    Ok(buf)
}

/// The `struct sockaddr *` inside an `addr_out` buffer.
fn addr_ptr(buf: &IoBuf) -> *mut libc::sockaddr {
    buf.ptr().wrapping_add(ADDR_OFFSET).cast()
}

/// A `struct msghdr` the op owns, over its iovecs and (when `name` is not empty) an
/// address: `name_room` bytes at `name_ptr`. No control data.
fn msghdr(iovecs: &[libc::iovec], name_ptr: *mut u8, name_room: usize) -> Box<libc::msghdr> {
    // SAFETY: msghdr is a C struct of integers and pointers: all zeroes is valid
    // (null pointers, zero lengths).
    let mut msg: Box<libc::msghdr> = Box::new(unsafe { std::mem::zeroed() });
    msg.msg_iov = iovecs.as_ptr().cast_mut();
    msg.msg_iovlen = iovecs.len() as _;
    if name_room > 0 {
        msg.msg_name = name_ptr.cast();
        msg.msg_namelen = name_room as libc::socklen_t;
    }
    msg
}

/// What a RECVMSG gives back: the filled prefix of `bufs`, then (as target
/// `bufs.len()`) `meta` with the address length and msg_flags the kernel wrote into
/// `msg` copied into its first 8 bytes.
///
/// # Safety
/// The completion must have been reaped.
unsafe fn recvmsg_output<'a>(
    bufs: &'a [IoBuf],
    meta: &'a IoBuf,
    msg: &libc::msghdr,
    res: i32,
) -> Vec<(usize, &'a [u8])> {
    let mut words = [0u8; 8];
    words[0..4].copy_from_slice(&msg.msg_namelen.to_ne_bytes());
    words[4..8].copy_from_slice(&msg.msg_flags.to_ne_bytes());
    // SAFETY: `meta` is this op's own memory (at least ADDR_OUT bytes, `addr_out`),
    // reached only through raw pointers; the kernel is done with it (the caller
    // guarantees the completion was reaped) and no slice of it exists yet.
    unsafe { std::ptr::copy_nonoverlapping(words.as_ptr(), meta.ptr(), 8) };
    // SAFETY: the completion was reaped (the caller's guarantee).
    let mut out = unsafe { filled(bufs, res) };
    // SAFETY: as above.
    let meta_bytes = unsafe { filled(std::slice::from_ref(meta), ADDR_OUT as i32) };
    out.extend(meta_bytes.into_iter().map(|(_, bytes)| (bufs.len(), bytes)));
    out
}

/// The next number as send/recv MSG_* flags.
fn msg_flags(a: &mut dyn OpArgs) -> io::Result<i32> {
    Ok(bits(a)? as i32)
}

/// What a cancel by `fd` (CancelFd's `flags`) matches.
fn cancel_fd_builder(fd: RawFd, flags: u32) -> types::CancelBuilder {
    let by_fd = if flags & IORING_ASYNC_CANCEL_FD_FIXED != 0 {
        types::CancelBuilder::fd(types::Fixed(fd as u32))
    } else {
        types::CancelBuilder::fd(types::Fd(fd))
    };
    if flags & IORING_ASYNC_CANCEL_ALL != 0 {
        by_fd.all()
    } else {
        by_fd
    }
}

impl Op {
    /// For an op about descriptor `fd` that must not wait behind an IOSQE_IO_DRAIN op
    /// (`Ring::unblock_behind_drain`): the ops on `fd` to cancel without an SQE, and
    /// whether that cancel is the op's whole work (`cancelFd`; a `close` still runs).
    pub(crate) fn fd_cancel(&self) -> Option<(types::CancelBuilder, bool)> {
        match self {
            Op::CancelFd { fd, flags } => Some((cancel_fd_builder(*fd, *flags), true)),
            Op::Close { fd } => Some((types::CancelBuilder::fd(types::Fd(*fd)).all(), false)),
            _ => None,
        }
    }

    /// An op that posts completions until it is cancelled (IORING_CQE_F_MORE) rather
    /// than once: multishot poll, accept and receive, and a timeout repeating forever
    /// or `count` times (IORING_TIMEOUT_MULTISHOT).
    /// The provided buffer ring this op selects its buffers from, if any.
    pub fn buffer_group(&self) -> Option<Arc<BufRing>> {
        match self {
            Op::RecvMultishot { group, .. } => Some(Arc::clone(group)),
            _ => None,
        }
    }

    pub fn is_multishot(&self) -> bool {
        match self {
            Op::PollMultishot { .. } | Op::AcceptMultishot { .. } | Op::RecvMultishot { .. } => {
                true
            }
            Op::Timeout { flags, .. } => flags & types::TimeoutFlags::MULTISHOT.bits() != 0,
            _ => false,
        }
    }
}

impl iobuf::inflight::Outputs for Op {
    unsafe fn outputs(&self, result: i64) -> Vec<(usize, &[u8])> {
        // SAFETY: the caller (`Reaped::outputs`) guarantees the completion was reaped.
        unsafe { self.output(i32::try_from(result).unwrap_or(-libc::EINVAL)) }
    }
}

/// One row of the opcode table, as the probe and the docs see it.
#[derive(Debug, Clone, Copy)]
pub struct OpInfo {
    /// The `Ring` method name in JS.
    pub name: &'static str,
    /// The io_uring opcode (IORING_OP_*).
    pub code: u8,
    /// The first Linux release with the opcode.
    pub kernel: &'static str,
}

macro_rules! ops {
    (
        args = $a:ident;
        $(
            $(#[$doc:meta])*
            $name:ident = $js:literal, $code:expr, $kernel:literal {
                $( $field:ident : $ty:ty = $init:expr ),* $(,)?
            }
            build $build:expr;
            $( @output($res:ident; $( $ofield:ident ),+) $output:expr; )?
        )*
        @internal {
            $(
                $(#[$idoc:meta])*
                $iname:ident { $( $ifield:ident : $ity:ty ),* $(,)? }
                build $ibuild:expr;
            )*
        }
    ) => {
        /// One operation and everything the kernel may touch while it runs.
        /// Heap-allocated parts keep their address when the `Op` moves, so the SQE
        /// built from them stays valid until the completion is reaped.
        #[derive(Debug)]
        pub enum Op {
            $( $(#[$doc])* $name { $( $field: $ty ),* }, )*
            $( $(#[$idoc])* $iname { $( $ifield: $ity ),* }, )*
        }

        /// The operations a caller can make, in table order (`Op::from_args` index).
        pub const OPCODES: &[OpInfo] = &[
            $( OpInfo { name: $js, code: $code as u8, kernel: $kernel }, )*
        ];

        impl Op {
            /// Builds table entry `index` from the caller's arguments, in order.
            pub fn from_args(index: usize, $a: &mut dyn OpArgs) -> io::Result<Op> {
                let mut i = 0usize;
                $(
                    if i == index {
                        $( let $field: $ty = $init; )*
                        return Ok(Op::$name { $( $field ),* });
                    }
                    i += 1;
                )*
                let _ = (i, &$a);
                Err(invalid())
            }

            /// The SQE for this op. Pointers in it refer to memory this `Op` owns.
            pub(crate) fn build(&self, user_data: u64) -> squeue::Entry {
                #[allow(unused_variables)]
                let entry = match self {
                    $( Op::$name { $( $field ),* } => $build, )*
                    $( Op::$iname { $( $ifield ),* } => $ibuild, )*
                };
                entry.user_data(user_data)
            }

            /// Bytes the kernel produced into memory this op owns and the caller cannot
            /// see, given the completion's `result`: what must be copied out. Each item
            /// pairs the index of the caller's target (in the order outputs were taken)
            /// with the bytes.
            ///
            /// # Safety
            /// Call only after this op's completion has been reaped (the kernel is done
            /// with its memory): `iobuf::inflight::Reaped::outputs` does.
            #[allow(unused_variables)]
            unsafe fn output(&self, result: i32) -> Vec<(usize, &[u8])> {
                if result < 0 {
                    return Vec::new();
                }
                match self {
                    $( $( Op::$name { $( $ofield, )+ .. } => {
                        let $res = result;
                        // SAFETY: the caller guarantees the completion was reaped.
                        unsafe { $output }
                    } )? )*
                    _ => Vec::new(),
                }
            }
        }
    };
}

ops! {
    args = a;

    /// IORING_OP_NOP, kernel 5.1.
    Nop = "nop", opcode::Nop::CODE, "5.1" {}
    build opcode::Nop::new().build();

    /// IORING_OP_READ, kernel 5.6. Fills `buf` from `offset` (RWF_* `rw_flags`).
    Read = "read", opcode::Read::CODE, "5.6" {
        fd: RawFd = int(a)?,
        buf: IoBuf = a.output()?,
        offset: u64 = offset(a)?,
        rw_flags: i32 = bits(a)? as i32,
    }
    build opcode::Read::new(types::Fd(*fd), buf.ptr(), rw_len(buf.len()))
        .offset(*offset)
        .rw_flags(*rw_flags)
        .build();
    @output(res; buf) filled(std::slice::from_ref(buf), res);

    /// IORING_OP_WRITE, kernel 5.6. Writes `buf` at `offset` (RWF_* `rw_flags`).
    Write = "write", opcode::Write::CODE, "5.6" {
        fd: RawFd = int(a)?,
        buf: IoBuf = a.input()?,
        offset: u64 = offset(a)?,
        rw_flags: i32 = bits(a)? as i32,
    }
    build opcode::Write::new(types::Fd(*fd), buf.ptr(), rw_len(buf.len()))
        .offset(*offset)
        .rw_flags(*rw_flags)
        .build();

    /// IORING_OP_READV, kernel 5.1. Scatters into `bufs` in order.
    Readv = "readv", opcode::Readv::CODE, "5.1" {
        fd: RawFd = int(a)?,
        bufs: Vec<IoBuf> = a.outputs()?,
        offset: u64 = offset(a)?,
        rw_flags: i32 = bits(a)? as i32,
        iovecs: Box<[libc::iovec]> = iovecs(&bufs),
    }
    build opcode::Readv::new(types::Fd(*fd), iovecs.as_ptr(), iovecs.len() as u32)
        .offset(*offset)
        .rw_flags(*rw_flags)
        .build();
    @output(res; bufs) filled(bufs, res);

    /// IORING_OP_WRITEV, kernel 5.1. Gathers from `bufs` in order.
    Writev = "writev", opcode::Writev::CODE, "5.1" {
        fd: RawFd = int(a)?,
        bufs: Vec<IoBuf> = a.inputs()?,
        offset: u64 = offset(a)?,
        rw_flags: i32 = bits(a)? as i32,
        iovecs: Box<[libc::iovec]> = iovecs(&bufs),
    }
    build opcode::Writev::new(types::Fd(*fd), iovecs.as_ptr(), iovecs.len() as u32)
        .offset(*offset)
        .rw_flags(*rw_flags)
        .build();

    /// IORING_OP_FSYNC, kernel 5.1: fsync(2), or fdatasync(2) with
    /// IORING_FSYNC_DATASYNC in `flags`; `len` 0 means to the end of the file.
    Fsync = "fsync", opcode::Fsync::CODE, "5.1" {
        fd: RawFd = int(a)?,
        flags: u32 = bits(a)?,
        offset: u64 = int(a)?,
        len: u32 = int(a)?,
    }
    build opcode::Fsync::new(types::Fd(*fd))
        .flags(types::FsyncFlags::from_bits_retain(*flags))
        .offset(*offset)
        .len(*len)
        .build();

    /// IORING_OP_POLL_ADD, kernel 5.1: resolves to the ready events (POLL* `events`).
    Poll = "poll", opcode::PollAdd::CODE, "5.1" {
        fd: RawFd = int(a)?,
        events: u32 = bits(a)?,
    }
    build opcode::PollAdd::new(types::Fd(*fd), *events).build();

    /// IORING_OP_POLL_ADD with IORING_POLL_ADD_MULTI, kernel 5.13: one completion
    /// (IORING_CQE_F_MORE) each time `fd` has one of `events`, until cancelled.
    PollMultishot = "pollMultishot", opcode::PollAdd::CODE, "5.13" {
        fd: RawFd = int(a)?,
        events: u32 = bits(a)?,
    }
    build opcode::PollAdd::new(types::Fd(*fd), *events).multi(true).build();

    /// IORING_OP_POLL_REMOVE, kernel 5.1: removes poll `target` (the id of a
    /// `Poll`/`PollMultishot` op of this ring), which completes with -ECANCELED;
    /// -ENOENT if no such poll is armed.
    PollRemove = "pollRemove", opcode::PollRemove::CODE, "5.1" {
        target: u64 = op_id(a)?,
    }
    build opcode::PollRemove::new(*target).build();

    /// IORING_OP_POLL_REMOVE with IORING_POLL_UPDATE_EVENTS, kernel 5.13: poll
    /// `target` waits for `events` from now on (it keeps being one-shot or multishot;
    /// IORING_POLL_ADD_MULTI in `flags` is accepted, as liburing passes it). Never
    /// IORING_POLL_UPDATE_USER_DATA (see `poll_update_flags`).
    PollUpdate = "pollUpdate", opcode::PollRemove::CODE, "5.13" {
        target: u64 = op_id(a)?,
        events: u32 = bits(a)?,
        flags: u32 = poll_update_flags(a)?,
    }
    build poll_update_entry(*target, *events, *flags);

    /// IORING_OP_SYNC_FILE_RANGE, kernel 5.2.
    SyncFileRange = "syncFileRange", opcode::SyncFileRange::CODE, "5.2" {
        fd: RawFd = int(a)?,
        offset: u64 = int(a)?,
        len: u32 = int(a)?,
        flags: u32 = bits(a)?,
    }
    build opcode::SyncFileRange::new(types::Fd(*fd), *len)
        .offset(*offset)
        .flags(*flags)
        .build();

    /// IORING_OP_TIMEOUT, kernel 5.4: completes after `ts` (or once `count` other
    /// completions arrived); `flags` are IORING_TIMEOUT_* (ABS, BOOTTIME, REALTIME).
    Timeout = "timeout", opcode::Timeout::CODE, "5.4" {
        ts: Box<types::Timespec> = timespec(a)?,
        count: u32 = int(a)?,
        flags: u32 = bits(a)?,
    }
    build opcode::Timeout::new(&**ts)
        .count(*count)
        .flags(types::TimeoutFlags::from_bits_retain(*flags))
        .build();

    /// IORING_OP_TIMEOUT_REMOVE, kernel 5.5: removes timeout `target` (the id of a
    /// `Timeout` op of this ring), which completes with -ECANCELED; -ENOENT if none.
    TimeoutRemove = "timeoutRemove", opcode::TimeoutRemove::CODE, "5.5" {
        target: u64 = op_id(a)?,
    }
    build opcode::TimeoutRemove::new(*target).build();

    /// IORING_OP_TIMEOUT_REMOVE with IORING_TIMEOUT_UPDATE, kernel 5.11: timeout
    /// `target` fires after `ts` from now instead (IORING_TIMEOUT_ABS in `flags`: at
    /// `ts` on the timeout's own clock). The kernel reads `ts` from the op's box.
    TimeoutUpdate = "timeoutUpdate", opcode::TimeoutUpdate::CODE, "5.11" {
        target: u64 = op_id(a)?,
        ts: Box<types::Timespec> = timespec(a)?,
        flags: u32 = timeout_update_flags(a)?,
    }
    build opcode::TimeoutUpdate::new(*target, &**ts)
        .flags(types::TimeoutFlags::from_bits_retain(*flags))
        .build();

    /// IORING_OP_FALLOCATE, kernel 5.6.
    Fallocate = "fallocate", opcode::Fallocate::CODE, "5.6" {
        fd: RawFd = int(a)?,
        mode: i32 = bits(a)? as i32,
        offset: u64 = int(a)?,
        len: u64 = int(a)?,
    }
    build opcode::Fallocate::new(types::Fd(*fd), *len)
        .offset(*offset)
        .mode(*mode)
        .build();

    /// IORING_OP_READ_FIXED, kernel 5.1: into `buf`, a window of registered buffer
    /// `buf_index` (the kernel refuses, EFAULT, a window outside it).
    ReadFixed = "readFixed", opcode::ReadFixed::CODE, "5.1" {
        fd: RawFd = int(a)?,
        buf: IoBuf = a.shared()?,
        buf_index: u16 = int(a)?,
        offset: u64 = offset(a)?,
        rw_flags: i32 = bits(a)? as i32,
    }
    build opcode::ReadFixed::new(types::Fd(*fd), buf.ptr(), rw_len(buf.len()), *buf_index)
        .offset(*offset)
        .rw_flags(*rw_flags)
        .build();

    /// IORING_OP_WRITE_FIXED, kernel 5.1: from a window of registered buffer `buf_index`.
    WriteFixed = "writeFixed", opcode::WriteFixed::CODE, "5.1" {
        fd: RawFd = int(a)?,
        buf: IoBuf = a.shared()?,
        buf_index: u16 = int(a)?,
        offset: u64 = offset(a)?,
        rw_flags: i32 = bits(a)? as i32,
    }
    build opcode::WriteFixed::new(types::Fd(*fd), buf.ptr(), rw_len(buf.len()), *buf_index)
        .offset(*offset)
        .rw_flags(*rw_flags)
        .build();

    /// IORING_OP_READV_FIXED, kernel 6.15: scatters into ranges of `buf`, registered
    /// buffer `buf_index` (held by the op); `iovecs` point inside it (`fixed_iovecs`).
    ReadvFixed = "readvFixed", opcode::ReadvFixed::CODE, "6.15" {
        fd: RawFd = int(a)?,
        buf: IoBuf = a.shared()?,
        iovecs: Box<[libc::iovec]> = fixed_iovecs(&buf, a)?,
        offset: u64 = offset(a)?,
        rw_flags: i32 = bits(a)? as i32,
        buf_index: u16 = int(a)?,
    }
    build opcode::ReadvFixed::new(types::Fd(*fd), iovecs.as_ptr(), iovecs.len() as u32, *buf_index)
        .offset(*offset)
        .rw_flags(*rw_flags)
        .build();

    /// IORING_OP_WRITEV_FIXED, kernel 6.15: gathers from ranges of registered buffer
    /// `buf_index`, as `ReadvFixed`.
    WritevFixed = "writevFixed", opcode::WritevFixed::CODE, "6.15" {
        fd: RawFd = int(a)?,
        buf: IoBuf = a.shared()?,
        iovecs: Box<[libc::iovec]> = fixed_iovecs(&buf, a)?,
        offset: u64 = offset(a)?,
        rw_flags: i32 = bits(a)? as i32,
        buf_index: u16 = int(a)?,
    }
    build opcode::WritevFixed::new(types::Fd(*fd), iovecs.as_ptr(), iovecs.len() as u32, *buf_index)
        .offset(*offset)
        .rw_flags(*rw_flags)
        .build();

    /// IORING_OP_FILES_UPDATE, kernel 5.6: replaces registered files from `offset`
    /// with `fds` (a copy of the caller's Int32Array); resolves to how many.
    FilesUpdate = "filesUpdate", opcode::FilesUpdate::CODE, "5.6" {
        fds: IoBuf = a.input()?,
        offset: i32 = int(a)?,
    }
    build opcode::FilesUpdate::new(fds.ptr().cast(), (fds.len() / 4) as u32)
        .offset(*offset)
        .build();

    /// IORING_OP_MADVISE, kernel 5.6: madvise(2) on whole pages of library-owned memory.
    Madvise = "madvise", opcode::Madvise::CODE, "5.6" {
        range: IoBuf = whole_pages(a.shared()?)?,
        advice: i32 = madvise_advice(a)?,
    }
    build opcode::Madvise::new(range.ptr().cast(), range.len() as libc::off_t, *advice).build();

    /// IORING_OP_OPENAT, kernel 5.6.
    OpenAt = "open", opcode::OpenAt::CODE, "5.6" {
        dirfd: RawFd = int(a)?,
        path: CString = a.path()?,
        flags: i32 = bits(a)? as i32,
        mode: u32 = int(a)?,
    }
    build opcode::OpenAt::new(types::Fd(*dirfd), path.as_ptr())
        .flags(*flags)
        .mode(*mode)
        .build();

    /// IORING_OP_CLOSE, kernel 5.6.
    Close = "close", opcode::Close::CODE, "5.6" {
        fd: RawFd = int(a)?,
    }
    build opcode::Close::new(types::Fd(*fd)).build();

    /// IORING_OP_STATX, kernel 5.6. The kernel fills `out` (a `struct statx`).
    Statx = "statx", opcode::Statx::CODE, "5.6" {
        dirfd: RawFd = int(a)?,
        path: CString = a.path()?,
        flags: i32 = bits(a)? as i32,
        mask: u32 = bits(a)?,
        out: IoBuf = at_least(a.output()?, std::mem::size_of::<libc::statx>())?,
    }
    build opcode::Statx::new(types::Fd(*dirfd), path.as_ptr(), out.ptr().cast())
        .flags(*flags)
        .mask(*mask)
        .build();
    @output(res; out) filled(std::slice::from_ref(out), out.len() as i32);

    /// IORING_OP_FADVISE, kernel 5.6: posix_fadvise(2).
    /// The SQE carries the length in 32 bits: at most 4 GiB - 1 (0: to the end).
    Fadvise = "fadvise", opcode::Fadvise::CODE, "5.6" {
        fd: RawFd = int(a)?,
        offset: u64 = int(a)?,
        len: i64 = i64::from(int::<u32>(a)?),
        advice: i32 = int(a)?,
    }
    build opcode::Fadvise::new(types::Fd(*fd), *len, *advice)
        .offset(*offset)
        .build();

    /// IORING_OP_OPENAT2, kernel 5.6: openat2(2) with `struct open_how` (RESOLVE_*).
    OpenAt2 = "openat2", opcode::OpenAt2::CODE, "5.6" {
        dirfd: RawFd = int(a)?,
        path: CString = a.path()?,
        how: Box<types::OpenHow> = Box::new(
            types::OpenHow::new()
                .flags(int::<i64>(a)? as u64)
                .mode(int::<i64>(a)? as u64)
                .resolve(int::<i64>(a)? as u64),
        ),
    }
    build opcode::OpenAt2::new(types::Fd(*dirfd), path.as_ptr(), &**how).build();

    /// IORING_OP_EPOLL_CTL, kernel 5.6: epoll_ctl(2) of `fd` on `epfd`; the kernel
    /// reads `event` (owned by the op) when it prepares the request.
    EpollCtl = "epollCtl", opcode::EpollCtl::CODE, "5.6" {
        epfd: RawFd = int(a)?,
        fd: RawFd = int(a)?,
        op: i32 = epoll_op(a)?,
        event: Box<libc::epoll_event> = epoll_event(a)?,
    }
    build opcode::EpollCtl::new(
        types::Fd(*epfd),
        types::Fd(*fd),
        *op,
        (&**event as *const libc::epoll_event).cast::<types::epoll_event>(),
    )
    .build();

    /// IORING_OP_SPLICE, kernel 5.7: splice(2); an offset of -1 means none (pipes).
    Splice = "splice", opcode::Splice::CODE, "5.7" {
        fd_in: RawFd = int(a)?,
        off_in: i64 = int(a)?,
        fd_out: RawFd = int(a)?,
        off_out: i64 = int(a)?,
        len: u32 = int(a)?,
        flags: u32 = bits(a)?,
    }
    build opcode::Splice::new(types::Fd(*fd_in), *off_in, types::Fd(*fd_out), *off_out, *len)
        .flags(*flags)
        .build();

    /// IORING_OP_TEE, kernel 5.8: tee(2) between two pipes.
    Tee = "tee", opcode::Tee::CODE, "5.8" {
        fd_in: RawFd = int(a)?,
        fd_out: RawFd = int(a)?,
        len: u32 = int(a)?,
        flags: u32 = bits(a)?,
    }
    build opcode::Tee::new(types::Fd(*fd_in), types::Fd(*fd_out), *len)
        .flags(*flags)
        .build();

    /// IORING_OP_RENAMEAT, kernel 5.11 (RENAME_NOREPLACE, RENAME_EXCHANGE `flags`).
    RenameAt = "rename", opcode::RenameAt::CODE, "5.11" {
        olddirfd: RawFd = int(a)?,
        oldpath: CString = a.path()?,
        newdirfd: RawFd = int(a)?,
        newpath: CString = a.path()?,
        flags: u32 = bits(a)?,
    }
    build opcode::RenameAt::new(
        types::Fd(*olddirfd),
        oldpath.as_ptr(),
        types::Fd(*newdirfd),
        newpath.as_ptr(),
    )
    .flags(*flags)
    .build();

    /// IORING_OP_UNLINKAT, kernel 5.11 (AT_REMOVEDIR in `flags`: rmdir).
    UnlinkAt = "unlink", opcode::UnlinkAt::CODE, "5.11" {
        dirfd: RawFd = int(a)?,
        path: CString = a.path()?,
        flags: i32 = bits(a)? as i32,
    }
    build opcode::UnlinkAt::new(types::Fd(*dirfd), path.as_ptr())
        .flags(*flags)
        .build();

    /// IORING_OP_MKDIRAT, kernel 5.15.
    MkdirAt = "mkdir", opcode::MkDirAt::CODE, "5.15" {
        dirfd: RawFd = int(a)?,
        path: CString = a.path()?,
        mode: u32 = int(a)?,
    }
    build opcode::MkDirAt::new(types::Fd(*dirfd), path.as_ptr())
        .mode(*mode)
        .build();

    /// IORING_OP_SYMLINKAT, kernel 5.15: `linkpath` becomes a symlink to `target`.
    SymlinkAt = "symlink", opcode::SymlinkAt::CODE, "5.15" {
        target: CString = a.path()?,
        newdirfd: RawFd = int(a)?,
        linkpath: CString = a.path()?,
    }
    build opcode::SymlinkAt::new(types::Fd(*newdirfd), target.as_ptr(), linkpath.as_ptr()).build();

    /// IORING_OP_LINKAT, kernel 5.15 (AT_SYMLINK_FOLLOW `flags`).
    LinkAt = "link", opcode::LinkAt::CODE, "5.15" {
        olddirfd: RawFd = int(a)?,
        oldpath: CString = a.path()?,
        newdirfd: RawFd = int(a)?,
        newpath: CString = a.path()?,
        flags: i32 = bits(a)? as i32,
    }
    build opcode::LinkAt::new(
        types::Fd(*olddirfd),
        oldpath.as_ptr(),
        types::Fd(*newdirfd),
        newpath.as_ptr(),
    )
    .flags(*flags)
    .build();

    /// IORING_OP_MSG_RING with IORING_MSG_DATA, kernel 5.18: posts a completion on the
    /// ring `ring_fd` carrying `data` (as user_data, tagged `MSG_TAG`) and `result`.
    MsgRing = "msgRing", opcode::MsgRingData::CODE, "5.18" {
        ring_fd: RawFd = int(a)?,
        result: i32 = int(a)?,
        data: u64 = MSG_TAG | (int::<u64>(a)? & (MSG_TAG - 1)),
    }
    build opcode::MsgRingData::new(types::Fd(*ring_fd), *result, *data, None).build();

    /// IORING_OP_FSETXATTR, kernel 5.19 (XATTR_CREATE, XATTR_REPLACE `flags`).
    Fsetxattr = "fsetxattr", opcode::FSetXattr::CODE, "5.19" {
        fd: RawFd = int(a)?,
        name: CString = a.path()?,
        value: IoBuf = a.input()?,
        flags: i32 = bits(a)? as i32,
    }
    build opcode::FSetXattr::new(types::Fd(*fd), name.as_ptr(), value.ptr().cast(), value.len() as u32)
        .flags(*flags)
        .build();

    /// IORING_OP_SETXATTR, kernel 5.19.
    Setxattr = "setxattr", opcode::SetXattr::CODE, "5.19" {
        path: CString = a.path()?,
        name: CString = a.path()?,
        value: IoBuf = a.input()?,
        flags: i32 = bits(a)? as i32,
    }
    build opcode::SetXattr::new(name.as_ptr(), value.ptr().cast(), path.as_ptr(), value.len() as u32)
        .flags(*flags)
        .build();

    /// IORING_OP_FGETXATTR, kernel 5.19: resolves to the value's length.
    Fgetxattr = "fgetxattr", opcode::FGetXattr::CODE, "5.19" {
        fd: RawFd = int(a)?,
        name: CString = a.path()?,
        value: IoBuf = a.output()?,
    }
    build opcode::FGetXattr::new(types::Fd(*fd), name.as_ptr(), value.ptr().cast(), value.len() as u32).build();
    @output(res; value) filled(std::slice::from_ref(value), res);

    /// IORING_OP_GETXATTR, kernel 5.19: resolves to the value's length.
    Getxattr = "getxattr", opcode::GetXattr::CODE, "5.19" {
        path: CString = a.path()?,
        name: CString = a.path()?,
        value: IoBuf = a.output()?,
    }
    build opcode::GetXattr::new(name.as_ptr(), value.ptr().cast(), path.as_ptr(), value.len() as u32).build();
    @output(res; value) filled(std::slice::from_ref(value), res);

    /// IORING_OP_ASYNC_CANCEL with IORING_ASYNC_CANCEL_FD, kernel 5.19: cancels the
    /// first operation on `fd` (resolves to 0), or with IORING_ASYNC_CANCEL_ALL in
    /// `flags` every one (resolves to how many); IORING_ASYNC_CANCEL_FD_FIXED (6.0):
    /// `fd` is a registered file's index.
    CancelFd = "cancelFd", opcode::AsyncCancel2::CODE, "5.19" {
        fd: RawFd = int(a)?,
        flags: u32 = cancel_fd_flags(a)?,
    }
    build opcode::AsyncCancel2::new(cancel_fd_builder(*fd, *flags)).build();

    /// IORING_OP_URING_CMD, kernel 5.19, with a socket command (6.7): SIOCINQ or
    /// SIOCOUTQ of socket `fd` (the unread or unsent byte count). 16-byte commands
    /// only, every address field 0 (see `socket_command`).
    UringCmd = "uringCmd", opcode::UringCmd16::CODE, "6.7" {
        fd: RawFd = int(a)?,
        cmd_op: u32 = socket_command(a)?,
    }
    build opcode::UringCmd16::new(types::Fd(*fd), *cmd_op).build();

    /// IORING_OP_URING_CMD with SOCKET_URING_OP_SETSOCKOPT, kernel 6.7: setsockopt(2)
    /// of option `name` at `level` to `value` (the op's copy of the option's bytes).
    SetSockOpt = "setsockopt", opcode::UringCmd16::CODE, "6.7" {
        fd: RawFd = int(a)?,
        level: u32 = bits(a)?,
        name: u32 = bits(a)?,
        value: IoBuf = sockopt_value(a.input()?)?,
    }
    build sockopt_entry(*fd, SOCKET_URING_OP_SETSOCKOPT, *level, *name, value);

    /// IORING_OP_URING_CMD with SOCKET_URING_OP_GETSOCKOPT, kernel 6.7: getsockopt(2)
    /// of option `name` at `level` (SOL_SOCKET only: the kernel refuses others with
    /// EOPNOTSUPP) into `value`; the result is the option's length.
    GetSockOpt = "getsockopt", opcode::UringCmd16::CODE, "6.7" {
        fd: RawFd = int(a)?,
        level: u32 = bits(a)?,
        name: u32 = bits(a)?,
        value: IoBuf = sockopt_value(a.output()?)?,
    }
    build sockopt_entry(*fd, SOCKET_URING_OP_GETSOCKOPT, *level, *name, value);
    @output(res; value) filled(std::slice::from_ref(value), res);

    /// IORING_OP_FTRUNCATE, kernel 6.9.
    Ftruncate = "ftruncate", opcode::Ftruncate::CODE, "6.9" {
        fd: RawFd = int(a)?,
        len: u64 = int(a)?,
    }
    build opcode::Ftruncate::new(types::Fd(*fd), *len).build();

    /// IORING_OP_FUTEX_WAIT, kernel 6.7: sleeps while the u32 at `word` (library-owned
    /// memory) equals `val` (under `mask`), until a wake; FUTEX2_* `futex_flags`.
    FutexWait = "futexWait", opcode::FutexWait::CODE, "6.7" {
        word: IoBuf = futex_word(a.shared()?)?,
        val: u64 = int(a)?,
        mask: u64 = int(a)?,
        futex_flags: u32 = bits(a)?,
    }
    build opcode::FutexWait::new(word.ptr().cast(), *val, *mask, *futex_flags).build();

    /// IORING_OP_FUTEX_WAKE, kernel 6.7: wakes up to `val` waiters on `word`;
    /// resolves to how many woke.
    FutexWake = "futexWake", opcode::FutexWake::CODE, "6.7" {
        word: IoBuf = futex_word(a.shared()?)?,
        val: u64 = int(a)?,
        mask: u64 = int(a)?,
        futex_flags: u32 = bits(a)?,
    }
    build opcode::FutexWake::new(word.ptr().cast(), *val, *mask, *futex_flags).build();

    /// IORING_OP_FUTEX_WAITV, kernel 6.7: sleeps until one of the futex words in
    /// `memory` (library-owned, held by the op) is woken; resolves to its index. The
    /// `futex_waitv` array is owned by the op and points into `memory`.
    FutexWaitv = "futexWaitv", opcode::FutexWaitV::CODE, "6.7" {
        memory: IoBuf = a.shared()?,
        waiters: Box<[types::FutexWaitV]> = futex_waiters(&memory, a)?,
    }
    build opcode::FutexWaitV::new(waiters.as_ptr(), waiters.len() as u32).build();

    /// IORING_OP_WAITID, kernel 6.7: waitid(2); the kernel writes the child's
    /// `siginfo_t` into `infop` (owned by the op), copied back whole.
    WaitId = "waitid", opcode::WaitId::CODE, "6.7" {
        idtype: libc::idtype_t = int(a)?,
        id: libc::id_t = int(a)?,
        infop: IoBuf = zero_filled(at_least(a.output()?, std::mem::size_of::<libc::siginfo_t>())?),
        options: i32 = bits(a)? as i32,
        flags: u32 = bits(a)?,
    }
    build opcode::WaitId::new(*idtype, *id, *options)
        .infop(infop.ptr().cast_const().cast())
        .flags(*flags)
        .build();
    @output(res; infop) filled(std::slice::from_ref(infop), std::mem::size_of::<libc::siginfo_t>() as i32);

    /// IORING_OP_FIXED_FD_INSTALL, kernel 6.8: a regular fd for registered file
    /// `index` (O_CLOEXEC unless IORING_FIXED_FD_NO_CLOEXEC in `flags`).
    FixedFdInstall = "fixedFdInstall", opcode::FixedFdInstall::CODE, "6.8" {
        index: u32 = int(a)?,
        flags: u32 = bits(a)?,
    }
    build opcode::FixedFdInstall::new(types::Fixed(*index), *flags).build();

    /// IORING_OP_EPOLL_WAIT, kernel 6.15: epoll_wait(2) on `epfd` into `events` (up to
    /// `max_events` `struct epoll_event`s, owned by the op); resolves to how many.
    EpollWait = "epollWait", opcode::EpollWait::CODE, "6.15" {
        epfd: RawFd = int(a)?,
        events: IoBuf = zero_filled(a.output()?),
        max_events: u32 = epoll_capacity(&events, a)?,
        flags: u32 = bits(a)?,
    }
    build opcode::EpollWait::new(types::Fd(*epfd), events.ptr().cast(), *max_events)
        .flags(*flags)
        .build();
    @output(res; events, max_events) filled(
        std::slice::from_ref(events),
        res.clamp(0, *max_events as i32) * std::mem::size_of::<libc::epoll_event>() as i32,
    );

    /// IORING_OP_PIPE, kernel 6.16: the kernel writes the two new fds into `fds`.
    Pipe = "pipe", opcode::Pipe::CODE, "6.16" {
        fds: IoBuf = at_least(a.output()?, 8)?,
        flags: u32 = bits(a)?,
    }
    build opcode::Pipe::new(fds.ptr().cast()).flags(*flags).build();
    @output(res; fds) filled(std::slice::from_ref(fds), 8);

    /// IORING_OP_SENDMSG, kernel 5.3: sendmsg(2) of `bufs` (the op's copies), to
    /// `addr` if it is not empty (a datagram's destination); MSG_* `flags`.
    SendMsg = "sendmsg", opcode::SendMsg::CODE, "5.3" {
        fd: RawFd = int(a)?,
        bufs: Vec<IoBuf> = a.inputs()?,
        addr: IoBuf = a.input()?,
        flags: u32 = bits(a)?,
        iovecs: Box<[libc::iovec]> = iovecs(&bufs),
        msg: Box<libc::msghdr> = msghdr(&iovecs, addr.ptr(), sockaddr_in_or_none(&addr)?),
    }
    build opcode::SendMsg::new(types::Fd(*fd), &**msg).flags(*flags).build();

    /// IORING_OP_RECVMSG, kernel 5.3: recvmsg(2) into `bufs`; the kernel writes the
    /// sender's address into `meta` (an `ADDR_OUT` buffer) and the address length
    /// and msg_flags into the op's `msg`, copied back into `meta` (`recvmsg_output`).
    RecvMsg = "recvmsg", opcode::RecvMsg::CODE, "5.3" {
        fd: RawFd = int(a)?,
        bufs: Vec<IoBuf> = a.outputs()?,
        meta: IoBuf = addr_out(a.output()?)?,
        flags: u32 = bits(a)?,
        iovecs: Box<[libc::iovec]> = iovecs(&bufs),
        msg: Box<libc::msghdr> = msghdr(&iovecs, addr_ptr(&meta).cast(), SOCKADDR_STORAGE),
    }
    build opcode::RecvMsg::new(types::Fd(*fd), (&**msg as *const libc::msghdr).cast_mut())
        .flags(*flags)
        .build();
    @output(res; bufs, meta, msg) recvmsg_output(bufs, meta, msg, res);

    /// IORING_OP_ACCEPT, kernel 5.5: accept4(2) on listening socket `fd` (SOCK_* `flags`);
    /// the kernel writes the peer's address and its length into `addr` (an
    /// `ADDR_OUT` buffer). Resolves to the new fd.
    Accept = "accept", opcode::Accept::CODE, "5.5" {
        fd: RawFd = int(a)?,
        flags: i32 = bits(a)? as i32,
        addr: IoBuf = addr_out(a.output()?)?,
    }
    build opcode::Accept::new(types::Fd(*fd), addr_ptr(addr), addr.ptr().cast())
        .flags(*flags)
        .build();
    @output(res; addr) filled(std::slice::from_ref(addr), ADDR_OUT as i32);

    /// IORING_OP_CONNECT, kernel 5.5: connect(2) to `addr` (the op's copy of a
    /// `struct sockaddr_*`).
    Connect = "connect", opcode::Connect::CODE, "5.5" {
        fd: RawFd = int(a)?,
        addr: IoBuf = sockaddr_in(a.input()?)?,
    }
    build opcode::Connect::new(types::Fd(*fd), addr.ptr().cast(), addr.len() as libc::socklen_t).build();

    /// IORING_OP_SEND, kernel 5.6: send(2) of `buf` (the op's copy); MSG_* `flags`.
    Send = "send", opcode::Send::CODE, "5.6" {
        fd: RawFd = int(a)?,
        buf: IoBuf = a.input()?,
        flags: i32 = msg_flags(a)?,
    }
    build opcode::Send::new(types::Fd(*fd), buf.ptr(), rw_len(buf.len()))
        .flags(*flags)
        .build();

    /// IORING_OP_RECV, kernel 5.6: recv(2) into `buf`; MSG_* `flags`.
    Recv = "recv", opcode::Recv::CODE, "5.6" {
        fd: RawFd = int(a)?,
        buf: IoBuf = a.output()?,
        flags: i32 = msg_flags(a)?,
    }
    build opcode::Recv::new(types::Fd(*fd), buf.ptr(), rw_len(buf.len()))
        .flags(*flags)
        .build();
    @output(res; buf) filled(std::slice::from_ref(buf), res);

    /// IORING_OP_RECV with IORING_RECV_MULTISHOT and IOSQE_BUFFER_SELECT, kernel 6.0:
    /// one completion per chunk received, each in a buffer the kernel picks from
    /// `group` (its id in the CQE's flags, IORING_CQE_F_BUFFER), until end of stream
    /// (0), an error, or the ring running dry (-ENOBUFS). The op holds `group`.
    RecvMultishot = "recvMultishot", opcode::RecvMulti::CODE, "6.0" {
        fd: RawFd = int(a)?,
        group: Arc<BufRing> = a.buffer_ring()?,
        flags: i32 = msg_flags(a)?,
    }
    build opcode::RecvMulti::new(types::Fd(*fd), group.bgid()).flags(*flags).build();

    /// IORING_OP_SHUTDOWN, kernel 5.11: shutdown(2) (SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2).
    Shutdown = "shutdown", opcode::Shutdown::CODE, "5.11" {
        fd: RawFd = int(a)?,
        how: i32 = int(a)?,
    }
    build opcode::Shutdown::new(types::Fd(*fd), *how).build();

    /// IORING_OP_SOCKET, kernel 5.19: socket(2) (SOCK_NONBLOCK, SOCK_CLOEXEC in `kind`).
    Socket = "socket", opcode::Socket::CODE, "5.19" {
        domain: i32 = int(a)?,
        kind: i32 = bits(a)? as i32,
        protocol: i32 = int(a)?,
    }
    build opcode::Socket::new(*domain, *kind, *protocol).build();

    /// IORING_OP_ACCEPT with IORING_ACCEPT_MULTISHOT, kernel 5.19: one completion per
    /// connection accepted on `fd` (its new fd), until cancelled. No address: each
    /// completion would overwrite one buffer (see `sockaddr::peer_name`).
    AcceptMultishot = "acceptMultishot", opcode::AcceptMulti::CODE, "5.19" {
        fd: RawFd = int(a)?,
        flags: i32 = bits(a)? as i32,
    }
    build opcode::AcceptMulti::new(types::Fd(*fd)).flags(*flags).build();

    /// IORING_OP_SEND_ZC, kernel 6.0: zero-copy send(2) of `buf` (the op's copy,
    /// which the network stack uses in place). Two completions: the result (with
    /// IORING_CQE_F_MORE), then a notification (IORING_CQE_F_NOTIF) once the stack
    /// released the memory; the op, and so `buf`, lives until the second.
    SendZc = "sendZc", opcode::SendZc::CODE, "6.0" {
        fd: RawFd = int(a)?,
        buf: IoBuf = a.input()?,
        flags: i32 = msg_flags(a)?,
    }
    build opcode::SendZc::new(types::Fd(*fd), buf.ptr(), rw_len(buf.len()))
        .flags(*flags)
        .build();

    /// IORING_OP_SENDMSG_ZC, kernel 6.1: zero-copy sendmsg(2), as `SendMsg`, with the
    /// two completions of `SendZc`.
    SendMsgZc = "sendmsgZc", opcode::SendMsgZc::CODE, "6.1" {
        fd: RawFd = int(a)?,
        bufs: Vec<IoBuf> = a.inputs()?,
        addr: IoBuf = a.input()?,
        flags: u32 = bits(a)?,
        iovecs: Box<[libc::iovec]> = iovecs(&bufs),
        msg: Box<libc::msghdr> = msghdr(&iovecs, addr.ptr(), sockaddr_in_or_none(&addr)?),
    }
    build opcode::SendMsgZc::new(types::Fd(*fd), &**msg).flags(*flags).build();

    /// IORING_OP_BIND, kernel 6.11: bind(2) to `addr` (the op's copy).
    Bind = "bind", opcode::Bind::CODE, "6.11" {
        fd: RawFd = int(a)?,
        addr: IoBuf = sockaddr_in(a.input()?)?,
    }
    build opcode::Bind::new(types::Fd(*fd), addr.ptr().cast(), addr.len() as libc::socklen_t).build();

    /// IORING_OP_LISTEN, kernel 6.11: listen(2).
    Listen = "listen", opcode::Listen::CODE, "6.11" {
        fd: RawFd = int(a)?,
        backlog: i32 = int(a)?,
    }
    build opcode::Listen::new(types::Fd(*fd), *backlog).build();

    @internal {
        /// IORING_OP_ASYNC_CANCEL, kernel 5.5: cancels the op with id `target`.
        Cancel { target: u64 }
        build opcode::AsyncCancel::new(*target).build();

        /// IORING_OP_LINK_TIMEOUT, kernel 5.5: cancels the op linked before it if it
        /// has not completed within `ts`.
        LinkTimeout { ts: Box<types::Timespec> }
        build opcode::LinkTimeout::new(&**ts).build();
    }
}

impl Op {
    /// IORING_OP_READV of `bufs` at `offset`.
    pub fn readv(fd: RawFd, bufs: Vec<IoBuf>, offset: u64) -> Op {
        let iovecs = iovecs(&bufs);
        Op::Readv {
            fd,
            bufs,
            offset,
            rw_flags: 0,
            iovecs,
        }
    }

    /// IORING_OP_WRITEV of `bufs` at `offset`.
    pub fn writev(fd: RawFd, bufs: Vec<IoBuf>, offset: u64) -> Op {
        let iovecs = iovecs(&bufs);
        Op::Writev {
            fd,
            bufs,
            offset,
            rw_flags: 0,
            iovecs,
        }
    }

    /// IORING_OP_FSYNC of the whole file (`datasync`: fdatasync).
    pub fn fsync(fd: RawFd, datasync: bool) -> Op {
        Op::Fsync {
            fd,
            flags: if datasync {
                types::FsyncFlags::DATASYNC.bits()
            } else {
                0
            },
            offset: 0,
            len: 0,
        }
    }

    /// IORING_OP_LINK_TIMEOUT after `ms` milliseconds (negative or NaN: 0; at most
    /// about 31 years).
    pub fn link_timeout(ms: f64) -> Op {
        let ms = if ms >= 0.0 { ms.min(1e12) } else { 0.0 };
        Op::LinkTimeout {
            ts: timespec_of(ms),
        }
    }

    /// Whether this op was made by the ring itself (never reported to the caller).
    pub fn is_internal(&self) -> bool {
        matches!(self, Op::Cancel { .. } | Op::LinkTimeout { .. })
    }

    /// The table index of the entry named `name` (`OPCODES`).
    pub fn index_of(name: &str) -> Option<usize> {
        OPCODES.iter().position(|info| info.name == name)
    }
}

/// Arguments from plain Rust values: numbers, then paths and buffers each in order.
#[derive(Debug, Default)]
pub struct ArgList {
    pub nums: std::collections::VecDeque<f64>,
    pub paths: std::collections::VecDeque<CString>,
    pub bufs: std::collections::VecDeque<IoBuf>,
    pub vecs: std::collections::VecDeque<Vec<IoBuf>>,
    pub buf_ring: Option<Arc<BufRing>>,
}

impl ArgList {
    pub fn new(nums: impl IntoIterator<Item = f64>) -> Self {
        Self {
            nums: nums.into_iter().collect(),
            ..Self::default()
        }
    }

    pub fn path(mut self, path: &str) -> Self {
        self.paths
            .push_back(CString::new(path).expect("no NUL in a test path"));
        self
    }

    pub fn buf(mut self, buf: IoBuf) -> Self {
        self.bufs.push_back(buf);
        self
    }
}

impl OpArgs for ArgList {
    fn num(&mut self) -> io::Result<f64> {
        self.nums.pop_front().ok_or_else(invalid)
    }
    fn path(&mut self) -> io::Result<CString> {
        self.paths.pop_front().ok_or_else(invalid)
    }
    fn input(&mut self) -> io::Result<IoBuf> {
        self.bufs.pop_front().ok_or_else(invalid)
    }
    fn output(&mut self) -> io::Result<IoBuf> {
        self.bufs.pop_front().ok_or_else(invalid)
    }
    fn shared(&mut self) -> io::Result<IoBuf> {
        self.bufs.pop_front().ok_or_else(invalid)
    }
    fn inputs(&mut self) -> io::Result<Vec<IoBuf>> {
        self.vecs.pop_front().ok_or_else(invalid)
    }
    fn outputs(&mut self) -> io::Result<Vec<IoBuf>> {
        self.vecs.pop_front().ok_or_else(invalid)
    }
    fn buffer_ring(&mut self) -> io::Result<Arc<BufRing>> {
        self.buf_ring.take().ok_or_else(invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(entry: squeue::Entry) -> [u8; 64] {
        // SAFETY: as in `poll_update_entry`: a 64-byte `io_uring_sqe` of plain integers.
        unsafe { std::mem::transmute::<squeue::Entry, [u8; 64]>(entry) }
    }

    #[test]
    fn sqe_offsets_match_the_crate_builders() {
        // `addr` as TimeoutRemove fills it, `len` as Readv fills it.
        let addr = bytes(opcode::TimeoutRemove::new(0x1122_3344_5566_7788).build());
        assert_eq!(
            addr[SQE_ADDR..SQE_ADDR + 8],
            0x1122_3344_5566_7788u64.to_ne_bytes()
        );
        let len = bytes(opcode::Readv::new(types::Fd(3), std::ptr::null(), 0xabcd).build());
        assert_eq!(len[SQE_LEN..SQE_LEN + 4], 0xabcdu32.to_ne_bytes());
        assert_eq!(len[SQE_OPCODE], opcode::Readv::CODE);
        // `optlen` as the crate's splice builder fills `splice_fd_in`, its union mate.
        let splice =
            bytes(opcode::Splice::new(types::Fd(0x0102_0304), 0, types::Fd(0), 0, 0).build());
        assert_eq!(
            splice[SQE_OPTLEN..SQE_OPTLEN + 4],
            0x0102_0304i32.to_ne_bytes()
        );
    }

    #[test]
    fn sockopt_is_liburings_cmd_sock() {
        let value = IoBuf::landing(4).unwrap();
        let entry = bytes(sockopt_entry(7, SOCKET_URING_OP_SETSOCKOPT, 1, 2, &value));
        // liburing's io_uring_prep_cmd_sock(sqe, SETSOCKOPT, 7, SOL_SOCKET, SO_REUSEADDR,
        // optval, 4): fd 7, cmd_op at 8, level at 16, optname at 20, optlen at 44,
        // optval at 48.
        assert_eq!(entry[SQE_OPCODE], opcode::UringCmd16::CODE);
        assert_eq!(entry[4..8], 7i32.to_ne_bytes());
        assert_eq!(entry[8..12], SOCKET_URING_OP_SETSOCKOPT.to_ne_bytes());
        assert_eq!(entry[16..20], 1u32.to_ne_bytes());
        assert_eq!(entry[20..24], 2u32.to_ne_bytes());
        assert_eq!(entry[SQE_OPTLEN..SQE_OPTLEN + 4], 4u32.to_ne_bytes());
        assert_eq!(entry[48..56], (value.ptr() as u64).to_ne_bytes());
    }

    #[test]
    fn poll_update_is_liburings_sqe() {
        let entry = bytes(poll_update_entry(42, 0x1, IORING_POLL_UPDATE_EVENTS));
        let poll = bytes(opcode::PollAdd::new(types::Fd(-1), 0x1).build());
        let remove = bytes(opcode::PollRemove::new(42).build());
        // liburing's io_uring_prep_poll_update(sqe, 42, 0, POLLIN, UPDATE_EVENTS): the
        // POLL_REMOVE of `remove` with `len` = flags and the events of `poll`.
        let mut expected = remove;
        expected[SQE_LEN..SQE_LEN + 4].copy_from_slice(&IORING_POLL_UPDATE_EVENTS.to_ne_bytes());
        expected[28..32].copy_from_slice(&poll[28..32]);
        assert_eq!(entry, expected);
    }
}
