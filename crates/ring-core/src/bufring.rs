//! Provided buffer rings (IORING_REGISTER_PBUF_RING, kernel 5.19): memory the library
//! owns, from which the kernel picks a buffer for each receive that asks for one
//! (IOSQE_BUFFER_SELECT with the ring's group id) and reports which in the CQE.
//!
//! A `BufRing` is two allocations: the ring of `struct io_uring_buf` entries the
//! kernel reads (page-aligned, `count` entries of 16 bytes; the ring's tail is the
//! last 2 bytes of the first entry) and `count` data buffers of `size` bytes. Each
//! buffer is in one of two states: *in the ring* (the kernel may pick it and write
//! into it at any time) or *held* (the kernel picked it, the completion that says so
//! was reaped, and the caller reads it). Only `give_back` puts a held buffer back in
//! the ring, once per `take`: a generation number per buffer makes a second give-back
//! of the same taking (an explicit release, then a garbage collector's) do nothing,
//! so the kernel is never handed a buffer twice.
//!
//! Both allocations live as long as the last `Arc<BufRing>`: the ring that registered
//! it, each op that selects from it, and each view a caller holds of a held buffer.

use std::io;
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::sync::Mutex;

use iobuf::{AlignedBuf, PAGE_ALIGN};

/// `sizeof(struct io_uring_buf)`.
const ENTRY: usize = 16;
/// Byte offset of the ring's tail (`struct io_uring_buf_ring`'s `tail`, which
/// overlaps the `resv` field of entry 0).
const TAIL: usize = 14;
/// The most entries a buffer ring holds (the kernel's limit, 2^15).
pub const MAX_ENTRIES: u32 = 1 << 15;

#[derive(Debug)]
struct State {
    /// The tail the kernel sees (the next entry we fill), wrapping at 2^16.
    tail: u16,
    /// Per buffer: bumped at each give-back, so a stale give-back is ignored.
    generation: Vec<u32>,
    /// Per buffer: taken from the kernel and not given back.
    held: Vec<bool>,
    held_count: usize,
}

/// A provided buffer ring: `count` buffers of `size` bytes for buffer group `bgid`.
#[derive(Debug)]
pub struct BufRing {
    entries: AlignedBuf,
    data: AlignedBuf,
    count: u32,
    size: u32,
    bgid: u16,
    /// Chunks of at most this many bytes are copied out (`copy_out`) rather than held.
    copy_up_to: AtomicU32,
    state: Mutex<State>,
}

