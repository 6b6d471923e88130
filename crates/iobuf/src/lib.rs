//! iobuf: memory the kernel may read or write: always owned by the library, never borrowed
//! from a caller who could free, move or detach it while an operation is in flight.

pub mod batch;
#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod inflight;

use std::alloc::{self, Layout};
use std::ptr::NonNull;
use std::sync::Arc;

/// Default alignment: a page, which satisfies O_DIRECT on every common file system.
pub const PAGE_ALIGN: usize = 4096;

/// From this size on, memory comes from its own anonymous mapping: the kernel hands out
/// zeroed pages on first touch (no memset pass over memory the kernel is about to fill),
/// and MADV_HUGEPAGE lets it back the mapping with 2 MiB pages, 512 times fewer faults.
const MAP_FROM: usize = 2 * 1024 * 1024;

/// A zero-initialised heap allocation with a chosen power-of-two alignment.
///
/// The contents are only ever reached through raw pointers (`as_ptr`), so the kernel
/// and JavaScript may both see the bytes without Rust ever holding a `&mut` to them.
#[derive(Debug)]
pub struct AlignedBuf {
    ptr: NonNull<u8>,
    len: usize,
    /// Bytes actually allocated (a pooled buffer's size class; otherwise `len`).
    cap: usize,
    /// Goes back to the per-thread pool when dropped.
    pooled: bool,
    align: usize,
    /// Registered with a ring (IORING_REGISTER_BUFFERS): the kernel holds its pages
    /// pinned, so nothing may remap them (madvise).
    registered: std::sync::atomic::AtomicBool,
}

// SAFETY: AlignedBuf is a uniquely owned allocation (like Box<[u8]>); the raw pointer is
// only a handle to it, so moving or sharing the owner across threads is sound.
unsafe impl Send for AlignedBuf {}
// SAFETY: shared access only hands out the raw pointer; readers and writers of the bytes
// (the kernel, JS) synchronise through the completion protocol, not through Rust refs.
unsafe impl Sync for AlignedBuf {}

impl AlignedBuf {
    /// Allocates `len` zeroed bytes aligned to `align` (a power of two).
    /// Returns `None` when the layout is invalid or the allocation fails.
    pub fn zeroed(len: usize, align: usize) -> Option<Self> {
        Self::allocate(len, align, true)
    }

    /// Allocates `len` page-aligned bytes whose contents are unspecified until
    /// written: for memory the kernel fills before anyone reads it (only the prefix a
    /// completion reports is ever read back). Skips a memset per operation.
    ///
    /// Sizes up to `pool::LARGEST` come from a small per-thread pool of size classes:
    /// landing zones and write copies are made and freed once per operation, and fresh
    /// memory costs a page fault per page each time.
    pub fn for_kernel(len: usize) -> Option<Self> {
        if let Some(class) = pool::class_of(len) {
            let mut buf = match pool::take(class) {
                Some(buf) => buf,
                None => Self::allocate(class, PAGE_ALIGN, false)?,
            };
            buf.len = len;
            buf.pooled = true;
            return Some(buf);
        }
        Self::allocate(len, PAGE_ALIGN, false)
    }

    fn allocate(len: usize, align: usize, zero: bool) -> Option<Self> {
        if !align.is_power_of_two() {
            return None;
        }
        if len == 0 {
            // A dangling, aligned pointer is the idiomatic empty allocation.
            let ptr = NonNull::new(align as *mut u8)?;
            return Some(Self::owning(ptr, len, align));
        }
        if len >= MAP_FROM && align <= PAGE_ALIGN {
            return Self::map(len, align);
        }
        let layout = Layout::from_size_align(len, align).ok()?;
        // SAFETY: layout has a non-zero size (checked above).
        let raw = unsafe {
            if zero {
                alloc::alloc_zeroed(layout)
            } else {
                alloc::alloc(layout)
            }
        };
        NonNull::new(raw).map(|ptr| Self::owning(ptr, len, align))
    }

    /// The owner of `len` bytes at `ptr` (allocated with `align`), not pooled.
    fn owning(ptr: NonNull<u8>, len: usize, align: usize) -> Self {
        Self {
            ptr,
            len,
            cap: len,
            pooled: false,
            align,
            registered: Default::default(),
        }
    }

