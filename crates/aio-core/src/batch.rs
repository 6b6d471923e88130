//! The batch path on an AIO context: entries (validated in `iobuf::batch`) become
//! IOCB_CMD_PREAD / PWRITE / FSYNC / FDSYNC iocbs on the context's buffer pool.

use iobuf::batch::{parse_entry, sqe_flags_of, Entry, EntryError, FixedBuffers};

use crate::request::{Request, RequestOptions};

/// The request for one entry row, or why there is none. AIO has no "file position"
/// (-1), no NOP, no link timeout and no SQE flags, so those entries are refused
/// (Position, Opcode, SqeFlags).
pub fn request_for_entry(
    row: &[f64],
    pool: Option<&FixedBuffers>,
) -> Result<(Request, RequestOptions), EntryError> {
    if sqe_flags_of(row)? != 0 {
        return Err(EntryError::SqeFlags);
    }
    Ok(match parse_entry(row, pool)? {
        Entry::Nop | Entry::LinkTimeout { .. } => return Err(EntryError::Opcode),
        Entry::Fsync { fd, datasync } => (
            if datasync {
                Request::Fdsync { fd }
            } else {
                Request::Fsync { fd }
            },
            RequestOptions::default(),
        ),
        Entry::Rw {
            write,
            fd,
            buf,
            offset,
            rw_flags,
            ..
        } => {
            let offset = offset.ok_or(EntryError::Position)? as i64;
            let request = if write {
                Request::Pwrite { fd, buf, offset }
            } else {
                Request::Pread { fd, buf, offset }
            };
            let options = RequestOptions {
                rw_flags: rw_flags as i32,
                ..RequestOptions::default()
            };
            (request, options)
        }
    })
}
