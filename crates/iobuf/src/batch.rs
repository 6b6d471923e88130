//! The batch path, backend-neutral: entry rows of numbers (what JS writes into a
//! Float64Array) validated into `Entry`s before any reaches a kernel, the buffer pool
//! entries point into, result rows, and the bookkeeping that completes a batch once,
//! when its last entry does. ring-core turns entries into SQEs, aio-core into iocbs.
//!
//! An entry row is `ENTRY_FIELDS` f64 values:
//! `[opcode, fd, buffer, bufferOffset, length, position, tag, flags, sqeFlags]`.
//! `sqeFlags` are IOSQE_* bits (io_uring only: link, hardlink, drain, async, fixed
//! file); a LINK_TIMEOUT entry carries its milliseconds in `length`.
//! A result row is `RESULT_FIELDS` f64 values: `[tag, result, flags]`. `result` is the
//! kernel's (bytes, or a negated errno); an entry refused by validation has a negated
//! errno as `result` and the negated `EntryError` code as `flags` (CQE flags and
//! io_event res2 values used here are never negative), and never reaches the kernel.

use std::io;
use std::sync::Arc;

use crate::{AlignedBuf, IdMap, IoBuf};

pub const ENTRY_FIELDS: usize = 9;
pub const RESULT_FIELDS: usize = 3;

/// Entry opcodes: io_uring's IORING_OP_* numbers (AIO maps them onto IOCB_CMD_*).
pub const BATCH_NOP: u8 = 0;
pub const BATCH_FSYNC: u8 = 3;
pub const BATCH_READ_FIXED: u8 = 4;
pub const BATCH_WRITE_FIXED: u8 = 5;
pub const BATCH_LINK_TIMEOUT: u8 = 15;

/// IOSQE_* bits an entry may carry (uapi): FIXED_FILE 1, IO_DRAIN 2, IO_LINK 4,
/// IO_HARDLINK 8, ASYNC 16.
pub const SQE_FIXED_FILE: u8 = 1;
pub const SQE_IO_DRAIN: u8 = 2;
pub const SQE_IO_LINK: u8 = 4;
pub const SQE_IO_HARDLINK: u8 = 8;
pub const SQE_ASYNC: u8 = 16;
const SQE_ALLOWED: u8 = SQE_FIXED_FILE | SQE_IO_DRAIN | SQE_IO_LINK | SQE_IO_HARDLINK | SQE_ASYNC;

/// Largest position a JS number holds exactly (2^53 - 1).
const MAX_POSITION: f64 = 9_007_199_254_740_991.0;

/// The buffers batch entries read into and write from: one page-aligned allocation
/// cut into `count` buffers of `size` bytes. A ring registers it with the kernel
/// (IORING_REGISTER_BUFFERS); every op using it holds an `Arc` to the memory, so it
/// lives until the last completion.
#[derive(Debug)]
pub struct FixedBuffers {
    mem: Arc<AlignedBuf>,
    size: usize,
    count: usize,
}

impl FixedBuffers {
    /// Wraps `mem` as `mem.len() / size` buffers: at most 16384 of at most 1 GiB, the
    /// kernel's limits for registered buffers.
    pub fn new(mem: Arc<AlignedBuf>, size: usize) -> io::Result<Self> {
        let count = mem.len().checked_div(size).unwrap_or(0);
        if count == 0 || count > 16384 || size > 1 << 30 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        Ok(Self { mem, size, count })
    }

    pub fn size(&self) -> usize {
        self.size
    }

    pub fn count(&self) -> usize {
        self.count
    }

    pub fn memory(&self) -> &Arc<AlignedBuf> {
        &self.mem
    }

    /// One iovec per buffer (what IORING_REGISTER_BUFFERS takes).
    pub fn iovecs(&self) -> Vec<libc::iovec> {
        (0..self.count)
            .map(|i| libc::iovec {
                // SAFETY: i * size + size <= mem.len(), so the pointer stays inside the
                // allocation.
                iov_base: unsafe { self.mem.as_ptr().add(i * self.size) }.cast(),
                iov_len: self.size,
            })
            .collect()
    }
}

