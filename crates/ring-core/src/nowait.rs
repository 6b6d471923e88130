//! Reads and writes that never block, tried on the calling thread before an operation
//! goes to the ring: `preadv2`/`pwritev2` with `RWF_NOWAIT` (Linux 4.14). Page-cache
//! hits complete inside the call, straight into (or out of) the caller's memory, with
//! no SQE, no completion and no landing zone; anything that would block (data not
//! cached, a contended lock, a full pipe) fails with `EAGAIN` at once and the caller
//! submits the operation to the ring instead.
//!
//! O_DIRECT descriptors are refused here (`EOPNOTSUPP`): RWF_NOWAIT on direct I/O
//! still waits for the device, which would hold the calling thread. Direct I/O needs
//! the memory, length and offset aligned to the device's logical block (512 bytes at
//! least); anything less aligned fails with EINVAL before any I/O starts, so the
//! descriptor's flags are read (one more system call) only when all three are.

use std::io;
use std::os::fd::RawFd;

/// RWF_NOWAIT (linux/fs.h, 4.14).
const RWF_NOWAIT: libc::c_int = 0x0000_0008;

/// What a non-blocking attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NowaitResult {
    /// Bytes moved (0 for a read at end of file).
    pub bytes: usize,
    /// The descriptor is a regular file (known only when `bytes` is short of the
    /// request, where it tells end of file or a partly cached range from a pipe's or
    /// socket's ordinary short count).
    pub regular_file: bool,
}

/// The smallest logical block size: direct I/O with anything less aligned is refused.
const DIRECT_ALIGN: usize = 512;

/// Whether direct I/O could accept this transfer (and so could wait for a device).
fn could_be_direct(ptr: *const u8, len: usize, offset: Option<u64>) -> bool {
    (ptr as usize).is_multiple_of(DIRECT_ALIGN)
        && len.is_multiple_of(DIRECT_ALIGN)
        && offset.is_none_or(|o| o.is_multiple_of(DIRECT_ALIGN as u64))
}

fn is_direct(fd: RawFd) -> io::Result<bool> {
    // SAFETY: F_GETFL takes no pointer; an invalid fd gives EBADF.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(flags & libc::O_DIRECT != 0)
}

fn is_regular(fd: RawFd) -> bool {
    // SAFETY: an all-zero stat is a valid out-value; fstat writes only into it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: st is a live local of the right type.
    unsafe { libc::fstat(fd, &mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFREG }
}

fn finish(n: isize, fd: RawFd, wanted: usize) -> io::Result<NowaitResult> {
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let bytes = n as usize;
    Ok(NowaitResult {
        bytes,
        regular_file: bytes < wanted && is_regular(fd),
    })
}

/// preadv2(fd, buf, offset, RWF_NOWAIT); `offset` None reads at the file position.
pub fn read_nowait(fd: RawFd, buf: &mut [u8], offset: Option<u64>) -> io::Result<NowaitResult> {
    if could_be_direct(buf.as_ptr(), buf.len(), offset) && is_direct(fd)? {
        return Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP));
    }
    let iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let at = offset.map_or(-1, |o| o as libc::off_t);
    // SAFETY: iov describes `buf`, which is exclusively borrowed for this call; the
    // kernel writes into it only before preadv2 returns.
    let n = unsafe { libc::preadv2(fd, &iov, 1, at, RWF_NOWAIT) };
    finish(n, fd, buf.len())
}

/// pwritev2(fd, buf, offset, RWF_NOWAIT); `offset` None writes at the file position.
pub fn write_nowait(fd: RawFd, buf: &[u8], offset: Option<u64>) -> io::Result<NowaitResult> {
    if could_be_direct(buf.as_ptr(), buf.len(), offset) && is_direct(fd)? {
        return Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP));
    }
    let iov = libc::iovec {
        iov_base: buf.as_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    let at = offset.map_or(-1, |o| o as libc::off_t);
    // SAFETY: iov describes `buf`, borrowed for this call; the kernel reads it only
    // before pwritev2 returns.
    let n = unsafe { libc::pwritev2(fd, &iov, 1, at, RWF_NOWAIT) };
    finish(n, fd, buf.len())
}

