//! The batch path on the ring: entries (validated in `iobuf::batch`) become
//! IORING_OP_READ_FIXED / WRITE_FIXED / FSYNC / NOP / LINK_TIMEOUT SQEs on registered
//! buffers (the opcode table's entries), with the entry's IOSQE_* flags.

use io_uring::opcode;
use iobuf::batch::{parse_entry, sqe_flags_of, Entry};
pub use iobuf::batch::{
    BatchResults, EntryError, FixedBuffers, BATCH_FSYNC, BATCH_LINK_TIMEOUT, BATCH_NOP,
    BATCH_READ_FIXED, BATCH_WRITE_FIXED, ENTRY_FIELDS, RESULT_FIELDS,
};

use crate::op::{Op, CURRENT_POSITION};

// The entry opcodes are io_uring's own numbers.
const _: () = assert!(
    BATCH_NOP == opcode::Nop::CODE
        && BATCH_FSYNC == opcode::Fsync::CODE
        && BATCH_READ_FIXED == opcode::ReadFixed::CODE
        && BATCH_WRITE_FIXED == opcode::WriteFixed::CODE
        && BATCH_LINK_TIMEOUT == opcode::LinkTimeout::CODE
);

/// The op for one entry row and its IOSQE_* flags, or why there is none.
pub fn op_for_entry(row: &[f64], fixed: Option<&FixedBuffers>) -> Result<(Op, u8), EntryError> {
    let sqe_flags = sqe_flags_of(row)?;
    let op = match parse_entry(row, fixed)? {
        Entry::Nop => Op::Nop {},
        Entry::LinkTimeout { ms } => Op::link_timeout(ms),
        Entry::Fsync { fd, datasync } => Op::fsync(fd, datasync),
        Entry::Rw {
            write: false,
            fd,
            buf,
            buf_index,
            offset,
            rw_flags,
        } => Op::ReadFixed {
            fd,
            buf,
            buf_index,
            offset: offset.unwrap_or(CURRENT_POSITION),
            rw_flags: rw_flags as i32,
        },
        Entry::Rw {
            write: true,
            fd,
            buf,
            buf_index,
            offset,
            rw_flags,
        } => Op::WriteFixed {
            fd,
            buf,
            buf_index,
            offset: offset.unwrap_or(CURRENT_POSITION),
            rw_flags: rw_flags as i32,
        },
    };
    Ok((op, sqe_flags))
}
