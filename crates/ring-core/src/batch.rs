//! The batch path: many operations described as rows of numbers (what JS writes into
//! a Float64Array), validated here before any becomes an SQE, reading and writing
//! registered (fixed) buffers so nothing per operation is allocated or referenced.
//!
//! An entry row is `ENTRY_FIELDS` f64 values:
//! `[opcode, fd, buffer, bufferOffset, length, position, tag, flags]`.
//! A result row is `RESULT_FIELDS` f64 values: `[tag, result, flags]`. `result` is the
//! CQE's (bytes, or a negated errno); an entry refused by validation has a negated
//! errno as `result` and the negated `EntryError` code as `flags` (CQE flags are never
//! negative), and never reaches the kernel.

use std::io;
use std::sync::Arc;

use io_uring::opcode;
use iobuf::{AlignedBuf, IoBuf};

use crate::op::{Op, CURRENT_POSITION};

pub const ENTRY_FIELDS: usize = 8;
pub const RESULT_FIELDS: usize = 3;

/// Opcodes a batch entry may carry: the kernel's IORING_OP_* numbers.
pub const BATCH_NOP: u8 = opcode::Nop::CODE;
pub const BATCH_FSYNC: u8 = opcode::Fsync::CODE;
pub const BATCH_READ_FIXED: u8 = opcode::ReadFixed::CODE;
pub const BATCH_WRITE_FIXED: u8 = opcode::WriteFixed::CODE;

/// Largest position a JS number holds exactly (2^53 - 1).
const MAX_POSITION: f64 = 9_007_199_254_740_991.0;

/// Registered buffers (IORING_REGISTER_BUFFERS, kernel 5.1): one page-aligned
/// allocation cut into `count` buffers of `size` bytes. The ring that registered it
/// and every op using it hold an `Arc`, so it lives until the last completion.
#[derive(Debug)]
pub struct FixedBuffers {
    mem: Arc<AlignedBuf>,
    size: usize,
    count: usize,
}

impl FixedBuffers {
    /// Wraps `mem` as `mem.len() / size` buffers. The kernel limits a ring to 16384
    /// buffers of at most 1 GiB each.
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

    /// The iovecs the kernel registers, one per buffer.
    pub(crate) fn iovecs(&self) -> Vec<libc::iovec> {
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
    /// Not one of the batch opcodes.
    Opcode = 1,
    /// fd is not an integer in 0..=i32::MAX.
    Fd = 2,
    /// Buffer index outside the registered buffers, or none registered.
    Buffer = 3,
    /// bufferOffset + length runs past the end of the buffer.
    Bounds = 4,
    /// Position is neither -1 (the file position) nor an integer in 0..2^53.
    Position = 5,
    /// The flags field is not a u32.
    Flags = 6,
}

impl EntryError {
    pub fn errno(self) -> i32 {
        match self {
            EntryError::Fd => libc::EBADF,
            _ => libc::EINVAL,
        }
    }
}

fn integer_in(v: f64, min: f64, max: f64) -> Option<f64> {
    (v.fract() == 0.0 && v >= min && v <= max).then_some(v)
}

/// Turns one entry row into an op, or says why it cannot be one.
pub fn parse_entry(row: &[f64], fixed: Option<&FixedBuffers>) -> Result<Op, EntryError> {
    let [opcode, fd, buffer, buffer_offset, length, position, _tag, flags] = row else {
        return Err(EntryError::Opcode);
    };
    let opcode = integer_in(*opcode, 0.0, 255.0).ok_or(EntryError::Opcode)? as u8;
    let flags = integer_in(*flags, 0.0, f64::from(u32::MAX)).ok_or(EntryError::Flags)? as u32;
    if opcode == BATCH_NOP {
        return Ok(Op::Nop);
    }
    if ![BATCH_FSYNC, BATCH_READ_FIXED, BATCH_WRITE_FIXED].contains(&opcode) {
        return Err(EntryError::Opcode);
    }
    let fd = integer_in(*fd, 0.0, f64::from(i32::MAX)).ok_or(EntryError::Fd)? as i32;
    if opcode == BATCH_FSYNC {
        // IORING_FSYNC_DATASYNC is the only fsync flag.
        if flags & !1 != 0 {
            return Err(EntryError::Flags);
        }
        return Ok(Op::Fsync {
            fd,
            datasync: flags == 1,
        });
    }
    let fixed = fixed.ok_or(EntryError::Buffer)?;
    let index = integer_in(*buffer, 0.0, (fixed.count - 1) as f64).ok_or(EntryError::Buffer)?;
    let size = fixed.size as f64;
    let start = integer_in(*buffer_offset, 0.0, size).ok_or(EntryError::Bounds)?;
    let len = integer_in(*length, 0.0, size - start).ok_or(EntryError::Bounds)?;
    let offset = if *position == -1.0 {
        CURRENT_POSITION
    } else {
        integer_in(*position, 0.0, MAX_POSITION).ok_or(EntryError::Position)? as u64
    };
    let buf = IoBuf::shared(
        Arc::clone(&fixed.mem),
        index as usize * fixed.size + start as usize,
        len as usize,
    )
    .expect("bounds checked against the buffer");
    Ok(Op::Fixed {
        write: opcode == BATCH_WRITE_FIXED,
        fd,
        buf,
        buf_index: index as u16,
        offset,
        rw_flags: flags as i32,
    })
}

/// The result rows of one batch, filled as its entries complete.
#[derive(Debug)]
pub struct BatchResults(Box<[f64]>);

impl BatchResults {
    /// Rows for `entries`, each carrying its entry's tag.
    pub(crate) fn for_entries(entries: &[f64]) -> Self {
        let count = entries.len() / ENTRY_FIELDS;
        let mut rows = vec![0.0; count * RESULT_FIELDS].into_boxed_slice();
        for i in 0..count {
            rows[i * RESULT_FIELDS] = entries[i * ENTRY_FIELDS + 6];
        }
        Self(rows)
    }

    pub(crate) fn set(&mut self, index: usize, result: i32, flags: f64) {
        self.0[index * RESULT_FIELDS + 1] = f64::from(result);
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
    pub fn get(&self, index: usize) -> (i32, f64) {
        (
            self.0[index * RESULT_FIELDS + 1] as i32,
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