/// Why an entry was refused before reaching the kernel. The code is what a result
/// row carries (negated) in its flags field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryError {
    /// Not an opcode this backend runs in a batch.
    Opcode = 1,
    /// fd is not an integer in 0..=i32::MAX.
    Fd = 2,
    /// Buffer index outside the pool, or no pool.
    Buffer = 3,
    /// bufferOffset + length runs past the end of the buffer.
    Bounds = 4,
    /// Position is neither -1 (the file position; io_uring only) nor an integer in 0..2^53.
    Position = 5,
    /// The flags field is not a u32 (fsync: 0 or 1).
    Flags = 6,
    /// The sqeFlags field holds bits other than IOSQE_* link, hardlink, drain, async
    /// and fixed file, or any on a backend without them (AIO).
    SqeFlags = 7,
    /// An earlier entry of its linked chain was refused (-ECANCELED, like the kernel
    /// does for the rest of a chain whose op failed).
    Cancelled = 8,
}

impl EntryError {
    pub fn errno(self) -> i32 {
        match self {
            EntryError::Fd => libc::EBADF,
            EntryError::Cancelled => libc::ECANCELED,
            _ => libc::EINVAL,
        }
    }
}

/// A validated entry.
#[derive(Debug)]
pub enum Entry {
    Nop,
    /// IORING_OP_LINK_TIMEOUT (5.5) for the entry before it (which must link to it).
    LinkTimeout {
        ms: f64,
    },
    Fsync {
        fd: i32,
        datasync: bool,
    },
    /// Read into (or write from) `buf`, a window of pool buffer `buf_index`.
    Rw {
        write: bool,
        fd: i32,
        buf: IoBuf,
        buf_index: u16,
        /// `None`: the file position (-1).
        offset: Option<u64>,
        rw_flags: u32,
    },
}

fn integer_in(v: f64, min: f64, max: f64) -> Option<f64> {
    (v.fract() == 0.0 && v >= min && v <= max).then_some(v)
}

/// The IOSQE_* bits of an entry row, checked.
pub fn sqe_flags_of(row: &[f64]) -> Result<u8, EntryError> {
    let bits = row
        .get(8)
        .and_then(|&v| integer_in(v, 0.0, 255.0))
        .ok_or(EntryError::SqeFlags)? as u8;
    if bits & !SQE_ALLOWED != 0 {
        return Err(EntryError::SqeFlags);
    }
    Ok(bits)
}