/// send(fd, buf, flags | MSG_DONTWAIT | MSG_NOSIGNAL): what the socket's buffer takes
/// now, or EAGAIN when it is full (2.6: MSG_DONTWAIT on every socket type).
pub fn send_nowait(fd: RawFd, buf: &[u8], flags: libc::c_int) -> io::Result<usize> {
    // SAFETY: buf is borrowed for this call; the kernel copies from it (no zero-copy
    // flag is allowed through) before send returns.
    let n = unsafe {
        libc::send(
            fd,
            buf.as_ptr().cast(),
            buf.len(),
            (flags & !libc::MSG_ZEROCOPY) | libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;

    #[test]
    fn a_cached_read_completes_inside_the_call() {
        let mut f = tempfile();
        f.write_all(&[7u8; 8192]).unwrap();
        f.sync_all().unwrap();
        let mut buf = [0u8; 4096];
        match read_nowait(f.as_raw_fd(), &mut buf, Some(4096)) {
            Ok(r) => {
                assert_eq!(r.bytes, 4096);
                assert!(buf.iter().all(|&b| b == 7));
            }
            // A file system without RWF_NOWAIT support is a refusal, not a failure.
            Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EOPNOTSUPP)),
        }
    }

    #[test]
    fn a_read_at_end_of_file_says_the_file_is_regular() {
        let mut f = tempfile();
        f.write_all(&[1u8; 100]).unwrap();
        let mut buf = [0u8; 4096];
        if let Ok(r) = read_nowait(f.as_raw_fd(), &mut buf, Some(0)) {
            assert_eq!(r.bytes, 100);
            assert!(r.regular_file);
        }
    }

    #[test]
    fn an_empty_pipe_refuses_rather_than_blocks() {
        let mut fds = [0; 2];
        // SAFETY: fds is a live local array of two ints.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let mut buf = [0u8; 16];
        let e = read_nowait(fds[0], &mut buf, None).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EAGAIN));
        // SAFETY: both fds are ours and closed once.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
    }

    #[test]
    fn a_send_with_room_completes_inside_the_call_and_a_full_one_refuses() {
        let mut sv = [0; 2];
        // SAFETY: sv is a live local array of two ints.
        let made =
            unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, sv.as_mut_ptr()) };
        assert_eq!(made, 0);
        assert_eq!(send_nowait(sv[0], b"hello", 0).unwrap(), 5);
        let big = vec![0u8; 1 << 20];
        let mut refused = false;
        for _ in 0..64 {
            match send_nowait(sv[0], &big, 0) {
                Ok(_) => {}
                Err(e) => {
                    assert_eq!(e.raw_os_error(), Some(libc::EAGAIN));
                    refused = true;
                    break;
                }
            }
        }
        assert!(
            refused,
            "a peer that never reads fills the buffer: EAGAIN, not a block"
        );
        // SAFETY: both fds are ours and closed once.
        unsafe {
            libc::close(sv[0]);
            libc::close(sv[1]);
        }
    }

    #[test]
    fn a_direct_descriptor_is_refused_when_the_transfer_is_aligned() {
        // The crate's own directory: /tmp may be tmpfs, which refuses O_DIRECT.
        let path = format!(
            "{}/.nowait-direct-{}",
            env!("CARGO_MANIFEST_DIR"),
            std::process::id()
        );
        std::fs::write(&path, vec![1u8; 8192]).unwrap();
        let c = std::ffi::CString::new(path.clone()).unwrap();
        // SAFETY: c is a live NUL-terminated path.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECT) };
        std::fs::remove_file(&path).unwrap();
        if fd < 0 {
            eprintln!("skip: this file system refuses O_DIRECT");
            return;
        }
        let buf = iobuf::AlignedBuf::zeroed(4096, 4096).unwrap();
        // SAFETY: the buffer is ours, 4096 bytes, and nothing else borrows it.
        let bytes = unsafe { std::slice::from_raw_parts_mut(buf.as_ptr(), 4096) };
        let e = read_nowait(fd, bytes, Some(0)).unwrap_err();
        assert_eq!(
            e.raw_os_error(),
            Some(libc::EOPNOTSUPP),
            "direct I/O would wait for the device"
        );
        // SAFETY: fd is ours and closed once.
        unsafe { libc::close(fd) };
    }

    fn tempfile() -> std::fs::File {
        let dir = std::env::var("CARGO_TARGET_TMPDIR").unwrap_or_else(|_| "/tmp".into());
        let path = format!(
            "{dir}/nowait-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        );
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        f
    }
}