impl BufRing {
    /// A ring of `count` buffers (a power of two, 1 to 32768) of `size` bytes (1 to
    /// 2^31 - 1; count × size at most 4 GiB) for group `bgid`, every buffer in the
    /// ring. EINVAL for other sizes, ENOMEM if the memory cannot be had.
    pub fn new(count: u32, size: u32, bgid: u16) -> io::Result<Self> {
        if !count.is_power_of_two()
            || count > MAX_ENTRIES
            || size == 0
            || size > i32::MAX as u32
            || u64::from(count) * u64::from(size) > 1 << 32
        {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let enomem = || io::Error::from_raw_os_error(libc::ENOMEM);
        let entries = AlignedBuf::zeroed(count as usize * ENTRY, PAGE_ALIGN).ok_or_else(enomem)?;
        let data =
            AlignedBuf::zeroed(count as usize * size as usize, PAGE_ALIGN).ok_or_else(enomem)?;
        let ring = Self {
            entries,
            data,
            count,
            size,
            bgid,
            copy_up_to: AtomicU32::new(0),
            state: Mutex::new(State {
                tail: 0,
                generation: vec![0; count as usize],
                held: vec![false; count as usize],
                held_count: 0,
            }),
        };
        {
            let mut state = ring.lock();
            for bid in 0..count {
                ring.put(&mut state, bid as u16);
            }
            ring.publish(&state);
        }
        Ok(ring)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves the bookkeeping as it was at the last
        // complete step: keep using it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The group id receives name to select from this ring.
    pub fn bgid(&self) -> u16 {
        self.bgid
    }

    /// How many buffers (a power of two).
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Bytes per buffer.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// The largest chunk the receiver copies out of its buffer (`copy_out`) instead
    /// of holding the buffer; 0: none.
    pub fn copy_up_to(&self) -> u32 {
        self.copy_up_to.load(Ordering::Relaxed)
    }

    /// Sets `copy_up_to` (at most `size`).
    pub fn set_copy_up_to(&self, bytes: u32) {
        self.copy_up_to
            .store(bytes.min(self.size), Ordering::Relaxed);
    }

    /// Copies the first `dst.len()` bytes of buffer `bid`, which the kernel picked (a
    /// reaped completion said so), into `dst` and puts the buffer straight back in the
    /// ring: a take and give-back in one. False (nothing copied) if `bid` is not a
    /// buffer of this ring, is held, or `dst` is longer than a buffer.
    pub fn copy_out(&self, bid: u16, dst: &mut [u8]) -> bool {
        let Some(src) = self.buffer_ptr(bid) else {
            return false;
        };
        if dst.len() > self.size as usize {
            return false;
        }
        let mut state = self.lock();
        let i = bid as usize;
        if state.held[i] {
            return false;
        }
        // SAFETY: `src` is buffer `bid`, valid for `size` >= dst.len() bytes while
        // `self` lives. The kernel picked it and posted the completion, so it writes
        // there no more until the buffer is back in the ring (below); `dst` is the
        // caller's memory, which cannot overlap the library-owned data buffers.
        unsafe { std::ptr::copy_nonoverlapping(src, dst.as_mut_ptr(), dst.len()) };
        state.generation[i] = state.generation[i].wrapping_add(1);
        self.put(&mut state, bid);
        self.publish(&state);
        true
    }

    /// Buffers the caller holds (taken and not given back).
    pub fn held(&self) -> usize {
        self.lock().held_count
    }

    /// The address of the entry ring, for IORING_REGISTER_PBUF_RING.
    pub fn ring_addr(&self) -> u64 {
        self.entries.as_ptr() as u64
    }

    /// Buffer `bid`'s address; `None` if there is no such buffer.
    pub fn buffer_ptr(&self, bid: u16) -> Option<*mut u8> {
        (u32::from(bid) < self.count()).then(|| {
            // In bounds: bid < count, so bid * size + size <= count * size.
            self.data
                .as_ptr()
                .wrapping_add(bid as usize * self.size as usize)
        })
    }

    /// Records that the kernel picked buffer `bid` (a reaped completion said so with
    /// IORING_CQE_F_BUFFER): it is held until `give_back`. Returns the taking's
    /// generation, or `None` if `bid` is not a buffer of this ring or is already held
    /// (a completion naming it twice would be a kernel bug: it is not taken again).
    pub fn take(&self, bid: u16) -> Option<u32> {
        if u32::from(bid) >= self.count() {
            return None;
        }
        let mut state = self.lock();
        let i = bid as usize;
        if state.held[i] {
            return None;
        }
        state.held[i] = true;
        state.held_count += 1;
        Some(state.generation[i])
    }

    /// Puts held buffer `bid` back in the ring for the kernel, if `generation` is
    /// that of its current taking; otherwise (given back already, or never taken)
    /// does nothing. Returns whether it went back. The caller must not read or write
    /// the buffer through any view of this taking afterwards: the kernel may fill it.
    pub fn give_back(&self, bid: u16, generation: u32) -> bool {
        if u32::from(bid) >= self.count() {
            return false;
        }
        let mut state = self.lock();
        let i = bid as usize;
        if !state.held[i] || state.generation[i] != generation {
            return false;
        }
        state.held[i] = false;
        state.held_count -= 1;
        state.generation[i] = state.generation[i].wrapping_add(1);
        self.put(&mut state, bid);
        self.publish(&state);
        true
    }

    /// Writes buffer `bid` into the entry at the tail and advances the tail (not yet
    /// visible to the kernel: `publish`).
    fn put(&self, state: &mut State, bid: u16) {
        let index = (u32::from(state.tail) & (self.count - 1)) as usize;
        let entry = self.entries.as_ptr().wrapping_add(index * ENTRY);
        let addr = self.buffer_ptr(bid).expect("bid checked by the caller") as u64;
        // SAFETY: `entry` is 16-byte aligned (a page-aligned allocation of `count`
        // 16-byte entries, index < count) and inside the allocation. The entry lies
        // beyond the ring's tail, which the kernel does not read until `publish`:
        // every buffer is in the ring at most once, so at most `count` entries are
        // live and this one is free. Only addr, len and bid are written: entry 0's
        // last two bytes are the tail.
        unsafe {
            entry.cast::<u64>().write(addr);
            entry.add(8).cast::<u32>().write(self.size);
            entry.add(12).cast::<u16>().write(bid);
        }
        state.tail = state.tail.wrapping_add(1);
    }

    /// Makes the entries written so far visible to the kernel (a release store of
    /// the tail, as liburing's io_uring_buf_ring_advance).
    fn publish(&self, state: &State) {
        // SAFETY: the tail is the 2-byte-aligned u16 at offset 14 of the page-aligned
        // entry ring, which lives as long as `self`; the kernel reads it with an
        // acquire load and never writes it, so an atomic view of it is sound.
        let tail = unsafe { &*self.entries.as_ptr().add(TAIL).cast::<AtomicU16>() };
        tail.store(state.tail, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked() {
        assert!(BufRing::new(3, 16, 0).is_err());
        assert!(BufRing::new(1 << 16, 16, 0).is_err());
        assert!(BufRing::new(4, 0, 0).is_err());
        let ring = BufRing::new(1 << 15, 1, 0).unwrap();
        assert_eq!(ring.count(), 1 << 15);
    }

    #[test]
    fn give_back_once_per_take() {
        let ring = BufRing::new(4, 64, 7).unwrap();
        assert_eq!(ring.bgid(), 7);
        let g = ring.take(2).unwrap();
        assert_eq!(ring.take(2), None, "held already");
        assert_eq!(ring.held(), 1);
        assert!(ring.give_back(2, g));
        assert!(
            !ring.give_back(2, g),
            "a second give-back of one taking is ignored"
        );
        assert_eq!(ring.held(), 0);
        let g2 = ring.take(2).unwrap();
        assert_ne!(g, g2);
        assert!(!ring.give_back(2, g), "a stale generation is ignored");
        assert!(ring.give_back(2, g2));
        assert_eq!(ring.take(4), None);
    }

    #[test]
    fn copy_out_returns_the_buffer() {
        let ring = BufRing::new(4, 8, 0).unwrap();
        // SAFETY: buffer 1 is 8 bytes of the ring's memory; nothing else uses it here.
        unsafe {
            std::ptr::copy_nonoverlapping(b"abcdefgh".as_ptr(), ring.buffer_ptr(1).unwrap(), 8)
        };
        let mut out = [0u8; 3];
        assert!(ring.copy_out(1, &mut out));
        assert_eq!(&out, b"abc");
        assert_eq!(ring.held(), 0, "the buffer went straight back");
        let g = ring.take(1).unwrap();
        assert!(
            !ring.copy_out(1, &mut out),
            "a held buffer is not copied out"
        );
        assert!(ring.give_back(1, g));
        assert!(!ring.copy_out(9, &mut out), "no such buffer");
        assert!(!ring.copy_out(1, &mut [0u8; 9]), "longer than a buffer");
        ring.set_copy_up_to(100);
        assert_eq!(ring.copy_up_to(), 8, "at most a buffer");
    }
}