/// Turns one entry row into an `Entry`, or says why it cannot be one.
pub fn parse_entry(row: &[f64], pool: Option<&FixedBuffers>) -> Result<Entry, EntryError> {
    let [opcode, fd, buffer, buffer_offset, length, position, _tag, flags, _sqe_flags] = row else {
        return Err(EntryError::Opcode);
    };
    let opcode = integer_in(*opcode, 0.0, 255.0).ok_or(EntryError::Opcode)? as u8;
    let flags = integer_in(*flags, 0.0, f64::from(u32::MAX)).ok_or(EntryError::Flags)? as u32;
    sqe_flags_of(row)?;
    if opcode == BATCH_NOP {
        return Ok(Entry::Nop);
    }
    if opcode == BATCH_LINK_TIMEOUT {
        // Milliseconds, fractions allowed.
        if !(*length >= 0.0 && *length <= 1e12) {
            return Err(EntryError::Bounds);
        }
        return Ok(Entry::LinkTimeout { ms: *length });
    }
    if ![BATCH_FSYNC, BATCH_READ_FIXED, BATCH_WRITE_FIXED].contains(&opcode) {
        return Err(EntryError::Opcode);
    }
    let fd = integer_in(*fd, 0.0, f64::from(i32::MAX)).ok_or(EntryError::Fd)? as i32;
    if opcode == BATCH_FSYNC {
        // Only the datasync flag (IORING_FSYNC_DATASYNC) exists.
        if flags & !1 != 0 {
            return Err(EntryError::Flags);
        }
        return Ok(Entry::Fsync {
            fd,
            datasync: flags == 1,
        });
    }
    let pool = pool.ok_or(EntryError::Buffer)?;
    let index = integer_in(*buffer, 0.0, (pool.count - 1) as f64).ok_or(EntryError::Buffer)?;
    let size = pool.size as f64;
    let start = integer_in(*buffer_offset, 0.0, size).ok_or(EntryError::Bounds)?;
    let len = integer_in(*length, 0.0, size - start).ok_or(EntryError::Bounds)?;
    let offset = if *position == -1.0 {
        None
    } else {
        Some(integer_in(*position, 0.0, MAX_POSITION).ok_or(EntryError::Position)? as u64)
    };
    let buf = IoBuf::shared(
        Arc::clone(&pool.mem),
        index as usize * pool.size + start as usize,
        len as usize,
    )
    .expect("bounds checked against the buffer");
    Ok(Entry::Rw {
        write: opcode == BATCH_WRITE_FIXED,
        fd,
        buf,
        buf_index: index as u16,
        offset,
        rw_flags: flags,
    })
}

/// The result rows of one batch, filled as its entries complete.
#[derive(Debug)]
pub struct BatchResults(Box<[f64]>);

impl BatchResults {
    /// Rows for `entries`, each carrying its entry's tag.
    pub fn for_entries(entries: &[f64]) -> Self {
        let count = entries.len() / ENTRY_FIELDS;
        let mut rows = vec![0.0; count * RESULT_FIELDS].into_boxed_slice();
        for i in 0..count {
            rows[i * RESULT_FIELDS] = entries[i * ENTRY_FIELDS + 6];
        }
        Self(rows)
    }

    pub fn set(&mut self, index: usize, result: i64, flags: f64) {
        self.0[index * RESULT_FIELDS + 1] = result as f64;
        self.0[index * RESULT_FIELDS + 2] = flags;
    }

    pub fn len(&self) -> usize {
        self.0.len() / RESULT_FIELDS
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Rows as f64 values: tag, result, flags per entry.
    pub fn rows(&self) -> &[f64] {
        &self.0
    }

    /// (result, flags) of entry `index`.
    pub fn get(&self, index: usize) -> (i64, f64) {
        (
            self.0[index * RESULT_FIELDS + 1] as i64,
            self.0[index * RESULT_FIELDS + 2],
        )
    }

    /// The rows' bytes, to copy into a Float64Array.
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: f64 has no padding or invalid bit patterns as bytes; the length is the
        // slice's size in bytes.
        unsafe {
            std::slice::from_raw_parts(self.0.as_ptr().cast(), std::mem::size_of_val(&*self.0))
        }
    }
}

/// A whole batch handed back once its last entry completed.
#[derive(Debug)]
pub struct FinishedBatch<T> {
    pub id: u64,
    pub user: T,
    pub cancelled: bool,
    pub results: BatchResults,
}

#[derive(Debug)]
struct BatchRun<T> {
    /// `None` for a synchronous run, which collects its own results.
    user: Option<T>,
    results: BatchResults,
    /// Ids of the entries that reached the in-flight table (refused ones never do).
    members: Vec<u64>,
    remaining: usize,
    cancelled: bool,
}

/// The batches a backend has in flight: which table ids belong to which batch, the
/// results so far, and which batches are done.
#[derive(Debug)]
pub struct Batches<T> {
    runs: IdMap<BatchRun<T>>,
    finished: Vec<u64>,
}

impl<T> Default for Batches<T> {
    fn default() -> Self {
        Self {
            runs: IdMap::default(),
            finished: Vec::new(),
        }
    }
}

