//! The batch path on the ring: entries (validated in `iobuf::batch`) become
//! IORING_OP_READ_FIXED / WRITE_FIXED / FSYNC / NOP SQEs on registered buffers.

use io_uring::opcode;
use iobuf::batch::{parse_entry, Entry};
pub use iobuf::batch::{
    BatchResults, EntryError, FixedBuffers, BATCH_FSYNC, BATCH_NOP, BATCH_READ_FIXED,
    BATCH_WRITE_FIXED, ENTRY_FIELDS, RESULT_FIELDS,
};

use crate::op::{Op, CURRENT_POSITION};

// The entry opcodes are io_uring's own numbers.
const _: () = assert!(
    BATCH_NOP == opcode::Nop::CODE
        && BATCH_FSYNC == opcode::Fsync::CODE
        && BATCH_READ_FIXED == opcode::ReadFixed::CODE
        && BATCH_WRITE_FIXED == opcode::WriteFixed::CODE
);

/// The op for one entry row, or why there is none.
pub fn op_for_entry(row: &[f64], fixed: Option<&FixedBuffers>) -> Result<Op, EntryError> {
    Ok(match parse_entry(row, fixed)? {
        Entry::Nop => Op::Nop {},
        Entry::Fsync { fd, datasync } => Op::fsync(fd, datasync),
        Entry::Rw {
            write,
            fd,
            buf,
            buf_index,
            offset,
            rw_flags,
        } => Op::Fixed {
            write,
            fd,
            buf,
            buf_index,
            offset: offset.unwrap_or(CURRENT_POSITION),
            rw_flags: rw_flags as i32,
        },
    })
}