    /// `len` zeroed bytes in a private anonymous mapping (page-aligned, so any `align`
    /// up to a page holds).
    fn map(len: usize, align: usize) -> Option<Self> {
        // SAFETY: a fresh private anonymous mapping: no file, no existing memory touched.
        let raw = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if raw == libc::MAP_FAILED {
            return None;
        }
        // SAFETY: advice on the mapping just made; failure (no THP) changes nothing.
        unsafe { libc::madvise(raw, len, libc::MADV_HUGEPAGE) };
        NonNull::new(raw.cast()).map(|ptr| Self::owning(ptr, len, align))
    }

    fn is_mapped(&self) -> bool {
        self.cap >= MAP_FROM && self.align <= PAGE_ALIGN
    }

    /// Allocates a page-aligned copy of `bytes`.
    pub fn copy_of(bytes: &[u8]) -> Option<Self> {
        let buf = Self::for_kernel(bytes.len())?;
        // SAFETY: buf is a fresh allocation of exactly bytes.len() bytes that cannot
        // overlap the caller's slice.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.as_ptr(), bytes.len()) };
        Some(buf)
    }

    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Marks the memory registered with a ring (for good: the ring keeps it).
    pub fn mark_registered(&self) {
        self.registered
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether a ring registered this memory.
    pub fn is_registered(&self) -> bool {
        self.registered.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn align(&self) -> usize {
        self.align
    }

    /// The first `n` bytes (clamped to the length).
    ///
    /// # Safety
    /// No operation may be writing into this buffer while the slice lives: call it only
    /// after the completion that filled the buffer has been reaped.
    pub unsafe fn prefix(&self, n: usize) -> &[u8] {
        // SAFETY: ptr is valid for len bytes; the caller guarantees no concurrent writer.
        unsafe { std::slice::from_raw_parts(self.as_ptr(), n.min(self.len)) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        if self.cap == 0 {
            return;
        }
        if self.pooled && !self.is_registered() {
            // Back to the pool (registered memory is never reused: the kernel keeps it).
            let buf = AlignedBuf::owning(self.ptr, self.cap, self.align);
            if let Err(buf) = pool::give(buf) {
                // The pool is full: free it through this same Drop (not pooled now).
                drop(buf);
            }
            return;
        }
        if self.is_mapped() {
            // SAFETY: the mapping of exactly cap bytes made by `map`; unmapped once.
            unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.cap) };
            return;
        }
        let layout =
            Layout::from_size_align(self.cap, self.align).expect("layout was valid at allocation");
        // SAFETY: ptr came from alloc/alloc_zeroed with exactly this layout; freed once.
        unsafe { alloc::dealloc(self.ptr.as_ptr(), layout) };
    }
}

/// The per-thread pool of `for_kernel` buffers: power-of-two size classes from 4 KiB to
/// `LARGEST`, each holding at most `KEPT_BYTES` of free buffers. A buffer goes back
/// only when it is dropped, which the in-flight table allows only after the kernel is
/// done with it (its completion was reaped), so reuse never races the kernel.
mod pool {
    use super::AlignedBuf;
    use std::cell::RefCell;

    /// The largest pooled size class.
    pub const LARGEST: usize = 1024 * 1024;
    const SMALLEST: usize = 4096;
    const CLASSES: usize = (LARGEST / SMALLEST).trailing_zeros() as usize + 1;
    /// Free bytes kept per class: enough for a queue depth of 32 at 128 KiB, and 1,024
    /// buffers of 4 KiB.
    const KEPT_BYTES: usize = 4 * 1024 * 1024;

    thread_local! {
        static FREE: RefCell<[Vec<AlignedBuf>; CLASSES]> = RefCell::new(Default::default());
    }

    /// The size class `len` rounds up to, if it is pooled.
    pub fn class_of(len: usize) -> Option<usize> {
        (len > 0 && len <= LARGEST).then(|| len.next_power_of_two().max(SMALLEST))
    }

    fn index(class: usize) -> usize {
        (class / SMALLEST).trailing_zeros() as usize
    }

    /// Free buffers of `class` this thread keeps.
    #[cfg(test)]
    pub fn kept(class: usize) -> usize {
        FREE.with(|f| f.borrow()[index(class)].len())
    }

    pub fn take(class: usize) -> Option<AlignedBuf> {
        FREE.try_with(|f| f.borrow_mut()[index(class)].pop())
            .ok()
            .flatten()
    }