impl<T> Batches<T> {
    /// Validates every row of `entries` with `accept`, which turns an entry into a
    /// member id (queuing it in the backend) or refuses it; records batch `id`.
    /// Returns true if the batch is already complete (every entry refused).
    pub fn start(
        &mut self,
        id: u64,
        entries: &[f64],
        user: Option<T>,
        mut accept: impl FnMut(&[f64], u32) -> Result<u64, EntryError>,
    ) -> bool {
        let mut results = BatchResults::for_entries(entries);
        let mut members = Vec::with_capacity(results.len());
        // Whether the chain the current entry belongs to (linked from the entry before)
        // has lost an entry: the kernel would cancel the rest of a chain whose op
        // failed, so a refused entry cancels the rest of its chain here.
        let mut linked = false;
        let mut broken = false;
        for (index, row) in entries.chunks_exact(ENTRY_FIELDS).enumerate() {
            let links = sqe_flags_of(row).is_ok_and(|f| f & (SQE_IO_LINK | SQE_IO_HARDLINK) != 0);
            if !linked {
                broken = false;
            }
            let outcome = if broken {
                Err(EntryError::Cancelled)
            } else {
                accept(row, index as u32)
            };
            match outcome {
                Ok(member) => members.push(member),
                Err(e) => {
                    results.set(index, -i64::from(e.errno()), -f64::from(e as i32));
                    broken = true;
                }
            }
            linked = links;
        }
        let remaining = members.len();
        self.runs.insert(
            id,
            BatchRun {
                user,
                results,
                members,
                remaining,
                cancelled: false,
            },
        );
        if remaining == 0 {
            self.finished.push(id);
        }
        remaining == 0
    }

    /// Records the completion of the entry at `index` of batch `id`.
    pub fn record(&mut self, id: u64, index: u32, result: i64, flags: f64) {
        let run = self.runs.get_mut(&id).expect("members have a batch");
        run.results.set(index as usize, result, flags);
        run.remaining -= 1;
        if run.remaining == 0 {
            self.finished.push(id);
        }
    }

    /// Marks batch `id` cancelled and returns its members (to cancel), or None if it
    /// is not an asynchronous batch in flight.
    pub fn cancel(&mut self, id: u64) -> Option<Vec<u64>> {
        let run = self.runs.get_mut(&id)?;
        run.user.as_ref()?;
        run.cancelled = true;
        Some(run.members.clone())
    }

    /// Marks every batch cancelled (their members are cancelled by the backend).
    pub fn cancel_all(&mut self) {
        for run in self.runs.values_mut() {
            run.cancelled = true;
        }
    }

    pub fn contains(&self, id: u64) -> bool {
        self.runs.contains_key(&id)
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    pub fn has_finished(&self) -> bool {
        !self.finished.is_empty()
    }

    /// Hands every finished asynchronous batch to `deliver`; synchronous runs stay
    /// until `take_run`. Returns how many were delivered.
    pub fn deliver_finished(&mut self, mut deliver: impl FnMut(FinishedBatch<T>)) -> usize {
        let mut delivered = 0;
        for id in std::mem::take(&mut self.finished) {
            // Synchronous runs stay for `take_run` (which may have taken them already).
            if self.runs.get(&id).is_none_or(|run| run.user.is_none()) {
                continue;
            }
            let run = self
                .runs
                .remove(&id)
                .expect("finished batches are in the table");
            delivered += 1;
            deliver(FinishedBatch {
                id,
                user: run.user.expect("checked above"),
                cancelled: run.cancelled,
                results: run.results,
            });
        }
        delivered
    }

    /// The results of synchronous run `id` once it is complete (removing it).
    pub fn take_run(&mut self, id: u64) -> Option<BatchResults> {
        if self.runs.get(&id)?.remaining > 0 {
            return None;
        }
        self.runs.remove(&id).map(|run| run.results)
    }
}