    /// Keeps `buf` (whose len is its class) for reuse, or hands it back when the class
    /// is full or the thread is exiting.
    pub fn give(buf: AlignedBuf) -> Result<(), AlignedBuf> {
        let mut buf = Some(buf);
        let _ = FREE.try_with(|f| {
            let mut free = f.borrow_mut();
            let b = buf.as_ref().expect("present");
            let list = &mut free[index(b.cap)];
            if (list.len() + 1) * b.cap <= KEPT_BYTES {
                let mut kept = buf.take().expect("present");
                kept.pooled = true;
                list.push(kept);
            }
        });
        match buf {
            None => Ok(()),
            Some(b) => Err(b),
        }
    }
}

/// The memory one I/O vector of an operation reads into or writes from.
#[derive(Debug)]
pub enum IoBuf {
    /// Memory the operation owns alone (a copy of the caller's bytes, or a landing
    /// zone copied out to the caller after the completion is reaped).
    Owned(AlignedBuf),
    /// A window of library-owned memory that JavaScript can also see (`alignedBuffer`).
    /// The `Arc` keeps the memory alive until this operation's completion is reaped,
    /// whatever happens to the JS object meanwhile.
    Shared {
        mem: Arc<AlignedBuf>,
        offset: usize,
        len: usize,
    },
    /// A landing zone of this many bytes, not allocated yet: the op allocates it when
    /// it gets its SQE (`materialize`), so an op waiting in a backlog holds no memory
    /// for the kernel. Its pointer is null until then.
    Deferred(usize),
}

impl IoBuf {
    /// A window of shared memory; `None` if it does not fit inside the allocation.
    pub fn shared(mem: Arc<AlignedBuf>, offset: usize, len: usize) -> Option<Self> {
        let end = offset.checked_add(len)?;
        (end <= mem.len()).then_some(IoBuf::Shared { mem, offset, len })
    }

    /// An owned landing zone of `len` bytes for the kernel to fill; only the prefix
    /// its completion reports is ever read (`filled`).
    pub fn landing(len: usize) -> Option<Self> {
        AlignedBuf::for_kernel(len).map(IoBuf::Owned)
    }

    /// A landing zone of `len` bytes allocated only by `materialize`, just before the
    /// kernel gets a pointer to it.
    pub fn deferred_landing(len: usize) -> Self {
        IoBuf::Deferred(len)
    }

    /// Allocates a deferred landing zone (nothing to do for the others). False if the
    /// allocation failed: the op must then not reach the kernel.
    pub fn materialize(&mut self) -> bool {
        if let IoBuf::Deferred(len) = *self {
            match AlignedBuf::for_kernel(len) {
                Some(buf) => *self = IoBuf::Owned(buf),
                None => return false,
            }
        }
        true
    }

    pub fn ptr(&self) -> *mut u8 {
        match self {
            IoBuf::Owned(b) => b.as_ptr(),
            // SAFETY: offset + len <= mem.len() was checked in `shared`, so the pointer
            // stays inside the allocation.
            IoBuf::Shared { mem, offset, .. } => unsafe { mem.as_ptr().add(*offset) },
            // Not allocated: a null pointer, which the kernel refuses (EFAULT) rather
            // than writes through.
            IoBuf::Deferred(_) => std::ptr::null_mut(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            IoBuf::Owned(b) => b.len(),
            IoBuf::Shared { len, .. } => *len,
            IoBuf::Deferred(len) => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this is a window of memory a ring registered (its pages are pinned).
    pub fn is_registered(&self) -> bool {
        matches!(self, IoBuf::Shared { mem, .. } if mem.is_registered())
    }

    pub fn iovec(&self) -> libc::iovec {
        libc::iovec {
            iov_base: self.ptr().cast(),
            iov_len: self.len(),
        }
    }
}

/// The bytes the kernel put into owned buffers, given how many it transferred in
/// total, spread over `bufs` in order: what the caller must copy out. Each item pairs
/// the buffer's index with its filled prefix; shared buffers are skipped (the caller
/// already sees them).
///
/// # Safety
/// The operation that filled `bufs` must have completed and been reaped.
pub unsafe fn filled(bufs: &[IoBuf], transferred: usize) -> Vec<(usize, &[u8])> {
    let mut left = transferred;
    let mut out = Vec::new();
    for (i, b) in bufs.iter().enumerate() {
        let n = left.min(b.len());
        if let (IoBuf::Owned(owned), true) = (b, n > 0) {
            // SAFETY: the caller guarantees the kernel is done writing `owned`.
            out.push((i, unsafe { owned.prefix(n) }));
        }
        left -= n;
    }
    out
}

/// A non-blocking eventfd: the kernel (or we) signal it, an event loop watches it.
#[derive(Debug)]
pub struct EventFd(std::os::fd::OwnedFd);

impl EventFd {
    pub fn new() -> std::io::Result<Self> {
        use std::os::fd::FromRawFd;
        // SAFETY: eventfd(2) returns a new descriptor we own, or -1.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: fd is fresh and owned by nobody else.
        Ok(Self(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }))
    }

    pub fn fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.0.as_raw_fd()
    }

    /// Resets the counter so a level-triggered watcher sleeps until the next signal.
    pub fn clear(&self) {
        clear_eventfd(self.fd());
    }

    /// Signals the eventfd (wakes its watcher).
    pub fn notify(&self) {
        let one = 1u64;
        // SAFETY: writes 8 bytes from a local u64 to our eventfd.
        unsafe { libc::write(self.fd(), (&one as *const u64).cast(), 8) };
    }

    /// Blocks until signalled or `timeout_ms` passes.
    pub fn wait(&self, timeout_ms: i32) {
        wait_eventfd(self.fd(), timeout_ms);
    }
}

fn clear_eventfd(fd: std::os::fd::RawFd) {
    let mut counter = 0u64;
    // SAFETY: reads 8 bytes into a local u64 from a non-blocking eventfd.
    unsafe { libc::read(fd, (&mut counter as *mut u64).cast(), 8) };
}

fn wait_eventfd(fd: std::os::fd::RawFd, timeout_ms: i32) {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd on the stack.
    unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
}

/// Runs `step` (submit and reap; true once nothing is outstanding) until it reports
/// done or `deadline` passes, sleeping on `eventfd` in between. Returns whether
/// everything finished: the shape every core's teardown shares.
pub fn drain_until(
    eventfd: std::os::fd::RawFd,
    deadline: std::time::Instant,
    mut step: impl FnMut() -> bool,
) -> bool {
    loop {
        clear_eventfd(eventfd);
        if step() {
            return true;
        }
        let now = std::time::Instant::now();
        if now >= deadline {
            return false;
        }
        wait_eventfd(eventfd, (deadline - now).as_millis().min(100) as i32);
    }
}

/// Identity-style hashing for the u64 ids the cores mint themselves.
#[derive(Default)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys are hashed")
    }
    fn write_u64(&mut self, n: u64) {
        // Spread sequential ids over the table's buckets.
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// An in-flight table keyed by operation id.
pub type IdMap<V> = std::collections::HashMap<u64, V, std::hash::BuildHasherDefault<IdHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deferred_landing_zone_has_no_memory_until_materialized() {
        let mut buf = IoBuf::deferred_landing(4096);
        assert!(
            buf.ptr().is_null(),
            "nothing allocated, and nothing the kernel could write"
        );
        assert_eq!(buf.len(), 4096);
        // SAFETY: nothing wrote into it (it has no memory yet).
        assert!(unsafe { filled(std::slice::from_ref(&buf), 4096) }.is_empty());
        assert!(buf.materialize());
        assert!(!buf.ptr().is_null());
        assert_eq!(buf.ptr() as usize % PAGE_ALIGN, 0);
        assert_eq!(buf.len(), 4096);
    }
}

#[cfg(test)]
mod pool_tests {
    use super::AlignedBuf;

    #[test]
    fn kernel_buffers_are_reused_by_size_class() {
        let first = AlignedBuf::for_kernel(5000).unwrap();
        let at = first.as_ptr();
        assert_eq!(first.len(), 5000);
        drop(first);
        // 6000 rounds up to the same 8 KiB class: the same memory comes back.
        let again = AlignedBuf::for_kernel(6000).unwrap();
        assert_eq!(again.as_ptr(), at);
        assert_eq!(again.len(), 6000);
        assert_eq!(at as usize % super::PAGE_ALIGN, 0);
    }

    #[test]
    fn pool_keeps_a_bounded_number_per_class() {
        let many: Vec<_> = (0..100)
            .map(|_| AlignedBuf::for_kernel(256 * 1024).unwrap())
            .collect();
        drop(many);
        // 4 MiB of 256 KiB buffers are kept; the other 84 were freed.
        assert_eq!(super::pool::kept(256 * 1024), 16);
        let again: Vec<_> = (0..20)
            .map(|_| AlignedBuf::for_kernel(200 * 1024).unwrap())
            .collect();
        assert_eq!(
            super::pool::kept(256 * 1024),
            0,
            "the 16 kept were taken first"
        );
        drop(again);
        assert_eq!(super::pool::kept(256 * 1024), 16);
    }

    #[test]
    fn over_the_largest_class_is_not_pooled() {
        let big = AlignedBuf::for_kernel(3 * 1024 * 1024).unwrap();
        assert_eq!(big.len(), 3 * 1024 * 1024);
        drop(big);
    }
}
